#!/usr/bin/env bash
# bench/dns.sh - the DNS unikernel against NSD and Knot:
#   1. queries per second with dnsperf (atoll on its own stack over TAP,
#      NSD and Knot on the host's sockets in the same namespace), each
#      server with one worker pinned to CPU 1, dnsperf on CPU 0;
#   2. memory serving a generated 100,000-name zone: atoll's zone bytes and
#      heap high-water mark, and the proportional set size (PSS) of each
#      server's processes;
#   3. instructions per query under callgrind, atoll (socket stack) against
#      NSD, as (instructions with N queries - with none) / N;
#   4. image sizes.
# NSD's response rate limiting (on in Debian's build, 200 qps per client
# network) is turned off, or it would measure the limit.
# Prints Markdown for bench/RESULTS.md.  Not a test.
#
#   bench/dns.sh [SECONDS] [CALLGRIND_QUERIES]
#   PARTS="qps mem cg size" bench/dns.sh ...   (a subset of the four parts)
#   OFFLOAD=1 ...   atoll's TAP with offloads (--net:service=tap0,offload);
#   OFFLOAD=csum    with checksum offload only (--net:service=tap0,csum)
#   CG=tap ...      callgrind: only atoll's TAP rows (no socket stack, no NSD)
#   CGARGS="dns-cache=0"  extra boot arguments for atoll in part 3
#   CGDIR=<dir>          keep part 3's callgrind profiles there (t0.out, t1.out:
#                        atoll over TAP without and with queries; the rest as cg.<label>.<pid>)
set -u
cd "$(dirname "$0")/.."
SECS=${1:-10}
NCG=${2:-20000}
BIGMEM=${BIGMEM:-20M}
# The least zone-mem= that loads the 100,000-name zone (the heap is handed
# out zeroed, so the whole arena is resident: a larger one only measures
# the setting).  It holds the archive (at its top, freed after loading),
# the loading records and the built zone (built over the sort's scratch).
BIGZONEMEM=${BIGZONEMEM:-13M}
PARTS=${PARTS:-qps mem cg size}
case "${OFFLOAD:-}" in
"" | 0) TAP=tap0 ;;
csum) TAP=tap0,csum ;;
*) TAP=tap0,offload ;;
esac
CG=${CG:-all}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
make -s apps || exit 1
E2E_ID=dnsbench
source tests/e2e/lib.sh
net_up
DATA=tests/e2e/test_dns_data
mkdir -p "$WORK/zones" "$WORK/knot" "$WORK/big"
cp "$DATA"/*.zone "$DATA"/*.inc "$WORK/zones/"

# A query mix over the differential test's zone (also test_udp_offload's):
# answers, CNAME chains, wildcards, referrals, NXDOMAIN, NODATA.
cp tests/e2e/test_dns_data/mix.queries "$WORK/queries"

# The 100,000-name zone: one A record per name, as in the memory aim.
python3 - "$WORK/big/big.test.zone" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("$ORIGIN big.test.\n$TTL 3600\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 10.0.0.1\n")
    for i in range(100000):
        f.write("host%d A 10.%d.%d.%d\n" % (i, i >> 16, (i >> 8) & 255, i & 255))
EOF
(cd "$WORK/zones" && tar --format=ustar -cf "$WORK/zones.tar" example.zone sub.example.zone \
	other.test.zone other-hosts.inc)
(cd "$WORK/big" && tar --format=ustar -cf "$WORK/big.tar" big.test.zone)
chmod -R a+rX "$WORK"

nsd_conf() { # $1 port, $2 zone dir, zones...
	local port=$1 dir=$2
	shift 2
	printf 'server:\n\tip-address: 10.77.0.3@%s\n\tusername: ""\n\tchroot: ""\n\tzonesdir: "%s"\n\tdatabase: ""\n\tserver-count: 1\n\trrl-ratelimit: 0\n\tzonelistfile: "%s/nsd.%s.list"\n\txfrdfile: "%s/nsd.%s.xfrd"\n\tpidfile: "%s/nsd.%s.pid"\n\tlogfile: "%s/nsd.%s.log"\nremote-control:\n\tcontrol-enable: no\n' \
		"$port" "$dir" "$WORK" "$port" "$WORK" "$port" "$WORK" "$port" "$WORK" "$port"
	for z in "$@"; do printf 'zone:\n\tname: %s\n\tzonefile: %szone\n' "$z" "$z"; done
}
knot_conf() { # $1 port, $2 zone dir, zones...
	local port=$1 dir=$2
	shift 2
	printf 'server:\n    listen: 10.77.0.3@%s\n    rundir: "%s/knot"\n    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\ndatabase:\n    storage: "%s/knot/%s"\nlog:\n  - target: stderr\n    any: warning\ntemplate:\n  - id: default\n    storage: "%s"\n    zonefile-sync: -1\n    journal-content: none\nzone:\n' \
		"$port" "$WORK" "$WORK" "$port" "$dir"
	for z in "$@"; do printf '  - domain: %s\n    file: %szone\n' "$z" "$z"; done
}
pss() { # total PSS in KiB of the processes whose command line has $1
	local total=0 p
	for p in $(pgrep -f -- "$1"); do
		total=$((total + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
	done
	echo "$total"
}
wait_dns() { # addr port name
	for i in $(seq 300); do
		in_c dig +short +time=1 +tries=1 -p "$2" @"$1" "$3" SOA >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# ---- 1. queries per second ----
echo "| measure | atoll dns (hosted, TAP) | NSD 4.6 | Knot 3.2 | atoll / NSD | atoll / Knot |"
echo "|---|---|---|---|---|---|"
if part qps; then
nsd_conf 5301 "$WORK/zones" example. sub.example. other.test. >"$WORK/nsd.conf"
knot_conf 5302 "$WORK/zones" example. sub.example. other.test. >"$WORK/knot.conf"
(cd "$WORK/zones" && exec ip netns exec "$NS_S" taskset -c 1 nsd -d -c "$WORK/nsd.conf") >/dev/null 2>&1 &
PIDS+=($!)
NSD_PID=$!
ip netns exec "$NS_S" taskset -c 1 knotd -c "$WORK/knot.conf" >/dev/null 2>&1 &
PIDS+=($!)
KNOT_PID=$!
start_uk "$WORK/dns.log" taskset -c 1 build/hosted/dns --mem=32M --net:service=$TAP \
	--block:zones="$WORK/zones.tar" ipv4=10.77.0.2/24
wait_dns 10.77.0.2 53 example. && wait_dns 10.77.0.3 5301 example. && wait_dns 10.77.0.3 5302 example. ||
	{ echo "a server did not start"; exit 1; }
# CPU time (user + system, clock ticks) of a server: the process and its
# descendants (NSD's first process becomes xfrd; its child the main one,
# whose child serves).  On two cores dnsperf's one core
# can be the limit (all three servers then show about the same queries per
# second), so the CPU each server spends per query is the figure that
# compares them; it counts the kernel's work for each (atoll's TAP reads
# and writes, the servers' socket calls).
tree() { echo "$1"; for c in $(pgrep -P "$1"); do tree "$c"; done; }
ticks() { for p in $(tree "$1"); do cut -d')' -f2 "/proc/$p/stat" 2>/dev/null; done |
	awk '{ t += $12 + $13 } END { print t + 0 }'; }
# qps ADDR PORT PID: "queries-per-second CPU-microseconds-per-query"
qps() {
	local t0 t1 q
	t0=$(ticks "$3")
	q=$(in_c taskset -c 0 dnsperf -s "$1" -p "$2" -d "$WORK/queries" -l "$SECS" -c 4 -q 200 2>&1 |
		awk '/Queries per second/ { print int($4) }')
	t1=$(ticks "$3")
	awk -v q="$q" -v t="$((t1 - t0))" -v s="$SECS" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%d %.2f\n", q, (q > 0 ? t / hz * 1e6 / (q * s) : 0) }'
}
read -r A AC <<<"$(qps 10.77.0.2 53 "$UK_PID")"
read -r N NC <<<"$(qps 10.77.0.3 5301 "$NSD_PID")"
read -r K KC <<<"$(qps 10.77.0.3 5302 "$KNOT_PID")"
stop_uk "$UK_PID"
kill "${PIDS[@]}" 2>/dev/null
wait 2>/dev/null
PIDS=()
awk -v a="$A" -v n="$N" -v k="$K" 'BEGIN { printf "| queries per second (dnsperf, %s s) | %d | %d | %d | **%.2f** | **%.2f** |\n", '"$SECS"', a, n, k, a / n, a / k }'
awk -v a="$AC" -v n="$NC" -v k="$KC" 'BEGIN { printf "| server CPU per query, user + system, µs (/proc/<pid>/stat over the dnsperf run) | %.2f | %.2f | %.2f | **%.2f** | **%.2f** |\n", a, n, k, a / n, a / k }'
fi

# ---- 2. memory for 100,000 names ----
if part mem; then
nsd_conf 5311 "$WORK/big" big.test. >"$WORK/nsd-big.conf"
knot_conf 5312 "$WORK/big" big.test. >"$WORK/knot-big.conf"
(cd "$WORK/big" && exec ip netns exec "$NS_S" nsd -d -c "$WORK/nsd-big.conf") >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$NS_S" knotd -c "$WORK/knot-big.conf" >/dev/null 2>&1 &
PIDS+=($!)
# zone-mem= keeps the zone arena to what the load needs (see BIGZONEMEM).
start_uk "$WORK/big.log" build/hosted/dns --mem=$BIGMEM --net:service=tap0 \
	--block:zones="$WORK/big.tar" ipv4=10.77.0.2/24 zone-mem=$BIGZONEMEM
wait_dns 10.77.0.2 53 big.test. && wait_dns 10.77.0.3 5311 big.test. && wait_dns 10.77.0.3 5312 big.test. ||
	{ echo "a server did not load the big zone"; exit 1; }
in_c dig +short @10.77.0.2 host99999.big.test. A | grep -q 10.1.134.159 || echo "atoll: wrong answer for host99999"
ZB=$(sed -n 's/.*zone big.test. serial 1: [0-9]* names, \([0-9]*\) bytes.*/\1/p' "$WORK/big.log")
AP=$(pss "zones=$WORK/big.tar")
NP=$(pss nsd-big.conf)
KP=$(pss knot-big.conf)
stop_uk "$UK_PID"
HU=$(awk '$1 == "counter" && $2 == "heap.used" { print $3 }' "$WORK/big.log")
kill "${PIDS[@]}" 2>/dev/null
wait 2>/dev/null
PIDS=()
awk -v z="$ZB" -v a="$AP" -v n="$NP" -v k="$KP" -v h="$HU" 'BEGIN {
	printf "| 100,000-name zone: atoll zone data | %.1f MiB | | | | |\n", z / 1048576
	printf "| 100,000-name zone: resident (PSS) | %.1f MiB | %.1f MiB | %.1f MiB | **%.2f** | **%.2f** |\n", a / 1024, n / 1024, k / 1024, a / n, a / k
	printf "| 100,000-name zone: zone data / server PSS | | | | %.2f | %.2f |\n", z / 1024 / n, z / 1024 / k
	printf "| (atoll heap high-water mark, of --mem='"$BIGMEM"' zone-mem='"$BIGZONEMEM"': %.1f MiB) | | | | | |\n", h / 1048576
}'
fi

