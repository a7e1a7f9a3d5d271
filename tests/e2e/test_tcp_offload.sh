#!/usr/bin/env bash
# test_tcp_offload.sh - atoll's TCP over a TAP device with offloads
# (--net:service=tap0,offload: virtio-net headers, checksum offload, TSO
# and GRO'd frames from Linux) against Linux peers in namespaces: echo,
# chargen and discard byte-exact through python clients and socat, under
# 1% loss too; the counters must show super-frames both ways and no
# checksum computed for them; a clean stop.
source "$(dirname "$0")/lib.sh"
ECHO=$ROOT/build/hosted/echo
BULK=$ROOT/build/hosted/bulk
TCPCHECK=$ROOT/tests/e2e/tcpcheck.py
A=10.77.0.2 # echo
B=10.77.0.4 # bulk

net_up
bridge_tap tap1
start_uk "$WORK/echo.log" "$ECHO" --mem=16M --net:service=tap0,offload ipv4=$A/24 \
	mac=02:00:00:77:00:02 tcp-buf=256K
ECHO_PID=$UK_PID
start_uk "$WORK/bulk.log" "$BULK" --mem=16M --net:service=tap1,offload ipv4=$B/24 \
	mac=02:00:00:77:00:04 tcp-buf=256K
BULK_PID=$UK_PID
if wait_for_log "$WORK/echo.log" "echo service on TCP port 7" &&
	wait_for_log "$WORK/bulk.log" "chargen on TCP port 19"; then
	ok "echo and bulk start with TAP offloads"
else
	not_ok "echo and bulk start with TAP offloads" "$(tail -3 "$WORK/echo.log")" "$(tail -3 "$WORK/bulk.log")"
fi
grep -q "offloads csum,tso" "$WORK/bulk.log" && ok "the stack reports checksum offload and TSO" ||
	not_ok "the stack reports checksum offload and TSO" "$(grep service: "$WORK/bulk.log")"
expect "ping (ICMP and ARP through virtio-net headers)" in_c ping -c 1 -W 2 $A

for size in 1 1000 100000 4194304; do
	expect "TCP echo of $size bytes, SHA-256 equal" in_c python3 "$TCPCHECK" $A 7 echo $size
done
expect "TCP echo: 20 connections one after another" in_c python3 "$TCPCHECK" $A 7 echo 2000 20
expect "chargen: 16 MiB equal to RFC 864's lines" in_c python3 "$TCPCHECK" $B 19 chargen 16777216
expect "discard: 16 MiB sent and acknowledged" in_c python3 "$TCPCHECK" $B 9 discard 16777216

head -c 8000000 /dev/urandom >"$WORK/in.bin"
in_c timeout 60 socat -u FILE:"$WORK/in.bin" TCP:$B:9 &&
	ok "socat pushes 8 MB into discard" || not_ok "socat pushes 8 MB into discard"
out=$(in_c timeout 60 socat - TCP:$A:7,shut-down <"$WORK/in.bin" | sha256sum | cut -d' ' -f1)
[ "$out" = "$(sha256sum <"$WORK/in.bin" | cut -d' ' -f1)" ] &&
	ok "socat echo of 8 MB, SHA-256 equal" || not_ok "socat echo of 8 MB, SHA-256 equal"

# 1% loss on the client side, both directions: retransmissions are
# MSS-sized segments cut from what went as super-segments.
in_c nft -f - <<NFT
table inet atloss {
	chain in { type filter hook input priority 0; numgen random mod 1000 < 10 drop; }
	chain out { type filter hook output priority 0; meta l4proto tcp numgen random mod 1000 < 10 drop; }
}
NFT
expect "1% loss: TCP echo of 2 MiB, SHA-256 equal" in_c python3 "$TCPCHECK" $A 7 echo 2097152
expect "1% loss: chargen 4 MiB equal" in_c python3 "$TCPCHECK" $B 19 chargen 4194304
expect "1% loss: discard 4 MiB" in_c python3 "$TCPCHECK" $B 9 discard 4194304
in_c nft delete table inet atloss

stop_uk "$ECHO_PID"
[ "$UK_STATUS" = 0 ] && ok "echo stops with status 0" || not_ok "echo stops with status 0" "status $UK_STATUS"
stop_uk "$BULK_PID"
[ "$UK_STATUS" = 0 ] && ok "bulk stops with status 0" || not_ok "bulk stops with status 0" "status $UK_STATUS"
counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }
txg=$(counter "$WORK/bulk.log" eth.tx_gso)
[ "${txg:-0}" -gt 100 ] && ok "bulk sent TSO super-frames (eth.tx_gso=$txg)" ||
	not_ok "bulk sent TSO super-frames" "$(grep 'counter eth' "$WORK/bulk.log")"
rxg=$(counter "$WORK/bulk.log" eth.rx_gso)
[ "${rxg:-0}" -gt 10 ] && ok "bulk received super-frames from Linux (eth.rx_gso=$rxg)" ||
	not_ok "bulk received super-frames from Linux" "$(grep 'counter eth' "$WORK/bulk.log")"
bad=$(counter "$WORK/bulk.log" tcp.bad_cksum)
[ "${bad:-0}" = 0 ] && ok "no TCP checksum failures" || not_ok "no TCP checksum failures" "tcp.bad_cksum=$bad"
want=$((16777216 + 8000000 + 4194304))
got=$(counter "$WORK/bulk.log" bulk.discard_bytes)
[ "$got" = "$want" ] && ok "discard received every byte exactly once ($got)" ||
	not_ok "discard received every byte exactly once" "got $got, want $want"
finish
