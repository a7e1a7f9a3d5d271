#!/usr/bin/env bash
# test_sim.sh - the simulation target: scenarios build with make TARGET=sim,
# pass under faults, replay exactly from their seed (same seed, same frame
# digest; alone or in a sweep; gcc or clang), write pcap files that tshark
# and tcpdump read, say how to replay a failure, and pass a sweep of
# 1000+ seeds in a few seconds.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
SIM=build/sim
SIMC=build/sim-clang

# digest OUTPUT: the frame digest of a one-seed result line.
digest() { sed -n 's/.*: ok, .* digest \([0-9a-f]*\)$/\1/p' <<<"$1"; }
sweep_digest() { sed -n 's/.*sweep digest \([0-9a-f]*\)$/\1/p' <<<"$1"; }

# ---- build -------------------------------------------------------------------
expect "make TARGET=sim builds every scenario (gcc)" make -s TARGET=sim
expect "make TARGET=sim builds every scenario (clang)" \
	make -s TARGET=sim CC=clang BUILD=$SIMC
for s in udp_echo l2_echo sim_selftest ping_pair; do
	if [ -x $SIM/$s ] && [ -x $SIMC/$s ]; then ok "build/sim/$s exists"; else not_ok "build/sim/$s exists"; fi
done

# ---- the echo scenario under 20% loss, duplication and reordering -------------
out=$($SIM/udp_echo --seed=1 2>&1)
if grep -q "^udp_echo seed=1: ok" <<<"$out" &&
	[ "$(grep -c 'udpclient: 10/10 echoed' <<<"$out")" -eq 2 ]; then
	ok "udp_echo seed 1: both clients had all 10 datagrams echoed intact"
else
	not_ok "udp_echo seed 1 passes" "$(tail -5 <<<"$out")"
fi
if grep -q "link c1 down" <<<"$out" && grep -q "echo restarts" <<<"$out" &&
	grep -q "echo paused" <<<"$out"; then
	ok "udp_echo seed 1 partitioned a client, paused and restarted the server"
else
	not_ok "udp_echo seed 1 ran its chaos" "$(grep '^sim' <<<"$out" | head -10)"
fi

# ---- determinism ----------------------------------------------------------------
d1=$(digest "$($SIM/udp_echo --seed=42 -q)")
d2=$(digest "$($SIM/udp_echo --seed=42 -q)")
if [ -n "$d1" ] && [ "$d1" = "$d2" ]; then
	ok "same seed twice, same frame digest ($d1)"
else
	not_ok "same seed twice, same frame digest" "run 1: '$d1'" "run 2: '$d2'"
fi
digests=$(for s in 1 2 3 4 5 6 7 8; do digest "$($SIM/udp_echo --seed=$s -q)"; done | sort -u | wc -l)
if [ "$digests" -ge 7 ]; then
	ok "8 seeds, $digests different digests"
else
	not_ok "different seeds give different runs" "only $digests distinct digests of 8"
fi
alone=$(digest "$($SIM/udp_echo --seed=123 -q)")
in_sweep=$($SIM/udp_echo --seeds=120..125 -v | sed -n 's/^udp_echo seed=123: ok.* digest \([0-9a-f]*\)$/\1/p')
if [ -n "$alone" ] && [ "$alone" = "$in_sweep" ]; then
	ok "a seed alone and in the middle of a sweep: same digest"
else
	not_ok "a seed alone and in a sweep agree" "alone: '$alone'" "in sweep: '$in_sweep'"
fi
g=$(sweep_digest "$($SIM/udp_echo --seeds=1..200)")
c=$(sweep_digest "$($SIMC/udp_echo --seeds=1..200)")
if [ -n "$g" ] && [ "$g" = "$c" ]; then
	ok "gcc and clang builds agree on 200 seeds (sweep digest $g)"
else
	not_ok "gcc and clang builds agree" "gcc: '$g'" "clang: '$c'"
fi
out=$($SIM/udp_echo --seed=42 -q --stats --pcap-dir="$WORK")
d3=$(digest "$out")
if [ "$d3" = "$d1" ]; then
	ok "recording pcap files does not change the run"
else
	not_ok "recording pcap files does not change the run" "'$d3' vs '$d1'"
fi

# ---- pcap ---------------------------------------------------------------------------
pcap=$WORK/c1.pcap
if [ -s "$pcap" ] && tshark -r "$pcap" >"$WORK/tshark.txt" 2>"$WORK/tshark.err" &&
	grep -q "10.0.0.10 → 10.0.0.1 \|10.0.0.10 -> 10.0.0.1 " "$WORK/tshark.txt" &&
	grep -q "ARP" "$WORK/tshark.txt"; then
	ok "tshark reads the c1 link's pcap: $(wc -l <"$WORK/tshark.txt") frames, ARP and UDP"