# ---- 3. instructions per query, callgrind (socket stacks, same queries) ----
if part cg; then
python3 - "$WORK/queries" "$NCG" >"$WORK/cg.py" <<'EOF'
import sys
qs = [l.split() for l in open(sys.argv[1])]
print("""import socket, struct, sys
T = {"A": 1, "SOA": 6, "MX": 15, "AAAA": 28, "SRV": 33, "HTTPS": 65}
qs = %r
def enc(n, t, i):
    m = struct.pack(">HHHHHH", i & 0xffff, 0, 1, 0, 0, 0)
    for l in n.rstrip(".").split("."):
        m += bytes([len(l)]) + l.encode()
    return m + b"\\0" + struct.pack(">HH", T[t], 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
n = int(sys.argv[3])
for i in range(n):
    q = qs[i %% len(qs)]
    s.sendto(enc(q[0], q[1], i), (sys.argv[1], int(sys.argv[2])))
    s.recvfrom(65535)
""" % qs)
EOF
cg() { # label port n command...: total instructions of the serving process (at $CGADDR)
	local label=$1 port=$2 n=$3 addr=${CGADDR:-10.77.0.3}
	shift 3
	rm -f "$WORK"/cg."$label".*
	ip netns exec "$NS_S" valgrind --tool=callgrind --trace-children=yes \
		--callgrind-out-file="$WORK/cg.$label.%p" "$@" >"$WORK/cg.$label.log" 2>&1 &
	local vp=$!
	for i in $(seq 300); do
		in_c dig +short +time=1 +tries=1 -p "$port" @"$addr" example. SOA >/dev/null 2>&1 && break
		sleep 0.3
	done
	[ "$n" -gt 0 ] && in_c python3 "$WORK/cg.py" "$addr" "$port" "$n"
	kill -TERM "$vp" 2>/dev/null
	for p in $(pgrep -f "callgrind-out-file=$WORK/cg.$label"); do kill -TERM "$p" 2>/dev/null; done
	wait "$vp" 2>/dev/null
	# Forked children write their profiles as they exit: wait for them.
	for i in $(seq 100); do
		pgrep -f "callgrind-out-file=$WORK/cg.$label" >/dev/null || break
		sleep 0.2
	done
	# Every process of the server (NSD forks xfrd and a server child):
	# with and without queries, only the query work differs.
	local total=0 f v
	for f in "$WORK"/cg."$label".*; do
		[ -f "$f" ] || continue
		case "$f" in *.log) continue ;; esac
		v=$(awk '/^summary:/ { print $2 }' "$f")
		total=$((total + ${v:-0}))
	done
	echo "$total"
}
A0=0 A1=0 N0=0 N1=1
if [ "$CG" != tap ]; then
A0=$(cg a0 5321 0 build/hosted/dns --mem=32M --no-sandbox --stack=socket listen=10.77.0.3:5321 \
	--block:zones="$WORK/zones.tar" ${CGARGS:-})
