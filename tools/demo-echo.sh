#!/usr/bin/env bash
# tools/demo-echo.sh - the main job until the DNS unikernel exists: start
# the echo unikernel on a TAP device in a network namespace of its own, show
# Linux pinging it and getting UDP echoes from it, then keep it serving until
# Ctrl-C.  Needs root (namespaces, TAP).  Everything it creates is removed
# on exit.
set -u
cd "$(dirname "$0")/.."
[ -x build/hosted/echo ] || make -s
C=atoll-demo-c S=atoll-demo-s
cleanup() {
	[ -n "${UK:-}" ] && kill -TERM "$UK" 2>/dev/null && wait "$UK"
	ip netns del $C 2>/dev/null
	ip netns del $S 2>/dev/null
}
trap cleanup EXIT
trap 'exit 0' INT TERM
ip netns add $C && ip netns add $S
ip link add c0 netns $C type veth peer name s0 netns $S
ip -n $C addr add 10.77.0.1/24 dev c0
ip -n $C link set c0 up
ip -n $S link add br0 type bridge
ip -n $S tuntap add dev tap0 mode tap
ip -n $S link set s0 master br0
ip -n $S link set tap0 master br0
for l in s0 tap0 br0; do ip -n $S link set $l up; done

echo "+ ip netns exec $S build/hosted/echo --mem=4M --net:service=tap0 ipv4=10.77.0.2/24"
ip netns exec $S build/hosted/echo --mem=4M --net:service=tap0 ipv4=10.77.0.2/24 &
UK=$!
sleep 0.5
echo "+ ip netns exec $C ping -c 3 10.77.0.2"
ip netns exec $C ping -c 3 -i 0.3 10.77.0.2
echo "+ echo 'hello, atoll' | ip netns exec $C socat -t 1 - UDP:10.77.0.2:7"
echo 'hello, atoll' | ip netns exec $C socat -t 1 - UDP:10.77.0.2:7
echo
echo "The echo unikernel keeps serving; from another terminal try:"
echo "  ip netns exec $C ping 10.77.0.2"
echo "  ip netns exec $C socat - UDP:10.77.0.2:7"
echo "Ctrl-C stops it (it prints its counters as it goes)."
wait $UK
