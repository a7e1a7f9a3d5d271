#!/usr/bin/env python3
"""tcpcheck.py HOST PORT MODE SIZE [CONNS] - a scripted TCP client for test_tcp.sh.
tcpcheck.py serve ADDR - Linux echo (7), discard (9) and chargen (19) servers
              on ADDR, the Linux peer of test_tcp_faults.sh; runs until killed.

MODE echo:    send SIZE seeded random bytes while reading the echo; the
              SHA-256 of what came back must equal that of what was sent.
MODE chargen: read SIZE bytes; they must equal RFC 864's rotating lines.
MODE discard: send SIZE bytes, shut down, wait for the server's FIN.
MODE refused: the connection must be refused (RST).
CONNS (default 1) connections run one after the other.  Exit 0 on success;
on failure one line on stderr says what differed.
"""
import hashlib
import random
import socket
import socketserver
import sys
import threading


def chargen_bytes(n):
    period = b"".join(
        bytes((32 + (i + j) % 95) for j in range(72)) + b"\r\n" for i in range(95)
    )
    reps = n // len(period) + 1
    return (period * reps)[:n]


def connect(host, port):
    s = socket.create_connection((host, port), timeout=60)
    s.settimeout(120)
    return s


def echo(host, port, size, seed):
    data = random.Random(seed).randbytes(size)
    s = connect(host, port)
    got = hashlib.sha256()
    count = [0]

    def reader():
        while True:
            b = s.recv(65536)
            if not b:
                break
            got.update(b)
            count[0] += len(b)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join()
    s.close()
    if count[0] != size or got.hexdigest() != hashlib.sha256(data).hexdigest():
        sys.exit(f"echo: sent {size} bytes, got {count[0]} back, digests differ")


def chargen(host, port, size):
    s = connect(host, port)
    buf = bytearray()
    while len(buf) < size:
        b = s.recv(min(65536, size - len(buf)))
        if not b:
            break
        buf += b
    s.close()
    if bytes(buf) != chargen_bytes(size):
        sys.exit(f"chargen: {len(buf)} bytes, not RFC 864's lines")


def discard(host, port, size):
    s = connect(host, port)
    data = random.Random(size).randbytes(size)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    if s.recv(1) != b"":
        sys.exit("discard: the server sent data")
    s.close()


def refused(host, port):
    try:
        s = socket.create_connection((host, port), timeout=10)
    except ConnectionRefusedError:
        return
    s.close()
    sys.exit("refused: the connection was accepted")


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while b := self.request.recv(65536):
            self.request.sendall(b)


class DiscardHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while self.request.recv(65536):
            pass


class ChargenHandler(socketserver.BaseRequestHandler):
    def handle(self):
        block = chargen_bytes(7030 * 10)  # ten whole periods of RFC 864's lines
        try:
            while True:
                self.request.sendall(block)
        except OSError:
            pass  # the client has read what it wanted and closed


def serve(addr):
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    servers = [
        socketserver.ThreadingTCPServer((addr, port), handler)
        for port, handler in ((7, EchoHandler), (9, DiscardHandler), (19, ChargenHandler))
    ]
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("serving", flush=True)
    servers[0].serve_forever()


def main():
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
        return
    host, port, mode, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    conns = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    for i in range(conns):
        if mode == "echo":
            echo(host, port, size, i)
        elif mode == "chargen":
            chargen(host, port, size)
        elif mode == "discard":
            discard(host, port, size)
        elif mode == "refused":
            refused(host, port)
        else:
            sys.exit(f"unknown mode {mode}")


main()
