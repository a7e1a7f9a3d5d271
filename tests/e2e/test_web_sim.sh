#!/usr/bin/env bash
# test_web_sim.sh - the web unikernel in the simulation target:
# tests/sim/web_fetch runs apps/web (its built-in site and credential)
# against clients that fetch three pipelined answers over HTTPS (the
# chain verified) and three over plain HTTP, through links that lose,
# duplicate, reorder and corrupt frames; every answer must arrive whole
# and right and no run may get stuck.  Also heavier faults, more clients
# at once, and replay from a seed.
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
	if grep -qE "^web_fetch seeds=[0-9.]+: [0-9]+ passed, 0 failed" <<<"$out"; then
		ok "$name: $(grep -oE '[0-9]+ passed, 0 failed' <<<"$out")"
	else
		not_ok "$name" "$(grep -E 'FAILED|replay' <<<"$out" | head -6)" "$(tail -1 <<<"$out")"
	fi
}

log=$(mktemp)
if make -s TARGET=sim >"$log" 2>&1; then
	ok "make TARGET=sim builds web_fetch (the web app linked into the simulation)"
else
	not_ok "make TARGET=sim builds web_fetch" "$(tail -5 "$log")"
fi
rm -f "$log"
SIM=build/sim/web_fetch

sweep "3 clients, HTTPS + HTTP, 10% loss + 5% dup + 5% reorder + 1% corruption, 500 seeds" \
	$SIM --seeds=1..500
sweep "25% loss, 10% dup, 10% reorder, 3% corruption, 150 seeds" \
	$SIM --seeds=2001..2150 loss=25 dup=10 reorder=10 corrupt=3
sweep "6 clients at once, 100 seeds" $SIM --seeds=4001..4100 clients=6

a=$($SIM --seed=42 -q 2>&1 | tail -1)
b=$($SIM --seed=42 -q 2>&1 | tail -1)
if [ "$a" = "$b" ] && grep -q "ok" <<<"$a"; then
	ok "a seed replays exactly ($(grep -o 'digest [0-9a-f]*' <<<"$a"))"
else
	not_ok "a seed replays exactly" "$a" "$b"
fi
echo "$((T_N - T_FAIL)) passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
