#!/usr/bin/env bash
# test_dns_diff.sh - the DNS unikernel against NSD and Knot: the same zones
# (tests/e2e/test_dns_data, delivered to atoll as a tar archive on a block
# device) served by all three, the same queries sent to each, and every
# response compared section by section (test_dns_diff.py: a response
# passes when it equals NSD's or Knot's).  Then dig and kdig over UDP, a
# rejected zone beside good ones, TCP (RFC 7766) with pipelining, zone
# transfers to NSD and Knot as secondaries, hostile packets, and the
# socket stack.
#
# NSD and Knot run in the server namespace on 10.77.0.3 (ports 5301 and
# 5302) with configuration, state and logs in the test's own directory.
source "$(dirname "$0")/lib.sh"
DNS=$ROOT/build/hosted/dns
DATA=$ROOT/tests/e2e/test_dns_data
DIFF=$ROOT/tests/e2e/test_dns_diff.py

for tool in nsd knotd dig kdig; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done

# Installing the packages may have started the distribution's services;
# they are not ours to run (and would hold port 53 on the host).
for svc in nsd knot; do
	if [ -d /run/systemd/system ] && systemctl is-active --quiet "$svc" 2>/dev/null; then
		systemctl stop "$svc"
		systemctl disable --quiet "$svc" 2>/dev/null
	fi
