#!/usr/bin/env python3
"""h2hostile.py - raw HTTP/2 (RFC 9113) over TLS with ALPN "h2", for
tests/e2e/test_web_h2.sh: a well-behaved control request and the attacks
no ordinary client sends.  Frames and the HPACK encoding (RFC 7541:
literal fields without indexing, no Huffman; incremental indexing for the
bomb) are built here by hand; python's ssl module is the only TLS.

    h2hostile.py [--ca=FILE] [--sni=NAME] [--plain] HOST:PORT MODE [ARG...]

Each mode checks what the server sends back, read from the socket, and
prints one line: "ok: ..." (status 0) or "FAIL: ..." (status 1).

    get PATH [FILE]        one GET: ALPN h2, the server's SETTINGS (first
                           frame; MAX_CONCURRENT_STREAMS 100), 200, the
                           body equal to FILE's bytes if given
    rapid-reset N PATH     N times HEADERS then RST_STREAM(CANCEL) at once:
                           GOAWAY ENHANCE_YOUR_CALM
    continuation SIZE      HEADERS without END_HEADERS, then CONTINUATION
                           frames of SIZE bytes (0: empty ones) without end:
                           GOAWAY ENHANCE_YOUR_CALM or PROTOCOL_ERROR
    hpack-bomb REFS        one header block: a ~4000-byte value with
                           incremental indexing, then REFS 1-byte indexed
                           references to it: GOAWAY ENHANCE_YOUR_CALM, a
                           refused stream or 431, never a decoded request
    hpack-bomb2 REFS       the same in two requests: the first inserts the
                           entry (answered 200), the second only refers to
                           it REFS times
    ping-flood N           N PINGs written without reading: the server cuts
                           the connection (GOAWAY or close) long before N
                           acknowledgements, its SETTINGS still its first frame
    preface                an HTTP/1.1 request where the preface must be:
                           GOAWAY PROTOCOL_ERROR
    bigframe               a HEADERS frame of 16385 bytes (above the 16384
                           announced): GOAWAY FRAME_SIZE_ERROR
    streams N PATH         N requests opened at once without reading (PATH
                           larger than a flow-control window, so none
                           completes): the first 100 answered, the rest
                           RST_STREAM REFUSED_STREAM
    saturate N             N connections held open at once, each having
                           received the server's SETTINGS
"""
import select
import socket
import ssl
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
          "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
          "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]
PROTOCOL_ERROR, FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM = 1, 6, 7, 8, 11


def ename(e):
    return ERRORS[e] if e < len(ERRORS) else "error %d" % e


