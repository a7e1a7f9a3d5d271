#!/usr/bin/env bash
# tools/demo-dns.sh - the main job: build the authoritative DNS unikernel,
# start it on a TAP device in a network namespace of its own serving its
# embedded example.test. zone, show real dig answers from it, then keep it
# serving until Ctrl-C.  Needs root (namespaces, TAP).  Everything it
# creates is removed on exit.
set -u
cd "$(dirname "$0")/.."
make -s build/hosted/dns || exit 1
C=atoll-dns-c S=atoll-dns-s
cleanup() {
	[ -n "${UK:-}" ] && kill -TERM "$UK" 2>/dev/null && wait "$UK"
	ip netns del $C 2>/dev/null
	ip netns del $S 2>/dev/null
}
trap cleanup EXIT
trap 'exit 0' INT TERM
ip netns add $C && ip netns add $S
ip link add c0 netns $C type veth peer name s0 netns $S
ip -n $C addr add 10.53.0.1/24 dev c0
ip -n $C link set c0 up
ip -n $S link add br0 type bridge
ip -n $S tuntap add dev tap0 mode tap
ip -n $S link set s0 master br0
ip -n $S link set tap0 master br0
for l in s0 tap0 br0; do ip -n $S link set $l up; done

echo "+ ip netns exec $S build/hosted/dns --mem=16M --net:service=tap0 ipv4=10.53.0.2/24"
ip netns exec $S build/hosted/dns --mem=16M --net:service=tap0 ipv4=10.53.0.2/24 &
UK=$!
sleep 0.5
show() {
	echo "+ ip netns exec $C dig +norec @10.53.0.2 $*"
	ip netns exec $C dig +norec +nocmd +nostats +time=2 @10.53.0.2 "$@" | grep -v '^$'
	echo
}
show example.test. SOA
show www.example.test. A
show example.test. MX
show anything.apps.example.test. A
show missing.example.test. A
show www.dev.example.test. A
echo "The DNS unikernel keeps serving example.test.; from another terminal try:"
echo "  ip netns exec $C dig @10.53.0.2 example.test. ANY"
echo "  ip netns exec $C dig @10.53.0.2 _sip._udp.example.test. SRV"
echo "Ctrl-C stops it (it prints its counters as it goes)."
wait $UK
