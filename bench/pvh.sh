#!/usr/bin/env bash
# bench/pvh.sh - the pvh target's figures under QEMU (software emulation
# here): image sizes, the smallest guest RAM in which echo boots and
# answers, wall time from QEMU's start to echo's first UDP answer next to
# an image that exits at once, the guest's own time from entry to ready
# (read from its TSC), and where boot spends it (atoll.boot-stages).
# Prints Markdown.
#
#   bench/pvh.sh [RUNS]
# Not a test: figures go in bench/RESULTS.md with this command.
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-5}
make -s TARGET=pvh || exit 1
E2E_ID=benchpvh
source tests/e2e/lib.sh
net_up
ATOLL=tools/atoll

# machine_args VARIANT: the launcher's options for microvm, microvm-noacpi
# (acpi=off, devices on the command line as on Firecracker) or q35.
machine_args() {
	case $1 in
	*-noacpi) echo "-M ${1%-noacpi} --no-acpi" ;;
	*) echo "-M $1" ;;
	esac
}

# first_answer VARIANT MEM: ms from QEMU's start to echo's first UDP
# answer (a datagram every 2 ms from the client), and the guest's log.
first_answer() {
	local log=$WORK/echo-$1-$2.log
	ip netns exec "$NS_C" python3 - "$ATOLL" "$NS_S" "$(machine_args "$1")" "$2" "$log" <<'PY'
import os, shlex, socket, subprocess, sys, time
atoll, ns, machine, mem, log = sys.argv[1:]
# Time QEMU itself, not the launcher's Python start-up: take its command.
cmd = subprocess.run([atoll, "run", "--dry-run"] + machine.split() + ["-m", mem, "--net", "service=tap0",
                      "echo", "ipv4=10.77.0.2/24"], capture_output=True, text=True).stdout
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
t0 = time.monotonic()
p = subprocess.Popen(["ip", "netns", "exec", ns] + shlex.split(cmd),
                     stdout=open(log, "w"), stderr=subprocess.STDOUT)
t = None
while time.monotonic() - t0 < 20:
    try:
        s.sendto(b"x", ("10.77.0.2", 7))
    except OSError:
        pass
    time.sleep(0.002)
    try:
        s.recv(10)
        t = time.monotonic() - t0
        break
    except OSError:
        pass
p.terminate()
p.wait()
print("%.0f" % (t * 1000) if t is not None else "none")
PY
	ip netns exec "$NS_C" ip neigh flush dev c0
}

# exit_at_once VARIANT: ms for hello to boot and exit.
exit_at_once() {
	local t0 t1 cmd
	# shellcheck disable=SC2046
	cmd=$("$ATOLL" run --dry-run $(machine_args "$1") -m 32M hello)
	t0=$(date +%s%N)
	eval "$cmd" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "### pvh images (gcc -O2, stripped)"
echo
echo "| image | bytes | KiB |"
echo "|---|---:|---:|"
for a in hello echo; do
	sz=$(stat -c %s build/pvh/$a.elf)
	echo "| build/pvh/$a.elf | $sz | $((sz / 1024)) |"
done
echo

echo "### smallest guest RAM for echo to boot and answer (microvm)"
echo
smallest=none
for kib in 4096 3072 2048 1792 1536 1408 1280 1152 1024; do
	r=$(first_answer microvm ${kib}K)
	[ "$r" = none ] && break
	smallest=${kib}K
done
echo "echo answers UDP with \`-m $smallest\`; the next step down (128-256 KiB less) does not boot or answer."
echo

echo "### boot times (median of $RUNS runs)"
echo
echo "Wall ms from starting QEMU (the launcher's own Python start-up, about 0.1 s, left out);"
echo "guest µs from the PVH entry, read from the guest's TSC: to the platform handing over"
echo "to the app, and to echo logging that it listens."
echo
echo "| machine | hello: boot and exit (wall ms) | echo: first UDP answer (wall ms) | echo: entry to app (guest µs) | echo: entry to ready (guest µs) |"
echo "|---|---:|---:|---:|---:|"
for m in microvm microvm-noacpi q35; do
	h=$(for i in $(seq "$RUNS"); do exit_at_once $m; done | median)
	: >"$WORK/e" >"$WORK/p" >"$WORK/g"
	for i in $(seq "$RUNS"); do
		first_answer $m 32M >>"$WORK/e"
		log=$WORK/echo-$m-32M.log
		sed -n 's/.*ready after \([0-9]*\) us.*/\1/p' "$log" >>"$WORK/p"
		# The log line's stamp is monotonic time since entry (TSC-based).
		sed -n 's/^\[ *\([0-9]*\)\.\([0-9]*\)\] .*echo service on UDP port 7.*/\1\2/p' "$log" |
			sed 's/^0*//; s/^$/0/' >>"$WORK/g"
	done
	echo "| $m | $h | $(median <"$WORK/e") | $(median <"$WORK/p") | $(median <"$WORK/g") |"
done
echo

echo "### where boot spends its time (hello, guest µs per stage, median of $RUNS runs)"
echo
echo 'From `atoll.boot-stages` (platform/pvh/plat.c names what each stage does).'
echo
stages="console paging acpi ioapic clock virtio button entropy"
echo "| machine | $(echo $stages | sed 's/ / | /g') | total |"
echo "|---|$(for s in $stages; do printf -- '---:|'; done)---:|"
for m in microvm microvm-noacpi q35; do
	: >"$WORK/st"
	for i in $(seq "$RUNS"); do
		# shellcheck disable=SC2046
		"$ATOLL" run $(machine_args $m) hello atoll.boot-stages 2>/dev/null |
			sed -n 's/^atoll: boot stages, us since entry: //p' >>"$WORK/st"
	done
	row="| $m |"
	prev=0
	for s in $stages; do
		# each stage's own time: its stamp minus the one before, per run
		v=$(awk -v s="$s" -v p="$prev" '{ for (i = 1; i < NF; i += 2) if ($i == s) t = $(i + 1);
			for (i = 1; i < NF; i += 2) if ($i == p) b = $(i + 1); print t - (p == "0" ? 0 : b) }' "$WORK/st" | median)
		row="$row $v |"
		prev=$s
	done
	tot=$(awk '{ print $NF }' "$WORK/st" | median)
	echo "$row $tot |"
done
