#!/usr/bin/env bash
# test_pvh.sh - the pvh target under QEMU's software emulation (no KVM):
# hello's arguments and exit status on microvm, q35 and pc; crash reports
# with backtraces and a failure status (never 0, even for a triple fault);
# VMM words kept from the app; ACPI S5 power-off without isa-debug-exit;
# block I/O, entropy, the clocks and several network devices (pvhcheck) on
# every virtio transport and both ways of finding microvm's devices (ACPI
# DSDT, command line); echo answering ping and UDP through a TAP device on
# virtio-mmio legacy and modern (microvm) and virtio-pci (q35), with a
# pcap, then stopped by SIGTERM through the launcher (the guest's ACPI
# power button: counters and status 0); the launcher's gdb and Firecracker
# outputs.
source "$(dirname "$0")/lib.sh"
ATOLL=$ROOT/tools/atoll
B=$ROOT/build/pvh
UDPCHECK=$ROOT/tests/e2e/udpcheck.py

if make -C "$ROOT" -s TARGET=pvh all pvh-tests >"$WORK/build.log" 2>&1; then
	ok "make TARGET=pvh builds the images"
else
	not_ok "make TARGET=pvh builds the images" "$(tail -5 "$WORK/build.log")"
	finish
fi

# run LOG ARGS...: tools/atoll run; its status is the guest's.
run() {
	local log=$1
	shift
	timeout 120 "$ATOLL" run --timeout 100 "$@" >"$log" 2>&1
}

# ---- the image ----
if readelf -lW "$B/hello.elf" | grep -q NOTE && readelf -nW "$B/hello.elf" | grep -q "Xen.*0x00000008"; then
	ok "hello.elf is ELF64 with the Xen PVH entry note"
else
	not_ok "hello.elf is ELF64 with the Xen PVH entry note" "$(readelf -nW "$B/hello.elf" 2>&1 | head -5)"
fi
if ! readelf -SW "$B/hello.elf" | grep -q "\.symtab" && nm "$B/hello.dbg.elf" | grep -q " [tT] hello_main$"; then
	ok "hello.elf is stripped; hello.dbg.elf keeps the symbols"
else
	not_ok "hello.elf is stripped; hello.dbg.elf keeps the symbols"
fi

# ---- hello: arguments and exit status ----
for m in microvm q35 pc; do
	run "$WORK/hello-$m.log" -M $m hello alpha=1 status=0
	rc=$?
	if [ $rc = 0 ] && grep -q 'arg\[0\] = "alpha=1"' "$WORK/hello-$m.log"; then
		ok "hello on $m prints its boot arguments and exits 0"
	else
		not_ok "hello on $m prints its boot arguments and exits 0" "status $rc" "$(tail -5 "$WORK/hello-$m.log")"
	fi
	[ $m = pc ] && continue
	for s in 3 200; do
		run "$WORK/hello-$m-$s.log" -M $m hello status=$s
		rc=$?
		[ $rc = $s ] && ok "hello on $m: status=$s gives exit status $s" ||
			not_ok "hello on $m: status=$s gives exit status $s" "got $rc" "$(tail -3 "$WORK/hello-$m-$s.log")"
	done
done
# VMM words (microvm without ACPI lists its devices on the command line)
# are the platform's: the app never sees them.
run "$WORK/hello-words.log" -M microvm --no-acpi hello alpha=1 acpi=off atoll.boot-stages
rc=$?
if [ $rc = 0 ] && grep -q "hello from atoll: 1 boot argument," "$WORK/hello-words.log" &&
	! grep -q "virtio_mmio\|acpi=off\|arg.*atoll.boot-stages" "$WORK/hello-words.log"; then
	ok "VMM and platform words (virtio_mmio.device=, acpi=off, atoll.boot-stages) are not the app's"
else
	not_ok "VMM and platform words (virtio_mmio.device=, acpi=off, atoll.boot-stages) are not the app's" "status $rc" "$(cat "$WORK/hello-words.log")"
fi
grep -q "^atoll: boot stages, us since entry: console [0-9]* .* entropy [0-9]*$" "$WORK/hello-words.log" &&
	ok "atoll.boot-stages prints where boot spent its time" ||
	not_ok "atoll.boot-stages prints where boot spent its time" "$(head -3 "$WORK/hello-words.log")"
