#!/usr/bin/env python3
"""tlsneg.py HOST PORT [--manifest FILE] [--only TEXT] [--list]

Negative tests of a TLS server, the kind a state-machine fuzzer (tlsfuzzer)
runs: a raw-socket TLS 1.3 (RFC 8446) and TLS 1.2 (RFC 5246 + RFC 7627 EMS,
ECDHE-ECDSA-AES128-GCM-SHA256) client that goes as far into a handshake as a
case needs, then sends something wrong: messages out of order, duplicated,
truncated, oversized records, bad padding, bad MACs, wrong versions,
downgrades.  Each case expects one fatal alert (read as a plaintext record
before the keys change, decrypted after) and then the TCP connection closing
within a few seconds; a few expect the handshake to go on instead (what the
RFCs say must be accepted).  The alert each case asserts is the one the RFC
names, whatever the server under test does.

After every case a positive control runs: a whole TLS 1.3 handshake and a
line echoed (apps/tlsd echoes what it gets), then close_notify both ways.

No ssl module: the record layer, key schedule and handshakes are here, over
python3-cryptography (only APIs that Debian 12's 38.0 has).  No certificate
is verified (the server's CertificateVerify signature is not checked; its
Finished is).  Every socket operation has a timeout and every case a
deadline: a timeout is a failure, never a hang.

Output is TAP: "ok N - name" / "not ok N - name" with "# " diagnostics.
--manifest FILE: one line per connection the server should have logged,
"PORT<TAB>WHAT<TAB>CASE" with WHAT an alert name (a failure logged with the
alert sent), "failed" (a failure logged, no alert) or "handshake" (a
handshake logged), for the caller to check against the server's log.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as chmac
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

IO_TIMEOUT = 4.0  # seconds for any one answer
EOF_TIMEOUT = 3.0  # seconds from a fatal alert to the TCP close
CASE_TIMEOUT = 20  # seconds for a whole case (a watchdog; never reached normally)

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
    40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
    44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
    51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
    80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
    100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension",
    112: "unrecognized_name", 113: "bad_certificate_status_response",
    115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}
A = {v: k for k, v in ALERTS.items()}

CT_CCS, CT_ALERT, CT_HS, CT_APP = 20, 21, 22, 23
HS_CH, HS_SH, HS_NST, HS_EOED, HS_EE, HS_CERT, HS_SKE, HS_CR = 1, 2, 4, 5, 8, 11, 12, 13
HS_SHD, HS_CV, HS_CKE, HS_FIN, HS_KU = 14, 15, 16, 20, 24
EXT_SNI, EXT_GROUPS, EXT_POINTS, EXT_SIGALGS, EXT_EMS = 0, 10, 11, 13, 23
EXT_TICKET, EXT_PSK, EXT_VERSIONS, EXT_PSK_MODES, EXT_KEY_SHARE = 35, 41, 43, 45, 51
EXT_RENEG = 0xFF01
G_P256, G_X25519, G_FFDHE2048 = 23, 29, 256
TLS12, TLS13 = 0x0303, 0x0304
AES128_SHA256, CHACHA_SHA256 = 0x1301, 0x1303
ECDHE_ECDSA_AES128_GCM = 0xC02B
SCSV_RENEG, SCSV_FALLBACK = 0x00FF, 0x5600
SIGALGS = [0x0403, 0x0804, 0x0503, 0x0603]  # ecdsa_secp256r1_sha256 first
HS_NAMES = {HS_CH: "ClientHello", HS_SH: "ServerHello", HS_NST: "NewSessionTicket", HS_EE: "EncryptedExtensions",
            HS_CERT: "Certificate", HS_SKE: "ServerKeyExchange", HS_CR: "CertificateRequest",
            HS_SHD: "ServerHelloDone", HS_CV: "CertificateVerify", HS_FIN: "Finished", HS_KU: "KeyUpdate"}
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
DOWNGRD12 = bytes.fromhex("444F574E47524401")


class Fail(Exception):
    """The case failed; the message says how."""


class CaseTimeout(Exception):
    pass


# ---- encodings and primitives ----------------------------------------------------


def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def u24(n):
    return struct.pack("!I", n)[1:]


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def vec24(b):
    return u24(len(b)) + b


def hs(t, body):
    return u8(t) + vec24(body)


def record(ct, payload, ver=TLS12):
    return u8(ct) + u16(ver) + vec16(payload)


def ext(t, data):
    return u16(t) + vec16(data)


def sha256(data):
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def hmac256(key, data):
    h = chmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def hkdf_extract(salt, ikm):
    return hmac256(salt if salt else b"\0" * 32, ikm)


def hkdf_expand(prk, info, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac256(prk, t + info + u8(i))
        out += t
        i += 1
    return out[:n]


def expand_label(secret, label, ctx, n):
    return hkdf_expand(secret, u16(n) + vec8(b"tls13 " + label) + vec8(ctx), n)


def derive_secret(secret, label, thash):
    return expand_label(secret, label, thash, 32)


def prf12(secret, label, seed, n):
    seed = label + seed
    out, a = b"", seed
    while len(out) < n:
        a = hmac256(secret, a)
        out += hmac256(secret, a + seed)
    return out[:n]


def alert_name(d):
    return ALERTS.get(d, "alert %d" % d)


def names(codes):
    return " or ".join(alert_name(c) for c in sorted(codes))


class Prot13:
    """TLS 1.3 record protection in one direction (RFC 8446 5.2-5.3)."""

    def __init__(self, suite, secret):
        self.suite, self.secret, self.seq = suite, secret, 0
        klen = 16 if suite == AES128_SHA256 else 32
        key = expand_label(secret, b"key", b"", klen)
        self.iv = expand_label(secret, b"iv", b"", 12)
        self.aead = AESGCM(key) if suite == AES128_SHA256 else ChaCha20Poly1305(key)

    def nonce(self):
        return bytes(a ^ b for a, b in zip(self.iv, b"\0\0\0\0" + struct.pack("!Q", self.seq)))

    def seal(self, ctype, data, pad=0, inner=None, outer=CT_APP):
        if inner is None:
            inner = data + u8(ctype) + b"\0" * pad
        hdr = u8(outer) + u16(TLS12) + u16(len(inner) + 16)
        ct = self.aead.encrypt(self.nonce(), inner, hdr)
        self.seq += 1
        return hdr + ct

    def open(self, hdr, body):
        """(type, content); raises InvalidTag."""
        pt = self.aead.decrypt(self.nonce(), body, hdr)
        self.seq += 1
        pt = pt.rstrip(b"\0")
        if not pt:
            return None, b""
        return pt[-1], pt[:-1]

    def updated(self):
        return Prot13(self.suite, expand_label(self.secret, b"traffic upd", b"", 32))


class Prot12:
    """TLS 1.2 AES-128-GCM record protection in one direction (RFC 5288)."""

    def __init__(self, key, salt):
        self.aead, self.salt, self.seq = AESGCM(key), salt, 0

    def seal(self, ctype, data):
        explicit = struct.pack("!Q", self.seq)
        aad = struct.pack("!QBHH", self.seq, ctype, TLS12, len(data))
        body = explicit + self.aead.encrypt(self.salt + explicit, data, aad)
        self.seq += 1
        return record(ctype, body)

    def open(self, hdr, body):
        if len(body) < 24:
            raise InvalidTag()
        explicit, ct = body[:8], body[8:]
        aad = struct.pack("!QB", self.seq, hdr[0]) + hdr[1:3] + u16(len(ct) - 16)
        pt = self.aead.decrypt(self.salt + explicit, ct, aad)
        self.seq += 1
        return hdr[0], pt


# ---- a connection: records in and out, with deadlines ---------------------------


class Conn:
    def __init__(self, host, port):
        try:
            self.s = socket.create_connection((host, port), timeout=IO_TIMEOUT)
        except OSError as e:
            raise Fail("connect to %s:%d: %s" % (host, port, e))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = self.s.getsockname()[1]
        self.buf = b""
        self.rd = None  # Prot13 / Prot12 for what the server sends, once on
        self.rd12_next = None  # 1.2: switched on by the server's CCS
        self.others = []  # other read keys, to say what an undecryptable record was
        self.closed = None  # "eof" / "rst" once seen
        self.send_error = None
        self.pushed = []  # events looked at and put back

    def send(self, data):
        try:
            self.s.sendall(data)
        except OSError as e:  # the server may close before taking it all
            self.send_error = str(e)

    def shutdown_write(self):
        try:
            self.s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def _fill(self, deadline):
        """More bytes into buf: True, or False at EOF/RST; raises socket.timeout."""
        if self.closed:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        self.s.settimeout(left)
        try:
            b = self.s.recv(65536)
        except ConnectionResetError:
            self.closed = "rst"
            return False
        if not b:
            self.closed = "eof"
            return False
        self.buf += b
        return True

    def raw_record(self, deadline):
        """(hdr, body), or ("eof"|"rst"|"timeout"|"partial", None)."""
        try:
            while True:
                if len(self.buf) >= 5:
                    n = struct.unpack("!H", self.buf[3:5])[0]
                    if len(self.buf) >= 5 + n:
                        hdr, body = self.buf[:5], self.buf[5:5 + n]
                        self.buf = self.buf[5 + n:]
                        return hdr, body
                if not self._fill(deadline):
                    if self.buf:
                        return "partial", None
                    return self.closed, None
        except socket.timeout:
            return "timeout", None

    def event(self, deadline):
        """The server's next record, opened:
        ("alert", level, desc, how) ("ccs", payload) ("hs", bytes) ("app", bytes)
        ("other", type, bytes) ("undecryptable", hdr, note) or a terminal
        ("eof",) ("rst",) ("timeout",) ("partial",)."""
        if self.pushed:
            return self.pushed.pop(0)
        hdr, body = self.raw_record(deadline)
        if body is None:
            return (hdr,)
        ct = hdr[0]
        if ct == CT_CCS:
            if self.rd12_next is not None:
                self.rd, self.rd12_next = self.rd12_next, None
            return ("ccs", body)
        how = "plaintext"
        if self.rd is None and ct == CT_APP:
            return ("sealed", body)  # protected under keys this client did not derive
        if self.rd is not None and (ct == CT_APP or isinstance(self.rd, Prot12)):
            try:
                ct, body = self.rd.open(hdr, body)
                how = "encrypted"
            except InvalidTag:
                note = ""
                for name, p in self.others:
                    try:
                        p.open(hdr, body)
                        note = " (it opens under the %s keys)" % name
                    except InvalidTag:
                        pass
                return ("undecryptable", hdr, "%d-byte record of type %d%s" % (len(body), hdr[0], note))
            if ct is None:
                return ("other", 0, b"")
        elif self.rd is not None:
            how = "plaintext after the keys changed"
        if ct == CT_ALERT:
            if len(body) != 2:
                return ("other", CT_ALERT, body)
            return ("alert", body[0], body[1], how)
        if ct == CT_HS:
            return ("hs", body)
        if ct == CT_APP:
            return ("app", body)
        return ("other", ct, body)


def describe(ev):
    k = ev[0]
    if k == "alert":
        return "%s alert %s (%s)" % ("fatal" if ev[1] == 2 else "warning(%d)" % ev[1], alert_name(ev[2]), ev[3])
    if k == "hs":
        t = ev[1][0] if ev[1] else -1
        return "%s (handshake record, %d bytes)" % (HS_NAMES.get(t, "handshake type %d" % t), len(ev[1]))
    if k == "sealed":
        return "a protected record (%d bytes: the server going on)" % len(ev[1])
    if k == "app":
        return "application data (%d bytes: %r)" % (len(ev[1]), ev[1][:40])
    if k == "ccs":
        return "ChangeCipherSpec"
    if k == "other":
        return "record of type %d (%d bytes)" % (ev[1], len(ev[2]))
    if k == "undecryptable":
        return "undecryptable " + ev[2]
    return {"eof": "TCP close (EOF)", "rst": "TCP reset", "timeout": "nothing (timed out)",
            "partial": "a partial record, then the close"}.get(k, k)


class HSReader:
    """Handshake messages out of a connection's records."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""

    def next(self, what, deadline=None):
        deadline = deadline or time.monotonic() + IO_TIMEOUT
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack("!I", b"\0" + self.buf[1:4])[0]
                if len(self.buf) >= 4 + n:
                    m, self.buf = self.buf[:4 + n], self.buf[4 + n:]
                    return m
            ev = self.conn.event(deadline)
            if ev[0] == "hs":
                self.buf += ev[1]
            elif ev[0] == "ccs":
                continue
            else:
                raise Fail("waiting for %s, got %s" % (what, describe(ev)))


