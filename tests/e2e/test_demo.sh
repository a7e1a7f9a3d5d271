#!/usr/bin/env bash
# test_demo.sh - the README's main-job command keeps its word: the demo
# scripts start their unikernel in namespaces of their own, show real
# answers from it (dig for the DNS demo, ping and a UDP echo for the echo
# demo), keep serving until interrupted, and leave nothing behind; a demo
# refuses to start over namespaces that already exist.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# run_demo NAME SECONDS: the demo's output, interrupted as Ctrl-C would.
run_demo() {
	timeout -s INT "$2" "tools/demo-$1.sh" >"$WORK/$1.out" 2>&1
}

left_behind() { ip netns list | grep -c "^atoll-$1-[cs]\b"; }

for ns in atoll-dns-c atoll-dns-s atoll-demo-c atoll-demo-s; do
	if ip netns list | grep -q "^$ns\b"; then
		not_ok "no demo namespace before the test" "$ns exists"
		finish
	fi
done

run_demo dns 15
out=$WORK/dns.out
expect "dns demo: the SOA of example.test." \
	grep -qE '^example\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+SOA[[:space:]]+ns1\.example\.test\.' "$out"
expect "dns demo: www is a CNAME followed to its A record" \
	grep -qE '^www\.example\.test\..*CNAME[[:space:]]+example\.test\.' "$out"
expect "dns demo: the answers are authoritative" grep -q 'flags: qr aa' "$out"
expect "dns demo: a missing name is NXDOMAIN" grep -q 'status: NXDOMAIN' "$out"
expect "dns demo: it kept serving until interrupted, then printed its counters" \
	grep -qE '^counter dns\.answered [1-9]' "$out"
expect "dns demo: its namespaces are gone" test "$(left_behind dns)" -eq 0
[ "$(left_behind dns)" -eq 0 ] || { ip netns list; tail -5 "$out"; } | sed 's/^/#   /'

run_demo echo 12
out=$WORK/echo.out
expect "echo demo: Linux pings the unikernel" grep -qE '3 packets transmitted, 3 received' "$out"
expect "echo demo: the UDP echo comes back" grep -qx 'hello, atoll' "$out"
expect "echo demo: its namespaces are gone" test "$(left_behind demo)" -eq 0

# A namespace in the way: the demo says so and removes nothing of it.
ip netns add atoll-dns-c
if tools/demo-dns.sh >"$WORK/busy.out" 2>&1; then
	not_ok "dns demo: refuses to start over an existing namespace" "it started"
else
	expect "dns demo: refuses to start over an existing namespace, saying why" \
		grep -q 'atoll-dns-c exists' "$WORK/busy.out"
fi
expect "dns demo: leaves the namespace it did not make" ip netns pids atoll-dns-c
ip netns del atoll-dns-c
expect "dns demo: made nothing else" test "$(left_behind dns)" -eq 0
finish
