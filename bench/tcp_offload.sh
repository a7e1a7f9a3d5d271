#!/usr/bin/env bash
# bench/tcp_offload.sh - bulk TCP throughput of the hosted unikernel with
# and without TAP offloads (--net:service=<tap>,offload: virtio-net header,
# checksum offload, TSO/GRO), against Linux <-> Linux on the same namespace
# path (tests/e2e/lib.sh's topology) with the veth/bridge offloads on (the
# default) and off (ethtool -K tso/gso/gro/tx/rx off on c0, s0 and br0),
# in one run; and system calls per MiB of the unikernel (perf stat on
# raw_syscalls:sys_enter).  Servers on CPU 1, clients (python, 256 KiB
# calls) on CPU 0; Linux servers are socat with 256 KiB buffers.
#
#   bench/tcp_offload.sh [MBYTES]
# Not a test: figures go in bench/RESULTS.md with this command.
set -u
cd "$(dirname "$0")/.."
MB=${1:-400}
make -s apps || exit 1
E2E_ID=bench-off
source tests/e2e/lib.sh
net_up
bridge_tap tap1 tap2
A=10.77.0.4 O=10.77.0.5 L=10.77.0.3
start_uk "$WORK/plain.log" taskset -c 1 build/hosted/bulk --mem=32M --net:service=tap1 \
	ipv4=$A/24 tcp-buf=1M tcp-conns=8 net-buffers=2048
PLAIN=$UK_PID
start_uk "$WORK/off.log" taskset -c 1 build/hosted/bulk --mem=32M --net:service=tap2,offload \
	ipv4=$O/24 tcp-buf=1M tcp-conns=8 net-buffers=2048
OFF=$UK_PID
wait_for_log "$WORK/plain.log" "chargen" && wait_for_log "$WORK/off.log" "chargen" || exit 1
ip netns exec "$NS_S" taskset -c 1 socat -b 262144 -U TCP-LISTEN:1919,reuseaddr,fork OPEN:/dev/zero &
PIDS+=($!) # (ip netns exec execs: $! is socat itself)
ip netns exec "$NS_S" taskset -c 1 socat -b 262144 -u TCP-LISTEN:9009,reuseaddr,fork OPEN:/dev/null &
PIDS+=($!) # (ip netns exec execs: $! is socat itself)
sleep 0.5
for h in $A $O $L; do in_c ping -c 1 -W 2 $h >/dev/null; done

# pull HOST PORT / push HOST PORT: MB megabytes through a python client
# with 256 KiB calls (socat's 8 KiB pipes would be the bottleneck); Mbit/s.
pull() {
	in_c taskset -c 0 python3 -c '
import socket, sys, time
n = int(sys.argv[3]) << 20
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
b = bytearray(262144); got = 0; t = time.time()
while got < n:
    k = s.recv_into(b)
    if not k: break
    got += k
print("%.0f" % (got * 8 / (time.time() - t) / 1e6))' "$1" "$2" "$MB"
}
push() {
	in_c taskset -c 0 python3 -c '
import socket, sys, time
n = int(sys.argv[3]) << 20
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
b = bytes(262144); t = time.time()
for i in range(n // len(b)): s.sendall(b)
s.shutdown(socket.SHUT_WR)
while s.recv(65536): pass
print("%.0f" % (n * 8 / (time.time() - t) / 1e6))' "$1" "$2" "$MB"
}
# syscalls PID FN ARGS...: system calls PID makes per MiB moved by FN.
syscalls() {
	local pid=$1 pp
	shift
	perf stat -x, -e raw_syscalls:sys_enter -p "$pid" -o "$WORK/perf.txt" &
	pp=$!
	sleep 0.3
	"$@" >/dev/null
	kill -INT $pp
	wait $pp
	awk -F, -v mb="$MB" '$3 == "raw_syscalls:sys_enter" { printf "%.0f", $1 / mb }' "$WORK/perf.txt"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

ps=$(pull $A 19) pr=$(push $A 9)
os=$(pull $O 19) or=$(push $O 9)
ls=$(pull $L 1919) lr=$(push $L 9009)
sc_ps=$(syscalls $PLAIN pull $A 19) sc_pr=$(syscalls $PLAIN push $A 9)
sc_os=$(syscalls $OFF pull $O 19) sc_or=$(syscalls $OFF push $O 9)
# Linux without offloads on its side of the path.
for l in c0; do in_c ethtool -K $l tso off gso off gro off tx off rx off >/dev/null 2>&1; done
for l in s0 br0; do in_s ethtool -K $l tso off gso off gro off tx off rx off >/dev/null 2>&1; done
lns=$(pull $L 1919) lnr=$(push $L 9009)
pns=$(pull $A 19) pnr=$(push $A 9)

echo "$MB MiB per transfer; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| measure | atoll, TAP plain | atoll, TAP offload | Linux<->Linux, offloads on | Linux<->Linux, offloads off | offload / Linux on | plain / Linux off |"
echo "|---|---:|---:|---:|---:|---:|---:|"
echo "| atoll sends (chargen -> socat), Mbit/s | $ps | $os | $ls | $lns | $(ratio "$os" "$ls") | $(ratio "$ps" "$lns") |"
echo "| atoll receives (socat -> discard), Mbit/s | $pr | $or | $lr | $lnr | $(ratio "$or" "$lr") | $(ratio "$pr" "$lnr") |"
echo "| atoll plain with the Linux side's offloads off: sends $pns, receives $pnr Mbit/s |"
echo "| system calls per MiB, atoll sends: plain $sc_ps, offload $sc_os; receives: plain $sc_pr, offload $sc_or |"
kill -TERM "$PLAIN" "$OFF" 2>/dev/null
