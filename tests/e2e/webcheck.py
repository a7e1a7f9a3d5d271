#!/usr/bin/env python3
"""webcheck.py - raw HTTP/1.1 exchanges with a web server, for
tests/e2e/test_web.sh: what curl will not send (bad framing, pipelining,
slow heads, many connections at once), over plain TCP or TLS.

    webcheck.py [--tls] [--sni=NAME] [--ca=FILE] HOST:PORT STEP...

Steps run in order; the first that fails ends the run (status 1).

    conn=N[@PORT]   talk on connection N from now on (opened at first use,
                    to PORT if given; the default is 1); tlsconn=N[@PORT]:
                    the same, over TLS even without --tls.  A connection
                    the server refuses or closes at once reads as "eof"
    send=TEXT       write TEXT; escapes \\r \\n \\t \\\\ \\xHH, and {{STR*N}}
                    for STR repeated N times
    drip=TEXT:SEC   write TEXT one byte every SEC seconds, stopping early
                    (not a failure) when the server answers or closes
    fill=N          write N bytes of "x", stopping early the same way
    resp=CODE[|CODE...]  read one response: its status must be one of
                    these ("eof": the server closed, or reset, with no byte
                    of a response).  resp=CODE/head: the answer to a HEAD
                    (no body follows)
    hdr=NAME:ERE    the last response has NAME once, its value matching ERE
                    whole (Python regex)
    nohdr=NAME      the last response has no NAME
    body=PATH       the last response's body is the file's bytes
    bodyre=ERE      the last response's body holds a match of ERE
    parts=PATH:A-B,C-D  the last response is multipart/byteranges holding
                    exactly these byte ranges of PATH, in this order
    parttype=ERE    ... and each part's Content-Type matches ERE whole
    eof=SEC         the server closes within SEC seconds, sending nothing more
    quiet=SEC       for SEC seconds nothing comes and the connection stays open
    drain=SEC[:MAX] read and drop what comes until the server closes, within
                    SEC seconds, and fewer than MAX bytes if given
    alpn=PROTO      the TLS connection negotiated ALPN PROTO
    mark            restart the clock (it starts when the connection opens)
    elapsed=MIN:MAX the clock is between MIN and MAX seconds
    sleep=SEC       wait
    timeout=SEC     for the waits of resp= (default 10)
"""
import re
import socket
import ssl
import sys
import time