else
	not_ok "tshark reads the pcap" "$(head -5 "$WORK/tshark.txt" "$WORK/tshark.err" 2>/dev/null)"
fi
if tcpdump -nn -r "$pcap" 2>/dev/null | grep -q "10.0.0.10.[0-9]* > 10.0.0.1.7: UDP"; then
	ok "tcpdump reads it too, with the datagrams to port 7"
else
	not_ok "tcpdump reads the pcap" "$(tcpdump -nn -r "$pcap" 2>&1 | head -3)"
fi
want=$(sed -n 's/^link c1 .*: sent [0-9]* delivered \([0-9]*\) .*/\1/p' <<<"$out" | awk '{ n += $1 } END { print n }')
got=$(tshark -r "$pcap" 2>/dev/null | wc -l)
if [ -n "$want" ] && [ "$want" = "$got" ]; then
	ok "the pcap holds every frame the link delivered, both ways ($got)"
else
	not_ok "the pcap holds every frame delivered" "link counters: '$want'" "pcap: '$got'"
fi
ts=$(tshark -r "$WORK/echo.pcap" -T fields -e frame.time_epoch -c 1 2>/dev/null)
case "$ts" in
1767225600.*) ok "pcap time stamps are virtual time from 2026-01-01 ($ts)" ;;
*) not_ok "pcap time stamps are virtual time" "first frame at '$ts'" ;;
esac

# ---- a failure says how to replay it, and the replay fails the same way ----------
out=$($SIM/udp_echo --seed=7 --time-limit=1 -q 2>&1)
rc=$?
cmd=$(sed -n 's/^replay: //p' <<<"$out")
if [ $rc -ne 0 ] && grep -q "seed=7: FAILED at 1.000000000 s virtual: time limit" <<<"$out" &&
	[ "$cmd" = "build/sim/udp_echo --time-limit=1 --seed=7" ]; then
	ok "a failing run names its seed and the command that replays it"
else
	not_ok "a failing run names its seed and replay command" "status $rc" "$out"
fi
again=$($cmd -q 2>&1)
if [ "$(grep FAILED <<<"$again")" = "$(grep FAILED <<<"$out")" ]; then
	ok "the replay command fails the same way"
else
	not_ok "the replay fails the same way" "$again"
fi
out=$($SIM/udp_echo --seeds=1..40 tries=2 loss=60 chaos=0 2>&1)
if [ $? -ne 0 ] && grep -q "^replay: build/sim/udp_echo tries=2 loss=60 chaos=0 --seed=[0-9]*$" <<<"$out" &&
	grep -q "^udp_echo seeds=1..40: [0-9]* passed, [1-9][0-9]* failed" <<<"$out"; then
	ok "a sweep lists each failing seed with its replay command"
else
	not_ok "a sweep lists failing seeds" "$(tail -4 <<<"$out")"
fi

# ---- the simulator's own promises -------------------------------------------------------
out=$($SIM/sim_selftest --seeds=1..20 2>&1)
if grep -q "^sim_selftest seeds=1..20: 20 passed, 0 failed" <<<"$out"; then
	ok "sim_selftest: every fault, virtual time, restarts, entropy, power cuts (20 seeds)"
else
	not_ok "sim_selftest passes" "$(tail -6 <<<"$out")"
fi
start=$(date +%s%N)
out=$($SIM/sim_selftest --seed=3 -q)
ms=$((($(date +%s%N) - start) / 1000000))
if grep -q "ok, 3600.000000000 s virtual" <<<"$out" && [ $ms -lt 2000 ]; then
	ok "an hour of virtual time took $ms ms"
else
	not_ok "an hour of virtual time is cheap" "$out" "$ms ms"
fi

# ---- seed sweeps ------------------------------------------------------------------------------
sweep() {
	local name=$1
	shift
	local out rc line
	out=$(timeout 300 "$@" 2>&1)
	rc=$?
	line=$(tail -1 <<<"$out")
	if [ $rc -eq 0 ] && grep -q " 0 failed" <<<"$line"; then
		ok "$name: ${line#* }"
	else
		not_ok "$name" "$(tail -12 <<<"$out")"
	fi
}
sweep "udp_echo sweep" $SIM/udp_echo --seeds=1..10000
sweep "udp_echo sweep, 3000-byte fragmented datagrams" $SIM/udp_echo --seeds=1..300 size=3000
sweep "udp_echo sweep, 4 clients x 30 datagrams" $SIM/udp_echo --seeds=1..300 clients=4 count=30
sweep "udp_echo sweep, fault storm for 30 s, 3 clients x 200 datagrams" \
	$SIM/udp_echo --seeds=1..300 storm=30 count=200 clients=3
sweep "l2_echo sweep (raw frames, corruption, bandwidth limit)" $SIM/l2_echo --seeds=1..1000
sweep "ping_pair sweep (the example in docs/simulation.md)" $SIM/ping_pair --seeds=1..500

finish
