#!/usr/bin/env bash
# test_tcp_sim.sh - TCP in the simulation target: tests/sim/tcp_bulk
# echoes 1 MiB over links with 10% loss, 5% duplication, 5% reordering
# and 1% single-bit corruption, across 1000 seeds; every byte must come
# back exactly once, in order, intact, and no run may get stuck (a run
# with nothing left to happen, or past its time limit, fails).  Also:
# heavier faults on fewer seeds, several clients at once, and replay.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
T_N=0
T_FAIL=0
ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}
not_ok() {
	T_N=$((T_N + 1))
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $1"
	shift
	for l in "$@"; do echo "#   $l"; done
}
sweep() {
	local name=$1
	shift
	local out
	out=$("$@" 2>&1)
	if grep -qE "^tcp_bulk seeds=[0-9.]+: [0-9]+ passed, 0 failed" <<<"$out"; then
		ok "$name: $(grep -oE '[0-9]+ passed, 0 failed' <<<"$out")"
	else
		not_ok "$name" "$(grep -E 'FAILED|replay' <<<"$out" | head -6)" "$(tail -1 <<<"$out")"
	fi
}

if make -s TARGET=sim >/tmp/tcp_sim_build.$$ 2>&1; then
	ok "make TARGET=sim builds tcp_bulk"
else
	not_ok "make TARGET=sim builds tcp_bulk" "$(tail -5 /tmp/tcp_sim_build.$$)"
fi
rm -f /tmp/tcp_sim_build.$$
SIM=build/sim/tcp_bulk

sweep "1 MiB echo, 10% loss + dup + reorder + corruption, 1000 seeds" $SIM --seeds=1..1000
sweep "256 KiB echo, 20% loss, 10% dup, 10% reorder, 2% corruption, 200 seeds" \
	$SIM --seeds=5001..5200 size=262144 loss=20 dup=10 reorder=10 corrupt=2
sweep "3 clients at once, 256 KiB each, 100 seeds" $SIM --seeds=7001..7100 clients=3 size=262144
sweep "CUBIC (RFC 9438): 1 MiB echo, 10% loss + dup + reorder + corruption, 300 seeds" \
	$SIM --seeds=9001..9300 cc=cubic

a=$($SIM --seed=42 -q 2>&1 | tail -1)
b=$($SIM --seed=42 -q 2>&1 | tail -1)
if [ "$a" = "$b" ] && grep -q "ok" <<<"$a"; then
	ok "a seed replays exactly ($(grep -o 'digest [0-9a-f]*' <<<"$a"))"
else
	not_ok "a seed replays exactly" "$a" "$b"
fi
echo "$((T_N - T_FAIL)) passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
