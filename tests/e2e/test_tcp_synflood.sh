#!/usr/bin/env bash
# test_tcp_synflood.sh - SYN cookies (RFC 4987 3.6) on the hosted target:
# a bounded hping3 SYN flood from spoofed random sources (they stay inside
# the namespaces: the unikernel has no route back to them) at atoll's echo
# service fills its backlog and its pool with half-open connections that
# never complete.  Meanwhile a 20 MiB echo transfer already established
# must come back byte-exact (SHA-256), a 20 MiB push into discard on the
# other unikernel must arrive whole, and new connections made during the
# flood must succeed (through cookies: counted); memory stays within the
# budget (heap high-water mark) and both unikernels stop cleanly.
source "$(dirname "$0")/lib.sh"
ECHO=$ROOT/build/hosted/echo
BULK=$ROOT/build/hosted/bulk
TCPCHECK=$ROOT/tests/e2e/tcpcheck.py
A=10.77.0.2 # echo, flooded
B=10.77.0.4 # bulk
MIB20=$((20 << 20))

net_up
bridge_tap tap1
start_uk "$WORK/echo.log" "$ECHO" --mem=16M --net:service=tap0 ipv4=$A/24 mac=02:00:00:77:00:02 \
	tcp-buf=128K tcp-conns=16 net-buffers=512
ECHO_PID=$UK_PID
start_uk "$WORK/bulk.log" "$BULK" --mem=16M --net:service=tap1 ipv4=$B/24 mac=02:00:00:77:00:04 \
	tcp-buf=128K net-buffers=512
BULK_PID=$UK_PID
if wait_for_log "$WORK/echo.log" "echo service on TCP port 7" &&
	wait_for_log "$WORK/bulk.log" "chargen on TCP port 19"; then
	ok "echo and bulk start on the atoll stack"
else
	not_ok "echo and bulk start on the atoll stack" "$(tail -3 "$WORK/echo.log")" "$(tail -3 "$WORK/bulk.log")"
fi
expect "ping echo and bulk first (ARP both ways)" in_c sh -c "ping -c 1 -W 2 $A && ping -c 1 -W 2 $B"

# 20 MiB of seeded random bytes, written in 64 KiB pieces with a pause
# between them so that the transfer spans the flood (~4 s); the pause
# only shapes the overlap, the checks are on bytes.
gen() {
	python3 -c '
import random, sys, time
pause = float(sys.argv[1])
r = random.Random(5)
out = sys.stdout.buffer
for _ in range(320):
    out.write(r.randbytes(65536))
    out.flush()
    time.sleep(pause)' "$1"
}
want_sha=$(gen 0 | sha256sum | cut -d' ' -f1)

# The established transfers, started before the flood.
gen 0.012 | in_c timeout 120 socat -b 65536 - TCP:$A:7,shut-down 2>"$WORK/echo-xfer.err" |
	sha256sum | cut -d' ' -f1 >"$WORK/echo-xfer.sha" &
echo_xfer=$!
gen 0.012 | in_c timeout 120 socat -u - TCP:$B:9 2>"$WORK/discard-xfer.err" &
discard_xfer=$!
sleep 0.5

# The flood: 30000 SYNs at up to 10000/s from random sources at echo.
in_c timeout 60 hping3 -q -S -p 7 --rand-source -i u100 -c 30000 $A >"$WORK/hping.log" 2>&1 &
flood=$!
sleep 1
# New connections while the flood goes on: 20 echoes one after another,
# then a chargen pull from bulk (not flooded) as a control.
expect "during the flood: 20 new echo connections of 2000 bytes each, SHA-256 equal" \
	in_c python3 "$TCPCHECK" $A 7 echo 2000 20
expect "during the flood: chargen 1 MiB from bulk equal" in_c python3 "$TCPCHECK" $B 19 chargen 1048576
flood_running=no
kill -0 $flood 2>/dev/null && flood_running=yes
wait $flood
wait $echo_xfer
wait $discard_xfer
dis_rc=$?
got_sha=$(cat "$WORK/echo-xfer.sha")
[ "$got_sha" = "$want_sha" ] && ok "established echo of 20 MiB through the flood, SHA-256 equal" ||
	not_ok "established echo of 20 MiB through the flood, SHA-256 equal" "$(cat "$WORK/echo-xfer.err")"
[ "$dis_rc" = 0 ] && ok "20 MiB pushed into discard during the flood" ||
	not_ok "20 MiB pushed into discard during the flood" "$(cat "$WORK/discard-xfer.err")"
echo "# the flood was still running after the new connections: $flood_running"
expect "after the flood: a new echo connection" in_c python3 "$TCPCHECK" $A 7 echo 100000

stop_uk "$ECHO_PID"
[ "$UK_STATUS" = 0 ] && ok "echo stops with status 0" || not_ok "echo stops with status 0" "status $UK_STATUS"
stop_uk "$BULK_PID"
[ "$UK_STATUS" = 0 ] && ok "bulk stops with status 0" || not_ok "bulk stops with status 0" "status $UK_STATUS"
counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }
sent=$(counter "$WORK/echo.log" tcp.syncookie_sent)
made=$(counter "$WORK/echo.log" tcp.syncookie_ok)
opens=$(counter "$WORK/echo.log" tcp.passive_open)
dropped=$(counter "$WORK/echo.log" tcp.synrcvd_dropped)
rx=$(counter "$WORK/echo.log" tcp.rx)
echo "# echo: tcp.rx=$rx passive_open=$opens syncookie_sent=$sent syncookie_ok=$made synrcvd_dropped=$dropped"
[ "${rx:-0}" -gt 5000 ] && ok "the flood reached echo's stack (tcp.rx=$rx)" ||
	not_ok "the flood reached echo's stack" "$(grep 'counter tcp' "$WORK/echo.log")" "$(cat "$WORK/hping.log")"
[ "${sent:-0}" -gt 0 ] && [ "${made:-0}" -ge 1 ] &&
	ok "SYNs beyond the backlog got cookies, returned cookies made connections ($sent sent, $made made)" ||
	not_ok "SYNs beyond the backlog got cookies, returned cookies made connections" \
		"$(grep 'counter tcp' "$WORK/echo.log")"
conns=$(counter "$WORK/echo.log" echo.tcp_conns)
[ "${conns:-0}" -eq 22 ] && ok "echo served exactly the 22 real connections ($conns)" ||
	not_ok "echo served exactly the 22 real connections" "echo.tcp_conns=$conns"
bytes=$(counter "$WORK/bulk.log" bulk.discard_bytes)
[ "$bytes" = "$MIB20" ] && ok "discard received every byte exactly once ($bytes)" ||
	not_ok "discard received every byte exactly once" "got $bytes, want $MIB20"
# The budget: 16 control blocks with 2 x 128 KiB rings = 4 MiB, packet
# buffers and the rest; never more than the 16 MiB heap, and no growth
# from the flood (a half-open connection costs a block, a cookie nothing).
heap=$(counter "$WORK/echo.log" heap.used)
[ -n "$heap" ] && [ "$heap" -lt $((6 << 20)) ] && ok "echo heap high-water mark within its budget ($heap bytes)" ||
	not_ok "echo heap high-water mark within its budget" "heap.used=$heap"
finish
