#!/usr/bin/env bash
# test_tcp.sh - atoll's TCP on the hosted target against Linux peers in
# namespaces: echo (RFC 862, TCP 7), discard (RFC 863, TCP 9) and chargen
# (RFC 864, TCP 19) through python clients and socat, byte-exact (SHA-256
# and pattern compared), both directions, under 1% and 5% loss (nftables
# numgen drops at the ingress of both veth ends); a refused port;
# the same services over the socket stack; clean stops with counters.
source "$(dirname "$0")/lib.sh"
ECHO=$ROOT/build/hosted/echo
BULK=$ROOT/build/hosted/bulk
TCPCHECK=$ROOT/tests/e2e/tcpcheck.py
A=10.77.0.2 # echo
B=10.77.0.4 # bulk

net_up
bridge_tap tap1
start_uk "$WORK/echo.log" "$ECHO" --mem=16M --net:service=tap0 ipv4=$A/24 mac=02:00:00:77:00:02 \
	tcp-buf=128K net-buffers=512
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
expect "ping first (ARP both ways)" in_c ping -c 1 -W 2 $A

for size in 1 1000 100000 1048576; do
	expect "TCP echo of $size bytes, SHA-256 equal" in_c python3 "$TCPCHECK" $A 7 echo $size
done
expect "TCP echo: 50 connections one after another" in_c python3 "$TCPCHECK" $A 7 echo 2000 50
expect "chargen: 4 MiB equal to RFC 864's lines" in_c python3 "$TCPCHECK" $B 19 chargen 4194304
expect "discard: 4 MiB sent and acknowledged" in_c python3 "$TCPCHECK" $B 9 discard 4194304
expect "a closed port is refused with RST" in_c python3 "$TCPCHECK" $A 8 refused 0

# socat, a second Linux client, byte-exact through a file.
head -c 3000000 /dev/urandom >"$WORK/in.bin"
in_c timeout 60 socat -u TCP:$B:19 - 2>/dev/null | head -c 1000000 >"$WORK/cg.bin"
python3 -c "
import sys; sys.path.insert(0, '$ROOT/tests/e2e')
" 2>/dev/null
exp=$(python3 -c "
period = b''.join(bytes((32 + (i + j) % 95) for j in range(72)) + b'\r\n' for i in range(95))
import hashlib, sys
print(hashlib.sha256((period * 200)[:1000000]).hexdigest())")
got=$(sha256sum <"$WORK/cg.bin" | cut -d' ' -f1)
[ "$exp" = "$got" ] && ok "socat pulls 1 MB of chargen, SHA-256 equal" ||
	not_ok "socat pulls 1 MB of chargen, SHA-256 equal" "got $(wc -c <"$WORK/cg.bin") bytes"
in_c timeout 60 socat -u FILE:"$WORK/in.bin" TCP:$B:9 &&
	ok "socat pushes 3 MB into discard" || not_ok "socat pushes 3 MB into discard"
out=$(in_c timeout 60 socat - TCP:$A:7,shut-down <"$WORK/in.bin" | sha256sum | cut -d' ' -f1)
[ "$out" = "$(sha256sum <"$WORK/in.bin" | cut -d' ' -f1)" ] &&
	ok "socat echo of 3 MB, SHA-256 equal" || not_ok "socat echo of 3 MB, SHA-256 equal"

# Loss on the wire between the namespaces, both ways (nft_loss in lib.sh;
# this kernel has no netem).  One TCP segment per packet from the client,
# so that a drop is a segment, not a 64 KiB GSO burst.
in_c ip link set c0 gso_max_segs 1
for pm in 10 50; do
	if nft_loss $pm; then
		pct=$((pm / 10))
		expect "$pct% loss: TCP echo of 1 MiB, SHA-256 equal" in_c python3 "$TCPCHECK" $A 7 echo 1048576
		expect "$pct% loss: chargen 2 MiB equal" in_c python3 "$TCPCHECK" $B 19 chargen 2097152
		expect "$pct% loss: discard 2 MiB" in_c python3 "$TCPCHECK" $B 9 discard 2097152
	else
		not_ok "nftables loss rule at $pm per mille"
	fi
done
nft_loss 0

# A SYN flood (hping3, 4000 SYNs at about 2000/s, each from a new port)
# at discard while an 8 MiB chargen transfer runs on the same unikernel:
# the transfer must complete byte-exact, the flood be absorbed by the
# backlog, SYN cookies and the fixed pool, and memory stay within the
# budget.  (tests/e2e/test_tcp_synflood.sh floods from spoofed sources.)
in_c python3 "$TCPCHECK" $B 19 chargen 8388608 >"$WORK/flood-xfer.log" 2>&1 &
xfer=$!
in_c timeout 30 hping3 -q -S -p 9 -i u500 -c 4000 $B >"$WORK/hping.log" 2>&1
if wait $xfer; then
	ok "chargen 8 MiB completes byte-exact during a SYN flood"
else
	not_ok "chargen 8 MiB completes byte-exact during a SYN flood" "$(cat "$WORK/flood-xfer.log")"
fi
expect "after the flood, new connections are served again" in_c python3 "$TCPCHECK" $B 9 discard 1000

stop_uk "$ECHO_PID"
[ "$UK_STATUS" = 0 ] && ok "echo stops with status 0" || not_ok "echo stops with status 0" "status $UK_STATUS"
stop_uk "$BULK_PID"
[ "$UK_STATUS" = 0 ] && ok "bulk stops with status 0" || not_ok "bulk stops with status 0" "status $UK_STATUS"
counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }
conns=$(counter "$WORK/echo.log" echo.tcp_conns)
[ "${conns:-0}" -ge 57 ] && ok "echo counted its TCP connections ($conns)" ||
	not_ok "echo counted its TCP connections" "$(grep counter "$WORK/echo.log" | head -30)"