# ---- TLS 1.3 client ----------------------------------------------------------------


class Client13:
    def __init__(self, t, suite=AES128_SHA256):
        self.t = t
        self.conn = Conn(t.host, t.port)
        t.conns.append(self.conn)
        self.suite = suite
        self.kx = {G_X25519: x25519.X25519PrivateKey.generate(),
                   G_P256: ec.generate_private_key(ec.SECP256R1())}
        self.random = os.urandom(32)
        self.sid = os.urandom(32)
        self.transcript = b""
        self.hsr = HSReader(self.conn)
        self.wr = None
        self.psk = None
        self.hrr_group = None

    def pub(self, g):
        k = self.kx[g]
        if g == G_X25519:
            return k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return k.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)

    def exts(self, share_groups=(G_X25519,), groups=(G_X25519, G_P256)):
        """The default extensions, as a list of (type, data) a case may edit."""
        return [
            (EXT_VERSIONS, vec8(u16(TLS13))),
            (EXT_GROUPS, vec16(b"".join(u16(g) for g in groups))),
            (EXT_KEY_SHARE, vec16(b"".join(u16(g) + vec16(self.pub(g)) for g in share_groups))),
            (EXT_SIGALGS, vec16(b"".join(u16(s) for s in SIGALGS))),
        ]

    def hello(self, exts=None, suites=None, legacy=TLS12, comp=b"\0", sid=None, random=None,
              raw_exts=None):
        exts = self.exts() if exts is None else exts
        suites = [self.suite] if suites is None else suites
        xb = raw_exts if raw_exts is not None else vec16(b"".join(ext(a, b) for a, b in exts))
        body = (u16(legacy) + (random or self.random) + vec8(self.sid if sid is None else sid)
                + vec16(b"".join(u16(s) for s in suites)) + vec8(comp) + xb)
        return hs(HS_CH, body)

    def send_hello(self, msg=None, rec_ver=0x0301):
        msg = self.hello() if msg is None else msg
        self.transcript += msg
        self.conn.send(record(CT_HS, msg, rec_ver))
        return msg

    def thash(self):
        return sha256(self.transcript)

    def read_sh(self):
        """The ServerHello (or HelloRetryRequest: returns "hrr")."""
        m = self.hsr.next("ServerHello")
        if m[0] != HS_SH:
            raise Fail("expected ServerHello, got handshake type %d" % m[0])
        b = m[4:]
        self.sh_random = b[2:34]
        sl = b[34]
        p = 35 + sl
        suite = struct.unpack("!H", b[p:p + 2])[0]
        p += 3
        xl = struct.unpack("!H", b[p:p + 2])[0]
        x, p = b[p + 2:p + 2 + xl], 0
        exts = {}
        while p < len(x):
            et, el = struct.unpack("!HH", x[p:p + 4])
            exts[et] = x[p + 4:p + 4 + el]
            p += 4 + el
        self.sh_exts = exts
        if self.sh_random == HRR_RANDOM:
            # RFC 8446 4.4.1: the transcript restarts with message_hash.
            self.transcript = hs(254, sha256(self.transcript)) + m
            self.hrr_group = struct.unpack("!H", exts[EXT_KEY_SHARE][:2])[0]
            return "hrr"
        if exts.get(EXT_VERSIONS) != u16(TLS13):
            raise Fail("ServerHello is not TLS 1.3 (supported_versions %r)" % exts.get(EXT_VERSIONS))
        if suite != self.suite:
            raise Fail("ServerHello chose suite 0x%04x" % suite)
        self.transcript += m
        ks = exts[EXT_KEY_SHARE]
        g = struct.unpack("!H", ks[:2])[0]
        key = ks[4:]
        if g == G_X25519:
            shared = self.kx[g].exchange(x25519.X25519PublicKey.from_public_bytes(key))
        else:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
            shared = self.kx[g].exchange(ec.ECDH(), peer)
        early = hkdf_extract(None, self.psk or b"\0" * 32)
        hs_secret = hkdf_extract(derive_secret(early, b"derived", sha256(b"")), shared)
        th = self.thash()
        self.c_hs = derive_secret(hs_secret, b"c hs traffic", th)
        self.s_hs = derive_secret(hs_secret, b"s hs traffic", th)
        self.master = hkdf_extract(derive_secret(hs_secret, b"derived", sha256(b"")), b"\0" * 32)
        self.conn.rd = Prot13(self.suite, self.s_hs)
        self.wr_hs = Prot13(self.suite, self.c_hs)
        return "sh"

    def read_flight(self):
        """EncryptedExtensions .. server Finished (verified); then the
        application keys."""
        while True:
            m = self.hsr.next("the server's encrypted flight")
            if m[0] == HS_FIN:
                fk = expand_label(self.s_hs, b"finished", b"", 32)
                if m[4:] != hmac256(fk, self.thash()):
                    raise Fail("the server's Finished does not verify")
                self.transcript += m
                break
            if m[0] not in (HS_EE, HS_CERT, HS_CV, HS_CR):
                raise Fail("unexpected handshake type %d in the server's flight" % m[0])
            self.transcript += m
        th = self.thash()
        self.c_ap = derive_secret(self.master, b"c ap traffic", th)
        self.s_ap = derive_secret(self.master, b"s ap traffic", th)
        self.conn.rd = Prot13(self.suite, self.s_ap)
        self.conn.others = [("server handshake", Prot13(self.suite, self.s_hs))]
        self.wr_ap = Prot13(self.suite, self.c_ap)

    def finished(self):
        fk = expand_label(self.c_hs, b"finished", b"", 32)
        return hs(HS_FIN, hmac256(fk, self.thash()))

    def send_finished(self, msg=None, pad=0):
        msg = self.finished() if msg is None else msg
        self.conn.send(self.wr_hs.seal(CT_HS, msg, pad))
        self.transcript += msg
        self.res_master = derive_secret(self.master, b"res master", self.thash())
        self.wr = self.wr_ap

    def handshake(self):
        self.send_hello()
        if self.read_sh() != "sh":
            raise Fail("unexpected HelloRetryRequest")
        self.read_flight()
        self.send_finished()

    def write(self, data):
        self.conn.send(self.wr.seal(CT_APP, data))

    def read_app(self, n, deadline=None):
        """n bytes of application data; NewSessionTicket and KeyUpdate taken
        on the way."""
        deadline = deadline or time.monotonic() + IO_TIMEOUT
        got, hsbuf = b"", b""
        while len(got) < n:
            ev = self.conn.event(deadline)
            if ev[0] == "app":
                got += ev[1]
            elif ev[0] == "hs":
                hsbuf += ev[1]
                while len(hsbuf) >= 4 and len(hsbuf) >= 4 + struct.unpack("!I", b"\0" + hsbuf[1:4])[0]:
                    ml = 4 + struct.unpack("!I", b"\0" + hsbuf[1:4])[0]
                    m, hsbuf = hsbuf[:ml], hsbuf[ml:]
                    if m[0] == HS_NST:
                        self.take_ticket(m)
                    elif m[0] == HS_KU:
                        self.conn.rd = self.conn.rd.updated()
                        if m[4] == 1:
                            self.conn.send(self.wr.seal(CT_HS, hs(HS_KU, b"\0")))
                            self.wr = self.wr.updated()
                    else:
                        raise Fail("unexpected post-handshake message type %d" % m[0])
            else:
                raise Fail("waiting for %d bytes of echo (have %d), got %s" % (n, len(got), describe(ev)))
        return got

    def take_ticket(self, m):
        b = m[4:]
        self.ticket_age_add = struct.unpack("!I", b[4:8])[0]
        nl = b[8]
        self.ticket_nonce = b[9:9 + nl]
        p = 9 + nl
        tl = struct.unpack("!H", b[p:p + 2])[0]
        self.ticket = b[p + 2:p + 2 + tl]
        self.ticket_time = time.monotonic()

    def echo(self, line=b"hello-atoll\n"):
        self.write(line)
        got = self.read_app(len(line))
        if got != line:
            raise Fail("echo: sent %r, got %r" % (line, got))

    def close_notify(self):
        self.conn.send(self.wr.seal(CT_ALERT, b"\x01\x00"))


