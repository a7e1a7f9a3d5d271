#!/usr/bin/env bash
# test_udp_offload.sh - UDP over a TAP device with offloads
# (--net:service=<tap>,offload, and ,csum: checksums only): the echo app
# byte-exact for datagrams in one frame (checksum left to the host,
# NEEDS_CSUM) and fragmented ones (checksum computed), and dig against the
# dns app with either giving the same answers as the dns app without.  The bridge port towards
# the client does no checksum offload (ethtool -K s0 tx off), so Linux
# completes every partial checksum in software before the client's UDP
# verifies it: a wrong pseudo-header sum would lose the datagram.
source "$(dirname "$0")/lib.sh"
ECHO=$ROOT/build/hosted/echo
DNS=$ROOT/build/hosted/dns
DATA=$ROOT/tests/e2e/test_dns_data
UDPCHECK=$ROOT/tests/e2e/udpcheck.py
E=10.77.0.2 # echo, offloads
D=10.77.0.4 # dns, offloads
P=10.77.0.5 # dns, plain
C=10.77.0.6 # dns, checksum offload only

net_up
for tap in tap1 tap2 tap3; do
	in_s ip tuntap add dev $tap mode tap
	in_s ip link set $tap master br0
	in_s ip link set $tap up
done
in_s ethtool -K s0 tx off >/dev/null
mkdir -p "$WORK/zones"
cp "$DATA"/*.zone "$DATA"/*.inc "$WORK/zones/"
(cd "$WORK/zones" && tar --format=ustar -cf "$WORK/zones.tar" example.zone sub.example.zone \
	other.test.zone other-hosts.inc)
chmod -R a+rX "$WORK"

start_uk "$WORK/echo.log" "$ECHO" --mem=8M --net:service=tap0,offload ipv4=$E/24
ECHO_PID=$UK_PID
start_uk "$WORK/dns.log" "$DNS" --mem=32M --net:service=tap1,offload \
	--block:zones="$WORK/zones.tar" ipv4=$D/24
DNS_PID=$UK_PID
start_uk "$WORK/plain.log" "$DNS" --mem=32M --net:service=tap2 \
	--block:zones="$WORK/zones.tar" ipv4=$P/24
PLAIN_PID=$UK_PID
start_uk "$WORK/csum.log" "$DNS" --mem=32M --net:service=tap3,csum \
	--block:zones="$WORK/zones.tar" ipv4=$C/24
CSUM_PID=$UK_PID
if wait_for_log "$WORK/echo.log" "echo service on UDP port 7" &&
	wait_for_log "$WORK/dns.log" "zones on port 53" &&
	wait_for_log "$WORK/plain.log" "zones on port 53" &&
	wait_for_log "$WORK/csum.log" "zones on port 53"; then
	ok "echo and dns start on TAP devices with offloads"
else
	not_ok "echo and dns start on TAP devices with offloads" "$(tail -3 "$WORK/echo.log")" \
		"$(tail -3 "$WORK/dns.log")" "$(tail -3 "$WORK/plain.log")" "$(tail -3 "$WORK/csum.log")"
fi
grep -q "offloads csum,tso" "$WORK/dns.log" && grep -q "offloads csum$" "$WORK/csum.log" &&
	ok "dns reports its offloads (csum,tso and csum)" ||
	not_ok "dns reports its offloads" "$(grep service: "$WORK/dns.log" "$WORK/csum.log")"

for size in 1 100 1472; do
	expect "offloads: UDP echo of $size-byte datagrams" in_c python3 "$UDPCHECK" $E 7 "$size" 5
done
for size in 1473 8000 65507; do
	expect "offloads: UDP echo of fragmented $size-byte datagrams" \
		in_c python3 "$UDPCHECK" $E 7 "$size" 3
done

# The differential test's kinds of answer: the same from all three.
answer() { # server name type: the header's status and the sections
	in_c dig +norec +time=2 +tries=2 @"$1" "$2" "$3" |
		sed -n '/->>HEADER<<-/p; /^;; [A-Z]* SECTION:/,/^$/p' | sed 's/id: [0-9]*//'
}
same=0
differ=
while read -r name type; do
	a=$(answer $D "$name" "$type")
	b=$(answer $P "$name" "$type")
	c=$(answer $C "$name" "$type")
	if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$c" = "$b" ]; then
		same=$((same + 1))
	else
		differ="$differ $name/$type"
	fi
done <"$ROOT/tests/e2e/test_dns_data/mix.queries"
total=$(grep -c . "$ROOT/tests/e2e/test_dns_data/mix.queries")
[ "$same" = "$total" ] && ok "dig: $total answers over offloads (and checksum offload only) equal those without" ||
	not_ok "dig: $total answers over offloads equal those without" "differ:$differ"
ans=$(in_c dig +short +time=2 +tries=2 @$D www.example. A | tr '\n' ' ')
echo "$ans" | grep -qE '^([a-z0-9.-]+ )*([0-9]+\.){3}[0-9]+ $' &&
	ok "dig +short www.example. A over offloads: $ans" ||
	not_ok "dig +short www.example. A over offloads" "$ans"

for pid in $ECHO_PID $DNS_PID $PLAIN_PID $CSUM_PID; do
	stop_uk "$pid"
	[ "$UK_STATUS" = 0 ] || not_ok "unikernel $pid stops with status 0" "status $UK_STATUS"
done
counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }
for log in echo dns csum; do
	host=$(counter "$WORK/$log.log" eth.rx_csum_host)
	bad=$(counter "$WORK/$log.log" udp.bad_cksum)
	tx=$(counter "$WORK/$log.log" udp.tx)
	[ "${host:-0}" -gt 10 ] && [ "${bad:-0}" = 0 ] && [ "${tx:-0}" -gt 10 ] &&
		ok "$log: checksums vouched for by the host ($host), none bad, $tx sent" ||
		not_ok "$log: checksums vouched for by the host, none bad" "$(grep -E 'counter (eth|udp)\.' "$WORK/$log.log")"
done
finish