rex=$(counter "$WORK/bulk.log" tcp.rexmt_segs)
[ "${rex:-0}" -gt 0 ] && ok "bulk retransmitted under loss (tcp.rexmt_segs=$rex)" ||
	not_ok "bulk retransmitted under loss" "$(grep 'counter tcp' "$WORK/bulk.log")"
# discard's byte count: 4 MiB + 3 MB + 2 x 2 MiB + 1000, exactly.
want=$((4194304 + 3000000 + 2 * 2097152 + 1000))
got=$(counter "$WORK/bulk.log" bulk.discard_bytes)
[ "$got" = "$want" ] && ok "discard received every byte exactly once ($got)" ||
	not_ok "discard received every byte exactly once" "got $got, want $want"
opens=$(counter "$WORK/bulk.log" tcp.passive_open)
bd=$(counter "$WORK/bulk.log" tcp.backlog_drop)
nm=$(counter "$WORK/bulk.log" tcp.conn_refused_nomem)
refused=$((${bd:-0} + ${nm:-0}))
[ "${opens:-0}" -gt 100 ] && ok "the SYN flood reached the stack ($opens passive opens, $refused refused)" ||
	not_ok "the SYN flood reached the stack" "$(grep 'counter tcp' "$WORK/bulk.log")" "$(cat "$WORK/hping.log")"
heap=$(counter "$WORK/bulk.log" heap.used)
[ -n "$heap" ] && [ "$heap" -lt 8388608 ] && ok "bulk heap high-water mark within its budget ($heap bytes)" ||
	not_ok "bulk heap high-water mark within its budget" "heap.used=$heap"

# The socket stack: the same services on the host kernel's TCP.
start_uk "$WORK/sock.log" "$ECHO" --mem=4M --stack=socket listen=10.77.0.3:7007
if wait_for_log "$WORK/sock.log" "echo service on TCP port 7"; then
	ok "echo starts on the socket stack"
else
	not_ok "echo starts on the socket stack" "$(tail -5 "$WORK/sock.log")"
fi
expect "socket stack: TCP echo of 1 MiB, SHA-256 equal" in_c python3 "$TCPCHECK" 10.77.0.3 7007 echo 1048576
expect "socket stack: 20 connections" in_c python3 "$TCPCHECK" 10.77.0.3 7007 echo 1000 20
stop_uk "$UK_PID"
[ "$UK_STATUS" = 0 ] && ok "socket stack: SIGTERM stops it with status 0" ||
	not_ok "socket stack: SIGTERM stops it with status 0" "status $UK_STATUS" "$(tail -5 "$WORK/sock.log")"
finish
