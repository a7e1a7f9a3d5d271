#!/usr/bin/env python3
"""tlspeer.py - drive an interactive TLS tool (openssl s_client, gnutls-cli)
through a short script, for tests/e2e/test_tls.sh.

    tlspeer.py [STEP ...] -- COMMAND [ARG ...]

Steps run in order against the command's stdin and its output (stdout and
stderr together, as one transcript):

    send=TEXT        write TEXT (\\n \\r \\\\ escapes) to its stdin
    sendfile=PATH    write the file's bytes to its stdin
    expect=REGEX     wait until the transcript, after the previous match,
                     matches REGEX (Python syntax, MULTILINE)
    expectout=PATH   wait until its stdout holds the file's bytes, whole
    absent=REGEX     at the end: the transcript must not match REGEX
    close            close its stdin
    exit=N|any|fail  wait for it to end with status N, any, or non-zero
    sleep=SECONDS
    timeout=SECONDS  for the waits that follow (default 10)
    log=PATH         keep the whole transcript there

Exit status 0 when every step passed.  On a failure it names the step and
prints the transcript's last lines; the command is killed if still running.
"""
import hashlib
import re
import subprocess
import sys
import threading
import time


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            i += 1
            c = {"n": "\n", "r": "\r", "\\": "\\"}.get(s[i], "\\" + s[i])
        out.append(c)
        i += 1
    return "".join(out).encode()


class Peer:
    def __init__(self, argv):
        self.p = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.all = bytearray()
        self.out = bytearray()
        self.cv = threading.Condition()
        self.eof = 0
        for stream, is_out in ((self.p.stdout, True), (self.p.stderr, False)):
            threading.Thread(target=self.pump, args=(stream, is_out), daemon=True).start()

    def pump(self, stream, is_out):
        while True:
            b = stream.read1(65536)
            with self.cv:
                if not b:
                    self.eof += 1
                    self.cv.notify_all()
                    return
                self.all += b
                if is_out:
                    self.out += b
                self.cv.notify_all()

    def wait_until(self, pred, timeout):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                r = pred()
                if r is not None and r is not False:
                    return r
                left = end - time.monotonic()
                if left <= 0 or (self.eof == 2 and self.p.poll() is not None):
                    return pred() or None
                self.cv.wait(min(left, 0.2))

    def write(self, data):
        # A writer thread: a large write must not block reading the echo.
        def w():
            try:
                self.p.stdin.write(data)
                self.p.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass

        t = threading.Thread(target=w, daemon=True)
        t.start()
        return t


def main(argv):
    if "--" not in argv:
        print(__doc__)
        return 2
    k = argv.index("--")
    steps, cmd = argv[:k], argv[k + 1 :]
    timeout = 10.0
    log = None
    pos = 0
    absent = []
    writers = []
    peer = Peer(cmd)
    failed = None
    for step in steps:
        key, _, val = step.partition("=")
        if key == "send":
            writers.append(peer.write(unescape(val)))
        elif key == "sendfile":
            with open(val, "rb") as f:
                writers.append(peer.write(f.read()))
        elif key == "expect":
            rx = re.compile(val.encode(), re.M)

            def find():
                m = rx.search(peer.all, pos)
                return m

            m = peer.wait_until(find, timeout)
            if not m:
                failed = "no match for expect=%s" % val
                break
            pos = m.end()
        elif key == "expectout":
            with open(val, "rb") as f:
                want = f.read()
            if not peer.wait_until(lambda: want in peer.out, timeout):
                got = bytes(peer.out)
                failed = "stdout does not hold %s (%d bytes, sha256 %s): got %d bytes" % (
                    val,
                    len(want),
                    hashlib.sha256(want).hexdigest()[:16],
                    len(got),
                )
                break
        elif key == "absent":
            absent.append(val)
        elif key == "close":
            for t in writers:
                t.join(timeout)
            try:
                peer.p.stdin.close()
            except OSError:
                pass
        elif key == "exit":
            try:
                rc = peer.p.wait(timeout)
            except subprocess.TimeoutExpired:
                failed = "still running after %gs (exit=%s)" % (timeout, val)
                break
            peer.wait_until(lambda: peer.eof == 2, 2)
            if (val == "fail" and rc == 0) or (val not in ("any", "fail") and rc != int(val)):
                failed = "exit status %d, wanted %s" % (rc, val)
                break
        elif key == "sleep":
            time.sleep(float(val))
        elif key == "timeout":
            timeout = float(val)
        elif key == "log":
            log = val
        else:
            print("tlspeer.py: unknown step %s" % step)
            return 2
    if not failed:
        for val in absent:
            if re.search(val.encode(), peer.all, re.M):
                failed = "the transcript matches absent=%s" % val
                break
    if peer.p.poll() is None:
        peer.p.kill()
        peer.p.wait()
    with peer.cv:
        text = bytes(peer.all)
    if log:
        with open(log, "wb") as f:
            f.write(text)
    if failed:
        print("tlspeer.py: %s; command: %s" % (failed, " ".join(cmd)))
        lines = text.decode("utf-8", "replace").splitlines()
        for line in lines[-25:]:
            print("| " + line[:200])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
