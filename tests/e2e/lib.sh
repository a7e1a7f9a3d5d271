# tests/e2e/lib.sh - helpers for end-to-end tests (sourced, bash).
#
# Each test builds its own little network and removes it on exit, even on
# failure.  Addresses are ours to choose inside namespaces we create; no
# packet leaves them.  The usual topology (net_up):
#
#   ns $NS_C (client)              ns $NS_S (server)
#   veth c0 10.77.0.1/24  <---->   veth s0 --+-- bridge br0 (10.77.0.3/24, Linux peers)
#                                            +-- tap0  (the atoll unikernel, 10.77.0.2)
#
# Output is TAP: ok/not_ok print "ok N - name" lines; finish prints the
# closing "N passed, N failed" and sets the exit status.

set -u
E2E_ID=${E2E_ID:-$$}
NS_C=atlc-$E2E_ID
NS_S=atls-$E2E_ID
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/atoll-e2e.XXXXXX)
chmod 755 "$WORK" # the unikernel drops to nobody
T_N=0
T_PASS=0
T_FAIL=0
PIDS=()

ok() {
	T_N=$((T_N + 1))
	T_PASS=$((T_PASS + 1))
	echo "ok $T_N - $1"
}

not_ok() {
	T_N=$((T_N + 1))
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
}

# expect NAME COMMAND...: one test that passes when COMMAND succeeds.
expect() {
	local name=$1
	shift
	local out
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name" "command: $*" "$(echo "$out" | tail -5)"
	fi
}

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	# Whatever still runs in the namespaces (a server started through a
	# shell function, whose $! was the subshell) goes too.
	local ns left
	for ns in "$NS_C" "$NS_S"; do
		left=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$left" ] && kill $left 2>/dev/null
	done
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	# E2E_KEEP=DIR: keep the logs and files of the run there, to debug
	[ -n "${E2E_KEEP:-}" ] && rm -rf "$E2E_KEEP" && cp -r "$WORK" "$E2E_KEEP"
	rm -rf "$WORK"
}
trap cleanup EXIT

finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}

in_c() { ip netns exec "$NS_C" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

net_up() {
	ip netns add "$NS_C"
	ip netns add "$NS_S"
	ip link add c0 netns "$NS_C" type veth peer name s0 netns "$NS_S"
	in_c ip addr add 10.77.0.1/24 dev c0
	in_c ip link set c0 up
	in_c ip link set lo up
	in_s ip link set lo up
	in_s ip link add br0 type bridge
	in_s ip link set br0 type bridge forward_delay 0 stp_state 0
	in_s ip tuntap add dev tap0 mode tap
	in_s ip link set s0 master br0
	in_s ip link set tap0 master br0
	in_s ip addr add 10.77.0.3/24 dev br0
	for l in s0 tap0 br0; do in_s ip link set "$l" up; done
}

# bridge_tap NAME...: more TAP devices on the server's bridge (beside
# tap0), one per further unikernel.
bridge_tap() {
	local t
	for t in "$@"; do
		in_s ip tuntap add dev "$t" mode tap
		in_s ip link set "$t" master br0
		in_s ip link set "$t" up
	done
}

# nft_loss PERMILLE: random drops on the wire between the namespaces, in
# both directions: at the ingress of c0 (towards the client) and of s0
# (towards the servers).  Not in the client's output hook: a packet dropped
# there is an error its own TCP sees and retries at once, not a loss.
nft_loss() {
	in_c nft delete table netdev atloss 2>/dev/null
	in_s nft delete table netdev atloss 2>/dev/null
	[ "$1" = 0 ] && return
	local ns dev
	for ns in "$NS_C:c0" "$NS_S:s0"; do
		dev=${ns#*:}
		ip netns exec "${ns%:*}" nft -f - <<NFT || return 1
table netdev atloss {
	chain in { type filter hook ingress device $dev priority 0; numgen random mod 1000 < $1 counter drop; }
}
NFT
	done
}

# start_uk LOG ARGS...: run a hosted unikernel in the server namespace.
start_uk() {
	local log=$1
	shift
	# ip netns exec execs the command, so $! is the unikernel itself (a
	# backgrounded shell function would be a subshell that SIGTERM kills).
	ip netns exec "$NS_S" "$@" >"$log" 2>&1 &
	PIDS+=($!)
	UK_PID=$!
}

# wait_for_log FILE PATTERN [SECONDS]
wait_for_log() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stop_uk PID: SIGTERM and wait; the exit status lands in $UK_STATUS.
# (Not to be called in $(...): a subshell cannot wait for our children.)
stop_uk() {
	kill -TERM "$1" 2>/dev/null
	UK_STATUS=0
	wait "$1" || UK_STATUS=$?
}