A1=$(cg a1 5321 "$NCG" build/hosted/dns --mem=32M --no-sandbox --stack=socket listen=10.77.0.3:5321 \
	--block:zones="$WORK/zones.tar" ${CGARGS:-})
nsd_conf 5322 "$WORK/zones" example. sub.example. other.test. >"$WORK/nsd-cg.conf"
N0=$(cd "$WORK/zones" && cg n0 5322 0 nsd -d -c "$WORK/nsd-cg.conf")
N1=$(cd "$WORK/zones" && cg n1 5322 "$NCG" nsd -d -c "$WORK/nsd-cg.conf")
fi
# atoll's whole stack, frame in to frame out over TAP (Ethernet, ARP, IP,
# UDP and checksums counted on atoll's side, the kernel's on NSD's not).
T0=$(CGADDR=10.77.0.2 cg t0 53 0 build/hosted/dns --mem=32M --no-sandbox --net:service=$TAP \
	--block:zones="$WORK/zones.tar" ipv4=10.77.0.2/24 ${CGARGS:-})
T1=$(CGADDR=10.77.0.2 cg t1 53 "$NCG" build/hosted/dns --mem=32M --no-sandbox --net:service=$TAP \
	--block:zones="$WORK/zones.tar" ipv4=10.77.0.2/24 ${CGARGS:-})
