#!/usr/bin/env bash
# test_tcp_faults.sh - atoll's TCP on the hosted target against Linux peers
# under injected faults, one profile at a time: 5% loss, delay with jitter
# (which reorders), reordering, duplication, corruption (one bit flipped)
# and all of them at once.  This kernel has no netem: the loss is nftables
# numgen drops at the ingress of both veth ends, the rest is done by
# tools/relay, the project's own seeded relay between two TAPs:
#
#   ns $NS_C                     ns $NS_S
#   c0 10.77.0.1 <-> s0 --br0-- ra ==[relay]== rb --br1--+-- tap0 atoll echo 10.77.0.2
#                                                        +-- tap1 atoll bulk 10.77.0.4
#                                                        +-- p1 <-> p0 10.77.0.5 (ns $NS_P,
#                                                                    Linux echo/discard/chargen)
#
# The relay holds the user side of TAPs ra (in br0) and rb (in br1) and
# copies frames between them.  It is first tested alone (relaycheck.py).
# The Linux servers sit behind the same relay, so each profile also runs
# Linux<->Linux, which shows the relay delivers byte-exact streams.  Per
# profile, all at the same time: echo (both directions at once), chargen
# (checked against RFC 864's lines) and discard (byte count checked at the
# server), python and socat clients, SHA-256 compared; the relay's and
# atoll's counters must show the faults were met.  Every transfer has a
# generous time limit: running into it is a stuck connection, a failure.
# PROFILES="loss5 dup" runs only those; RELAY_SEED=N fixes the relay's seeds.
source "$(dirname "$0")/lib.sh"
ECHO=$ROOT/build/hosted/echo
BULK=$ROOT/build/hosted/bulk
RELAY=$ROOT/build/tools/relay
TCPCHECK=$ROOT/tests/e2e/tcpcheck.py
A=10.77.0.2 # atoll echo
B=10.77.0.4 # atoll bulk
L=10.77.0.5 # Linux echo, discard, chargen
NS_P=atlp-$E2E_ID
NS_R=atlr-$E2E_ID
RELAYCHECK=$ROOT/tests/e2e/relaycheck.py
SIZE=2097152
LIMIT=45 # seconds for one transfer; far beyond what any takes
SEED=${RELAY_SEED:-$E2E_ID} # the profiles' relays take SEED + a number
echo "# relay seed $SEED"

make -s -C "$ROOT" build/tools/relay || {
	not_ok "build tools/relay"
	finish
}
# Transfers run in process groups of their own (see xfer), which are ended
# as a whole; then lib.sh's cleanup.
faults_cleanup() {
	local p
	for p in "${X_PIDS[@]}"; do kill -TERM -- -"$p" 2>/dev/null; done
	ip netns del "$NS_P" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	cleanup
}
trap faults_cleanup EXIT
trap 'exit 143' TERM INT # the EXIT trap cleans up after a stop too

counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }

# ---- the relay alone: numbered frames from TAP ta through the relay to TAP
# tb, in a namespace of their own (IPv6 off: no frames but ours).  The same
# seed must give the same frames in the same order, its counters must add up
# with what arrived, and a corrupted frame differs from one sent in exactly
# one bit inside the IPv4 datagram (relaycheck.py).
in_r() { ip netns exec "$NS_R" "$@"; }
ip netns add "$NS_R"
in_r sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for t in ta tb; do
	in_r ip tuntap add dev $t mode tap
	in_r ip link set $t up txqueuelen 10000
