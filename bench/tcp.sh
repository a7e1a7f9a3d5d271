#!/usr/bin/env bash
# bench/tcp.sh - TCP figures of the hosted unikernels against Linux on the
# same namespace path (tests/e2e/lib.sh's topology), in one run:
#   bulk throughput with atoll sending (chargen, TCP 19) and receiving
#   (discard, TCP 9), against a Linux sender/receiver (socat on /dev/zero,
#   /dev/null) at the bridge's Linux address; connections per second
#   (connect, one byte echoed, close) against echo and a Linux echo; and
#   throughput with 1% loss (nftables on the client's side, both ways).
# Servers on CPU 1, clients on CPU 0; Linux uses CUBIC (a route attribute)
# and no offloads; atoll also with tcp-cc=cubic (a third unikernel, 10.77.0.5).
#
#   bench/tcp.sh [MBYTES] [CONNS]
# Not a test: figures go in bench/RESULTS.md with this command.
set -u
cd "$(dirname "$0")/.."
MB=${1:-400}
CONNS=${2:-2000}
make -s apps || exit 1
E2E_ID=bench
source tests/e2e/lib.sh
net_up
bridge_tap tap1 tap2
# Linux uses CUBIC: the container refuses net.ipv4.tcp_congestion_control
# inside namespaces (the host default is BBR), but a route's congctl
# attribute sets it per destination, for active and passive opens alike.
in_c ip route change 10.77.0.0/24 dev c0 proto kernel scope link src 10.77.0.1 congctl cubic
in_s ip route change 10.77.0.0/24 dev br0 proto kernel scope link src 10.77.0.3 congctl cubic
# No offloads on the Linux path (atoll's TAP path has none: no vnet
# header, every frame one MSS): TSO, GSO, GRO and checksum offload off on
# the veth ends and the bridge.  A reference row keeps Linux's defaults.
offloads() {
	in_c ethtool -K c0 tso "$1" gso "$1" gro "$1" tx "$1" >/dev/null 2>&1
	for d in s0 br0; do in_s ethtool -K $d tso "$1" gso "$1" gro "$1" tx "$1" >/dev/null 2>&1; done
}
A=10.77.0.2 B=10.77.0.4 C=10.77.0.5 L=10.77.0.3
start_uk "$WORK/echo.log" taskset -c 1 build/hosted/echo --mem=32M --net:service=tap0 \
	ipv4=$A/24 tcp-buf=1M tcp-conns=8 net-buffers=2048
start_uk "$WORK/bulk.log" taskset -c 1 build/hosted/bulk --mem=32M --net:service=tap1 \
	ipv4=$B/24 tcp-buf=1M tcp-conns=8 net-buffers=2048
BULK_PID=$UK_PID
start_uk "$WORK/bulkc.log" taskset -c 1 build/hosted/bulk --mem=32M --net:service=tap2 \
	ipv4=$C/24 tcp-buf=1M tcp-conns=8 net-buffers=2048 tcp-cc=cubic
BULKC_PID=$UK_PID
wait_for_log "$WORK/echo.log" "TCP port 7" && wait_for_log "$WORK/bulk.log" "chargen" &&
	wait_for_log "$WORK/bulkc.log" "chargen" || exit 1
# ip netns exec execs, so $! is the server itself (a backgrounded shell
# function would be a subshell, and cleanup's kill would miss the server).
ip netns exec "$NS_S" taskset -c 1 socat -U TCP-LISTEN:1919,reuseaddr,fork OPEN:/dev/zero &
PIDS+=($!)
ip netns exec "$NS_S" taskset -c 1 socat -u TCP-LISTEN:9009,reuseaddr,fork OPEN:/dev/null &
PIDS+=($!)
ip netns exec "$NS_S" taskset -c 1 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.3", 7007)); s.listen(128)
while True:
    c, _ = s.accept()
    while True:
        b = c.recv(65536)
        if not b: break
        c.sendall(b)
    c.close()' &
PIDS+=($!)
sleep 0.5
in_c ping -c 1 -W 2 $A >/dev/null
in_c ping -c 1 -W 2 $B >/dev/null
in_c ping -c 1 -W 2 $C >/dev/null