# ---- TLS 1.2 client ---------------------------------------------------------------


class Client12:
    def __init__(self, t):
        self.t = t
        self.conn = Conn(t.host, t.port)
        t.conns.append(self.conn)
        self.random = os.urandom(32)
        self.transcript = b""
        self.hsr = HSReader(self.conn)

    def exts(self):
        return [
            (EXT_GROUPS, vec16(u16(G_X25519) + u16(G_P256))),
            (EXT_POINTS, vec8(b"\0")),
            (EXT_SIGALGS, vec16(b"".join(u16(s) for s in SIGALGS))),
            (EXT_EMS, b""),
            (EXT_RENEG, b"\0"),
        ]

    def hello(self, exts=None, suites=(ECDHE_ECDSA_AES128_GCM,), legacy=TLS12):
        exts = self.exts() if exts is None else exts
        body = (u16(legacy) + self.random + vec8(b"") + vec16(b"".join(u16(s) for s in suites))
                + vec8(b"\0") + vec16(b"".join(ext(a, b) for a, b in exts)))
        return hs(HS_CH, body)

    def send_hello(self, msg=None):
        msg = self.hello() if msg is None else msg
        self.transcript += msg
        self.conn.send(record(CT_HS, msg, 0x0301))

    def read_flight(self):
        """ServerHello, Certificate, ServerKeyExchange, ServerHelloDone."""
        m = self.hsr.next("ServerHello")
        if m[0] != HS_SH:
            raise Fail("expected ServerHello, got handshake type %d" % m[0])
        b = m[4:]
        self.sh_version = struct.unpack("!H", b[:2])[0]
        self.sh_random = b[2:34]
        p = 35 + b[34]
        self.suite = struct.unpack("!H", b[p:p + 2])[0]
        self.transcript += m
        if self.sh_version != TLS12:
            raise Fail("ServerHello version 0x%04x, not TLS 1.2" % self.sh_version)
        while True:
            m = self.hsr.next("the server's TLS 1.2 flight")
            self.transcript += m
            if m[0] == HS_SKE:
                b = m[4:]
                if b[0] != 3:
                    raise Fail("ServerKeyExchange curve type %d" % b[0])
                self.group = struct.unpack("!H", b[1:3])[0]
                self.server_pub = b[4:4 + b[3]]
            elif m[0] == HS_SHD:
                return
            elif m[0] != HS_CERT:
                raise Fail("unexpected handshake type %d in the 1.2 flight" % m[0])

    def cke(self, point=None):
        if self.group == G_X25519:
            k = x25519.X25519PrivateKey.generate()
            pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            pms = k.exchange(x25519.X25519PublicKey.from_public_bytes(self.server_pub))
        else:
            k = ec.generate_private_key(ec.SECP256R1())
            pub = k.public_key().public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint)
            peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), self.server_pub)
            pms = k.exchange(ec.ECDH(), peer)
        m = hs(HS_CKE, vec8(pub if point is None else point))
        self.transcript += m
        # RFC 7627 4: the session hash runs through ClientKeyExchange.
        self.master = prf12(pms, b"extended master secret", sha256(self.transcript), 48)
        kb = prf12(self.master, b"key expansion", self.sh_random + self.random, 40)
        self.wr = Prot12(kb[0:16], kb[32:36])
        self.conn.rd12_next = Prot12(kb[16:32], kb[36:40])
        return m

    def finished(self):
        return hs(HS_FIN, prf12(self.master, b"client finished", sha256(self.transcript), 12))

    def handshake(self, stop_before_finished=False):
        self.send_hello()
        self.read_flight()
        m = self.cke()
        self.conn.send(record(CT_HS, m) + record(CT_CCS, b"\x01"))
        if stop_before_finished:
            return
        self.send_finished()
        self.read_server_finished()

    def send_finished(self, msg=None, flip_tag=False):
        msg = self.finished() if msg is None else msg
        rec = bytearray(self.wr.seal(CT_HS, msg))
        if flip_tag:
            rec[-1] ^= 0x01
        self.conn.send(bytes(rec))
        self.transcript += msg

    def read_server_finished(self):
        deadline = time.monotonic() + IO_TIMEOUT
        while True:
            ev = self.conn.event(deadline)
            if ev[0] == "ccs":
                continue
            if ev[0] == "hs" and ev[1][:1] == bytes([HS_NST]):
                self.transcript += ev[1]
                continue
            if ev[0] == "hs" and ev[1][:1] == bytes([HS_FIN]):
                want = prf12(self.master, b"server finished", sha256(self.transcript), 12)
                if ev[1][4:] != want:
                    raise Fail("the server's 1.2 Finished does not verify")
                return
            raise Fail("waiting for the server's 1.2 Finished, got %s" % describe(ev))

    def write(self, data):
        self.conn.send(self.wr.seal(CT_APP, data))

    def echo(self, line=b"hello-atoll-12\n"):
        self.write(line)
        deadline = time.monotonic() + IO_TIMEOUT
        got = b""
        while len(got) < len(line):
            ev = self.conn.event(deadline)
            if ev[0] != "app":
                raise Fail("waiting for the echo, got %s" % describe(ev))
            got += ev[1]
        if got != line:
            raise Fail("echo: sent %r, got %r" % (line, got))


# ---- verdicts ------------------------------------------------------------------------


