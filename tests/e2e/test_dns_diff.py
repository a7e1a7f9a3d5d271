#!/usr/bin/env python3
"""test_dns_diff.py - send the same DNS queries to atoll, NSD and Knot and
compare the responses section by section.  Standard library only.

usage: test_dns_diff.py ATOLL NSD KNOT   (each addr:port)

A response passes when it equals NSD's or Knot's after normalisation:
the ID is ignored; names are compared case-blind except in the question
(which must echo the query exactly); RRs are compared as sets within each
section; the OPT record is compared by its UDP size, extended rcode,
version and DO bit.  One TAP line per query.
"""
import socket
import struct
import sys

# Types whose rdata holds names (uncompressed for comparison).
NAME_FIELDS = {2: "n", 5: "n", 12: "n", 39: "n", 15: "2n", 6: "nn", 33: "222n"}


def read_name(msg, off, depth=0):
    labels = []
    jumped = None
    hops = 0
    while True:
        if off >= len(msg):
            raise ValueError("name past end")
        c = msg[off]
        if c & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("pointer past end")
            if jumped is None:
                jumped = off + 2
            off = ((c & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("pointer loop")
            continue
        off += 1
        if c == 0:
            break
        labels.append(msg[off:off + c])
        off += c
    return labels, (jumped if jumped is not None else off)


def name_text(labels):
    return ".".join(l.decode("latin-1") for l in labels) + "."


def canon_rdata(msg, rtype, off, rdlen):
    spec = NAME_FIELDS.get(rtype)
    if not spec:
        return msg[off:off + rdlen].hex()
    parts = []
    p = off
    for f in spec:
        if f == "2":
            parts.append(str(struct.unpack(">H", msg[p:p + 2])[0]))
            p += 2
        else:
            labels, p = read_name(msg, p)
            parts.append(name_text(labels).lower())
    if rtype == 6:
        parts.append(msg[p:off + rdlen].hex())
    return " ".join(parts)


def parse(msg):
    if msg is None:
        return None
    if len(msg) < 12:
        return {"short": msg.hex()}
    mid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    off = 12
    out = {"flags": flags & ~0x0040, "question": [], "answer": [], "authority": [],
           "additional": [], "opt": None}
    for _ in range(qd):
        labels, off = read_name(msg, off)
        qt, qc = struct.unpack(">HH", msg[off:off + 4])
        off += 4
        out["question"].append((name_text(labels), qt, qc))
    for sec, n in (("answer", an), ("authority", ns), ("additional", ar)):
        for _ in range(n):
            labels, off = read_name(msg, off)
            rt, rc, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            off += 10
            if rt == 41:
                out["opt"] = (rc, ttl >> 24, (ttl >> 16) & 0xFF, ttl & 0x8000)
            else:
                out[sec].append((name_text(labels).lower(), rt, rc, ttl,
                                 canon_rdata(msg, rt, off, rdlen)))
            off += rdlen
    for sec in ("answer", "authority", "additional"):
        out[sec].sort()
    return out


def encode_name(name):
    b = b""
    for l in name.rstrip(".").split("."):
        if l:
            b += bytes([len(l)]) + l.encode()
    return b + b"\0"


def build(qname, qtype, edns=None, do=False, rd=True, opcode=0, version=0):
    flags = (opcode << 11) | (0x0100 if rd else 0)
    m = struct.pack(">HHHHHH", 0x4242, flags, 1, 0, 0, 1 if edns else 0)
    m += encode_name(qname) + struct.pack(">HH", qtype, 1)
    if edns:
        m += b"\0" + struct.pack(">HHIH", 41, edns, (version << 16) | (0x8000 if do else 0), 0)
    return m


def ask(server, msg, tcp=False):
    host, port = server.rsplit(":", 1)
    port = int(port)
    for _ in range(3):
        try:
            if tcp:
                s = socket.create_connection((host, port), timeout=2)
                s.sendall(struct.pack(">H", len(msg)) + msg)
                data = b""
                while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                    chunk = s.recv(65535)
                    if not chunk:
                        break
                    data += chunk
                s.close()
                return data[2:] if len(data) >= 2 else None
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(1.5)
            s.sendto(msg, (host, port))
            data, _ = s.recvfrom(65535)
            s.close()
            return data
        except socket.timeout:
            continue
    return None


T = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15, "TXT": 16,
     "AAAA": 28, "SRV": 33, "NAPTR": 35, "DNAME": 39, "DS": 43, "SSHFP": 44, "RRSIG": 46,
     "NSEC": 47, "DNSKEY": 48, "NSEC3": 50, "NSEC3PARAM": 51, "TLSA": 52, "SVCB": 64,
     "HTTPS": 65, "CAA": 257, "TYPE65000": 65000, "TYPE4321": 4321}

# (description, query bytes)
QUERIES = []


def q(desc, name, qtype, **kw):
    QUERIES.append((desc, build(name, T[qtype] if isinstance(qtype, str) else qtype, **kw)))


# Authoritative answers, additional-section processing.
q("apex SOA", "example.", "SOA")
q("apex NS with in-zone glue", "example.", "NS")
q("apex MX with addresses", "example.", "MX")
q("apex A", "example.", "A")
q("apex AAAA", "example.", "AAAA")
q("apex TXT", "example.", "TXT")
q("A of a host", "ns1.example.", "A")
q("RRset of two", "web.example.", "A")
q("SRV with target address", "_sip._udp.example.", "SRV")
# Case.
q("query case preserved", "WwW.ExAmPlE.", "A")
q("zone case preserved", "case.mixed.example.", "A")
q("mixed-case owner asked in upper case", "CASE.MIXED.EXAMPLE.", "A")
# CNAME.
q("CNAME followed", "www.example.", "A")
q("CNAME asked for", "www.example.", "CNAME")
q("CNAME chain", "chain1.example.", "A")
q("CNAME out of zone", "out.example.", "A")
q("CNAME to a missing name", "cname-nx.example.", "A")
q("CNAME then NODATA", "www.example.", "AAAA")
# Negative answers.
q("NXDOMAIN", "nope.example.", "A")
q("NXDOMAIN deep", "a.b.c.nope.example.", "A")
q("NODATA", "ns1.example.", "AAAA")
q("NODATA at apex", "example.", "SRV")
# Empty non-terminals.
q("empty non-terminal", "b.ent.example.", "A")
q("empty non-terminal higher", "ent.example.", "TXT")
q("below an empty non-terminal", "c.ent.example.", "TXT")
q("two strings", "a.b.ent.example.", "TXT")
# Wildcards.
q("wildcard A", "anything.wild.example.", "A")
q("wildcard deep", "a.b.c.wild.example.", "A")
q("wildcard MX", "x.wild.example.", "MX")
q("wildcard NODATA", "x.wild.example.", "TXT")
q("wildcard blocked by an existing name", "exists.wild.example.", "A")
q("below an existing name: no wildcard", "below.exists.wild.example.", "A")
q("the wildcard asked literally", "*.wild.example.", "A")
q("wildcard CNAME", "foo.cw.example.", "A")
# Delegation.
q("referral", "host.sub.example.", "A")
q("referral at the cut", "sub.example.", "NS")
q("referral for glue", "ns1.sub.example.", "A")
q("referral deep", "a.b.sub.example.", "MX")
q("DS at the cut from the parent", "sub.example.", "DS")
# DNAME.
q("DNAME substitution", "x.dn.example.", "A")
q("DNAME owner", "dn.example.", "DNAME")
q("DNAME owner other type", "dn.example.", "A")
q("DNAME to a missing name", "y.dn.example.", "A")
# Several zones.
q("second zone", "host.other.test.", "A")
q("second zone CNAME", "alias.other.test.", "A")
q("second zone included data", "ns.other.test.", "A")
q("second zone NXDOMAIN", "nope.other.test.", "A")
q("child zone apex", "sub.example.", "SOA")
# Refused.
q("outside our zones", "www.example.org.", "A")
q("the root", ".", "NS")
q("parent of our zone", "test.", "SOA")
# Every type.
for t in ["A", "AAAA", "NS", "PTR", "HINFO", "TXT", "NAPTR", "SRV", "CAA", "SSHFP", "TLSA",
          "DS", "DNSKEY", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "SVCB", "HTTPS"]:
    q("type " + t, "t-" + t.lower() + ".example.", t)
q("type HTTPS alias form", "t-https0.example.", "HTTPS")
q("unknown type (RFC 3597)", "t-unknown.example.", "TYPE65000")
q("generic rdata of a known type", "t-generic-a.example.", "A")
q("unknown type, no data", "ns1.example.", "TYPE4321")
# EDNS and size.
q("EDNS 4096", "example.", "MX", edns=4096)
q("EDNS DO bit", "example.", "MX", edns=1232, do=True)
q("EDNS small size", "example.", "A", edns=100)
q("no RD", "example.", "A", rd=False)
q("truncated without EDNS", "big.example.", "TXT")
q("truncated with EDNS 1232", "big.example.", "TXT", edns=1232)
q("EDNS version 1: BADVERS", "example.", "A", edns=1232, version=1)
q("unknown opcode: NOTIMP", "example.", "A", opcode=7)
# Malformed.
QUERIES.append(("no question: FORMERR", struct.pack(">HHHHHH", 0x4242, 0x0100, 0, 0, 0, 0)))
QUERIES.append(("truncated question: FORMERR",
                struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x07exam"))
QUERIES.append(("two questions: FORMERR",
                struct.pack(">HHHHHH", 0x4242, 0x0100, 2, 0, 0, 0) +
                (encode_name("example.") + struct.pack(">HH", 1, 1)) * 2))

# ANY (RFC 8482): one RRset, over UDP and TCP alike.
ANY_NAMES = [("ANY at the apex", "example."), ("ANY at a name with A and AAAA", "mail.example."),
             ("ANY at a CNAME", "www.example."), ("ANY at a wildcard", "x.wild.example."),
             ("ANY at a DNAME owner", "dn.example."), ("ANY at a cut", "sub.example."),
             ("ANY below a cut", "ns1.sub.example."), ("ANY NXDOMAIN", "nope.example."),
             ("ANY at an empty non-terminal", "ent.example."), ("ANY at a large TXT", "big.example."),
             ("ANY at an NSEC3-only name", "t-nsec3.example."),
             ("ANY at an RRSIG-only name", "t-rrsig.example.")]
for desc, name in ANY_NAMES:
    q(desc, name, 255, edns=1232)

# Over TCP as well.
TCP_QUERIES = [("TCP: big answer", build("big.example.", 16)),
               ("TCP: referral", build("host.sub.example.", 1)),
               ("TCP: NXDOMAIN", build("nope.example.", 1))]
TCP_QUERIES += [("TCP: " + desc, build(name, 255)) for desc, name in ANY_NAMES]


def show(p):
    if p is None:
        return ["(no response)"]
    if "short" in p:
        return ["short: " + p["short"]]
    f = p["flags"]
    names = [(0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0100, "rd"), (0x0080, "ra"),
             (0x0020, "ad"), (0x0010, "cd")]
    lines = ["opcode %d rcode %d %s opt=%s" % ((f >> 11) & 15, f & 15,
                                                " ".join(n for b, n in names if f & b), p["opt"])]
    lines += ["Q %s %d %d" % x for x in p["question"]]
    for sec in ("answer", "authority", "additional"):
        lines += ["%s %s %d %d %d %s" % ((sec[:2].upper(),) + x) for x in p[sec]]
    return lines


def swapcase(msg):
    """The query with the case of its question name's letters swapped."""
    b = bytearray(msg)
    i = 12
    while len(msg) > 12 and i < len(b) and b[i] and b[i] < 64:
        for j in range(i + 1, min(i + 1 + b[i], len(b))):
            if 65 <= b[j] <= 90 or 97 <= b[j] <= 122:
                b[j] ^= 0x20
        i += 1 + b[i]
    return bytes(b)


def main():
    atoll, nsd, knot = sys.argv[1:4]
    do_tcp = "tcp" in sys.argv[4:]
    n = fails = 0
    matched = {"nsd": 0, "knot": 0}
    runs = [(d, m, False) for d, m in QUERIES]
    if do_tcp:
        runs += [(d, m, True) for d, m in TCP_QUERIES]
    if "repeat" in sys.argv[4:]:
        # atoll's response cache: the same queries again (answered from
        # the cache, byte for byte the first answers), then with the
        # case of their names swapped (the question echoes it).
        runs += [("again: " + d, m, t) for d, m, t in runs] + \
            [("case swapped: " + d, swapcase(m), t) for d, m, t in runs]
    first = {}
    for desc, msg, tcp in runs:
        n += 1
        raw = ask(atoll, msg, tcp)
        if (msg, tcp) in first and raw != first[(msg, tcp)]:
            fails += 1
            print("not ok %d - %s: not the bytes of the first answer" % (n, desc))
            continue
        first.setdefault((msg, tcp), raw)
        a = parse(raw)
        ns = parse(ask(nsd, msg, tcp))
        kn = parse(ask(knot, msg, tcp))
        if a is not None and (a == ns or a == kn):
            if a == ns:
                matched["nsd"] += 1
            if a == kn:
                matched["knot"] += 1
            print("ok %d - %s" % (n, desc))
            continue
        fails += 1
        print("not ok %d - %s" % (n, desc))
        for who, p in (("atoll", a), ("nsd", ns), ("knot", kn)):
            print("#   %s:" % who)
            for line in show(p):
                print("#     " + line)
    print("# atoll equal to NSD on %d, to Knot on %d of %d queries" %
          (matched["nsd"], matched["knot"], n))
    print("%d passed, %d failed" % (n - fails, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
