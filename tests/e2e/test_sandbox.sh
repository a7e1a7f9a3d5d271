#!/usr/bin/env bash
# test_sandbox.sh - the hosted target's sandbox and platform calls, as root.
#
# A forbidden system call kills the unikernel with SIGSYS; the app runs as
# nobody with no capabilities, no_new_privs and a seccomp filter; every
# platform call still works inside it (time, entropy, wait, console, TAP
# frames with pcap, block I/O, a stop by SIGTERM/SIGINT, plat_abort); and
# --no-sandbox really turns it all off.  The platform calls are driven by
# tests/e2e/test_sandbox_probe.c, built here.
source "$(dirname "$0")/lib.sh"
HELLO=$ROOT/build/hosted/hello
ECHO=$ROOT/build/hosted/echo
PROBE=$WORK/probe

if [ "$(id -u)" != 0 ]; then
	echo "# test_sandbox.sh needs root (privilege drop, TAP devices, namespaces)"
	not_ok "running as root"
	finish
fi

# proc_field PID FIELD: one line of /proc/PID/status, tabs squeezed.
proc_field() { awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' "/proc/$1/status"; }

# bg_start LOG ARGS...: run a unikernel in $NS_S in the background, with
# BG_PID its own pid (ip netns exec execs it), so that /proc/$BG_PID is
# the unikernel's and this shell can wait for it.
bg_start() {
	local log=$1
	shift
	ip netns exec "$NS_S" "$@" >"$log" 2>&1 &
	BG_PID=$!
	PIDS+=("$BG_PID")
}

# bg_stop: SIGTERM, then BG_RC is the exit status.
bg_stop() {
	kill -TERM "$BG_PID" 2>/dev/null
	BG_RC=0
	wait "$BG_PID" || BG_RC=$?
}

# ---- the hidden selftest: a forbidden call must kill ------------------------
"$HELLO" --mem=1M --sandbox-selftest status=0 >"$WORK/selftest.log" 2>&1
rc=$?
if [ $rc = 159 ] && grep -q "calling openat" "$WORK/selftest.log" &&
	! grep -q "was allowed" "$WORK/selftest.log"; then
	ok "a forbidden system call (openat) kills the unikernel with SIGSYS"
else
	not_ok "a forbidden system call (openat) kills the unikernel with SIGSYS" "status $rc" \
		"$(cat "$WORK/selftest.log")"
fi
"$HELLO" --mem=1M --no-sandbox --sandbox-selftest status=0 >"$WORK/nosandbox.log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "openat was allowed" "$WORK/nosandbox.log"; then
	ok "--no-sandbox: the same call is allowed and the app runs"
else
	not_ok "--no-sandbox: the same call is allowed and the app runs" "status $rc" \
		"$(cat "$WORK/nosandbox.log")"
fi

# ---- hello inside the sandbox ----------------------------------------------------
out=$("$HELLO" --mem=1M one=1 two status=3 2>&1)
rc=$?
if [ $rc = 3 ] && echo "$out" | grep -q 'arg\[1\] = "two"'; then
	ok "hello prints and exits 3 inside the sandbox"
else
	not_ok "hello prints and exits 3 inside the sandbox" "status $rc" "$out"
fi

# ---- the probe: every platform call inside the sandbox ----------------------------
CFLAGS_PROBE="-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wvla -Wno-unused-parameter -O2 -g -D_GNU_SOURCE -I$ROOT/platform -I$ROOT/lib"
# shellcheck disable=SC2086
if ${CC:-gcc} $CFLAGS_PROBE -o "$PROBE" "$ROOT/tests/e2e/test_sandbox_probe.c" \
	"$ROOT"/lib/core/*.c "$ROOT"/lib/core/*.S "$ROOT"/lib/net/*.c "$ROOT"/platform/hosted/*.c \
	-lbearssl >"$WORK/build.log" 2>&1; then
	ok "the probe app builds"
else
	not_ok "the probe app builds" "$(grep -v TEXTREL "$WORK/build.log" | head -5)"
	finish
fi

out=$("$PROBE" --mem=1M mode=basic 2>&1)
rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "basic ok" &&
	ok "clocks, entropy (1000 bytes), a timed wait and the console work" ||
	not_ok "clocks, entropy (1000 bytes), a timed wait and the console work" "status $rc" "$out"

# Block device: pread/pwrite/fdatasync on the pinned descriptor.
truncate -s 1M "$WORK/disk.img"
out=$("$PROBE" --mem=1M --block:disk="$WORK/disk.img" mode=block 2>&1)
rc=$?
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7 + 1) & 255 for i in range(4096)))' \
	>"$WORK/pattern"
if [ $rc = 0 ] && echo "$out" | grep -q "block ok" && echo "$out" | grep -q "capacity 1048576 block_size 512" &&
	cmp -s -n 4096 "$WORK/disk.img" "$WORK/pattern" &&
	cmp -s -i $((1048576 - 4096)):0 "$WORK/disk.img" "$WORK/pattern"; then
	ok "block device: writes reach the file, reads and flush work, bad offsets are refused"
else
	not_ok "block device: writes reach the file, reads and flush work, bad offsets are refused" \
		"status $rc" "$out"
fi
truncate -s 1000 "$WORK/odd.img"
out=$("$PROBE" --mem=1M --block:disk="$WORK/odd.img" mode=block 2>&1)
echo "$out" | grep -q "capacity 512 block_size 512" &&
	ok "a file of 1000 bytes is a device of one 512-byte block" ||
	not_ok "a file of 1000 bytes is a device of one 512-byte block" "$out"
out=$("$PROBE" --mem=1M mode=block 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "no block device disk" &&
	ok "a declared device not given on the command line is PLAT_ENOENT to the app" ||
	not_ok "a declared device not given on the command line is PLAT_ENOENT to the app" "status $rc" "$out"

# Identity and stop requests while the app sleeps in ppoll.  An inherited
# descriptor (7) must be closed before the sandbox.
for sig in TERM INT; do
	"$PROBE" --mem=1M mode=wait >"$WORK/wait.log" 2>&1 7</dev/null &
	pid=$!
	PIDS+=("$pid")
	if ! wait_for_log "$WORK/wait.log" "probe ready" 5; then
		not_ok "SIG$sig: the probe starts" "$(cat "$WORK/wait.log")"
		continue
	fi
	if [ $sig = TERM ]; then
		uid=$(proc_field $pid Uid)
		gid=$(proc_field $pid Gid)
		groups=$(proc_field $pid Groups)
		cap=$(proc_field $pid CapEff)/$(proc_field $pid CapPrm)
		nnp=$(proc_field $pid NoNewPrivs)
		sec=$(proc_field $pid Seccomp)
		if [ "$uid" = "65534 65534 65534 65534" ] && [ "$gid" = "65534 65534 65534 65534" ] &&
			[ -z "$groups" ] && [ "$cap" = 0000000000000000/0000000000000000 ] &&
			[ "$nnp" = 1 ] && [ "$sec" = 2 ]; then
			ok "the app runs as nobody, no groups, no capabilities, no_new_privs, seccomp filter"
		else
			not_ok "the app runs as nobody, no groups, no capabilities, no_new_privs, seccomp filter" \
				"Uid $uid Gid $gid Groups '$groups' Cap $cap NoNewPrivs $nnp Seccomp $sec"
		fi
		[ -e /proc/$pid/fd/7 ] && not_ok "inherited descriptors are closed" "$(ls -l /proc/$pid/fd)" ||
			ok "inherited descriptors are closed"
	fi
	kill -$sig $pid
	rc=0
	wait $pid || rc=$?
	[ $rc = 0 ] && grep -q "loop ended: stopping" "$WORK/wait.log" &&
		ok "SIG$sig during plat_wait stops the app cleanly (status 0)" ||
		not_ok "SIG$sig during plat_wait stops the app cleanly (status 0)" "status $rc" "$(cat "$WORK/wait.log")"
done

"$PROBE" --mem=1M --no-sandbox mode=wait >"$WORK/wait.log" 2>&1 7</dev/null &
pid=$!
PIDS+=("$pid")
if wait_for_log "$WORK/wait.log" "probe ready" 5 && [ "$(proc_field $pid Uid)" = "0 0 0 0" ] &&
	[ "$(proc_field $pid Seccomp)" = 0 ] && [ -e /proc/$pid/fd/7 ]; then
	ok "--no-sandbox keeps root, inherited descriptors, and installs no filter"
else
	not_ok "--no-sandbox keeps root, inherited descriptors, and installs no filter" \
		"$(grep -E '^(Uid|Seccomp)' /proc/$pid/status)"
fi
kill -TERM $pid
wait $pid

out=$("$PROBE" --mem=1M mode=abort 2>&1)
rc=$?
if [ $rc = 70 ] && echo "$out" | grep -q "plat_abort: probe abort from a fiber" &&
	echo "$out" | grep -q "$PROBE(+0x"; then
	ok "plat_abort prints the message and a backtrace, exits 70 (not SIGSYS)"
else
	not_ok "plat_abort prints the message and a backtrace, exits 70 (not SIGSYS)" "status $rc" "$out"
fi

# The filter pins arguments, not only call numbers.
for spec in "stderr:" "stdin:" "udp:" "tcp:" "raw:--stack=socket" "inet6:--stack=socket"; do
	call=${spec%%:*}
	opt=${spec#*:}
	# shellcheck disable=SC2086
	"$PROBE" --mem=1M $opt mode=call call=$call >"$WORK/call.log" 2>&1 </dev/null
	rc=$?
	if [ $rc = 159 ] && ! grep -q survived "$WORK/call.log"; then
		ok "SIGSYS for a call outside the pinned arguments: $call ${opt:-(own stack)}"
	else
		not_ok "SIGSYS for a call outside the pinned arguments: $call ${opt:-(own stack)}" \
			"status $rc" "$(cat "$WORK/call.log")"
	fi
done
"$PROBE" --mem=1M --stack=socket mode=call call=udp >"$WORK/call.log" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "survived udp" "$WORK/call.log" &&
	ok "--stack=socket allows an AF_INET datagram socket" ||
	not_ok "--stack=socket allows an AF_INET datagram socket" "status $rc" "$(cat "$WORK/call.log")"
# The socket stack serves TCP too (stack.h), so a stream socket is allowed
# there, and only there (the own-stack case above is killed).
"$PROBE" --mem=1M --stack=socket mode=call call=tcp >"$WORK/call.log" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "survived tcp" "$WORK/call.log" &&
	ok "--stack=socket allows an AF_INET stream socket" ||
	not_ok "--stack=socket allows an AF_INET stream socket" "status $rc" "$(cat "$WORK/call.log")"

# ---- TAP frames and pcap inside the sandbox ------------------------------------------
ip netns add "$NS_S"
in_s ip link set lo up
in_s ip tuntap add dev tap0 mode tap
in_s ip link set tap0 mtu 1400
in_s ip addr add 10.79.0.1/24 dev tap0
in_s ip link set tap0 up
bg_start "$WORK/net.log" "$PROBE" --mem=1M --net:service=tap0 --pcap:service="$WORK/net.pcap" mode=net
if wait_for_log "$WORK/net.log" "probe ready" 5; then
	ok "the probe attaches to an existing TAP interface"
else
	not_ok "the probe attaches to an existing TAP interface" "$(cat "$WORK/net.log")"
fi
mac=$(awk '$1 == "net" && $2 == "mac" { print $3 }' "$WORK/net.log")
grep -q "mtu 1400" "$WORK/net.log" && ok "the MTU is the interface's (1400)" ||
	not_ok "the MTU is the interface's (1400)" "$(head -2 "$WORK/net.log")"
case "$mac" in
02:??:??:??:??:??) ok "the default MAC is locally administered ($mac)" ;;
*) not_ok "the default MAC is locally administered" "mac '$mac'" ;;
esac
in_s ping -c 1 -W 1 10.79.0.2 >/dev/null 2>&1 # needs ARP only; nobody answers the ping
neigh=$(in_s ip neigh show 10.79.0.2 dev tap0)
case "$neigh" in
*"lladdr $mac"*) ok "frames go both ways: Linux learned the probe's MAC by ARP" ;;
*) not_ok "frames go both ways: Linux learned the probe's MAC by ARP" "ip neigh: $neigh" ;;
esac
bg_stop
[ "$BG_RC" = 0 ] && ok "the net probe stops on SIGTERM with status 0" ||
	not_ok "the net probe stops on SIGTERM with status 0" "status $BG_RC" "$(cat "$WORK/net.log")"
dump=$(tcpdump -enr "$WORK/net.pcap" 2>&1)
if echo "$dump" | grep -q "Request who-has 10.79.0.2 tell 10.79.0.1" &&
	echo "$dump" | grep -q "Reply 10.79.0.2 is-at $mac" &&
	echo "$dump" | grep -q "ICMP echo request"; then
	ok "the pcap file holds frames received and sent, and tcpdump reads it"
else
	not_ok "the pcap file holds frames received and sent, and tcpdump reads it" "$(echo "$dump" | head -5)"
fi

# ---- command-line checks against the manifest --------------------------------------------
"$PROBE" --net:disk=tap0 >"$WORK/cl.log" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "not a network device" "$WORK/cl.log" &&
	ok "--net: naming a block device is refused (status 2)" ||
	not_ok "--net: naming a block device is refused (status 2)" "status $rc" "$(cat "$WORK/cl.log")"
"$PROBE" --pcap:service="$WORK/x.pcap" >"$WORK/cl.log" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "no --net:service" "$WORK/cl.log" &&
	ok "--pcap: without its --net: is refused (status 2)" ||
	not_ok "--pcap: without its --net: is refused (status 2)" "status $rc" "$(cat "$WORK/cl.log")"
"$PROBE" --block:disk="$WORK/nosuch.img" >"$WORK/cl.log" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "nosuch.img" "$WORK/cl.log" &&
	ok "a missing block file is a start-up failure that names it (status 1)" ||
	not_ok "a missing block file is a start-up failure that names it (status 1)" "status $rc" "$(cat "$WORK/cl.log")"

# ---- the socket stack: only CAP_NET_BIND_SERVICE is kept, to bind port 7 ---------------------
if [ -x "$ECHO" ]; then
	bg_start "$WORK/sock.log" "$ECHO" --mem=4M --stack=socket
	if wait_for_log "$WORK/sock.log" "echo service on UDP port 7" 5; then
		cap=$(proc_field "$BG_PID" CapEff)/$(proc_field "$BG_PID" CapPrm)
		uid=$(proc_field "$BG_PID" Uid)
		# CAP_NET_BIND_SERVICE is capability 10: bit 0x400.
		[ "$cap" = 0000000000000400/0000000000000400 ] && [ "$uid" = "65534 65534 65534 65534" ] &&
			[ "$(proc_field "$BG_PID" Seccomp)" = 2 ] &&
			ok "--stack=socket: nobody with CAP_NET_BIND_SERVICE alone, under the filter" ||
			not_ok "--stack=socket: nobody with CAP_NET_BIND_SERVICE alone, under the filter" "Cap $cap Uid $uid"
		expect "--stack=socket: echo on privileged port 7 answers inside the sandbox" \
			in_s python3 "$ROOT/tests/e2e/udpcheck.py" 127.0.0.1 7 1000 3
	else
		not_ok "--stack=socket: echo binds port 7 as nobody" "$(tail -5 "$WORK/sock.log")"
	fi
	bg_stop
	[ "$BG_RC" = 0 ] && ok "--stack=socket: SIGTERM stops it with status 0" ||
		not_ok "--stack=socket: SIGTERM stops it with status 0" "status $BG_RC" "$(tail -5 "$WORK/sock.log")"
fi
finish