def unescape(s):
    s = re.sub(r"\{\{(.*?)\*(\d+)\}\}", lambda m: m.group(1) * int(m.group(2)), s, flags=re.S)
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            e = s[i + 1]
            if e == "x":
                out.append(int(s[i + 2 : i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}.get(e, ("\\" + e).encode())
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


class Fail(Exception):
    pass


class Conn:
    def __init__(self, host, port, tls, opts):
        self.buf = b""
        self.closed = False  # the server closed or reset, or never let us in
        self.why = ""
        self.stalled = False
        self.t0 = time.monotonic()
        self.s = None
        try:
            s = socket.create_connection((host, port), timeout=10)
            if tls:
                ctx = ssl.create_default_context(cafile=opts.get("ca"))
                if not opts.get("ca"):
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                ctx.set_alpn_protocols(["http/1.1"])
                s = ctx.wrap_socket(s, server_hostname=opts.get("sni", host))
            self.s = s
        except (socket.timeout, TimeoutError):
            # Neither accepted nor refused: not the "eof" of a refusal.
            self.closed, self.stalled, self.why = True, True, "connect: timed out"
        except (OSError, ssl.SSLError) as e:
            self.closed, self.why = True, "connect: %s" % e
        self.t0 = time.monotonic()

    def answered(self):
        """True once the server has sent something or closed (no waiting).
        A read, not select(): TLS 1.3 session tickets make the socket
        readable with no application data."""
        if self.closed or self.buf:
            return True
        self.s.settimeout(0)
        try:
            b = self.s.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except (OSError, ssl.SSLError) as e:
            self.closed, self.why = True, str(e)
            return True
        if not b:
            self.closed, self.why = True, "EOF"
        self.buf += b
        return True

    def more(self, deadline):
        """Read what comes before deadline into buf; False on EOF or timeout."""
        if self.closed:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.s.settimeout(left)
        try:
            b = self.s.recv(65536)
        except (socket.timeout, TimeoutError):
            return False
        except (OSError, ssl.SSLError) as e:
            self.closed, self.why = True, str(e)
            return False
        if not b:
            self.closed, self.why = True, "EOF"
            return False
        self.buf += b
        return True

    def send(self, data):
        if self.closed:
            return False
        try:
            self.s.settimeout(5)
            self.s.sendall(data)
            return True
        except (OSError, ssl.SSLError) as e:
            # A refused or closed connection: what it means shows at the
            # next read.
            self.why = "send: %s" % e
            return False

    def take(self, n, deadline):
        while len(self.buf) < n:
            if not self.more(deadline):
                raise Fail("body ended after %d of %d bytes (%s)" % (len(self.buf), n, self.why))
        b, self.buf = self.buf[:n], self.buf[n:]
        return b

    def line(self, deadline):
        while b"\r\n" not in self.buf:
            if not self.more(deadline):
                raise Fail("no CRLF line (%s): %r" % (self.why, self.buf[:80]))
        b, _, self.buf = self.buf.partition(b"\r\n")
        return b


class Resp:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body
        self.part_types = []

    def values(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def show(self):
        lines = ["%d %s" % (self.status, self.reason)]
        lines += ["%s: %s" % h for h in self.headers]
        lines.append("(%d body bytes) %r" % (len(self.body), self.body[:120]))
        return "\n".join(lines)


def read_resp(c, head_only, timeout):
    deadline = time.monotonic() + timeout
    if c.stalled:
        raise Fail(c.why)
    while b"\r\n\r\n" not in c.buf:
        if not c.more(deadline):
            if not c.buf and c.closed:
                return None  # closed without a response
            raise Fail("no whole response head in %gs (%s): %r" % (timeout, c.why or "timeout", c.buf[:200]))
    head, _, c.buf = c.buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.fullmatch(r"HTTP/1\.1 (\d{3}) ?(.*)", lines[0])
    if not m:
        raise Fail("bad status line %r" % lines[0])
    status, headers = int(m.group(1)), []
    for ln in lines[1:]:
        hm = re.fullmatch(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*", ln)
        if not hm:
            raise Fail("bad header line %r" % ln)
        headers.append((hm.group(1), hm.group(2)))
    r = Resp(status, m.group(2), headers, b"")
    if head_only or status < 200 or status in (204, 304):
        return r
    te, cl = r.values("Transfer-Encoding"), r.values("Content-Length")
    if te:
        if te[-1].lower() != "chunked":
            raise Fail("Transfer-Encoding %r" % te)
        body = b""
        while True:
            size = int(c.line(deadline).split(b";")[0], 16)
            if size == 0:
                while c.line(deadline):
                    pass
                break
            body += c.take(size, deadline)
            if c.take(2, deadline) != b"\r\n":
                raise Fail("chunk not ended by CRLF")
        r.body = body
    elif cl:
        if len(cl) != 1 or not cl[0].isdigit():
            raise Fail("Content-Length %r" % cl)
        r.body = c.take(int(cl[0]), deadline)
    else:
        while c.more(deadline):
            pass
        r.body, c.buf = c.buf, b""
    return r


def check_parts(r, path, spec):
    with open(path, "rb") as f:
        data = f.read()
    ct = (r.values("Content-Type") or [""])[0]
    m = re.fullmatch(r'multipart/byteranges; *boundary="?([^";]+)"?', ct)
    if not m:
        raise Fail("Content-Type %r is not multipart/byteranges" % ct)
    delim = b"--" + m.group(1).encode()
    body, want = r.body, [tuple(map(int, x.split("-"))) for x in spec.split(",")]
    pos, got = body.find(delim), []
    if pos < 0:
        raise Fail("no boundary in the body")
    while True:
        pos += len(delim)
        if body[pos : pos + 2] == b"--":
            break
        end = body.find(b"\r\n\r\n", pos)
        if body[pos : pos + 2] != b"\r\n" or end < 0:
            raise Fail("bad part head at %d" % pos)
        ph = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (x.partition(":") for x in body[pos + 2 : end].decode("latin-1").split("\r\n"))
        )
        cr = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", ph.get("content-range", ""))
        if not cr or "content-type" not in ph:
            raise Fail("part without Content-Type or Content-Range: %r" % ph)
        a, b, size = map(int, cr.groups())
        if size != len(data):
            raise Fail("part's complete length %d, the file has %d" % (size, len(data)))
        part = body[end + 4 : end + 4 + b - a + 1]
        if part != data[a : b + 1]:
            raise Fail("part %d-%d: bytes differ" % (a, b))
        got.append((a, b))
        r.part_types.append(ph["content-type"])
        pos = end + 4 + b - a + 1
        if body[pos : pos + 2 + len(delim)] != b"\r\n" + delim:
            raise Fail("part %d-%d not followed by CRLF and the boundary" % (a, b))
        pos += 2
    if got != want:
        raise Fail("parts %s, wanted %s" % (got, want))


def main(argv):
    opts, args = {}, []
    for a in argv:
        if a.startswith("--"):
            k, _, v = a[2:].partition("=")
            opts[k] = v
        else:
            args.append(a)
    if not args:
        print(__doc__)
        return 2
    host, _, port = args[0].rpartition(":")
    conns, cur, last, timeout = {}, "1", None, 10.0

    def conn(name=None, tls=None, at=None):
        name = name or cur
        if name not in conns:
            tls = "tls" in opts if tls is None else tls
            conns[name] = Conn(host, int(at or port), tls, opts)
        return conns[name]

    for i, step in enumerate(args[1:], 1):
        key, _, val = step.partition("=")
        try:
            if key in ("conn", "tlsconn"):
                cur, _, at = val.partition("@")
                conn(cur, True if key == "tlsconn" else None, at)
            elif key == "send":
                conn().send(unescape(val))
            elif key in ("drip", "fill"):
                c = conn()
                if key == "drip":
                    text, _, sec = val.rpartition(":")
                    pieces, pause = [bytes([b]) for b in unescape(text)], float(sec)
                else:
                    pieces, pause = [b"x" * 4096] * (int(val) // 4096) + [b"x" * (int(val) % 4096)], 0
                for p in pieces:
                    if c.answered() or not c.send(p):
                        break
                    time.sleep(pause)
            elif key == "resp":
                codes, _, flag = val.partition("/")
                want = codes.split("|")
                last = read_resp(conn(), flag == "head", timeout)
                got = "eof" if last is None else str(last.status)
                if got not in want:
                    raise Fail("status %s, wanted %s" % (got, val))
            elif key in ("hdr", "nohdr", "body", "bodyre", "parts", "parttype"):
                if last is None:
                    raise Fail("no response to look at")
                if key == "hdr":
                    name, _, rx = val.partition(":")
                    vs = last.values(name)
                    if len(vs) != 1 or not re.fullmatch(rx, vs[0]):
                        raise Fail("%s is %r, wanted one matching /%s/" % (name, vs, rx))
                elif key == "nohdr":
                    if last.values(val):
                        raise Fail("%s is present: %r" % (val, last.values(val)))
                elif key == "body":
                    with open(val, "rb") as f:
                        want = f.read()
                    if last.body != want:
                        raise Fail("body (%d bytes) is not %s (%d bytes)" % (len(last.body), val, len(want)))
                elif key == "bodyre":
                    if not re.search(val.encode(), last.body):
                        raise Fail("body does not match /%s/" % val)
                elif key == "parts":
                    path, _, spec = val.rpartition(":")
                    check_parts(last, path, spec)
                elif not last.part_types or not all(re.fullmatch(val, t) for t in last.part_types):
                    raise Fail("part types %r, wanted /%s/" % (last.part_types, val))
            elif key == "eof":
                c = conn()
                end = time.monotonic() + float(val)
                while c.more(end):
                    pass
                if c.buf:
                    raise Fail("more bytes came: %r" % c.buf[:120])
                if not c.closed:
                    raise Fail("still open after %ss" % val)
            elif key == "quiet":
                c = conn()
                end = time.monotonic() + float(val)
                while c.more(end):
                    pass
                if c.buf or c.closed:
                    raise Fail("closed (%s) or sent %r within %ss" % (c.why, c.buf[:80], val))
            elif key == "drain":
                c = conn()
                sec, _, most = val.partition(":")
                end, n = time.monotonic() + float(sec), len(c.buf)
                c.buf = b""
                while c.more(end):
                    n, c.buf = n + len(c.buf), b""
                if not c.closed:
                    raise Fail("still open after %ss (%d bytes read)" % (sec, n))
                if most and n >= int(most):
                    raise Fail("%d bytes came before the close, wanted fewer than %s" % (n, most))
            elif key == "alpn":
                got = conn().s.selected_alpn_protocol() if conn().s else None
                if got != val:
                    raise Fail("ALPN %r" % got)
            elif key == "mark":
                conn().t0 = time.monotonic()
            elif key == "elapsed":
                lo, _, hi = val.partition(":")
                t = time.monotonic() - conn().t0
                if not float(lo) <= t <= float(hi):
                    raise Fail("%.2fs elapsed" % t)
            elif key == "sleep":
                time.sleep(float(val))
            elif key == "timeout":
                timeout = float(val)
            else:
                print("webcheck.py: unknown step %s" % step)
                return 2
        except Fail as e:
            print("webcheck.py: step %d (%s) on connection %s: %s" % (i, step[:80], cur, e))
            if last is not None:
                print("last response:\n" + last.show())
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