done
# relay_once SEED OUT: 3000 frames through a relay with every fault but
# delay (whose output order depends on timing); the relay's log in OUT.log.
relay_once() {
	ip netns exec "$NS_R" "$RELAY" --seed="$1" --hold=500 --loss=5 --dup=5 --reorder=5 \
		--corrupt=5 ta tb >"$2.log" 2>&1 &
	local r=$!
	PIDS+=($r)
	wait_for_log "$2.log" "relay ready" || return 1
	in_r python3 "$RELAYCHECK" ta tb 3000 >"$2" 2>&1
	local rc=$?
	stop_uk $r
	return $rc
}
if relay_once 7 "$WORK/r1" && relay_once 7 "$WORK/r2" && relay_once 8 "$WORK/r3"; then
	ok "relay: frames arrive as sent, or with one bit flipped inside the IPv4 datagram"
	cmp -s "$WORK/r1" "$WORK/r2" && ok "relay: the same seed gives the same frames in the same order" ||
		not_ok "relay: the same seed gives the same frames in the same order" "$(head -c 300 "$WORK/r1")" "$(head -c 300 "$WORK/r2")"
	cmp -s "$WORK/r1" "$WORK/r3" && not_ok "relay: another seed gives other decisions" ||
		ok "relay: another seed gives other decisions"
	read -r _ n _ d _ c _ o <"$WORK/r1"
	relay_c() { counter "$WORK/r1.log" relay.ab.$1; }
	want="$(relay_c in) $(relay_c out) $(relay_c corrupted) $(relay_c reordered) 0 0"
	got="3000 $n $c $o $((3000 - $(relay_c lost) - d)) $((n - d - $(relay_c duplicated)))"
	[ "$got" = "$want" ] &&
		ok "relay: its counters add up with what arrived ($n of 3000 frames, $(relay_c lost) lost, $(relay_c duplicated) copies, $c corrupted, $o reordered)" ||
		not_ok "relay: its counters add up with what arrived" "got $got, want $want" "$(head -1 "$WORK/r1")" \
			"$(grep counter "$WORK/r1.log" | grep -v ' 0$' | tr '\n' ' ')"
else
	not_ok "relay: frames arrive as sent, or with one bit flipped inside the IPv4 datagram" \
		"$(tail -2 "$WORK"/r[123] "$WORK"/r[123].log 2>/dev/null)"
fi
ip netns del "$NS_R"

net_up
# One TCP segment per packet from the client, so that nftables drops
# segments, not 64 KiB GSO bursts.
in_c ip link set c0 gso_max_segs 1
in_p() { ip netns exec "$NS_P" "$@"; }
in_s ip link add br1 type bridge
in_s ip link set br1 type bridge forward_delay 0 stp_state 0
in_s ip link set tap0 nomaster
in_s ip tuntap add dev tap1 mode tap
in_s ip tuntap add dev ra mode tap
in_s ip tuntap add dev rb mode tap
in_s ip link set ra master br0
for l in tap0 tap1 rb; do in_s ip link set "$l" master br1; done
ip netns add "$NS_P"
ip link add p0 netns "$NS_P" type veth peer name p1 netns "$NS_S"
in_s ip link set p1 master br1
for l in br1 tap1 ra rb p1; do in_s ip link set "$l" up; done
in_p ip addr add $L/24 dev p0
in_p ip link set p0 up
in_p ip link set lo up
ip netns exec "$NS_P" python3 "$TCPCHECK" serve $L >"$WORK/linux.log" 2>&1 &
PIDS+=($!)
wait_for_log "$WORK/linux.log" serving && ok "Linux servers start behind the relay" ||
	not_ok "Linux servers start behind the relay" "$(cat "$WORK/linux.log")"

