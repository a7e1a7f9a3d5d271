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
NET=10.53.0
. tools/demo-net.sh

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
