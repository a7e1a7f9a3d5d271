#!/usr/bin/env bash
# test_dns_secondary_sim.sh - DNS secondaries in the simulation target:
# tests/sim/dns_secondary runs a primary whose zone changes 10 to 40 times
# (dynamic updates, journaled, so that IXFR carries differences; or whole
# new versions)
# and two secondaries, over links that lose, duplicate and reorder frames,
# with one secondary cut off for a while and one rebooted (it starts again
# from the zone kept on its block device, or transfers it again if the
# power cut spoiled it); every secondary must end on the
# primary's last serial (NOTIFY, SOA refresh, AXFR/IXFR over TCP), across
# hundreds of seeds.  Also: a seed replays exactly, and the check does
# fail when the secondaries are given no time to catch up.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
SIM=build/sim/dns_secondary

expect "make TARGET=sim builds dns_secondary" make -s TARGET=sim
sweep() {
	local name=$1
	shift
	local out
	out=$(timeout 300 "$@" 2>&1)
	if grep -qE "^dns_secondary seeds=[0-9.]+: [0-9]+ passed, 0 failed" <<<"$out"; then
		ok "$name: $(grep -oE '[0-9]+ passed, 0 failed' <<<"$out")"
	else
		not_ok "$name" "$(grep -E 'FAILED|replay' <<<"$out" | head -6)" "$(tail -1 <<<"$out")"
	fi
}
sweep "a primary and two secondaries converge: 10 changes, 10% loss, 5% dup and reorder, a partition, a reboot with a power cut, 200 seeds" \
	$SIM --seeds=1..200
sweep "20 changes, 15% loss, 10% dup and reorder, 300 seeds" \
	$SIM --seeds=1001..1300 updates=20 loss=15 dup=10 reorder=10
sweep "40 changes 1 to 5 s apart, no partition or reboot: each secondary accepted NOTIFYs, 100 seeds" \
	$SIM --seeds=2001..2100 updates=40 chaos=0 reboot=0
sweep "changes as whole new versions (no journal: IXFR answered in AXFR form), 200 seeds" \
	$SIM --seeds=3001..3200 via=replace
n=$(for i in 1 2 3 4 5 6 7 8 9 10; do $SIM --seed=$i 2>&1; done | grep -c "transferred in (IXFR)")
[ "$n" -ge 20 ] && ok "journaled changes travel as IXFR differences ($n incremental transfers in 10 seeds)" ||
	not_ok "journaled changes travel as IXFR differences" "$n incremental transfers in 10 seeds"

a=$($SIM --seed=42 -q 2>&1 | tail -1)
b=$($SIM --seed=42 -q 2>&1 | tail -1)
if [ "$a" = "$b" ] && grep -q ": ok" <<<"$a"; then
	ok "a seed replays exactly ($(grep -o 'digest [0-9a-f]*' <<<"$a"))"
else
	not_ok "a seed replays exactly" "$a" "$b"
fi
out=$($SIM --seeds=1..20 settle=0 2>&1 | tail -1)
if grep -qE "seeds=1..20: [0-9]+ passed, [1-9][0-9]* failed" <<<"$out"; then
	ok "the check can fail: with no time to catch up after the last change, secondaries lag ($out)"
else
	not_ok "the check can fail when secondaries have no time" "$out"
fi
finish
