# tools/demo-net.sh - sourced by the demo scripts: two network namespaces,
# $C (the client, $NET.1 on c0) and $S (the unikernel's: a bridge joining
# the veth end s0 and the TAP device tap0), removed again on exit with the
# unikernel ($UK) they started.  Namespaces that already exist are left
# alone: another demo may be using them.
MADE=
cleanup() {
	[ -n "${UK:-}" ] && kill -TERM "$UK" 2>/dev/null && wait "$UK"
	# A signal may still be ending a process in them: try again briefly.
	for ns in $MADE; do
		for try in 1 2 3 4 5; do
			ip netns del $ns 2>/dev/null
			[ -e /run/netns/$ns ] || break
			sleep 0.2
		done
	done
}
trap cleanup EXIT
trap 'exit 0' INT TERM
for ns in $C $S; do
	if ! ip netns add $ns; then
		echo "$0: network namespace $ns exists: another demo is running, or a killed" >&2
		echo "one left it behind (remove it with: ip netns del $ns)" >&2
		exit 1
	fi
	MADE="$MADE $ns"
done
ip link add c0 netns $C type veth peer name s0 netns $S
ip -n $C addr add $NET.1/24 dev c0
ip -n $C link set c0 up
ip -n $S link add br0 type bridge
ip -n $S tuntap add dev tap0 mode tap
ip -n $S link set s0 master br0
ip -n $S link set tap0 master br0
for l in s0 tap0 br0; do ip -n $S link set $l up; done