class T:
    """What every case gets: where the server is, the connections made, what
    was seen."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conns = []
        self.manifest = []  # (port, what)

    def expect_alert(self, conn, codes, note=None):
        """The server's answer must be a fatal alert in codes, then the TCP
        close.  Records seen before the alert other than ChangeCipherSpec
        and NewSessionTicket fail the case."""
        codes = set(codes)
        deadline = time.monotonic() + IO_TIMEOUT
        seen = []
        got = None
        while True:
            ev = conn.event(deadline)
            if ev[0] == "ccs" or (ev[0] == "hs" and ev[1][:1] == bytes([HS_NST])):
                continue
            if ev[0] == "alert":
                got = ev
                break
            seen.append(describe(ev))
            if ev[0] in ("eof", "rst", "timeout", "partial"):
                break
            # Something else: the server went on.  Look a little further, to
            # report what it does.
            deadline = min(deadline, time.monotonic() + 1.0)
        if got is not None:
            self.manifest.append((conn.port, alert_name(got[2])))
        want = "a fatal %s alert" % names(codes)
        if got is None:
            raise Fail("wanted %s; got %s" % (want, "; then ".join(seen) or "nothing"))
        prefix = ("after %s: " % "; ".join(seen)) if seen else ""
        if got[1] != 2 or got[2] not in codes:
            raise Fail("%swanted %s; got %s" % (prefix, want, describe(got)))
        if seen:
            raise Fail("wanted only %s; got %s first" % (want, "; ".join(seen)))
        if got[3] == "plaintext after the keys changed":
            raise Fail("the %s alert came unprotected after the keys changed" % alert_name(got[2]))
        self.expect_close(conn, "after the %s alert" % alert_name(got[2]))
        return got[2]

    def expect_close(self, conn, when):
        deadline = time.monotonic() + EOF_TIMEOUT
        while True:
            ev = conn.event(deadline)
            if ev[0] in ("eof", "rst"):
                return
            if ev[0] == "timeout":
                raise Fail("the connection stayed open %s (no EOF within %gs)" % (when, EOF_TIMEOUT))
            raise Fail("%s %s: wanted the TCP close" % (describe(ev), when))


CASES = []


def case(name, rfc=""):
    def reg(f):
        CASES.append((name, rfc, f))
        return f
    return reg


# ---- ClientHello and record layer -----------------------------------------------------


def expect_quiet_close(t, conn):
    """After a truncation and our FIN: no answer needed but the TCP close
    (a close_notify or a fatal alert first is allowed); tlsd logs a failure
    without an alert."""
    conn.shutdown_write()
    ev = conn.event(time.monotonic() + IO_TIMEOUT)
    t.manifest.append((conn.port, "failed"))
    if ev[0] == "alert" and (ev[1] == 2 or ev[2] == 0):
        t.expect_close(conn, "after the %s alert" % alert_name(ev[2]))
    elif ev[0] not in ("eof", "rst"):
        raise Fail("wanted the TCP close; got %s" % describe(ev))


@case("CH truncated inside the handshake message, then EOF: closed, no crash")
def _(t):
    c = Client13(t)
    m = c.hello()
    c.conn.send(record(CT_HS, m[:len(m) // 2], 0x0301))
    expect_quiet_close(t, c.conn)


@case("CH record truncated (header says more than sent), then EOF: closed, no crash")
def _(t):
    c = Client13(t)
    r = record(CT_HS, c.hello(), 0x0301)
    c.conn.send(r[:len(r) - 40])
    expect_quiet_close(t, c.conn)


@case("record header cut after 3 bytes, then EOF: closed, no crash")
def _(t):
    c = Client13(t)
    c.conn.send(record(CT_HS, c.hello(), 0x0301)[:3])
    expect_quiet_close(t, c.conn)


@case("1.3 handshake stopped after the server flight (no Finished), then EOF: closed, no crash")
def _(t):
    c = after_flight(t)
    expect_quiet_close(t, c.conn)


def bad_ch(t, codes, mutate):
    c = Client13(t)
    m = mutate(c)
    c.conn.send(record(CT_HS, m, 0x0301) if isinstance(m, bytes) else m[0])
    t.expect_alert(c.conn, codes)


def relen(m, delta):
    """A handshake message whose length field is off by delta."""
    n = len(m) - 4 + delta
    return m[:1] + u24(n) + m[4:]


@case("CH handshake length shorter than its body -> decode_error", "RFC 8446 6.2")
def _(t):
    bad_ch(t, {A["decode_error"]}, lambda c: relen(c.hello(), -7))


@case("CH extensions block length past the end -> decode_error", "RFC 8446 6.2")
def _(t):
    def m(c):
        x = b"".join(ext(a, b) for a, b in c.exts())
        return c.hello(raw_exts=u16(len(x) + 9) + x)
    bad_ch(t, {A["decode_error"]}, m)


@case("CH extension length past the block end -> decode_error", "RFC 8446 6.2")
def _(t):
    def m(c):
        x = b"".join(ext(a, b) for a, b in c.exts()) + u16(0x1234) + u16(50) + b"\0" * 10
        return c.hello(raw_exts=vec16(x))
    bad_ch(t, {A["decode_error"]}, m)


@case("CH cipher_suites of odd length -> decode_error", "RFC 8446 6.2")
def _(t):
    def m(c):
        ch = c.hello()
        # legacy_version(2) random(32) sid(1+32) then the suites' length
        p = 4 + 2 + 32 + 1 + 32
        body = ch[4:p] + u16(3) + u16(AES128_SHA256) + b"\x13" + ch[p + 4:]
        return hs(HS_CH, body)
    bad_ch(t, {A["decode_error"]}, m)


@case("CH empty cipher_suites -> decode_error", "RFC 8446 4.1.2 <2..2^16-2>")
def _(t):
    bad_ch(t, {A["decode_error"]}, lambda c: c.hello(suites=[]))


@case("CH legacy_session_id of 33 bytes -> decode_error", "RFC 8446 4.1.2 <0..32>")
def _(t):
    bad_ch(t, {A["decode_error"]}, lambda c: c.hello(sid=os.urandom(33)))


@case("CH empty compression methods -> decode_error", "RFC 8446 4.1.2 <1..2^8-1>")
def _(t):
    bad_ch(t, {A["decode_error"]}, lambda c: c.hello(comp=b""))


@case("CH with bytes after the extensions block -> decode_error", "RFC 8446 6.2")
def _(t):
    def m(c):
        ch = c.hello()
        return hs(HS_CH, ch[4:] + b"\0\0\0")
    bad_ch(t, {A["decode_error"]}, m)


@case("CH handshake length 2^24-1 (more than any buffer) -> decode_error", "RFC 8446 6.2")
def _(t):
    def m(c):
        ch = c.hello()
        return ch[:1] + b"\xff\xff\xff" + ch[4:]
    bad_ch(t, {A["decode_error"]}, m)


@case("CH legacy_version 0x0300 (SSL 3.0), no supported_versions -> protocol_version",
      "RFC 8446 4.2.1, D.5")
def _(t):
    bad_ch(t, {A["protocol_version"]},
           lambda c: c.hello(legacy=0x0300, exts=[e for e in c.exts() if e[0] != EXT_VERSIONS]))


@case("CH legacy_version 0x0302 (TLS 1.1), no supported_versions -> protocol_version",
      "RFC 8446 D.2, RFC 8996")
def _(t):
    bad_ch(t, {A["protocol_version"]},
           lambda c: c.hello(legacy=0x0302, exts=[e for e in c.exts() if e[0] != EXT_VERSIONS]))


@case("CH supported_versions {TLS 1.0, TLS 1.1} only -> protocol_version", "RFC 8446 4.2.1")
def _(t):
    def m(c):
        x = [e for e in c.exts() if e[0] != EXT_VERSIONS] + [(EXT_VERSIONS, vec8(u16(0x0301) + u16(0x0302)))]
        return c.hello(exts=x)
    bad_ch(t, {A["protocol_version"]}, m)


@case("CH supported_versions {0x7f1c, 0x0305} (unknown only) -> protocol_version", "RFC 8446 4.2.1")
def _(t):
    def m(c):
        x = [e for e in c.exts() if e[0] != EXT_VERSIONS] + [(EXT_VERSIONS, vec8(u16(0x7F1C) + u16(0x0305)))]
        return c.hello(exts=x)
    bad_ch(t, {A["protocol_version"]}, m)


@case("CH supported_versions of odd length -> decode_error", "RFC 8446 6.2")
def _(t):
    def m(c):
        x = [e for e in c.exts() if e[0] != EXT_VERSIONS] + [(EXT_VERSIONS, b"\x03\x03\x04\x03")]
        return c.hello(exts=x)
    bad_ch(t, {A["decode_error"]}, m)


@case("CH without key_share (supported_groups sent) -> missing_extension", "RFC 8446 9.2")
def _(t):
    bad_ch(t, {A["missing_extension"]}, lambda c: c.hello(exts=[e for e in c.exts() if e[0] != EXT_KEY_SHARE]))


@case("CH without supported_groups (key_share sent) -> missing_extension", "RFC 8446 9.2")
def _(t):
    bad_ch(t, {A["missing_extension"]}, lambda c: c.hello(exts=[e for e in c.exts() if e[0] != EXT_GROUPS]))


@case("CH without signature_algorithms (certificate auth) -> missing_extension", "RFC 8446 4.2.3, 9.2")
def _(t):
    bad_ch(t, {A["missing_extension"]}, lambda c: c.hello(exts=[e for e in c.exts() if e[0] != EXT_SIGALGS]))


@case("CH no group in common (ffdhe2048 only, with its share) -> handshake_failure", "RFC 8446 4.1.1")
def _(t):
    def m(c):
        x = [e for e in c.exts() if e[0] not in (EXT_GROUPS, EXT_KEY_SHARE)]
        x += [(EXT_GROUPS, vec16(u16(G_FFDHE2048))),
              (EXT_KEY_SHARE, vec16(u16(G_FFDHE2048) + vec16(os.urandom(256))))]
        return c.hello(exts=x)
    bad_ch(t, {A["handshake_failure"]}, m)


@case("CH key_share for a group not in supported_groups -> illegal_parameter", "RFC 8446 4.2.8")
def _(t):
    def m(c):
        x = [e for e in c.exts() if e[0] != EXT_GROUPS] + [(EXT_GROUPS, vec16(u16(G_P256)))]
        return c.hello(exts=x)
    bad_ch(t, {A["illegal_parameter"]}, m)


@case("CH x25519 share all zeros (small order) -> illegal_parameter", "RFC 8446 7.4.2, RFC 7748 6.1")
def _(t):
    def m(c):
        x = [e for e in c.exts() if e[0] != EXT_KEY_SHARE]
        x.append((EXT_KEY_SHARE, vec16(u16(G_X25519) + vec16(b"\0" * 32))))
        return c.hello(exts=x)
    bad_ch(t, {A["illegal_parameter"]}, m)


@case("CH P-256 share not on the curve -> illegal_parameter", "RFC 8446 4.2.8.2")
def _(t):
    def m(c):
        x = [e for e in c.exts() if e[0] not in (EXT_KEY_SHARE, EXT_GROUPS)]
        pt = bytearray(c.pub(G_P256))
        pt[-1] ^= 1
        x += [(EXT_GROUPS, vec16(u16(G_P256))), (EXT_KEY_SHARE, vec16(u16(G_P256) + vec16(bytes(pt))))]
        return c.hello(exts=x)
    bad_ch(t, {A["illegal_parameter"]}, m)


@case("CH x25519 share of 31 bytes -> illegal_parameter or decode_error", "RFC 8446 4.2.8.2")
def _(t):
    def m(c):
        x = [e for e in c.exts() if e[0] != EXT_KEY_SHARE]
        x.append((EXT_KEY_SHARE, vec16(u16(G_X25519) + vec16(c.pub(G_X25519)[:31]))))
        return c.hello(exts=x)
    bad_ch(t, {A["illegal_parameter"], A["decode_error"]}, m)


@case("CH 1.3 compression methods [1, 0] -> illegal_parameter", "RFC 8446 4.1.2")
def _(t):
    bad_ch(t, {A["illegal_parameter"]}, lambda c: c.hello(comp=b"\x01\x00"))


@case("CH 1.3 compression methods [1] -> illegal_parameter", "RFC 8446 4.1.2")
def _(t):
    bad_ch(t, {A["illegal_parameter"]}, lambda c: c.hello(comp=b"\x01"))


@case("CH duplicate extension (supported_groups twice) -> illegal_parameter or decode_error",
      "RFC 8446 4.2")
def _(t):
    def m(c):
        x = c.exts()
        return c.hello(exts=x + [x[1]])
    bad_ch(t, {A["illegal_parameter"], A["decode_error"]}, m)


@case("CH pre_shared_key not the last extension -> illegal_parameter", "RFC 8446 4.2.11")
def _(t):
    def m(c):
        psk = vec16(vec16(os.urandom(40)) + b"\0\0\0\0") + vec16(vec8(os.urandom(32)))
        x = c.exts()
        x = x[:2] + [(EXT_PSK_MODES, vec8(b"\x01")), (EXT_PSK, psk)] + x[2:]
        return c.hello(exts=x)
    bad_ch(t, {A["illegal_parameter"]}, m)


@case("CH SNI list length wrong -> decode_error", "RFC 6066 3, RFC 8446 6.2")
def _(t):
    def m(c):
        name = b"localhost"
        sni = u16(len(name) + 3 + 5) + b"\0" + vec16(name)
        return c.hello(exts=[(EXT_SNI, sni)] + c.exts())
    bad_ch(t, {A["decode_error"]}, m)


@case("CH SNI host_name of length 0 -> decode_error", "RFC 6066 3 HostName<1..2^16-1>")
def _(t):
    bad_ch(t, {A["decode_error"]}, lambda c: c.hello(exts=[(EXT_SNI, vec16(b"\0" + vec16(b"")))] + c.exts()))


@case("CH SNI host_name with a NUL byte -> illegal_parameter, decode_error or unrecognized_name",
      "RFC 6066 3")
def _(t):
    bad_ch(t, {A["illegal_parameter"], A["decode_error"], A["unrecognized_name"]},
           lambda c: c.hello(exts=[(EXT_SNI, vec16(b"\0" + vec16(b"local\0host")))] + c.exts()))


@case("zero-length handshake record before the CH -> unexpected_message or decode_error",
      "RFC 8446 5.1")
def _(t):
    c = Client13(t)
    c.conn.send(record(CT_HS, b"", 0x0301) + record(CT_HS, c.hello(), 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"], A["decode_error"]})


@case("plaintext record of 2^14+1 bytes -> record_overflow", "RFC 8446 5.1")
def _(t):
    c = Client13(t)
    m = c.hello()
    c.conn.send(record(CT_HS, m + b"\0" * (16385 - len(m)), 0x0301))
    t.expect_alert(c.conn, {A["record_overflow"]})


@case("record length 2^14+256+1 before the CH -> record_overflow", "RFC 8446 5.1, 5.2")
def _(t):
    c = Client13(t)
    c.conn.send(u8(CT_HS) + u16(0x0301) + u16(16641) + os.urandom(16641))
    t.expect_alert(c.conn, {A["record_overflow"]})


@case("record length 0xFFFF before the CH -> record_overflow", "RFC 8446 5.1")
def _(t):
    c = Client13(t)
    c.conn.send(u8(CT_HS) + u16(0x0301) + u16(0xFFFF) + b"\0" * 1000)
    t.expect_alert(c.conn, {A["record_overflow"]})


@case("record of unknown content type 0x63 before the CH -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.conn.send(record(0x63, b"hello") + record(CT_HS, c.hello(), 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("heartbeat record (type 24, not negotiated) before the CH -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.conn.send(record(24, b"\x01\x00\x10" + os.urandom(16 + 16)) + record(CT_HS, c.hello(), 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("application data record before the CH -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.conn.send(record(CT_APP, b"GET / HTTP/1.0\r\n\r\n") + record(CT_HS, c.hello(), 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("alert record inside a fragmented CH -> unexpected_message", "RFC 8446 5.1")
def _(t):
    c = Client13(t)
    m = c.hello()
    c.conn.send(record(CT_HS, m[:50], 0x0301) + record(CT_ALERT, b"\x01\x5a", 0x0301)
                + record(CT_HS, m[50:], 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("ChangeCipherSpec before the first CH -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.conn.send(record(CT_CCS, b"\x01") + record(CT_HS, c.hello(), 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("ChangeCipherSpec between two fragments of the CH -> unexpected_message", "RFC 8446 5, 5.1")
def _(t):
    c = Client13(t)
    m = c.hello()
    c.conn.send(record(CT_HS, m[:50], 0x0301) + record(CT_CCS, b"\x01") + record(CT_HS, m[50:], 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("record version 0x0301 on the CH: accepted, handshake completes", "RFC 8446 5.1")
def _(t):
    c = Client13(t)
    c.handshake()
    c.echo()


@case("record version 0x03ff on the CH: ignored, handshake completes", "RFC 8446 5.1, RFC 5246 E.1")
def _(t):
    c = Client13(t)
    c.send_hello(rec_ver=0x03FF)
    c.read_sh()
    c.read_flight()
    c.send_finished()
    c.echo()


@case("record version 0x0000 (garbage) on the CH: ignored, handshake completes",
      "RFC 8446 5.1: legacy_record_version MUST be ignored for all purposes")
def _(t):
    c = Client13(t)
    c.send_hello(rec_ver=0x0000)
    ev = c.conn.event(time.monotonic() + IO_TIMEOUT)
    if ev[0] == "alert":
        t.manifest.append((c.conn.port, alert_name(ev[2])))
    if ev[0] != "hs" or ev[1][:1] != bytes([HS_SH]):
        raise Fail("wanted a ServerHello (the record version ignored); got %s" % describe(ev))
    c.hsr.buf = ev[1]
    c.read_sh()
    c.read_flight()
    c.send_finished()
    c.echo()


@case("CH fragmented over 3 records, then a full handshake: accepted", "RFC 8446 5.1")
def _(t):
    c = Client13(t)
    m = c.hello()
    c.transcript += m
    c.conn.send(record(CT_HS, m[:3], 0x0301) + record(CT_HS, m[3:60], 0x0301) + record(CT_HS, m[60:], 0x0301))
    c.read_sh()
    c.read_flight()
    c.send_finished()
    c.echo()


@case("CH with TLS_FALLBACK_SCSV offering 1.3: no fallback, handshake completes", "RFC 7507 3")
def _(t):
    c = Client13(t)
    c.send_hello(c.hello(suites=[AES128_SHA256, SCSV_FALLBACK]))
    c.read_sh()
    c.read_flight()
    c.send_finished()
    c.echo()


@case("CH with only TLS_CHACHA20_POLY1305_SHA256: handshake completes (positive)")
def _(t):
    c = Client13(t, suite=CHACHA_SHA256)
    c.handshake()
    c.echo()


@case("CH with an empty key_share: HelloRetryRequest, then a full handshake (positive)", "RFC 8446 4.1.4")
def _(t):
    c = Client13(t)
    x = [e if e[0] != EXT_KEY_SHARE else (EXT_KEY_SHARE, vec16(b"")) for e in c.exts()]
    c.send_hello(c.hello(exts=x))
    if c.read_sh() != "hrr":
        raise Fail("wanted a HelloRetryRequest")
    if c.hrr_group != G_X25519:
        raise Fail("HelloRetryRequest for group %d" % c.hrr_group)
    c.send_hello(rec_ver=TLS12)  # RFC 8446 5.1: 0x0303 after a HelloRetryRequest
    if c.read_sh() != "sh":
        raise Fail("a second HelloRetryRequest")
    c.read_flight()
    c.send_finished()
    c.echo()


@case("HelloRetryRequest, then the second CH again without a share -> illegal_parameter", "RFC 8446 4.1.2")
def _(t):
    c = Client13(t)
    x = [e if e[0] != EXT_KEY_SHARE else (EXT_KEY_SHARE, vec16(b"")) for e in c.exts()]
    c.send_hello(c.hello(exts=x))
    if c.read_sh() != "hrr":
        raise Fail("wanted a HelloRetryRequest")
    c.conn.send(record(CT_HS, c.hello(exts=x)))
    t.expect_alert(c.conn, {A["illegal_parameter"]})


@case("HelloRetryRequest, then a second CH with another random -> illegal_parameter", "RFC 8446 4.1.2")
def _(t):
    c = Client13(t)
    x = [e if e[0] != EXT_KEY_SHARE else (EXT_KEY_SHARE, vec16(b"")) for e in c.exts()]
    c.send_hello(c.hello(exts=x))
    if c.read_sh() != "hrr":
        raise Fail("wanted a HelloRetryRequest")
    c.conn.send(record(CT_HS, c.hello(random=os.urandom(32))))
    t.expect_alert(c.conn, {A["illegal_parameter"]})


# ---- out of order --------------------------------------------------------------------


@case("client Finished before the CH -> unexpected_message", "RFC 8446 6.2")
def _(t):
    c = Client13(t)
    c.conn.send(record(CT_HS, hs(HS_FIN, os.urandom(32)), 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("ServerHello sent by the client -> unexpected_message", "RFC 8446 6.2")
def _(t):
    c = Client13(t)
    c.conn.send(record(CT_HS, hs(HS_SH, c.hello()[4:]), 0x0301))
    t.expect_alert(c.conn, {A["unexpected_message"]})


def flight_then_alert(t, c, codes):
    """The alert at once, or after the server's flight (a server may answer
    the first message before it looks at the next)."""
    ev = c.conn.event(time.monotonic() + IO_TIMEOUT)
    c.conn.pushed.append(ev)
    if ev[0] != "alert":
        c.read_sh()
        c.read_flight()
    t.expect_alert(c.conn, codes)


@case("two CHs in one record -> unexpected_message", "RFC 8446 5.1 (key change on a record boundary)")
def _(t):
    c = Client13(t)
    m = c.hello()
    c.transcript += m
    c.conn.send(record(CT_HS, m + m, 0x0301))
    flight_then_alert(t, c, {A["unexpected_message"]})


@case("the CH sent twice (duplicated record) -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    m = c.hello()
    c.transcript += m
    c.conn.send(record(CT_HS, m, 0x0301) * 2)
    flight_then_alert(t, c, {A["unexpected_message"]})


@case("a second CH (plaintext) after the server flight -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(record(CT_HS, c.hello(random=os.urandom(32))))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("a second CH under the handshake keys, in place of Finished -> unexpected_message", "RFC 8446 4")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(c.wr_hs.seal(CT_HS, c.hello()))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("application data under the handshake keys before Finished -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(c.wr_hs.seal(CT_APP, b"too early\n"))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("application data under the application keys before Finished -> bad_record_mac", "RFC 8446 5.2")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(c.wr_ap.seal(CT_APP, b"too early\n"))
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("ChangeCipherSpec with payload 0x02 -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(record(CT_CCS, b"\x02"))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("ChangeCipherSpec with payload 01 01 -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(record(CT_CCS, b"\x01\x01"))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("ChangeCipherSpec empty -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(record(CT_CCS, b""))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("protected ChangeCipherSpec (inner type 20) before Finished -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(c.wr_hs.seal(CT_CCS, b"\x01"))
    # A server that drops it goes on: it would echo this.
    c.send_finished()
    c.write(b"after-protected-ccs\n")
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("compatibility ChangeCipherSpec before Finished: dropped, handshake completes", "RFC 8446 5, D.4")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(record(CT_CCS, b"\x01"))
    c.send_finished()
    c.echo()


@case("two compatibility ChangeCipherSpecs before Finished: both dropped, handshake completes",
      "RFC 8446 5: any CCS 0x01 between CH and Finished MUST be dropped")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(record(CT_CCS, b"\x01") * 2)
    c.send_finished()
    c.echo()


@case("ChangeCipherSpec after the handshake -> unexpected_message", "RFC 8446 5")
def _(t):
    c = Client13(t)
    c.handshake()
    c.echo()
    c.conn.send(record(CT_CCS, b"\x01"))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("KeyUpdate before Finished -> unexpected_message", "RFC 8446 4.6.3")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(c.wr_hs.seal(CT_HS, hs(HS_KU, b"\0")))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("Certificate (not requested) before Finished -> unexpected_message", "RFC 8446 4.4.2")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(c.wr_hs.seal(CT_HS, hs(HS_CERT, b"\0" + vec24(b""))))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("EndOfEarlyData without early data -> unexpected_message", "RFC 8446 4.5")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    c.conn.send(c.wr_hs.seal(CT_HS, hs(HS_EOED, b"")))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("Finished and KeyUpdate in one record (key change inside a record) -> unexpected_message",
      "RFC 8446 5.1")
def _(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    fin = c.finished()
    c.conn.send(c.wr_hs.seal(CT_HS, fin + hs(HS_KU, b"\0")))
    c.transcript += fin
    t.expect_alert(c.conn, {A["unexpected_message"]})


# ---- after the server's flight (1.3) --------------------------------------------------


def after_flight(t):
    c = Client13(t)
    c.send_hello()
    c.read_sh()
    c.read_flight()
    return c


@case("bad client Finished verify_data -> decrypt_error", "RFC 8446 4.4.4, 6.2")
def _(t):
    c = after_flight(t)
    fin = bytearray(c.finished())
    fin[10] ^= 0x40
    c.conn.send(c.wr_hs.seal(CT_HS, bytes(fin)))
    t.expect_alert(c.conn, {A["decrypt_error"]})


@case("client Finished of 31 bytes -> decode_error", "RFC 8446 4.4.4, 6.2")
def _(t):
    c = after_flight(t)
    c.conn.send(c.wr_hs.seal(CT_HS, hs(HS_FIN, c.finished()[4:35])))
    t.expect_alert(c.conn, {A["decode_error"]})


@case("Finished record with a flipped tag bit -> bad_record_mac", "RFC 8446 5.2")
def _(t):
    c = after_flight(t)
    r = bytearray(c.wr_hs.seal(CT_HS, c.finished()))
    r[-3] ^= 0x08
    c.conn.send(bytes(r))
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("Finished record with a flipped ciphertext bit -> bad_record_mac", "RFC 8446 5.2")
def _(t):
    c = after_flight(t)
    r = bytearray(c.wr_hs.seal(CT_HS, c.finished()))
    r[8] ^= 0x01
    c.conn.send(bytes(r))
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("Finished record with its header's version changed (part of the AAD) -> bad_record_mac",
      "RFC 8446 5.2")
def _(t):
    c = after_flight(t)
    r = bytearray(c.wr_hs.seal(CT_HS, c.finished()))
    r[1:3] = b"\x03\x01"  # the record version is in the AAD too
    c.conn.send(bytes(r))
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("encrypted record shorter than the tag (10 bytes) -> bad_record_mac", "RFC 8446 5.2")
def _(t):
    c = after_flight(t)
    c.conn.send(record(CT_APP, os.urandom(10)))
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("Finished record truncated by one byte (length adjusted) -> bad_record_mac", "RFC 8446 5.2")
def _(t):
    c = after_flight(t)
    r = c.wr_hs.seal(CT_HS, c.finished())
    c.conn.send(r[:3] + u16(len(r) - 6) + r[5:-1])
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("inner plaintext all zeros (no content type) -> unexpected_message", "RFC 8446 5.4")
def _(t):
    c = after_flight(t)
    c.conn.send(c.wr_hs.seal(0, b"", inner=b"\0" * 40))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("unknown inner content type 0x63 -> unexpected_message", "RFC 8446 5")
def _(t):
    c = after_flight(t)
    c.conn.send(c.wr_hs.seal(0x63, b"hello"))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("Finished with 16348 bytes of zero padding (inner 2^14+1): accepted (positive)", "RFC 8446 5.4")
def _(t):
    c = after_flight(t)
    c.send_finished(pad=16385 - 36 - 1)
    c.echo()


@case("inner plaintext 2^14+2 bytes -> record_overflow", "RFC 8446 5.2, 5.4")
def _(t):
    c = after_flight(t)
    c.conn.send(c.wr_hs.seal(CT_HS, c.finished(), pad=16386 - 36 - 1))
    t.expect_alert(c.conn, {A["record_overflow"]})


@case("encrypted record of 2^14+256+1 bytes -> record_overflow", "RFC 8446 5.2")
def _(t):
    c = after_flight(t)
    c.conn.send(u8(CT_APP) + u16(TLS12) + u16(16641) + os.urandom(16641))
    t.expect_alert(c.conn, {A["record_overflow"]})


@case("handshake message of unknown type 99 in place of Finished -> unexpected_message", "RFC 8446 4")
def _(t):
    c = after_flight(t)
    c.conn.send(c.wr_hs.seal(CT_HS, hs(99, b"\0" * 8)))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("Finished in a plaintext record after the keys changed -> unexpected_message", "RFC 8446 5")
def _(t):
    c = after_flight(t)
    c.conn.send(record(CT_HS, c.finished()))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("alert record of 3 bytes (encrypted) -> decode_error or unexpected_message",
      "RFC 8446 5.1: alerts never fragmented nor coalesced; 6.2")
def _(t):
    c = after_flight(t)
    c.conn.send(c.wr_hs.seal(CT_ALERT, b"\x02\x28\x00"))
    t.expect_alert(c.conn, {A["decode_error"], A["unexpected_message"]})


# ---- after the 1.3 handshake ------------------------------------------------------------


def established13(t):
    c = Client13(t)
    c.handshake()
    c.echo()  # the NewSessionTicket is read on the way
    return c


@case("KeyUpdate with request_update=2 -> illegal_parameter", "RFC 8446 4.6.3")
def _(t):
    c = established13(t)
    c.conn.send(c.wr.seal(CT_HS, hs(HS_KU, b"\x02")))
    t.expect_alert(c.conn, {A["illegal_parameter"]})


@case("KeyUpdate of 2 bytes -> decode_error", "RFC 8446 4.6.3, 6.2")
def _(t):
    c = established13(t)
    c.conn.send(c.wr.seal(CT_HS, hs(HS_KU, b"\x00\x00")))
    t.expect_alert(c.conn, {A["decode_error"]})


@case("KeyUpdate update_requested: answered, echo on the new keys (positive)", "RFC 8446 4.6.3")
def _(t):
    c = established13(t)
    c.conn.send(c.wr.seal(CT_HS, hs(HS_KU, b"\x01")))
    c.wr = c.wr.updated()
    deadline = time.monotonic() + IO_TIMEOUT
    ev = c.conn.event(deadline)
    if ev[0] != "hs" or ev[1] != hs(HS_KU, b"\x00"):
        raise Fail("wanted the server's KeyUpdate(update_not_requested), got %s" % describe(ev))
    c.conn.rd = c.conn.rd.updated()
    c.echo(b"after-key-update\n")


@case("handshake message of unknown type 99 after the handshake -> unexpected_message", "RFC 8446 4")
def _(t):
    c = established13(t)
    c.conn.send(c.wr.seal(CT_HS, hs(99, b"\0" * 8)))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("CH after the 1.3 handshake (encrypted) -> unexpected_message", "RFC 8446 4.1.2")
def _(t):
    c = established13(t)
    c.conn.send(c.wr.seal(CT_HS, c.hello(random=os.urandom(32))))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("NewSessionTicket from the client -> unexpected_message", "RFC 8446 4.6.1")
def _(t):
    c = established13(t)
    c.conn.send(c.wr.seal(CT_HS, hs(HS_NST, b"\0" * 8 + vec8(b"") + vec16(b"x" * 16) + vec16(b""))))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("application data record with a flipped tag bit -> bad_record_mac", "RFC 8446 5.2")
def _(t):
    c = established13(t)
    r = bytearray(c.wr.seal(CT_APP, b"tampered\n"))
    r[-1] ^= 0x80
    c.conn.send(bytes(r))
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("replayed application data record -> bad_record_mac", "RFC 8446 5.3")
def _(t):
    c = established13(t)
    r = c.wr.seal(CT_APP, b"once\n")
    c.conn.send(r)
    if c.read_app(5) != b"once\n":
        raise Fail("no echo")
    c.conn.send(r)
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("zero-length application data record: accepted, echo goes on (positive)", "RFC 8446 5.4")
def _(t):
    c = established13(t)
    c.write(b"")
    c.echo(b"after-empty\n")


def resumable(t):
    c = established13(t)
    if not getattr(c, "ticket", None):
        raise Fail("no NewSessionTicket received")
    c.close_notify()
    c.conn.close()
    return c


def psk_hello(c2, old, binder=None):
    """A CH offering old's ticket (psk_dhe_ke), binder computed unless given."""
    psk = expand_label(old.res_master, b"resumption", old.ticket_nonce, 32)
    age = (int((time.monotonic() - old.ticket_time) * 1000) + old.ticket_age_add) & 0xFFFFFFFF
    ids = vec16(vec16(old.ticket) + struct.pack("!I", age))
    x = c2.exts() + [(EXT_PSK_MODES, vec8(b"\x01"))]
    dummy = c2.hello(exts=x + [(EXT_PSK, ids + vec16(vec8(b"\0" * 32)))])
    trunc = dummy[:-(2 + 1 + 32)]
    early = hkdf_extract(None, psk)
    bk = derive_secret(early, b"res binder", sha256(b""))
    fk = expand_label(bk, b"finished", b"", 32)
    good = hmac256(fk, sha256(c2.transcript + trunc))
    c2.psk = psk
    return trunc + vec16(vec8(good if binder is None else binder))


