#!/usr/bin/env bash
# bench/udp_echo.sh - UDP echo round trips per second and ping latency of
# the hosted echo unikernel against a Linux UDP echo server (socat), both
# reached from the same client namespace over the same veth pair, in one
# run.  Server on CPU 1, client on CPU 0.  Prints a Markdown table.
#
#   bench/udp_echo.sh [SECONDS] [SIZE]
# Not a test: figures go in bench/RESULTS.md with this command.
set -u
cd "$(dirname "$0")/.."
SECS=${1:-10}
SIZE=${2:-64}
make -s apps build/bench/udp_rr || exit 1
E2E_ID=bench
source tests/e2e/lib.sh
net_up

start_uk "$WORK/echo.log" taskset -c 1 build/hosted/echo --mem=4M --net:service=tap0 ipv4=10.77.0.2/24
wait_for_log "$WORK/echo.log" "echo service" || { cat "$WORK/echo.log"; exit 1; }
ip netns exec "$NS_S" taskset -c 1 socat UDP4-LISTEN:7007,bind=10.77.0.3,reuseaddr PIPE &
PIDS+=($!)
sleep 0.3

rr() { in_c taskset -c 0 build/bench/udp_rr "$1" "$2" "$SIZE" "$SECS"; }
ping_avg() {
	# Flood mode: the next request leaves as soon as the reply is in, as
	# in udp_rr, so neither side sleeps between requests.
	in_c taskset -c 0 ping -q -f -c 5000 "$1" | awk -F/ '/rtt/ { print $5 }'
}
A=$(rr 10.77.0.2 7)
L=$(rr 10.77.0.3 7007)
PA=$(ping_avg 10.77.0.2)
PL=$(ping_avg 10.77.0.3)
ECHO_PID=$(pgrep -f "build/hosted/echo --mem=4M" | head -1)
kill -TERM "$UK_PID"; wait "$UK_PID" 2>/dev/null
val() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
ra=$(val "$A" round_trips_per_s) rl=$(val "$L" round_trips_per_s)
heap=$(awk '$2 == "heap.used" { print $3 }' "$WORK/echo.log")
echo "| measure ($SIZE-byte datagrams, ${SECS}s) | atoll echo (hosted, TAP) | Linux socat | atoll / Linux |"
echo "|---|---|---|---|"
echo "| UDP round trips per second | $ra | $rl | $(awk -v a="$ra" -v b="$rl" 'BEGIN { printf "%.2f", a / b }') |"
echo "| UDP latency p50 (us) | $(val "$A" latency_us_p50) | $(val "$L" latency_us_p50) | |"
echo "| UDP latency p99 (us) | $(val "$A" latency_us_p99) | $(val "$L" latency_us_p99) | |"
echo "| ping average RTT (ms) | $PA | $PL | $(awk -v a="$PA" -v b="$PL" 'BEGIN { printf "%.2f", b / a }') (Linux RTT / atoll RTT) |"
echo "| lost | $(val "$A" lost) | $(val "$L" lost) | |"
echo
echo "echo unikernel heap high-water mark: $heap bytes"