# Without isa-debug-exit the guest powers off through ACPI S5 (PM1a_CNT
# on q35, the hardware-reduced sleep control register on microvm): QEMU
# exits 0 and the status is the console line's.
for m in q35 microvm; do
	for s in 0 3; do
		run "$WORK/s5-$m-$s.log" -M $m --no-debug-exit hello status=$s
		rc=$?
		if [ $rc = $s ] && grep -q "ACPI S5 power-off" "$WORK/s5-$m-$s.log"; then
			ok "$m without isa-debug-exit: ACPI S5 power-off, status $s"
		else
			not_ok "$m without isa-debug-exit: ACPI S5 power-off, status $s" "status $rc" "$(tail -3 "$WORK/s5-$m-$s.log")"
		fi
	done
done
run "$WORK/hello-2m.log" -M microvm -m 2M hello
rc=$?
[ $rc = 0 ] && ok "hello boots in 2 MiB on microvm" || not_ok "hello boots in 2 MiB on microvm" "status $rc" "$(tail -3 "$WORK/hello-2m.log")"

# ---- crashes: reported with a backtrace, never a success ----
# mode expected-text function-in-backtrace
while read -r mode text fn; do
	run "$WORK/crash-$mode.log" build/pvh/test/crash.elf mode=$mode
	rc=$?
	if [ $rc = 70 ] && grep -q "$text" "$WORK/crash-$mode.log" && grep -q "^backtrace:" "$WORK/crash-$mode.log" &&
		grep -q "^  #[0-9 ]* 0x[0-9a-f]* $fn[.a-z0-9]*+0x" "$WORK/crash-$mode.log"; then
		ok "crash mode=$mode: '$text', backtrace names $fn, status 70"
	else
		not_ok "crash mode=$mode: '$text', backtrace names $fn, status 70" "status $rc" "$(head -12 "$WORK/crash-$mode.log")"
	fi
done <<'CASES'
null page.fault.(write,.NULL.pointer.dereference).*at.address.0x0 crash_main
stack stack.overflow.into.the.guard.page crash_recurse
assert assertion.failed.at.tests/pvh/crash.c crash_main
smash stack.smashing.detected crash_smash
ud invalid.opcode crash_main
CASES
run "$WORK/crash-q35.log" -M q35 build/pvh/test/crash.elf mode=null
rc=$?
[ $rc = 70 ] && grep -q "crash_main+0x" "$WORK/crash-q35.log" && ok "crash on q35: backtrace and status 70" ||
	not_ok "crash on q35: backtrace and status 70" "status $rc" "$(head -8 "$WORK/crash-q35.log")"
run "$WORK/crash-triple.log" build/pvh/test/crash.elf mode=triple
rc=$?
[ $rc = 125 ] && ok "a triple fault (QEMU exits 0) is a failure (125), not a success" ||
	not_ok "a triple fault (QEMU exits 0) is a failure (125), not a success" "status $rc" "$(tail -3 "$WORK/crash-triple.log")"

# ---- Debian's libbearssl.a and libz.a, unchanged, inside the guest ----
run "$WORK/kat.log" build/pvh/test/kat.elf
rc=$?
n=$(grep -c "^kat [a-z0-9-]* ok$" "$WORK/kat.log")
[ $rc = 0 ] && [ "$n" = 7 ] && ok "known answers from BearSSL (SHA-256, HMAC, AES-GCM) and zlib (inflate) in the guest" ||
	not_ok "known answers from BearSSL (SHA-256, HMAC, AES-GCM) and zlib (inflate) in the guest" "status $rc" "$(grep "^kat" "$WORK/kat.log")"
run "$WORK/rdrand.log" --cpu max --no-rng build/pvh/test/pvhcheck.elf
rc=$?
[ $rc = 0 ] && grep -q "^entropy [0-9a-f]\{32\}$" "$WORK/rdrand.log" && ok "entropy from RDRAND with -cpu max and no virtio-rng" ||
	not_ok "entropy from RDRAND with -cpu max and no virtio-rng" "status $rc" "$(tail -4 "$WORK/rdrand.log")"

