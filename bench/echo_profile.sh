#!/usr/bin/env bash
# bench/echo_profile.sh [COUNT] - instructions per UDP echo of the hosted
# echo unikernel under callgrind (counts instructions, so it is stable on a
# noisy machine): one run with COUNT echoes, one with none, the difference
# divided by COUNT.  Prints the top functions of the loaded run.
set -u
cd "$(dirname "$0")/.."
N=${1:-20000}
make -s apps build/bench/udp_rr || exit 1
E2E_ID=prof
source tests/e2e/lib.sh
net_up
run() { # run NAME COUNT
	start_uk "$WORK/$1.log" valgrind --tool=callgrind --callgrind-out-file="$WORK/$1.cg" \
		build/hosted/echo --no-sandbox --mem=4M --net:service=tap0 ipv4=10.77.0.2/24
	wait_for_log "$WORK/$1.log" "echo service" 60 || { cat "$WORK/$1.log"; exit 1; }
	if [ "$2" -gt 0 ]; then
		in_c python3 - "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.connect(("10.77.0.2", 7))
for i in range(int(sys.argv[1])):
    s.send(b"x" * 64); s.recv(100)
PY
	fi
	stop_uk "$UK_PID"
	callgrind_annotate "$WORK/$1.cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
idle=$(run idle 0)
busy=$(run busy "$N")
echo "instructions: idle run $idle, with $N echoes $busy"
echo "instructions per echo (user space, whole unikernel): $(( (busy - idle) / N ))"
callgrind_annotate "$WORK/busy.cg" 2>/dev/null | sed -n '/Ir/,$p' | head -25
