#!/usr/bin/env bash
# test_dns_pvh.sh - the DNS unikernel as a PVH virtual machine under QEMU
# (microvm, software emulation): virtio-net on a TAP device, the zones as a
# tar archive on a virtio-blk disk, dig answers over UDP and TCP, then a
# clean stop through the ACPI power button; a TSIG-signed update journaled
# on a second virtio-blk disk is still there after the VM boots again.
source "$(dirname "$0")/lib.sh"
ATOLL=$ROOT/tools/atoll
DATA=$ROOT/tests/e2e/test_dns_data

if ! command -v qemu-system-x86_64 >/dev/null; then
	not_ok "qemu-system-x86_64 is installed (sh tools/deps.sh)"
	finish
fi
if ! (cd "$ROOT" && make -s TARGET=pvh build/pvh/dns.elf) >"$WORK/build.log" 2>&1; then
	not_ok "build/pvh/dns.elf builds" "$(tail -5 "$WORK/build.log")"
	finish
fi
ok "build/pvh/dns.elf builds"

net_up
KEY=cHZoLXVwZGF0ZS1rZXktZm9yLWF0b2xsLXRlc3RzMDA=
echo "key upd { algorithm hmac-sha256; secret \"$KEY\"; };" >"$WORK/keys"
cp "$DATA"/example.zone "$DATA"/sub.example.zone "$DATA"/other.test.zone "$DATA"/other-hosts.inc \
	"$WORK/"
(cd "$WORK" && tar --format=ustar -cf zones.tar example.zone sub.example.zone \
	other.test.zone other-hosts.inc keys)
truncate -s 1M "$WORK/journal"
chmod a+rw "$WORK/zones.tar" "$WORK/journal"
log=$WORK/dns-pvh.log
# Not lib.sh's start_uk: "ip netns exec" execs timeout, which passes
# SIGTERM on to the launcher, which presses the guest's power button.
boot() {
	ip netns exec "$NS_S" timeout 300 "$ATOLL" run -M microvm -m 64M --net service=tap0 \
		--block zones="$WORK/zones.tar" --block journal="$WORK/journal" dns \
		ipv4=10.77.0.2/24 mac=02:00:00:77:00:02 update-allow=upd >"$1" 2>&1 &
	UK_PID=$!
	PIDS+=($UK_PID)
}
boot "$log"
if wait_for_log "$log" "zones on port 53" 90; then
	ok "pvh: dns starts with the zones from the virtio-blk disk"
else
	not_ok "pvh: dns starts with the zones from the virtio-blk disk" "$(tail -5 "$log")"
fi
grep -q "zone other.test. serial 7" "$log" && ok "pvh: all three zones loaded" ||
	not_ok "pvh: all three zones loaded" "$(grep zone "$log")"
out=$(in_c dig +norec +time=5 +tries=3 @10.77.0.2 www.example. A)
echo "$out" | grep -q "status: NOERROR" && echo "$out" | grep -q "192.0.2.8[01]" &&
	ok "pvh: dig over UDP" || not_ok "pvh: dig over UDP" "$out"
out=$(in_c dig +norec +tcp +time=5 +tries=3 @10.77.0.2 big.example. TXT)
echo "$out" | grep -q "ANSWER: 7," && ok "pvh: dig over TCP (a 1.4 KB answer)" ||
	not_ok "pvh: dig over TCP (a 1.4 KB answer)" "$out"
out=$(in_c dig +norec +time=5 +tries=3 @10.77.0.2 nope.other.test. A)
echo "$out" | grep -q "status: NXDOMAIN" && ok "pvh: NXDOMAIN from the second zone" ||
	not_ok "pvh: NXDOMAIN from the second zone" "$out"
out=$(printf 'server 10.77.0.2 53\nzone example.\nupdate add pvh-new.example. 60 A 192.0.2.44\nsend\n' |
	in_c nsupdate -t 10 -y hmac-sha256:upd:$KEY 2>&1)
[ "$(in_c dig +short +time=5 +tries=3 @10.77.0.2 pvh-new.example. A)" = 192.0.2.44 ] &&
	ok "pvh: nsupdate with TSIG adds a record, journaled on virtio-blk" ||
	not_ok "pvh: nsupdate with TSIG adds a record, journaled on virtio-blk" "$out" "$(tail -3 "$log")"
kill -TERM "$UK_PID" 2>/dev/null
rc=0
wait "$UK_PID" || rc=$?
if [ $rc = 0 ] && grep -q "stopping: stop requested" "$log" && grep -q "^counter dns.answered [1-9]" "$log"; then
	ok "pvh: SIGTERM stops dns through the power button: counters, status 0"
else
	not_ok "pvh: SIGTERM stops dns through the power button: counters, status 0" "status $rc" \
		"$(grep -v "^counter" "$log" | tail -5)"
fi
boot "$WORK/dns-pvh2.log"
wait_for_log "$WORK/dns-pvh2.log" "zones on port 53" 90
[ "$(in_c dig +short +time=5 +tries=3 @10.77.0.2 pvh-new.example. A)" = 192.0.2.44 ] &&
	grep -q "journal: 1 records" "$WORK/dns-pvh2.log" &&
	ok "pvh: booted again, the journal on virtio-blk replays the update" ||
	not_ok "pvh: booted again, the journal on virtio-blk replays the update" \
		"$(grep -i journal "$WORK/dns-pvh2.log")"
kill -TERM "$UK_PID" 2>/dev/null
wait "$UK_PID"
finish