# ---- pvhcheck: block, entropy, clocks, waits, two NICs, on each transport ----
net_up
in_s ip tuntap add dev tap1 mode tap
in_s ip link set tap1 up
pattern_check() { # FILE: the guest's pattern at 1 MiB, and the host's data kept
	python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
want = bytes(((i * 7 + (i >> 9)) & 0xff) for i in range(192 * 1024))
host = bytes(i % 251 for i in range(65536))
sys.exit(0 if d[1 << 20:(1 << 20) + len(want)] == want and d[:65536] == host else 1)
PY
}
for variant in microvm microvm-modern microvm-noacpi q35; do
	m=${variant%-*}
	extra=()
	[ "$variant" = microvm-modern ] && extra=(--modern)
	[ "$variant" = microvm-noacpi ] && extra=(--no-acpi)
	disk=$WORK/disk-$variant.img
	python3 -c "import sys; open(sys.argv[1],'wb').write(bytes(i % 251 for i in range(65536)) + bytes(4 * 1024 * 1024 - 65536))" "$disk"
	log=$WORK/check-$variant.log
	in_s timeout 120 "$ATOLL" run --timeout 100 -M "$m" "${extra[@]}" \
		--net first=tap0,mac=02:00:00:00:00:01 --net second=tap1,mac=02:00:00:00:00:02 \
		--block disk="$disk" build/pvh/test/pvhcheck.elf >"$log" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -q "check block-readback ok" "$log" && grep -q "check block-host-data ok" "$log" &&
		grep -q "check block-flush ok" "$log"; then
		ok "$variant: block write, flush, read back and the host's data"
	else
		not_ok "$variant: block write, flush, read back and the host's data" "status $rc" "$(grep -v "^atoll: TSC" "$log" | tail -8)"
	fi
	pattern_check "$disk" && ok "$variant: the guest's writes are in the file after exit" ||
		not_ok "$variant: the guest's writes are in the file after exit"
	if grep -q "net first handle 0 mac 02:00:00:00:00:01" "$log" && grep -q "net second handle 1 mac 02:00:00:00:00:02" "$log"; then
		ok "$variant: two network devices, in the order given"
	else
		not_ok "$variant: two network devices, in the order given" "$(grep "^net " "$log")"
	fi
	grep -q "check wait-50ms ok" "$log" && ok "$variant: plat_wait sleeps until its deadline" ||
		not_ok "$variant: plat_wait sleeps until its deadline" "$(grep wait-50ms "$log")"
	grep -q "check wall-clock ok" "$log" && ok "$variant: wall clock from the RTC" ||
		not_ok "$variant: wall clock from the RTC" "$(grep wall-clock "$log")"
	grep "^entropy " "$log" >>"$WORK/entropy"
done
if [ "$(sort -u "$WORK/entropy" | wc -l)" = 4 ] && ! grep -q "entropy 00000000000000000000000000000000" "$WORK/entropy"; then
	ok "entropy from virtio-rng differs on every boot"
else
	not_ok "entropy from virtio-rng differs on every boot" "$(cat "$WORK/entropy")"
fi

# ---- echo: ping and UDP through a TAP device ----
for variant in microvm microvm-modern q35; do
	m=${variant%-modern}
	extra=()
	[ "$variant" = microvm-modern ] && extra=(--modern)
	log=$WORK/echo-$variant.log
	pcap=$WORK/echo-$variant.pcap
	# Not lib.sh's start_uk: its $! is a subshell, and killing that would
	# leave QEMU holding tap0.  "ip netns exec" execs timeout, which passes
	# SIGTERM on to the launcher, which ends QEMU.
	ip netns exec "$NS_S" timeout 300 "$ATOLL" run -M "$m" "${extra[@]}" --net service=tap0 \
		--pcap service="$pcap" echo ipv4=10.77.0.2/24 mac=02:00:00:77:00:02 >"$log" 2>&1 &
	UK_PID=$!
	PIDS+=($UK_PID)
	if wait_for_log "$log" "echo service on UDP port 7" 60; then
		ok "$variant: echo starts"
	else
		not_ok "$variant: echo starts" "$(tail -5 "$log")"
	fi
	expect "$variant: ping gets replies" in_c ping -c 3 -i 0.2 -W 5 10.77.0.2
	for size in 1 1472 8000; do
		expect "$variant: UDP echo of $size-byte datagrams" in_c python3 "$UDPCHECK" 10.77.0.2 7 "$size" 3
	done
	# SIGTERM to the launcher presses the guest's ACPI power button (QMP
	# system_powerdown): echo stops, prints its counters and exits 0.
	kill -TERM "$UK_PID" 2>/dev/null
	rc=0
	wait "$UK_PID" || rc=$?
	in_c ip neigh flush dev c0
	if [ $rc = 0 ] && grep -q "stopping: stop requested" "$log" && grep -q "^counter echo.echoed [1-9]" "$log" &&
		grep -q "^atoll: exit status 0" "$log"; then
		ok "$variant: SIGTERM stops echo through the power button: counters, status 0"
	else
		not_ok "$variant: SIGTERM stops echo through the power button: counters, status 0" "status $rc" "$(grep -v "^counter" "$log" | tail -5)"
	fi
	if tcpdump -nr "$pcap" 2>/dev/null | grep -q "ICMP echo reply"; then
		ok "$variant: --pcap records the device's frames"
	else
		not_ok "$variant: --pcap records the device's frames" "$(tcpdump -nr "$pcap" 2>&1 | head -3)"
	fi