@case("resumption with the server's ticket and a valid binder (positive)", "RFC 8446 4.2.11")
def _(t):
    old = resumable(t)
    c = Client13(t)
    c.send_hello(psk_hello(c, old))
    c.read_sh()
    if EXT_PSK not in c.sh_exts:
        raise Fail("the server did not accept the PSK")
    c.read_flight()
    c.send_finished()
    c.echo()


@case("resumption with a wrong PSK binder -> decrypt_error", "RFC 8446 4.2.11, 6.2")
def _(t):
    old = resumable(t)
    c = Client13(t)
    c.send_hello(psk_hello(c, old, binder=os.urandom(32)))
    t.expect_alert(c.conn, {A["decrypt_error"]})


# ---- TLS 1.2 --------------------------------------------------------------------------------


@case("1.2 full handshake (ECDHE-ECDSA-AES128-GCM-SHA256, EMS) and echo (positive)", "RFC 5246, 7627")
def _(t):
    c = Client12(t)
    c.handshake()
    c.echo()


@case("1.2-only CH: ServerHello.random ends with the DOWNGRD 01 sentinel", "RFC 8446 4.1.3")
def _(t):
    c = Client12(t)
    c.send_hello()
    c.read_flight()
    if c.sh_random[24:] != DOWNGRD12:
        raise Fail("ServerHello.random ends %s, not %s" % (c.sh_random[24:].hex(), DOWNGRD12.hex()))