# RFC 7541 Appendix A, for decoding the server's responses (its encoder
# uses no dynamic table and no Huffman: h2.h).
STATIC = [(":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
          (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
          (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
          (":status", "404"), (":status", "500"), ("accept-charset", ""),
          ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
          ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
          ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
          ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
          ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
          ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
          ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
          ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
          ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
          ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
          ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
          ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", "")]


class Fail(Exception):
    pass


# ---- HPACK (RFC 7541) -------------------------------------------------------

def hp_int(v, prefix_bits, first):
    """RFC 7541 5.1: v with an N-bit prefix; first holds the pattern bits."""
    lim = (1 << prefix_bits) - 1
    if v < lim:
        return bytes([first | v])
    out = bytearray([first | lim])
    v -= lim
    while v >= 128:
        out.append(v % 128 + 128)
        v //= 128
    out.append(v)
    return bytes(out)


def hp_str(s):
    if isinstance(s, str):
        s = s.encode()
    return hp_int(len(s), 7, 0) + s  # H = 0: no Huffman


def hp_literal(name, value, indexing=False):
    """A literal field with a literal name: 6.2.2 without indexing (0000
    0000) or 6.2.1 with incremental indexing (0100 0000)."""
    return bytes([0x40 if indexing else 0x00]) + hp_str(name) + hp_str(value)


def hp_request(path, method="GET", authority="web.atoll.test", scheme="https", extra=()):
    blk = b"".join(hp_literal(n, v) for n, v in
                   ((":method", method), (":scheme", scheme), (":path", path),
                    (":authority", authority)))
    return blk + b"".join(hp_literal(n, v) for n, v in extra)


def hp_decode(blk):
    """The server's header block: indexed (static) fields and literals
    without indexing / never indexed (its encoder uses nothing else)."""
    out, i = [], 0

    def integer(n):
        nonlocal i
        v = blk[i] & ((1 << n) - 1)
        i += 1
        if v < (1 << n) - 1:
            return v
        m = 0
        while True:
            b = blk[i]
            i += 1
            v += (b & 127) << m
            m += 7
            if not b & 128:
                return v

    def string():
        nonlocal i
        huff = blk[i] & 0x80
        n = integer(7)
        if huff:
            raise Fail("the server sent a Huffman string (h2.h says it does not)")
        s = blk[i:i + n].decode("latin-1")
        i += n
        return s

    while i < len(blk):
        b = blk[i]
        if b & 0x80:
            k = integer(7)
            if not 1 <= k <= len(STATIC):
                raise Fail("the server referred to HPACK index %d (no dynamic table)" % k)
            out.append(STATIC[k - 1])
        elif b & 0xe0 == 0x20:
            integer(5)  # a table size update
        elif b & 0xc0 == 0x40:
            raise Fail("the server added to the HPACK dynamic table (h2.h says it does not)")
        else:
            k = integer(4)
            name = STATIC[k - 1][0] if k else string()
            out.append((name, string()))
    return out


# ---- frames and a connection -----------------------------------------------

def frame(ftype, flags, stream, payload=b"", length=None):
    n = len(payload) if length is None else length
    return n.to_bytes(3, "big") + bytes([ftype, flags]) + (stream & 0x7fffffff).to_bytes(4, "big") + payload


def settings(pairs=()):
    return frame(SETTINGS, 0, 0, b"".join(k.to_bytes(2, "big") + v.to_bytes(4, "big") for k, v in pairs))


def headers(stream, blk, end_stream=True, end_headers=True):
    return frame(HEADERS, (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0), stream, blk)


def rst(stream, code=CANCEL):
    return frame(RST_STREAM, 0, stream, code.to_bytes(4, "big"))


class Conn:
    def __init__(self, host, port, opts, alpn=("h2",)):
        raw = socket.create_connection((host, port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if opts["plain"]:
            self.s, self.alpn = raw, None
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if opts["ca"]:
                ctx.load_verify_locations(opts["ca"])
            else:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(list(alpn))
            self.s = ctx.wrap_socket(raw, server_hostname=opts["sni"])
            self.alpn = self.s.selected_alpn_protocol()
        self.s.setblocking(False)
        self.out = bytearray()
        self.inbuf = bytearray()
        self.sent = 0
        self.eof = False
        self.eof_how = None
        self.send_error = None
        self.frames = []  # (type, flags, stream, payload) as they came
        self.settings = None  # the server's first SETTINGS (dict), if that was its first frame
        self.first_type = None
        self.goaway = None  # (last stream, error code)
        self.rsts = []  # (stream, error code)
        self.status = {}  # stream -> (fields)
        self.body = {}  # stream -> bytes
        self.ended = set()  # streams the server ended (END_STREAM)
        self.ping_acks = 0
        self.settings_acks = 0

    def write(self, b):
        self.out += b

    def _parse(self):
        while len(self.inbuf) >= 9:
            n = int.from_bytes(self.inbuf[0:3], "big")
            if len(self.inbuf) < 9 + n:
                return
            t, fl = self.inbuf[3], self.inbuf[4]
            sid = int.from_bytes(self.inbuf[5:9], "big") & 0x7fffffff
            p = bytes(self.inbuf[9:9 + n])
            del self.inbuf[:9 + n]
            self.frames.append((t, fl, sid, p))
            if self.first_type is None:
                self.first_type = t
                if t == SETTINGS and not fl & ACK:
                    self.settings = {int.from_bytes(p[i:i + 2], "big"): int.from_bytes(p[i + 2:i + 6], "big")
                                     for i in range(0, len(p) - 5, 6)}
            if t == GOAWAY and len(p) >= 8:
                self.goaway = (int.from_bytes(p[0:4], "big") & 0x7fffffff, int.from_bytes(p[4:8], "big"))
            elif t == RST_STREAM and len(p) == 4:
                self.rsts.append((sid, int.from_bytes(p, "big")))
            elif t == HEADERS:
                if not fl & END_HEADERS:
                    raise Fail("the server's HEADERS needed CONTINUATION (h2.h: one frame)")
                self.status[sid] = hp_decode(p)
                if fl & END_STREAM:
                    self.ended.add(sid)
            elif t == DATA:
                self.body[sid] = self.body.get(sid, b"") + p
                if fl & END_STREAM:
                    self.ended.add(sid)
            elif t == PING and fl & ACK:
                self.ping_acks += 1
            elif t == SETTINGS and fl & ACK:
                self.settings_acks += 1

    def pump(self, until=lambda c: False, timeout=10.0, read=True, stall=None):
        """Write what is queued and (if read) read and parse what comes,
        until until(self), the server closed and nothing is left to
        write, or timeout.  stall: give up writing after that many seconds
        without progress (the server stopped reading).  True if until."""
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while True:
            if until(self):
                return True
            if self.out and not self.send_error:
                try:
                    n = self.s.send(self.out[:16384])
                    del self.out[:n]
                    self.sent += n
                    last = time.monotonic()
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                    pass
                except (OSError, ssl.SSLError) as e:
                    self.send_error = e
            if self.send_error:
                self.out.clear()
            if read and not self.eof:
                try:
                    while True:
                        d = self.s.recv(65536)
                        if not d:
                            self.eof, self.eof_how = True, "closed"
                            break
                        self.inbuf += d
                        if not (hasattr(self.s, "pending") and self.s.pending()):
                            break
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    pass
                except (OSError, ssl.SSLError) as e:
                    self.eof, self.eof_how = True, "reset (%s)" % e.__class__.__name__
                self._parse()
                if until(self):
                    return True
            now = time.monotonic()
            if now > deadline:
                return False
            if not self.out and (self.eof or not read):
                return until(self)
            if stall and self.out and now - last > stall:
                return until(self)
            rl = [self.s] if read and not self.eof else []
            wl = [self.s] if self.out else []
            if rl or wl:
                select.select(rl, wl, [], 0.05)
            else:
                time.sleep(0.05)

    def start(self):
        self.write(PREFACE + settings())

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def describe(self):
        types = {}
        for t, *_ in self.frames:
            types[t] = types.get(t, 0) + 1
        names = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING",
                 "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"]
        got = ", ".join("%s x%d" % (names[t] if t < len(names) else t, n) for t, n in sorted(types.items()))
        ga = "GOAWAY(last=%d, %s)" % (self.goaway[0], ename(self.goaway[1])) if self.goaway else "no GOAWAY"
        return "server sent [%s]; %s; eof: %s; we wrote %d bytes%s" % (
            got or "nothing", ga, self.eof_how or "no",
            self.sent, " (then: %s)" % self.send_error.__class__.__name__ if self.send_error else "")


def status_of(c, sid):
    for n, v in c.status.get(sid, ()):
        if n == ":status":
            return v
    return None


def want_goaway(c, codes, what):
    if not c.goaway:
        raise Fail("%s: no GOAWAY; %s" % (what, c.describe()))
    if c.goaway[1] not in codes:
        raise Fail("%s: GOAWAY %s, wanted %s; %s" % (what, ename(c.goaway[1]),
                                                     " or ".join(ename(x) for x in codes), c.describe()))


def want_h2(c):
    if c.alpn != "h2" and c.alpn is not None:
        raise Fail("ALPN negotiated %r, not h2" % c.alpn)


def goaway_or_eof(c):
    return c.goaway is not None or c.eof


# ---- modes ------------------------------------------------------------------

def m_get(ep, opts, path, file=None):
    c = Conn(*ep, opts)
    want_h2(c)
    c.start()
    c.write(headers(1, hp_request(path)))
    c.pump(lambda c: 1 in c.ended or c.goaway, timeout=20)
    if c.first_type != SETTINGS or c.settings is None:
        raise Fail("the server's first frame is not SETTINGS; %s" % c.describe())
    if c.settings.get(3) != 100 or c.settings.get(5, 16384) != 16384:
        raise Fail("SETTINGS %r: MAX_CONCURRENT_STREAMS (3) should be 100, MAX_FRAME_SIZE (5) 16384" % c.settings)
    st = status_of(c, 1)
    if st != "200" or 1 not in c.ended:
        raise Fail("GET %s: status %s, ended %s; %s" % (path, st, 1 in c.ended, c.describe()))
    body = c.body.get(1, b"")
    if file is not None:
        with open(file, "rb") as f:
            want = f.read()
        if body != want:
            raise Fail("GET %s: %d body bytes, not the file's %d" % (path, len(body), len(want)))
    if c.settings_acks < 1:
        raise Fail("our SETTINGS were never acknowledged; %s" % c.describe())
    c.close()
    return "GET %s over h2 (ALPN %s): 200, %d bytes%s; SETTINGS %s, ours acked" % (
        path, c.alpn, len(body), " equal to the file" if file else "", sorted(c.settings.items()))


def m_rapid_reset(ep, opts, n, path):
    c = Conn(*ep, opts)
    want_h2(c)
    c.start()
    n = int(n)
    for k in range(n):
        sid = 2 * k + 1
        c.write(headers(sid, hp_request(path)) + rst(sid))
    c.pump(goaway_or_eof, timeout=20)
    c.pump(lambda c: c.eof, timeout=5)
    want_goaway(c, [ENHANCE_YOUR_CALM], "rapid reset")
    last = c.goaway[0]
    if last > 2 * n - 1:
        raise Fail("GOAWAY last stream %d: above the last one we opened" % last)
    if last >= 2 * n - 1:
        raise Fail("GOAWAY came only after all %d streams (last stream %d): no cut-off" % (n, last))
    if not c.eof:
        raise Fail("the connection stayed open after GOAWAY; %s" % c.describe())
    c.close()
    return "rapid reset: GOAWAY ENHANCE_YOUR_CALM after stream %d of %d (%d answered first), then closed" % (
        last, 2 * n - 1, len(c.status))


def m_continuation(ep, opts, size):
    size = int(size)
    c = Conn(*ep, opts)
    want_h2(c)
    c.start()
    # a real start of a block, then junk the decoder never gets to see
    c.write(headers(1, hp_request("/"), end_stream=True, end_headers=False))
    chunk = frame(CONTINUATION, 0, 1, hp_literal("x-flood", "y" * max(0, size - 11)) if size else b"")
    total = 0
    limit = 8 << 20  # "endless": 8 MB at most
    while total < limit and not goaway_or_eof(c) and not c.send_error:
        batch = chunk * max(1, 65536 // len(chunk))
        c.write(batch)
        total += len(batch)
        c.pump(lambda c: len(c.out) == 0 or goaway_or_eof(c), timeout=10)
    c.pump(lambda c: c.eof, timeout=5)
    want_goaway(c, [ENHANCE_YOUR_CALM, PROTOCOL_ERROR], "CONTINUATION flood")
    if 1 in c.status:
        raise Fail("the flooded block was answered as a request; %s" % c.describe())
    if total >= limit:
        raise Fail("the server took %d bytes of CONTINUATION before GOAWAY" % total)
    c.close()
    return "CONTINUATION flood (%d-byte frames): GOAWAY %s after %d bytes written, connection closed: %s" % (
        size, ename(c.goaway[1]), c.sent, bool(c.eof))


def bomb_entry():
    return hp_literal("x-bomb", "b" * 4000, indexing=True)  # 4000 + 6 + 32 <= 4096: one entry


def bomb_verdict(c, sid, what):
    st = status_of(c, sid)
    refused = [s for s, e in c.rsts if s == sid and e == REFUSED_STREAM]
    if c.goaway and c.goaway[1] == ENHANCE_YOUR_CALM:
        return "GOAWAY ENHANCE_YOUR_CALM"
    if refused:
        return "RST_STREAM REFUSED_STREAM"
    if st == "431":
        return "431"
    if c.goaway:
        raise Fail("%s: GOAWAY %s (a COMPRESSION_ERROR means the decoder failed on a valid block); %s" % (
            what, ename(c.goaway[1]), c.describe()))
    raise Fail("%s: stream %d answered %s; %s" % (what, sid, st, c.describe()))


def m_hpack_bomb(ep, opts, refs):
    refs = int(refs)
    c = Conn(*ep, opts)
    want_h2(c)
    c.start()
    blk = hp_request("/") + bomb_entry() + bytes([0x80 | 62]) * refs  # index 62: the entry just added
    c.write(headers(1, blk))
    c.pump(lambda c: c.goaway or c.rsts or 1 in c.status, timeout=10)
    v = bomb_verdict(c, 1, "HPACK bomb")
    c.close()
    return "HPACK bomb (%d-byte block, %d references to a 4000-byte entry): %s" % (len(blk), refs, v)


def m_hpack_bomb2(ep, opts, refs):
    refs = int(refs)
    c = Conn(*ep, opts)
    want_h2(c)
    c.start()
    c.write(headers(1, hp_request("/") + bomb_entry()))
    c.pump(lambda c: 1 in c.ended or goaway_or_eof(c), timeout=10)
    if status_of(c, 1) != "200":
        raise Fail("a request with one 4000-byte field (indexed) was not answered 200; %s" % c.describe())
    c.write(headers(3, hp_request("/") + bytes([0x80 | 62]) * refs))
    c.pump(lambda c: c.goaway or c.rsts or 3 in c.status, timeout=10)
    v = bomb_verdict(c, 3, "HPACK bomb, second request")
    c.close()
    return "HPACK bomb in two requests: the entry's request 200, %d references: %s" % (refs, v)


def m_ping_flood(ep, opts, n):
    n = int(n)
    c = Conn(*ep, opts)
    want_h2(c)
    c.start()
    for k in range(n):
        c.write(frame(PING, 0, 0, k.to_bytes(8, "big")))
    c.pump(read=False, timeout=20, stall=3)  # not reading
    written = c.sent
    c.pump(lambda c: c.eof, timeout=10)
    if not goaway_or_eof(c):
        raise Fail("PING flood: the server neither sent GOAWAY nor closed; %s" % c.describe())
    if c.goaway and c.goaway[1] != ENHANCE_YOUR_CALM:
        raise Fail("PING flood: GOAWAY %s; %s" % (ename(c.goaway[1]), c.describe()))
    if not c.eof:
        raise Fail("PING flood: GOAWAY but the connection stays open; %s" % c.describe())
    if c.frames and c.first_type != SETTINGS:  # RFC 9113 3.4: the server's preface comes first
        raise Fail("PING flood: the server's first frame is not its SETTINGS (RFC 9113 3.4); %s" % c.describe())
    if c.ping_acks >= n // 2:
        raise Fail("PING flood: %d of %d PINGs acknowledged, no cut-off" % (c.ping_acks, n))
    c.close()
    return "PING flood: %d PINGs (%d bytes written before the server stopped taking them): %s, %d acks, %s" % (
        n, written, "GOAWAY ENHANCE_YOUR_CALM" if c.goaway else "no GOAWAY", c.ping_acks, c.eof_how)


def m_preface(ep, opts):
    c = Conn(*ep, opts)
    want_h2(c)
    c.write(b"GET / HTTP/1.1\r\nHost: web.atoll.test\r\nUser-Agent: h2hostile\r\n\r\n")
    c.pump(lambda c: c.eof, timeout=10)
    want_goaway(c, [PROTOCOL_ERROR], "a wrong preface")
    if c.first_type != SETTINGS:
        raise Fail("a wrong preface: the first frame is not the server's SETTINGS; %s" % c.describe())
    if not c.eof:
        raise Fail("a wrong preface: GOAWAY but not closed; %s" % c.describe())
    c.close()
    return "HTTP/1.1 where the preface must be: SETTINGS, GOAWAY PROTOCOL_ERROR, closed"


def m_bigframe(ep, opts):
    c = Conn(*ep, opts)
    want_h2(c)
    c.start()
    c.pump(lambda c: c.settings is not None, timeout=10)
    blk = hp_request("/", extra=[("x-pad", "p" * 16000)])
    blk += b"\x00" * (16385 - len(blk))  # not valid HPACK at the end: it must never be decoded
    c.write(headers(1, blk))
    c.pump(lambda c: c.eof, timeout=10)
    want_goaway(c, [FRAME_SIZE_ERROR], "a 16385-byte HEADERS frame")
    if 1 in c.status:
        raise Fail("the oversized frame was answered; %s" % c.describe())
    c.close()
    return "a 16385-byte HEADERS frame (limit 16384): GOAWAY FRAME_SIZE_ERROR, closed: %s" % bool(c.eof)


def m_streams(ep, opts, n, path):
    n = int(n)
    c = Conn(*ep, opts)
    want_h2(c)
    c.start()
    for k in range(n):
        c.write(headers(2 * k + 1, hp_request(path)))
    c.pump(read=False, timeout=10, stall=3)  # not reading
    time.sleep(1)
    c.pump(lambda c: len(c.status) + len(c.rsts) >= n or goaway_or_eof(c), timeout=10)
    c.pump(timeout=0.5)
    if c.goaway:
        raise Fail("%d streams: GOAWAY %s; %s" % (n, ename(c.goaway[1]), c.describe()))
    refused = sorted(s for s, e in c.rsts if e == REFUSED_STREAM)
    other = [(s, ename(e)) for s, e in c.rsts if e != REFUSED_STREAM]
    answered = sorted(c.status)
    if other:
        raise Fail("%d streams: resets other than REFUSED_STREAM: %s" % (n, other[:5]))
    if not refused:
        raise Fail("%d streams at once: none refused; %d answered; %s" % (n, len(answered), c.describe()))
    if refused[0] <= 2 * 100 - 1:
        raise Fail("stream %d refused: within the first 100" % refused[0])
    if len(answered) != 100 or answered[-1] != 199:
        raise Fail("%d streams answered (highest %s), wanted the first 100" % (
            len(answered), answered[-1] if answered else None))
    if set(answered) & set(refused) or len(answered) + len(refused) != n:
        raise Fail("answered %d + refused %d != %d" % (len(answered), len(refused), n))
    if any(status_of(c, s) != "200" for s in answered):
        raise Fail("not all answered with 200")
    c.close()
    return "%d streams opened without reading: streams 1..199 (100) answered 200, %d refused with " \
           "REFUSED_STREAM (%d..%d), no GOAWAY" % (n, len(refused), refused[0], refused[-1])


def m_saturate(ep, opts, n):
    n = int(n)
    cs = []
    for _ in range(n):
        c = Conn(*ep, opts)
        c.start()
        cs.append(c)
    for c in cs:
        c.pump(lambda c: c.settings is not None or c.eof, timeout=10)
    got = sum(1 for c in cs if c.settings is not None)
    time.sleep(0.5)
    for c in cs:
        c.write(frame(GOAWAY, 0, 0, (0).to_bytes(4, "big") + (0).to_bytes(4, "big")))
        c.pump(timeout=1)
    for c in cs:
        c.close()
    if got != n:
        raise Fail("%d of %d connections held open at once got the server's SETTINGS" % (got, n))
    return "%d connections open at once, each greeted with SETTINGS" % n


MODES = {"get": m_get, "rapid-reset": m_rapid_reset, "continuation": m_continuation,
         "hpack-bomb": m_hpack_bomb, "hpack-bomb2": m_hpack_bomb2, "ping-flood": m_ping_flood,
         "preface": m_preface, "bigframe": m_bigframe, "streams": m_streams, "saturate": m_saturate}


def main(argv):
    opts = {"ca": None, "sni": "web.atoll.test", "plain": False}
    args = []
    for a in argv:
        if a.startswith("--ca="):
            opts["ca"] = a[5:]
        elif a.startswith("--sni="):
            opts["sni"] = a[6:]
        elif a == "--plain":
            opts["plain"] = True
        else:
            args.append(a)
    if len(args) < 2 or args[1] not in MODES:
        print(__doc__)
        return 2
    host, port = args[0].rsplit(":", 1)
    try:
        print("ok: " + MODES[args[1]]((host, int(port)), opts, *args[2:]))
        return 0
    except Fail as e:
        print("FAIL: %s" % e)
    except (OSError, ssl.SSLError) as e:
        print("FAIL: %s: %s" % (e.__class__.__name__, e))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
