#!/usr/bin/env bash
# test_tcp_pvh.sh - TCP on the pvh target: the echo and bulk images boot
# under QEMU (microvm, software emulation) on TAP devices in a namespace,
# and Linux clients move data through them byte-exact (SHA-256, the
# RFC 864 pattern), with and without 1% loss (nftables on the client side).
source "$(dirname "$0")/lib.sh"
ATOLL=$ROOT/tools/atoll
TCPCHECK=$ROOT/tests/e2e/tcpcheck.py
A=10.77.0.2
B=10.77.0.4

if make -s -C "$ROOT" TARGET=pvh >"$WORK/build.log" 2>&1; then
	ok "make TARGET=pvh builds echo and bulk"
else
	not_ok "make TARGET=pvh builds echo and bulk" "$(tail -5 "$WORK/build.log")"
	finish
fi
net_up
bridge_tap tap1
# As in test_pvh.sh: "ip netns exec" execs timeout, which passes SIGTERM
# on to the launcher, which ends QEMU.
ip netns exec "$NS_S" timeout 600 "$ATOLL" run -M microvm --net service=tap0 \
	echo ipv4=$A/24 mac=02:00:00:77:00:02 >"$WORK/echo.log" 2>&1 &
ECHO_PID=$!
PIDS+=($ECHO_PID)
ip netns exec "$NS_S" timeout 600 "$ATOLL" run -M microvm --net service=tap1 \
	bulk ipv4=$B/24 mac=02:00:00:77:00:04 >"$WORK/bulk.log" 2>&1 &
BULK_PID=$!
PIDS+=($BULK_PID)
if wait_for_log "$WORK/echo.log" "echo service on TCP port 7" 60 &&
	wait_for_log "$WORK/bulk.log" "chargen on TCP port 19" 60; then
	ok "pvh: echo and bulk boot and listen on TCP"
else
	not_ok "pvh: echo and bulk boot and listen on TCP" "$(tail -3 "$WORK/echo.log")" "$(tail -3 "$WORK/bulk.log")"
fi
expect "pvh: ping first" in_c ping -c 2 -W 5 $A

expect "pvh: TCP echo of 1 MiB, SHA-256 equal" in_c python3 "$TCPCHECK" $A 7 echo 1048576
expect "pvh: TCP echo, 20 connections" in_c python3 "$TCPCHECK" $A 7 echo 1000 20
expect "pvh: chargen 2 MiB equal to RFC 864's lines" in_c python3 "$TCPCHECK" $B 19 chargen 2097152
expect "pvh: discard 2 MiB" in_c python3 "$TCPCHECK" $B 9 discard 2097152
in_c nft -f - <<NFT
table inet atloss {
	chain in { type filter hook input priority 0; numgen random mod 1000 < 10 drop; }
	chain out { type filter hook output priority 0; meta l4proto tcp numgen random mod 1000 < 10 drop; }
}
NFT
expect "pvh, 1% loss: TCP echo of 512 KiB, SHA-256 equal" in_c python3 "$TCPCHECK" $A 7 echo 524288
expect "pvh, 1% loss: chargen 1 MiB equal" in_c python3 "$TCPCHECK" $B 19 chargen 1048576
in_c nft delete table inet atloss

for p in "$ECHO_PID" "$BULK_PID"; do
	kill -TERM "$p" 2>/dev/null
	rc=0
	wait "$p" || rc=$?
	[ $rc = 0 ] || not_ok "pvh: a guest stops with status 0" "status $rc"
done
if grep -q "^counter echo.tcp_bytes [1-9]" "$WORK/echo.log" &&
	grep -q "^counter bulk.discard_bytes 2097152$" "$WORK/bulk.log"; then
	ok "pvh: guests stop cleanly; discard counted every byte exactly once"
else
	not_ok "pvh: guests stop cleanly; discard counted every byte exactly once" \
		"$(grep -E '^counter (echo|bulk|tcp)' "$WORK/echo.log" "$WORK/bulk.log" | head -20)"
fi
finish
