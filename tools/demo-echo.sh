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
NET=10.77.0
. tools/demo-net.sh

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
