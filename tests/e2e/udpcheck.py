#!/usr/bin/env python3
"""udpcheck.py HOST PORT SIZE [COUNT] - send COUNT datagrams of SIZE random
bytes to an echo service and check each comes back byte for byte.  Retries a
lost datagram up to 5 times (the first may wait for ARP).  An echo of an
earlier datagram arriving late (its first try was taken for lost and sent
again, so two echoes come back) is skipped, not taken for this one's.  Exit
0 if all came back, 1 otherwise, with a line saying what went wrong."""
import os
import socket
import sys

host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
count = int(sys.argv[4]) if len(sys.argv) > 4 else 3
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
earlier = set()
for i in range(count):
    data = os.urandom(size)
    for attempt in range(6):
        s.sendto(data, (host, port))
        try:
            got, peer = s.recvfrom(70000)
            while got != data and got in earlier:
                got, peer = s.recvfrom(70000)
        except socket.timeout:
            continue
        if got != data:
            print(f"datagram {i}: sent {size} bytes, got {len(got)} different bytes back")
            sys.exit(1)
        if peer[0] != host or peer[1] != port:
            print(f"datagram {i}: answer came from {peer}")
            sys.exit(1)
        break
    else:
        print(f"datagram {i} of {size} bytes: no echo after 6 tries")
        sys.exit(1)
    earlier.add(data)
print(f"{count} datagrams of {size} bytes echoed")