f=$(ls "$WORK"/cg.t1.* | grep -v log | head -1)
callgrind_annotate "$f" 2>/dev/null | head -40 >"${CGANNOTATE:-/dev/null}"
# CGDIR=<dir>: keep the TAP profiles (with and without queries) for
# per-function differences (bench/dns-profile.md).
if [ -n "${CGDIR:-}" ]; then
	mkdir -p "$CGDIR"
	cp "$(ls "$WORK"/cg.t0.* | grep -v log | head -1)" "$CGDIR/t0.out"
	cp "$f" "$CGDIR/t1.out"
	cp "$WORK"/cg.[an][01].* "$CGDIR"/ 2>/dev/null
fi
awk -v a0="$A0" -v a1="$A1" -v n0="$N0" -v n1="$N1" -v t0="$T0" -v t1="$T1" -v q="$NCG" 'BEGIN {
	a = (a1 - a0) / q; n = (n1 - n0) / q; t = (t1 - t0) / q
	printf "| instructions per query (callgrind, %d queries, socket stack) | %d | %d | | **%.2f** | |\n", q, a, n, a / n
	printf "| instructions per query (callgrind, %d queries; atoll: its own stack over TAP, frame in to frame out) | %d | %d | | **%.2f** | |\n", q, t, n, t / n
}'
fi

# ---- 4. image size ----
part size || exit 0
cp build/hosted/dns "$WORK/dns.stripped" && strip "$WORK/dns.stripped"
awk -v a="$(stat -c %s "$WORK/dns.stripped")" -v n="$(stat -c %s "$(command -v nsd)")" \
	-v k="$(stat -c %s "$(command -v knotd)")" 'BEGIN {
	printf "| image size, stripped (hosted ELF; NSD and Knot: their binaries, shared libraries not counted) | %d KiB | %d KiB | %d KiB | %.2f | %.2f |\n", a / 1024, n / 1024, k / 1024, a / n, a / k
}'
if [ -f build/pvh/dns.elf ]; then
	echo "| pvh image (build/pvh/dns.elf, whole VM kernel) | $(($(stat -c %s build/pvh/dns.elf) / 1024)) KiB | | | | |"
fi