@case("CH supported_versions {TLS 1.2}: the DOWNGRD 01 sentinel too", "RFC 8446 4.1.3")
def _(t):
    c = Client12(t)
    c.send_hello(c.hello(exts=c.exts() + [(EXT_VERSIONS, vec8(u16(TLS12)))]))
    c.read_flight()
    if c.sh_random[24:] != DOWNGRD12:
        raise Fail("ServerHello.random ends %s, not %s" % (c.sh_random[24:].hex(), DOWNGRD12.hex()))


@case("1.2 CH with TLS_FALLBACK_SCSV (server supports 1.3) -> inappropriate_fallback", "RFC 7507 3")
def _(t):
    c = Client12(t)
    c.send_hello(c.hello(suites=(ECDHE_ECDSA_AES128_GCM, SCSV_FALLBACK)))
    t.expect_alert(c.conn, {A["inappropriate_fallback"]})


@case("1.2 CH without extended_master_secret (required) -> handshake_failure", "RFC 7627 5.2, RFC 9325 3.5")
def _(t):
    c = Client12(t)
    c.send_hello(c.hello(exts=[e for e in c.exts() if e[0] != EXT_EMS]))
    t.expect_alert(c.conn, {A["handshake_failure"]})


@case("1.2 CH with a non-empty renegotiation_info -> handshake_failure", "RFC 5746 3.6")
def _(t):
    c = Client12(t)
    x = [e if e[0] != EXT_RENEG else (EXT_RENEG, vec8(os.urandom(12))) for e in c.exts()]
    c.send_hello(c.hello(exts=x))
    t.expect_alert(c.conn, {A["handshake_failure"]})


