#!/usr/bin/env bash
# test_echo.sh - the echo unikernel on the hosted target against Linux:
# ping, ARP both ways, UDP echo of small, MTU-sized and fragmented
# datagrams, ICMP port unreachable, hostile frames, pcap, a clean stop on
# SIGTERM; and the same UDP echo over the socket stack.
source "$(dirname "$0")/lib.sh"
ECHO=$ROOT/build/hosted/echo
UDPCHECK=$ROOT/tests/e2e/udpcheck.py

net_up
start_uk "$WORK/echo.log" "$ECHO" --mem=4M --net:service=tap0 --pcap:service="$WORK/echo.pcap" \
	ipv4=10.77.0.2/24 mac=02:00:00:77:00:02
if wait_for_log "$WORK/echo.log" "echo service on UDP port 7"; then
	ok "echo starts on the atoll stack"
else
	not_ok "echo starts on the atoll stack" "$(tail -5 "$WORK/echo.log")"
fi

expect "ping gets replies" in_c ping -c 3 -i 0.2 -W 2 10.77.0.2
expect "ping with a 4000-byte payload (fragments both ways)" in_c ping -c 2 -i 0.2 -W 2 -s 4000 10.77.0.2
neigh=$(in_c ip neigh show 10.77.0.2 dev c0)
case "$neigh" in
*"02:00:00:77:00:02"*) ok "Linux resolved the unikernel's MAC by ARP" ;;
*) not_ok "Linux resolved the unikernel's MAC by ARP" "ip neigh: $neigh" ;;
esac
for size in 1 100 1472; do
	expect "UDP echo of $size-byte datagrams" in_c python3 "$UDPCHECK" 10.77.0.2 7 "$size" 5
done
for size in 1473 3000 8000 20000 65507; do
	expect "UDP echo of fragmented $size-byte datagrams" in_c python3 "$UDPCHECK" 10.77.0.2 7 "$size" 3
done
refused=$(in_c python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("10.77.0.2", 9)); s.settimeout(2)
s.send(b"x")
try:
    s.recv(100); print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
')
[ "$refused" = refused ] && ok "UDP to an unbound port gets ICMP port unreachable" ||
	not_ok "UDP to an unbound port gets ICMP port unreachable" "got: $refused"

in_c python3 "$ROOT/tests/e2e/hostile.py" c0 02:00:00:77:00:02 10.77.0.2 10.77.0.1 >"$WORK/hostile.log" 2>&1
expect "still answering after hostile frames" in_c python3 "$UDPCHECK" 10.77.0.2 7 1000 3
expect "ping still works after hostile frames" in_c ping -c 1 -W 2 10.77.0.2

stop_uk "$UK_PID"
[ "$UK_STATUS" = 0 ] && ok "SIGTERM stops it with status 0" ||
	not_ok "SIGTERM stops it with status 0" "status $UK_STATUS" "$(tail -5 "$WORK/echo.log")"
counter() { awk -v k="$1" '$1 == "counter" && $2 == k { print $3 }' "$WORK/echo.log"; }
echoed=$(counter echo.echoed)
[ "${echoed:-0}" -ge 40 ] && ok "counters printed at exit (echo.echoed=$echoed)" ||
	not_ok "counters printed at exit" "$(grep counter "$WORK/echo.log")"
drops=$(awk '$1 == "counter" && $2 ~ /^(ipv4|udp|icmp|eth)\./ && $2 ~ /(bad|trunc|short|drop|overlap|len|csum|checksum|frag|timeout|limit|invalid)/ { s += $3 } END { print s + 0 }' "$WORK/echo.log")
[ "$drops" -ge 300 ] && ok "hostile frames were dropped and counted ($drops)" ||
	not_ok "hostile frames were dropped and counted" "$(grep counter "$WORK/echo.log")"
heap=$(counter heap.used)
# TCP port 7 adds its fixed pool: 16 connections x 2 x 32 KiB (tcp.h).
[ -n "$heap" ] && [ "$heap" -lt 2097152 ] && ok "heap high-water mark under 2 MiB ($heap bytes)" ||
	not_ok "heap high-water mark under 2 MiB" "heap.used=$heap"
if tcpdump -nr "$WORK/echo.pcap" 2>/dev/null | grep -q "ICMP echo reply"; then
	ok "pcap records the frames (tcpdump reads ICMP echo replies)"
else
	not_ok "pcap records the frames" "$(tcpdump -nr "$WORK/echo.pcap" 2>&1 | head -5)"
fi
if tcpdump -nr "$WORK/echo.pcap" 2>/dev/null | head -3 | grep -q "ARP, Request who-has 10.77.0.2 tell 10.77.0.2"; then
	ok "gratuitous ARP at start"
else
	not_ok "gratuitous ARP at start" "$(tcpdump -nr "$WORK/echo.pcap" 2>&1 | head -3)"
fi

# No address: a clear message and a failure status.
out=$(in_s "$ECHO" --mem=4M --net:service=tap0 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "ipv4="; then
	ok "no address: says so and exits non-zero ($rc)"
else
	not_ok "no address: says so and exits non-zero" "status $rc" "$out"
fi

# The socket stack: the same app on the host kernel's UDP, moved off port 7.
start_uk "$WORK/sock.log" "$ECHO" --mem=4M --stack=socket listen=10.77.0.3:7007
if wait_for_log "$WORK/sock.log" "echo service on UDP port 7 (socket stack)"; then
	ok "echo starts on the socket stack"
else
	not_ok "echo starts on the socket stack" "$(tail -5 "$WORK/sock.log")"
fi
for size in 1 1472 8000; do
	expect "socket stack: UDP echo of $size-byte datagrams" in_c python3 "$UDPCHECK" 10.77.0.3 7007 "$size" 3
done
stop_uk "$UK_PID"
[ "$UK_STATUS" = 0 ] && ok "socket stack: SIGTERM stops it with status 0" ||
	not_ok "socket stack: SIGTERM stops it with status 0" "status $UK_STATUS"
finish
