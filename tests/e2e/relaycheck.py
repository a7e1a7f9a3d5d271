#!/usr/bin/env python3
"""relaycheck.py IN_IF OUT_IF COUNT - frames through tools/relay, for test_tcp_faults.sh.

Sends COUNT numbered IPv4/UDP frames of assorted sizes out of interface
IN_IF (the relay reads them from that TAP) and records what arrives on
OUT_IF (the relay writes there) until the line has been quiet for a while.
Each frame that arrives must be one that was sent, exactly or with one bit
flipped inside its IPv4 datagram.  Prints, on stdout:

    received N distinct D corrupted C reordered R
    order <index>[*<bit>] ...

N frames arrived, of D different ones, C of those with a bit flipped, R
after a frame sent later; the order line lists every frame as it arrived
(*bit: the bit flipped), so that two runs can be compared.  Exit 1 with a
message if a frame is not one that was sent.
"""
import random
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def ip_checksum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(i, rng):
    payload = struct.pack("!I", i) + rng.randbytes(rng.randrange(14, 1400))
    udp = struct.pack("!HHHH", 4000, 4001, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                      bytes([10, 99, 0, 1]), bytes([10, 99, 0, 2]))
    hdr = hdr[:10] + struct.pack("!H", ip_checksum(hdr)) + hdr[12:]
    eth = bytes.fromhex("020000990002" "020000990001" "0800")
    return eth + hdr + udp


def one_bit_apart(a, b):
    if len(a) != len(b):
        return None
    diff = [(k, x ^ y) for k, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(diff) != 1 or bin(diff[0][1]).count("1") != 1:
        return None
    k, x = diff[0]
    return k * 8 + x.bit_length() - 1


def main():
    in_if, out_if, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(count)
    sent = [frame(i, rng) for i in range(count)]
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((out_if, 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((in_if, 0))
    got = []

    def drain(quiet):
        rx.settimeout(quiet)
        while True:
            try:
                data, addr = rx.recvfrom(65536)
            except socket.timeout:
                return
            if addr[2] != PACKET_OUTGOING:
                got.append(data)

    # Paced, so that the TAP's queue towards the relay never overflows.
    for i, f in enumerate(sent):
        tx.send(f)
        if i % 20 == 19:
            drain(0.002)
    drain(0.8)  # beyond the --hold the test gives the relay

    order, seen, corrupted, reordered, top = [], set(), set(), 0, -1
    for data in got:
        idx, bit = None, None
        if len(data) >= 46:
            k = struct.unpack("!I", data[42:46])[0]
            if k < count and data == sent[k]:
                idx = k
            elif k < count:
                bit = one_bit_apart(data, sent[k])
                idx = k if bit is not None else None
        if idx is None:  # the flipped bit is in the index itself
            for k, f in enumerate(sent):
                bit = one_bit_apart(data, f)
                if bit is not None:
                    idx = k
                    break
        if idx is None:
            sys.exit(f"relaycheck: a frame of {len(data)} bytes that was never sent")
        if bit is not None:
            total = struct.unpack("!H", sent[idx][16:18])[0]
            if not 14 * 8 <= bit < (14 + total) * 8:
                sys.exit(f"relaycheck: frame {idx}: bit {bit} flipped outside the IPv4 datagram")
            corrupted.add(idx)
        if idx < top:
            reordered += 1
        top = max(top, idx)
        seen.add(idx)
        order.append(f"{idx}*{bit}" if bit is not None else str(idx))
    print(f"received {len(got)} distinct {len(seen)} corrupted {len(corrupted)} reordered {reordered}")
    print("order " + " ".join(order))


main()