@case("1.2 CH offering only TLS 1.3 suites -> handshake_failure", "RFC 5246 7.4.1.3")
def _(t):
    c = Client12(t)
    c.send_hello(c.hello(suites=(AES128_SHA256, CHACHA_SHA256)))
    t.expect_alert(c.conn, {A["handshake_failure"]})


@case("1.2 bad Finished verify_data -> decrypt_error", "RFC 5246 7.4.9, 7.2.2")
def _(t):
    c = Client12(t)
    c.handshake(stop_before_finished=True)
    fin = bytearray(c.finished())
    fin[6] ^= 0x01
    c.send_finished(bytes(fin))
    t.expect_alert(c.conn, {A["decrypt_error"]})


@case("1.2 Finished of 13 bytes -> decode_error", "RFC 5246 7.4.9, 7.2.2")
def _(t):
    c = Client12(t)
    c.handshake(stop_before_finished=True)
    c.send_finished(hs(HS_FIN, c.finished()[4:] + b"\0"))
    t.expect_alert(c.conn, {A["decode_error"]})


@case("1.2 bad MAC on the first encrypted record (Finished) -> bad_record_mac", "RFC 5246 6.2.3.3")
def _(t):
    c = Client12(t)
    c.handshake(stop_before_finished=True)
    c.send_finished(flip_tag=True)
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("1.2 Finished without ChangeCipherSpec (plaintext) -> unexpected_message", "RFC 5246 7.4.9")
def _(t):
    c = Client12(t)
    c.send_hello()
    c.read_flight()
    m = c.cke()
    c.conn.send(record(CT_HS, m) + record(CT_HS, c.finished()))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("1.2 ChangeCipherSpec before ClientKeyExchange -> unexpected_message", "RFC 5246 7.1")