now() { date +%s.%N; }
# pull HOST PORT: MB megabytes from a sender; prints Mbit/s.
pull() {
	local t0 t1
	t0=$(now)
	in_c taskset -c 0 socat -u TCP:$1:$2 STDOUT 2>/dev/null | head -c $((MB << 20)) >/dev/null
	t1=$(now)
	awk -v b=$((MB << 20)) -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b * 8 / (z - a) / 1e6 }'
}
push() {
	local t0 t1
	t0=$(now)
	head -c $((MB << 20)) /dev/zero | in_c taskset -c 0 socat -u STDIN TCP:$1:$2
	t1=$(now)
	awk -v b=$((MB << 20)) -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b * 8 / (z - a) / 1e6 }'
}
cps() {
	in_c taskset -c 0 python3 -c '
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = time.time()
for i in range(n):
    s = socket.create_connection((host, port))
    s.sendall(b"x"); s.shutdown(socket.SHUT_WR)
    while s.recv(16): pass
    s.close()
print("%.0f" % (n / (time.time() - t)))' "$1" "$2" "$CONNS"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
# The congestion control Linux's socket really uses, read during a pull.
linux_cc() {
	pull $L 1919 >/dev/null &
	sleep 0.3
	in_c ss -tin "dport = :1919" | grep -o -w -E 'cubic|bbr|reno' | head -1
	wait
}

lso=$(pull $L 1919) lro=$(push $L 9009) # Linux's defaults, offloads on
offloads off
CC_NOW=$(linux_cc)
as=$(pull $B 19) ls=$(pull $L 1919) acs=$(pull $C 19)
ar=$(push $B 9) lr=$(push $L 9009)
ac=$(cps $A 7) lc=$(cps $L 7007)
in_c nft -f - <<NFT
table inet atloss {
	chain in { type filter hook input priority 0; numgen random mod 1000 < 10 drop; }
	chain out { type filter hook output priority 0; meta l4proto tcp numgen random mod 1000 < 10 drop; }
}
NFT
MB=$((MB / 4))
asl=$(median3 "$(pull $B 19)" "$(pull $B 19)" "$(pull $B 19)")
acl=$(median3 "$(pull $C 19)" "$(pull $C 19)" "$(pull $C 19)")
lsl=$(median3 "$(pull $L 1919)" "$(pull $L 1919)" "$(pull $L 1919)")
in_c nft delete table inet atloss

kill -TERM "$UK_PID" "$BULK_PID" 2>/dev/null
wait "$UK_PID" "$BULK_PID" 2>/dev/null
counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }
echo "Linux congestion control (ss -ti during a pull): $CC_NOW; offloads off (ethtool -K tso gso gro tx)"
echo "$MB MiB per lossy transfer (median of 3), $((MB * 4)) MiB otherwise"
echo "| measure | atoll (hosted, TAP) | Linux <-> Linux | atoll / Linux |"
echo "|---|---:|---:|---:|"
echo "| bulk, atoll sends (chargen -> socat), Mbit/s | $as | $ls | $(ratio "$as" "$ls") |"
echo "| bulk, atoll receives (socat -> discard), Mbit/s | $ar | $lr | $(ratio "$ar" "$lr") |"
echo "| connections per second (connect, 1 byte echoed, close) | $ac | $lc | $(ratio "$ac" "$lc") |"
echo "| bulk with 1% loss, atoll sends, Mbit/s (newreno) | $asl | $lsl | $(ratio "$asl" "$lsl") |"
echo "| bulk with 1% loss, atoll sends, Mbit/s (tcp-cc=cubic) | $acl | $lsl | $(ratio "$acl" "$lsl") |"
echo "| bulk, atoll sends, Mbit/s (tcp-cc=cubic) | $acs | $ls | $(ratio "$acs" "$ls") |"
echo "| (Linux with its default offloads: sends / receives, Mbit/s) | | $lso / $lro | |"
for f in bulk bulkc; do
	echo "$f: $(grep -E 'counter tcp\.(tx|rx|fast_rexmt|rexmt_timeout|loss_probe|lost_rexmt|rescue_rexmt|rexmt_segs) ' "$WORK/$f.log" | awk '{ printf "%s=%s ", $2, $3 }')"
done
