#!/usr/bin/env python3
"""hostile.py IFACE DST_MAC DST_IP SRC_IP - send malformed Ethernet/IPv4/UDP/ICMP
frames at an atoll unikernel over a raw socket: truncated headers, bad
checksums, lying lengths, overlapping and never-ending fragments.  The test
around it checks the unikernel still answers and counted the drops."""
import socket
import struct
import sys

iface, dst_mac, dst_ip, src_ip = sys.argv[1:5]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
dmac = bytes.fromhex(dst_mac.replace(":", ""))
smac = s.getsockname()[4]
dip, sip = socket.inet_aton(dst_ip), socket.inet_aton(src_ip)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(f"!{len(b)//2}H", b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def ip(payload, proto=17, ident=1, frag=0, tot=None, ihl=5, ttl=64, bad_csum=False):
    tot = 20 + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, ident, frag, ttl, proto, 0, sip, dip)
    c = csum(h) ^ (0x1234 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def udp(payload, sport=4444, dport=7, bad_csum=False, ulen=None):
    ulen = 8 + len(payload) if ulen is None else ulen
    pseudo = sip + dip + struct.pack("!BBH", 0, 17, 8 + len(payload))
    h = struct.pack("!HHHH", sport, dport, ulen, 0)
    c = csum(pseudo + h + payload) or 0xFFFF
    if bad_csum:
        c ^= 0x0F0F
    return h[:6] + struct.pack("!H", c) + payload


def send(l3):
    s.send(dmac + smac + b"\x08\x00" + l3)


good = ip(udp(b"hello"))
n = 0
for cut in range(0, 42):  # every truncation of the IP+UDP headers
    send(good[:cut]); n += 1
send(ip(udp(b"x" * 10), bad_csum=True)); n += 1          # bad IP header checksum
send(ip(udp(b"x" * 10, bad_csum=True))); n += 1          # bad UDP checksum
send(ip(udp(b"x" * 10), tot=200)); n += 1                # total length > frame
send(ip(udp(b"x" * 10), tot=15)); n += 1                 # total length < header
send(ip(udp(b"x" * 10), ihl=4)); n += 1                  # IHL < 5
send(ip(udp(b"x" * 10, ulen=300))); n += 1               # UDP length > IP payload
send(ip(udp(b"x" * 10, ulen=3))); n += 1                 # UDP length < header
icmp = struct.pack("!BBHHH", 8, 0, 0xdead, 1, 1) + b"ping"
send(ip(icmp, proto=1)); n += 1                          # bad ICMP checksum
# Overlapping fragments of one datagram (RFC 5722 spirit: drop it whole).
send(ip(b"A" * 64, ident=77, frag=0x2000 | 0)); n += 1
send(ip(b"B" * 64, ident=77, frag=0x2000 | 4)); n += 1
send(ip(b"C" * 64, ident=77, frag=8)); n += 1
# Never-ending fragments: many datagrams that never complete, and one that
# claims to go past 65535 bytes.
for i in range(300):
    send(ip(b"D" * 512, ident=1000 + i, frag=0x2000 | 64)); n += 1
send(ip(b"E" * 512, ident=5000, frag=8189)); n += 1
print(f"sent {n} hostile frames")