def _(t):
    c = Client12(t)
    c.send_hello()
    c.read_flight()
    c.conn.send(record(CT_CCS, b"\x01"))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("1.2 Finished before ClientKeyExchange -> unexpected_message", "RFC 5246 7.3")
def _(t):
    c = Client12(t)
    c.send_hello()
    c.read_flight()
    c.conn.send(record(CT_HS, hs(HS_FIN, os.urandom(12))))
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("1.2 application data before Finished (after CCS) -> unexpected_message", "RFC 5246 7.4.9")
def _(t):
    c = Client12(t)
    c.handshake(stop_before_finished=True)
    c.write(b"too early\n")
    t.expect_alert(c.conn, {A["unexpected_message"]})


@case("1.2 ClientKeyExchange with an all-zero x25519 key -> illegal_parameter or handshake_failure",
      "RFC 8422 5.11, RFC 7748 6.1")
def _(t):
    c = Client12(t)
    c.send_hello(c.hello(exts=[e if e[0] != EXT_GROUPS else (EXT_GROUPS, vec16(u16(G_X25519) + u16(G_P256)))
                               for e in c.exts()]))
    c.read_flight()
    if c.group != G_X25519:
        raise Fail("the server chose group %d, not x25519" % c.group)
    m = hs(HS_CKE, vec8(b"\0" * 32))
    c.conn.send(record(CT_HS, m))
    t.expect_alert(c.conn, {A["illegal_parameter"], A["handshake_failure"]})


@case("1.2 renegotiation (CH after the handshake): no_renegotiation warning, connection goes on",
      "RFC 5246 7.2.2, RFC 5746 4.4")
def _(t):
    c = Client12(t)
    c.handshake()
    c.echo()
    c2 = Client12.__new__(Client12)
    c2.random = os.urandom(32)
    c.conn.send(c.wr.seal(CT_HS, Client12.hello(c2)))
    ev = c.conn.event(time.monotonic() + IO_TIMEOUT)
    if ev[0] == "alert" and ev[1] == 2 and ev[2] == A["handshake_failure"]:
        t.manifest.append((c.conn.port, "handshake_failure"))
        t.expect_close(c.conn, "after the handshake_failure alert")
        return  # the other answer RFC 5746 allows
    if ev[0] != "alert" or ev[1] != 1 or ev[2] != A["no_renegotiation"]:
        if ev[0] == "alert":
            t.manifest.append((c.conn.port, alert_name(ev[2])))
        raise Fail("wanted a warning no_renegotiation (or a fatal handshake_failure); got %s" % describe(ev))
    c.echo(b"after-renegotiation\n")


@case("1.2 application data with a flipped tag bit -> bad_record_mac", "RFC 5246 6.2.3.3")
def _(t):
    c = Client12(t)
    c.handshake()
    c.echo()
    r = bytearray(c.wr.seal(CT_APP, b"tampered\n"))
    r[-1] ^= 0x01
    c.conn.send(bytes(r))
    t.expect_alert(c.conn, {A["bad_record_mac"]})


@case("1.2 handshake message of type 24 after the handshake -> unexpected_message", "RFC 5246 7.4")
def _(t):
    c = Client12(t)
    c.handshake()
    c.echo()
    c.conn.send(c.wr.seal(CT_HS, hs(HS_KU, b"\0")))
    t.expect_alert(c.conn, {A["unexpected_message"]})


# ---- the positive control and the runner ------------------------------------------------------


def control(t, n):
    c = Client13(t)
    c.handshake()
    c.echo(b"control-%d\n" % n)
    c.close_notify()
    deadline = time.monotonic() + IO_TIMEOUT
    ev = c.conn.event(deadline)
    while ev[0] == "hs":  # a late NewSessionTicket
        ev = c.conn.event(deadline)
    if ev[0] != "alert" or ev[2] != 0:
        raise Fail("wanted close_notify back, got %s" % describe(ev))
    t.expect_close(c.conn, "after close_notify")
    t.manifest.append((c.conn.port, "handshake"))


def on_alarm(signum, frame):
    raise CaseTimeout()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--manifest")
    ap.add_argument("--only", help="run only the cases whose name contains this")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--no-control", action="store_true", help="skip the control after each case")
    a = ap.parse_args()
    cases = [c for c in CASES if not a.only or a.only in c[0]]
    if a.list:
        for name, rfc, _ in cases:
            print("%s  [%s]" % (name, rfc))
        return 0
    signal.signal(signal.SIGALRM, on_alarm)
    man = open(a.manifest, "w") if a.manifest else None
    n = 0
    failed = 0
    control_failures = []
    start = time.monotonic()
    for name, rfc, f in cases:
        t = T(a.host, a.port)
        err = None
        t0 = time.monotonic()
        signal.alarm(CASE_TIMEOUT)
        try:
            f(t)
        except Fail as e:
            err = str(e)
        except CaseTimeout:
            err = "the case took over %ds" % CASE_TIMEOUT
        except Exception as e:  # a bug here or a reply the client cannot parse
            err = "%s: %s" % (type(e).__name__, e)
        finally:
            signal.alarm(0)
            for cn in t.conns:
                cn.close()
        n += 1
        ms = (time.monotonic() - t0) * 1000
        if err is None:
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s" % (n, name))
            print("#   %s" % err)
            if rfc:
                print("#   (%s)" % rfc)
        if ms > 2000:
            print("#   took %.0f ms" % ms)
        if man:
            for port, what in t.manifest:
                man.write("%d\t%s\t%s\n" % (port, what, name))
        if a.no_control:
            sys.stdout.flush()
            continue
        tc = T(a.host, a.port)
        signal.alarm(CASE_TIMEOUT)
        try:
            control(tc, n)
        except (Fail, CaseTimeout, Exception) as e:
            control_failures.append(name)
            print("#   control after this case failed: %s" % (e or type(e).__name__))
        finally:
            signal.alarm(0)
            for cn in tc.conns:
                cn.close()
        if man:
            for port, what in tc.manifest:
                man.write("%d\t%s\tcontrol after: %s\n" % (port, what, name))
        sys.stdout.flush()
    if not a.no_control:
        n += 1
        cname = "a valid TLS 1.3 handshake and echo worked after every one of the %d cases" % len(cases)
        if control_failures:
            failed += 1
            print("not ok %d - %s" % (n, cname))
            for c in control_failures:
                print("#   failed after: %s" % c)
        else:
            print("ok %d - %s" % (n, cname))
    if man:
        man.close()
    print("# %d cases, %d TAP lines failed, %.1f s" % (len(cases), failed, time.monotonic() - start))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