head -c $SIZE /dev/urandom >"$WORK/in.bin"
IN_SUM=$(sha256sum <"$WORK/in.bin" | cut -d' ' -f1)
CG_SUM=$(python3 -c "
import hashlib
period = b''.join(bytes((32 + (i + j) % 95) for j in range(72)) + b'\r\n' for i in range(95))
print(hashlib.sha256((period * ($SIZE // len(period) + 1))[:$SIZE]).hexdigest())")

# xfer NAME COMMAND...: start one transfer in the background; xfers_done
# waits for all of them and reports each as a test (with its duration as a
# comment, for information only).  A profile's transfers run at the same
# time: the connections share atoll's stacks and the relay, as in service.
X_NAMES=()
X_PIDS=()
xfer() {
	local i=${#X_NAMES[@]}
	X_NAMES+=("$1")
	shift
	set -m # a process group of its own, for faults_cleanup
	(
		t0=$EPOCHREALTIME
		"$@" >"$WORK/xfer$i.out" 2>&1
		echo "$? $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')" >"$WORK/xfer$i.rc"
	) &
	X_PIDS+=($!)
	set +m
}
xfers_done() {
	local i rc secs
	for i in "${!X_PIDS[@]}"; do
		wait "${X_PIDS[$i]}"
		read -r rc secs <"$WORK/xfer$i.rc"
		if [ "$rc" = 0 ]; then
			ok "${X_NAMES[$i]}"
		else
			not_ok "${X_NAMES[$i]}" "status $rc$([ "$rc" = 124 ] && echo ': timed out, stuck')" \
				"$(tail -3 "$WORK/xfer$i.out")"
		fi
		echo "#   ${secs} s"
	done
	X_NAMES=()
	X_PIDS=()
}

# limit_c COMMAND...: COMMAND in the client namespace with the time limit
# (--foreground keeps it in the transfer's process group).
limit_c() { timeout --foreground $LIMIT ip netns exec "$NS_C" "$@"; }

# py ARGS...: the python client, in the client namespace, time-limited.
py() { limit_c python3 "$TCPCHECK" "$@"; }

# socat_echo HOST: the file through echo and back, SHA-256 compared.  -t:
# wait for the echo's end after our EOF (not socat's default half second).
socat_echo() {
	local sum
	sum=$(limit_c socat -t $LIMIT - TCP:"$1":7,shut-down <"$WORK/in.bin" | sha256sum | cut -d' ' -f1)
	[ "$sum" = "$IN_SUM" ]
}

# socat_discard HOST: the file into discard; socat ends when the server's
# FIN has come (after every byte was read), not when the kernel took it.
socat_discard() {
	limit_c socat -t $LIMIT - TCP:"$1":9,shut-down <"$WORK/in.bin" >/dev/null
}

# socat_chargen HOST: SIZE bytes of chargen, equal to RFC 864's lines.
socat_chargen() {
	local sum
	sum=$(limit_c socat -u TCP:"$1":19 - 2>/dev/null | head -c $SIZE | sha256sum | cut -d' ' -f1)
	[ "$sum" = "$CG_SUM" ]
}

# profile NAME PERMILLE_LOSS RELAY_OPTIONS...: one fault profile, with a
# fresh relay and fresh unikernels so that the counters are the profile's.
profile() {
	local name=$1 loss=$2
	shift 2
	case " ${PROFILES:-$name} " in *" $name "*) ;; *) return 1 ;; esac
	local rl=$WORK/relay-$name.log el=$WORK/echo-$name.log bl=$WORK/bulk-$name.log
	ip netns exec "$NS_S" "$RELAY" --seed=$((SEED + ${#name})) "$@" ra rb >"$rl" 2>&1 &
	local relay=$!
	PIDS+=($relay)
	start_uk "$el" "$ECHO" --mem=16M --net:service=tap0 ipv4=$A/24 mac=02:00:00:77:00:02 \
		tcp-buf=128K net-buffers=512
	local echo=$UK_PID
	start_uk "$bl" "$BULK" --mem=16M --net:service=tap1 ipv4=$B/24 mac=02:00:00:77:00:04 \
		tcp-buf=128K net-buffers=512
	local bulk=$UK_PID
	if ! wait_for_log "$rl" "relay ready" || ! wait_for_log "$el" "echo service on TCP port 7" ||
		! wait_for_log "$bl" "chargen on TCP port 19"; then
		not_ok "$name: relay, echo and bulk start" "$(tail -3 "$rl")" "$(tail -3 "$el")" "$(tail -3 "$bl")"
		stop_uk "$echo"
		stop_uk "$bulk"
		stop_uk "$relay"
		return 1
	fi
	nft_loss "$loss" || not_ok "$name: nftables loss rule at $loss per mille"

	xfer "$name: python echo of 2 MiB through atoll, SHA-256 equal" py $A 7 echo $SIZE
	xfer "$name: socat echo of 2 MiB through atoll, SHA-256 equal" socat_echo $A
	xfer "$name: python chargen 2 MiB from atoll, RFC 864's lines" py $B 19 chargen $SIZE
	xfer "$name: socat chargen 2 MiB from atoll, RFC 864's lines" socat_chargen $B
	xfer "$name: python discard 2 MiB into atoll" py $B 9 discard $SIZE
	xfer "$name: socat discard 2 MiB into atoll, until its FIN" socat_discard $B
	xfer "$name: Linux<->Linux echo of 2 MiB, SHA-256 equal" py $L 7 echo $SIZE
	xfer "$name: Linux<->Linux chargen 2 MiB, RFC 864's lines" py $L 19 chargen $SIZE
	xfers_done

	NFT_DROPS=$( (in_c nft list table netdev atloss && in_s nft list table netdev atloss) 2>/dev/null |
		grep -o 'packets [0-9]*' | awk '{ print $2 }' | paste -sd' ')
	nft_loss 0
	stop_uk "$echo"
	local es=$UK_STATUS
	stop_uk "$bulk"
	local bs=$UK_STATUS
	stop_uk "$relay"
	local rs=$UK_STATUS
	[ "$es$bs$rs" = 000 ] && ok "$name: echo, bulk and relay stop with status 0" ||
		not_ok "$name: echo, bulk and relay stop with status 0" "echo $es, bulk $bs, relay $rs"
	local want=$((2 * SIZE)) got
	got=$(counter "$bl" bulk.discard_bytes)
	[ "$got" = "$want" ] && ok "$name: discard received every byte exactly once ($got)" ||
		not_ok "$name: discard received every byte exactly once" "got $got, want $want"
	local k v own=0
	for k in {ab,ba}.{queue_full,oversize,write_err}; do
		v=$(counter "$rl" relay.$k)
		own=$((own + ${v:-1})) # no counter at all: the relay did not end well
	done
	[ "$own" = 0 ] && ok "$name: the relay lost no frame of its own accord (queue, size, write)" ||
		not_ok "$name: the relay lost no frame of its own accord (queue, size, write)" "$(grep counter "$rl")"
	PROFILE_RELAY=$rl PROFILE_ECHO=$el PROFILE_BULK=$bl
	return 0
}

# seen NAME KEY[+KEY...]: atoll's counters KEY added up over echo and bulk
# must be above zero: the profile's faults reached atoll's TCP.
seen() {
	local name=$1 keys=$2 n=0 k f v
	for k in ${keys//+/ }; do
		for f in "$PROFILE_ECHO" "$PROFILE_BULK"; do
			v=$(counter "$f" "$k")
			n=$((n + ${v:-0}))
		done
	done
	[ "$n" -gt 0 ] && ok "$name: atoll counted $keys = $n" ||
		not_ok "$name: atoll counted $keys above zero" \
			"$(grep -h 'counter \(tcp\|ipv4\)' "$PROFILE_ECHO" "$PROFILE_BULK" | tr '\n' ' ')"
}

relay_seen() { # NAME FAULT: the relay did it in both directions
	local n_ab n_ba
	n_ab=$(counter "$PROFILE_RELAY" "relay.ab.$2")
	n_ba=$(counter "$PROFILE_RELAY" "relay.ba.$2")
	[ "${n_ab:-0}" -gt 0 ] && [ "${n_ba:-0}" -gt 0 ] && ok "$1: the relay $2 frames both ways ($n_ab, $n_ba)" ||
		not_ok "$1: the relay $2 frames both ways" "$(grep counter "$PROFILE_RELAY")"
}

if profile loss5 50; then
	read -r d_c d_s <<<"$NFT_DROPS"
	[ "${d_c:-0}" -gt 0 ] && [ "${d_s:-0}" -gt 0 ] &&
		ok "loss5: nftables dropped packets both ways ($d_c to the client, $d_s to the servers)" ||
		not_ok "loss5: nftables dropped packets both ways" "$NFT_DROPS"
	seen loss5 tcp.rexmt_segs
	seen loss5 tcp.ooo_rx
fi
if profile delay 0 --delay=20:10; then
	relay_seen delay reordered
	seen delay tcp.ooo_rx
fi
if profile reorder 0 --reorder=2; then
	relay_seen reorder reordered
	seen reorder tcp.ooo_rx
fi
if profile dup 0 --dup=2; then
	relay_seen dup duplicated
	seen dup tcp.dup_rx+tcp.out_of_window+tcp.paws_drop
fi
if profile corrupt 0 --corrupt=1; then
	relay_seen corrupt corrupted
	seen corrupt tcp.bad_cksum+ipv4.bad_cksum
	seen corrupt tcp.rexmt_segs
fi
if profile combined 10 --delay=5:3 --reorder=1 --dup=1 --corrupt=0.5 --loss=1; then
	for f in lost reordered duplicated corrupted; do relay_seen combined $f; done
	seen combined tcp.rexmt_segs
	seen combined tcp.ooo_rx
	seen combined tcp.dup_rx+tcp.out_of_window+tcp.paws_drop
	seen combined tcp.bad_cksum+ipv4.bad_cksum
fi
finish