done

# Without ACPI (microvm acpi=off, as on Firecracker) there is no power
# button: the launcher says so, ends QEMU and reports the signal.
log=$WORK/echo-noacpi.log
ip netns exec "$NS_S" timeout 300 "$ATOLL" run -M microvm --no-acpi --net service=tap0 \
	echo ipv4=10.77.0.2/24 >"$log" 2>&1 &
UK_PID=$!
PIDS+=($UK_PID)
if wait_for_log "$log" "echo service on UDP port 7" 60; then
	expect "microvm without ACPI: ping gets replies" in_c ping -c 2 -i 0.2 -W 5 10.77.0.2
	kill -TERM "$UK_PID" 2>/dev/null
	rc=0
	wait "$UK_PID" || rc=$?
	in_c ip neigh flush dev c0
	[ $rc = 143 ] && grep -q "has no power button" "$log" &&
		ok "microvm without ACPI: SIGTERM ends QEMU, status 128+15, and says why" ||
		not_ok "microvm without ACPI: SIGTERM ends QEMU, status 128+15, and says why" "status $rc" "$(tail -3 "$log")"
else
	not_ok "microvm without ACPI: echo starts" "$(tail -5 "$log")"
fi

# Issue #3's memory aim: echo boots and answers in 2 MiB of guest RAM on
# microvm, with its TCP side sized to fit (4 connections of 2 x 8 KiB).
log=$WORK/echo-2m.log
ip netns exec "$NS_S" timeout 300 "$ATOLL" run -M microvm -m 2M --net service=tap0 \
	echo ipv4=10.77.0.2/24 tcp-conns=4 tcp-buf=8192 >"$log" 2>&1 &
UK_PID=$!
PIDS+=($UK_PID)
if wait_for_log "$log" "echo service on UDP port 7" 60; then
	expect "echo in 2 MiB: ping gets replies" in_c ping -c 2 -i 0.2 -W 5 10.77.0.2
	expect "echo in 2 MiB: UDP echo of 8000-byte datagrams" in_c python3 "$UDPCHECK" 10.77.0.2 7 8000 3
	kill -TERM "$UK_PID" 2>/dev/null
	rc=0
	wait "$UK_PID" || rc=$?
	in_c ip neigh flush dev c0
	[ $rc = 0 ] && ok "echo in 2 MiB: stops with status 0" || not_ok "echo in 2 MiB: stops with status 0" "status $rc"
else
	not_ok "echo in 2 MiB of guest RAM starts" "$(tail -5 "$log")"
fi

# ---- the launcher's other outputs ----
cmd=$("$ATOLL" run --dry-run --gdb echo ipv4=10.0.0.2/24)
case "$cmd" in
*"-gdb tcp::1234 -S"*"-kernel $B/echo.dbg.elf"*) ok "--gdb boots the debug twin with QEMU's gdb server" ;;
*) not_ok "--gdb boots the debug twin with QEMU's gdb server" "$cmd" ;;
esac
if "$ATOLL" firecracker -m 2M --net tap0 --block "$WORK/disk-q35.img" echo ipv4=10.0.0.2/24 |
	python3 -c 'import json,sys; c=json.load(sys.stdin); assert c["boot-source"]["kernel_image_path"].endswith("echo.elf"); assert c["network-interfaces"][0]["host_dev_name"]=="tap0"; assert c["machine-config"]["mem_size_mib"]==2' 2>"$WORK/fc.err"; then
	ok "a Firecracker configuration for the same image"
else
	not_ok "a Firecracker configuration for the same image" "$(cat "$WORK/fc.err")"
fi
finish