done
for pidfile in /run/nsd/nsd.pid /run/knot/knot.pid; do
	[ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
done

net_up
mkdir -p "$WORK/zones" "$WORK/knot"
cp "$DATA"/*.zone "$DATA"/*.inc "$WORK/zones/"
chmod -R a+rX "$WORK"

# ---- NSD ----
cat >"$WORK/nsd.conf" <<EOF
server:
	ip-address: 10.77.0.3@5301
	username: ""
	chroot: ""
	zonesdir: "$WORK/zones"
	database: ""
	zonelistfile: "$WORK/nsd-zone.list"
	xfrdfile: "$WORK/nsd-xfrd.state"
	xfrdir: "$WORK"
	pidfile: "$WORK/nsd.pid"
	logfile: "$WORK/nsd.log"
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: example.
	zonefile: example.zone
	provide-xfr: 0.0.0.0/0 NOKEY
zone:
	name: sub.example.
	zonefile: sub.example.zone
zone:
	name: other.test.
	zonefile: other.test.zone
EOF
(cd "$WORK/zones" && exec ip netns exec "$NS_S" nsd -d -c "$WORK/nsd.conf") >"$WORK/nsd.out" 2>&1 &
PIDS+=($!)

# ---- Knot ----
cat >"$WORK/knot.conf" <<EOF
server:
    listen: 10.77.0.3@5302
    rundir: "$WORK/knot"
database:
    storage: "$WORK/knot"
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "$WORK/zones"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: example.
    file: example.zone
  - domain: sub.example.
    file: sub.example.zone
  - domain: other.test.
    file: other.test.zone
EOF
ip netns exec "$NS_S" knotd -c "$WORK/knot.conf" >"$WORK/knot.out" 2>&1 &
PIDS+=($!)

# ---- atoll: the zones as a tar archive on a block device, plus one bad
# zone that must be rejected while the others are served.
printf '$TTL 60\n@ NS ns\n' >"$WORK/zones/broken.test.zone"
(cd "$WORK/zones" && tar --format=ustar -cf "$WORK/zones.tar" example.zone sub.example.zone \
	other.test.zone other-hosts.inc broken.test.zone)
rm "$WORK/zones/broken.test.zone"
chmod a+r "$WORK/zones.tar"
start_uk "$WORK/dns.log" "$DNS" --mem=32M --net:service=tap0 --block:zones="$WORK/zones.tar" \
	ipv4=10.77.0.2/24 mac=02:00:00:77:00:02 axfr-allow=10.77.0.3
if wait_for_log "$WORK/dns.log" "zones on port 53"; then
	ok "atoll dns starts with the zones from the tar archive"
else
	not_ok "atoll dns starts with the zones from the tar archive" "$(tail -5 "$WORK/dns.log")"
fi
if grep -q "zone rejected: broken.test.zone: no SOA record at the apex" "$WORK/dns.log" &&
	grep -q "zone other.test. serial 7" "$WORK/dns.log"; then
	ok "a bad zone is rejected with its reason; the others are served"
else
	not_ok "a bad zone is rejected with its reason; the others are served" "$(grep zone "$WORK/dns.log")"
fi

ready() { in_c dig +short +time=1 +tries=1 -p "$1" @"$2" example. SOA >/dev/null 2>&1; }
for i in $(seq 50); do
	ready 5301 10.77.0.3 && ready 5302 10.77.0.3 && break
	sleep 0.2
done
ready 5301 10.77.0.3 && ok "NSD serves the zones" || not_ok "NSD serves the zones" "$(tail -5 "$WORK/nsd.out" "$WORK/nsd.log" 2>/dev/null)"
ready 5302 10.77.0.3 && ok "Knot serves the zones" || not_ok "Knot serves the zones" "$(tail -5 "$WORK/knot.out")"

# ---- the differential run: one TAP line per query ----
in_c python3 "$DIFF" 10.77.0.2:53 10.77.0.3:5301 10.77.0.3:5302 tcp repeat >"$WORK/diff.out" 2>&1
grep -E '^(not ok|#)' "$WORK/diff.out" | head -60 | sed 's/^not ok [0-9]* - /# differs: /'
while read -r line; do
	case "$line" in
	"ok "*) ok "diff: ${line#ok * - }" ;;
	"not ok "*) not_ok "diff: ${line#not ok * - }" ;;
	esac
done <"$WORK/diff.out"

# ---- interop with the usual clients ----
out=$(in_c dig +norec +time=2 @10.77.0.2 www.example. A)
echo "$out" | grep -q "status: NOERROR" && echo "$out" | grep -qE "web\.example\.\s+3600\s+IN\s+A\s+192\.0\.2\.8[01]" &&
	ok "dig: CNAME followed to its addresses" || not_ok "dig: CNAME followed to its addresses" "$out"
out=$(in_c kdig +norec +time=2 @10.77.0.2 _sip._udp.example. SRV)
echo "$out" | grep -q "NOERROR" && echo "$out" | grep -q "5060 sip.example." &&
	ok "kdig: SRV answer" || not_ok "kdig: SRV answer" "$out"
out=$(in_c dig +norec +time=2 +ignore +noedns @10.77.0.2 big.example. TXT)
echo "$out" | grep -q "flags: qr aa tc" && ok "dig: a large answer without EDNS is truncated (TC)" ||
	not_ok "dig: a large answer without EDNS is truncated (TC)" "$out"

out=$(in_c dig +norec +tcp +time=2 @10.77.0.2 big.example. TXT)
echo "$out" | grep -q "flags: qr aa;" && echo "$out" | grep -q "ANSWER: 7," &&
	ok "dig +tcp: the large answer whole over TCP" || not_ok "dig +tcp: the large answer whole over TCP" "$out"
out=$(in_c kdig +norec +tcp +time=2 @10.77.0.2 example. MX)
echo "$out" | grep -q "10 mail.example." && ok "kdig +tcp: MX answer" || not_ok "kdig +tcp: MX answer" "$out"
# RFC 7766 6.2.1: several queries on one connection, sent back to back.
out=$(in_c python3 - 10.77.0.2 <<'EOF'
import socket, struct, sys
def q(i, name, t):
    m = struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0)
    for l in name.split("."):
        m += bytes([len(l)]) + l.encode()
    return m + b"\0" + struct.pack(">HH", t, 1)
s = socket.create_connection((sys.argv[1], 53), timeout=3)
msgs = [q(1, "www.example", 1), q(2, "nope.example", 1), q(3, "example", 15)]
s.sendall(b"".join(struct.pack(">H", len(m)) + m for m in msgs))
buf = b""
ids = []
while len(ids) < 3:
    while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
        c = s.recv(4096)
        if not c:
            sys.exit("closed early after %s" % ids)
        buf += c
    n = struct.unpack(">H", buf[:2])[0]
    ids.append((struct.unpack(">H", buf[2:4])[0], buf[5] & 15))
    buf = buf[2 + n:]
print(ids)
EOF
)
[ "$out" = "[(1, 0), (2, 3), (3, 0)]" ] && ok "TCP: three pipelined queries on one connection answered in order" ||
	not_ok "TCP: three pipelined queries on one connection answered in order" "$out"

# ---- AXFR (RFC 5936): NSD as a secondary of atoll ----
mkdir -p "$WORK/sec"
cat >"$WORK/nsd-sec.conf" <<EOF
server:
	ip-address: 10.77.0.3@5303
	username: ""
	chroot: ""
	zonesdir: "$WORK/sec"
	database: ""
	zonelistfile: "$WORK/sec/zone.list"
	xfrdfile: "$WORK/sec/xfrd.state"
	xfrdir: "$WORK/sec"
	pidfile: "$WORK/sec/nsd.pid"
	logfile: "$WORK/sec/nsd.log"
	verbosity: 2
remote-control:
	control-enable: no
zone:
	name: example.
	request-xfr: 10.77.0.2 NOKEY
	allow-notify: 10.77.0.2 NOKEY
	provide-xfr: 0.0.0.0/0 NOKEY
zone:
	name: other.test.
	request-xfr: AXFR 10.77.0.2 NOKEY
	allow-notify: 10.77.0.2 NOKEY
EOF
(cd "$WORK/sec" && exec ip netns exec "$NS_S" nsd -d -c "$WORK/nsd-sec.conf") >"$WORK/nsd-sec.out" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do
	in_c dig +short +time=1 +tries=1 -p 5303 @10.77.0.3 host.other.test. A 2>/dev/null | grep -q 198.51.100.2 &&
		in_c dig +norec +time=1 +tries=1 -p 5303 @10.77.0.3 web.example. A 2>/dev/null | grep -q "flags: qr aa" && break
	sleep 0.2
done
xfr() { in_c kdig +time=3 -p "$2" @"$1" example. AXFR | grep -v '^;' | grep -v '^$' | awk '{ $1 = tolower($1); print }' | sort; }
a=$(xfr 10.77.0.3 5303)
b=$(xfr 10.77.0.3 5301)
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$(echo "$a" | wc -l)" -ge 60 ]; then
	ok "AXFR: NSD as a secondary transferred example. from atoll; its copy equals NSD primary's ($(echo "$a" | wc -l) RRs)"
else
	not_ok "AXFR: NSD as a secondary transferred example. from atoll" \
		"$(diff <(echo "$a") <(echo "$b") | head -10)" "$(tail -5 "$WORK/sec/nsd.log" 2>/dev/null)"
fi
out=$(in_c dig +norec +time=2 -p 5303 @10.77.0.3 alias.other.test. A)
echo "$out" | grep -q "flags: qr aa" && echo "$out" | grep -q 198.51.100.2 &&
	ok "AXFR: the secondary answers authoritatively for a second zone" ||
	not_ok "AXFR: the secondary answers authoritatively for a second zone" "$out"
# Knot as a secondary too.
mkdir -p "$WORK/ksec"
cat >"$WORK/knot-sec.conf" <<EOF
server:
    listen: 10.77.0.3@5304
    rundir: "$WORK/ksec"
database:
    storage: "$WORK/ksec"
log:
  - target: stderr
    any: info
remote:
  - id: atoll
    address: 10.77.0.2@53
zone:
  - domain: other.test.
    master: atoll
    storage: "$WORK/ksec"
    zonefile-sync: -1
    journal-content: none
EOF
ip netns exec "$NS_S" knotd -c "$WORK/knot-sec.conf" >"$WORK/knot-sec.out" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do
	in_c dig +norec +time=1 +tries=1 -p 5304 @10.77.0.3 alias.other.test. A 2>/dev/null | grep -q "flags: qr aa" && break
	sleep 0.2
done
out=$(in_c dig +norec +time=2 -p 5304 @10.77.0.3 alias.other.test. A)
echo "$out" | grep -q "flags: qr aa" && echo "$out" | grep -q 198.51.100.2 &&
	ok "AXFR: Knot as a secondary transferred other.test. from atoll and answers for it" ||
	not_ok "AXFR: Knot as a secondary transferred other.test. from atoll and answers for it" "$out" \
		"$(tail -5 "$WORK/knot-sec.out")"
out=$(in_c kdig +time=2 @10.77.0.2 example. AXFR 2>&1)
echo "$out" | grep -q "REFUSED" && ok "AXFR: refused to an address not in axfr-allow=" ||
	not_ok "AXFR: refused to an address not in axfr-allow=" "$out"

# ---- hostile packets: no crash, never a reply larger than 3x the query ----
in_c python3 - 10.77.0.2 >"$WORK/hostile.out" 2>&1 <<'EOF'
import random, socket, struct, sys
random.seed(6)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.05)
worst = 0.0
sent = 0
for i in range(600):
    kind = i % 4
    if kind == 0:
        m = bytes(random.getrandbits(8) for _ in range(random.randint(0, 64)))
    elif kind == 1:  # a header that claims many records
        m = struct.pack(">HHHHHH", i, 0x0100, random.randint(0, 3), 0xffff, 0xffff, 0xffff) + bytes(random.getrandbits(8) for _ in range(30))
    elif kind == 2:  # compression pointer games in the question
        m = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + bytes([0xc0, 12 + random.randint(0, 4)]) + b"\x00\x01\x00\x01"
    else:  # a valid query for the biggest answer, with a tiny body
        m = struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0) + b"\x03big\x07example\x00\x00\x10\x00\x01"
    s.sendto(m, (sys.argv[1], 53))
    sent += 1
    try:
        r, _ = s.recvfrom(65535)
        if m and kind != 3:
            worst = max(worst, len(r) / max(len(m), 12))
    except socket.timeout:
        pass
print("worst amplification %.2f over %d packets" % (worst, sent))
sys.exit(0 if worst <= 3.0 else 1)
EOF
if [ $? -eq 0 ]; then
	ok "malformed packets are never amplified ($(cat "$WORK/hostile.out"))"
else
	not_ok "malformed packets are never amplified" "$(cat "$WORK/hostile.out")"
fi
out=$(in_c dig +short +time=2 @10.77.0.2 ns1.example. A)
[ "$out" = 192.0.2.1 ] && ok "still answering after hostile packets" ||
	not_ok "still answering after hostile packets" "$out"

stop_uk "$UK_PID"
[ "$UK_STATUS" = 0 ] && ok "SIGTERM stops it with status 0" ||
	not_ok "SIGTERM stops it with status 0" "status $UK_STATUS" "$(tail -5 "$WORK/dns.log")"
q=$(awk '$1 == "counter" && $2 == "dns.queries" { print $3 }' "$WORK/dns.log")
[ "${q:-0}" -ge 100 ] && ok "counters printed at exit (dns.queries=$q)" ||
	not_ok "counters printed at exit" "$(grep counter "$WORK/dns.log")"
# The repeated queries of the differential run were answered from the
# response cache (and the differences above say they were right).
h=$(awk '$1 == "counter" && $2 == "dns.cache.hits" { print $3 }' "$WORK/dns.log")
[ "${h:-0}" -ge 100 ] && ok "the response cache answered the repeated queries (dns.cache.hits=$h)" ||
	not_ok "the response cache answered the repeated queries" "$(grep cache "$WORK/dns.log")"

# ---- response rate limiting: a burst from one /24 is mostly dropped or
# slipped (TC); another /24 and TCP are answered as usual ----
in_c ip addr add 10.77.1.1/16 dev c0
start_uk "$WORK/rrl.log" "$DNS" --mem=32M --net:service=tap0 --block:zones="$WORK/zones.tar" \
	ipv4=10.77.0.2/16 mac=02:00:00:77:00:02 rrl=20 rrl-slip=2
wait_for_log "$WORK/rrl.log" "zones on port 53" >/dev/null
out=$(in_c python3 - 10.77.0.2 <<'EOF'
import math, socket, struct, sys, time
def q(i, name, t):
    m = struct.pack(">HHHHHH", i, 0, 1, 0, 0, 1)
    for l in name.split("."):
        m += bytes([len(l)]) + l.encode()
    return m + b"\0" + struct.pack(">HH", t, 1) + b"\0\0\x29\x04\xd0\0\0\0\0\0\0"
def recv_all(s, wait):
    got = []
    s.settimeout(wait)
    try:
        while True:
            got.append(s.recvfrom(65535)[0])
    except socket.timeout:
        return got
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.1", 0))
t0 = time.monotonic()
reqbytes = 0
for i in range(300):
    m = q(i, "example", 15)  # MX: an answer with additional addresses
    reqbytes += len(m)
    s.sendto(m, (sys.argv[1], 53))
    if i % 50 == 49:
        time.sleep(0.01)  # let the TAP queue drain: limiting, not loss, is under test
got = recv_all(s, 1.0)
secs = time.monotonic() - t0 - 1.0
full = [r for r in got if not r[2] & 2]
tc = [r for r in got if r[2] & 2 and struct.unpack(">HHH", r[6:12]) == (0, 0, 0)]
respbytes = sum(len(r) for r in got)
bound = 20 * (math.ceil(secs) + 2)
print("burst of 300 from 10.77.0.1: %d answered, %d slipped (TC), %d dropped; %d response bytes for %d request bytes"
      % (len(full), len(tc), 300 - len(got), respbytes, reqbytes))
ok = len(full) <= bound and len(tc) >= 1 and len(got) < 300 and len(full) + len(tc) == len(got) and respbytes <= reqbytes
# Another /24 (10.77.1.1): its own bucket, answered in full.
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
o.bind(("10.77.1.1", 0))
other = 0
for i in range(5):
    o.sendto(q(1000 + i, "example", 15), (sys.argv[1], 53))
    r = recv_all(o, 1.0)
    other += len(r) == 1 and not r[0][2] & 2 and struct.unpack(">H", r[0][6:8])[0] > 0
print("10.77.1.1: %d of 5 answered in full" % other)
ok = ok and other == 5
# TCP from the limited /24 is never limited.
c = socket.create_connection((sys.argv[1], 53), timeout=3, source_address=("10.77.0.1", 0))
m = q(2000, "example", 15)
c.sendall(struct.pack(">H", len(m)) + m)
r = c.recv(4096)
tcp = len(r) > 14 and struct.unpack(">H", r[8:10])[0] > 0
print("TCP from 10.77.0.1: %s" % ("answered" if tcp else "not answered"))
sys.exit(0 if ok and tcp else 1)
EOF
)
if [ $? -eq 0 ]; then
	ok "rrl=20: a burst is limited, responses never outweigh the requests; another /24 and TCP are answered"
	echo "$out" | sed 's/^/# /'
else
	not_ok "rrl=20: a burst is limited, responses never outweigh the requests; another /24 and TCP are answered" \
		"$out" "$(tail -3 "$WORK/rrl.log")"
fi
stop_uk "$UK_PID"
d=$(awk '$1 == "counter" && $2 == "dns.rrl_dropped" { print $3 }' "$WORK/rrl.log")
sl=$(awk '$1 == "counter" && $2 == "dns.rrl_slipped" { print $3 }' "$WORK/rrl.log")
[ "${d:-0}" -gt 0 ] && [ "${sl:-0}" -gt 0 ] && ok "rrl counters at exit (dns.rrl_dropped=$d dns.rrl_slipped=$sl)" ||
	not_ok "rrl counters at exit" "$(grep rrl "$WORK/rrl.log")"

# ---- the embedded zone over the socket stack ----
start_uk "$WORK/sock.log" "$DNS" --mem=16M --stack=socket listen=10.77.0.3:5353
wait_for_log "$WORK/sock.log" "zones on port 53" >/dev/null
out=$(in_c dig +short +time=2 -p 5353 @10.77.0.3 www.example.test. A)
echo "$out" | grep -q 192.0.2.10 && ok "socket stack: the embedded example.test. zone answers" ||
	not_ok "socket stack: the embedded example.test. zone answers" "$out" "$(tail -5 "$WORK/sock.log")"
stop_uk "$UK_PID"
finish
