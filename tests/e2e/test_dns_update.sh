#!/usr/bin/env bash
# test_dns_update.sh - dynamic updates (RFC 2136) signed with TSIG
# (RFC 8945) sent by nsupdate to the atoll DNS unikernel; prerequisites and
# refusals answered as RFC 2136 and RFC 8945 say; the journal on a second
# block device keeps an acknowledged update across kill -9 and a restart;
# Knot and NSD as TSIG-signed secondaries transfer the zone (AXFR) and then
# the updates (IXFR, as differences).  kdig checks the IXFR's form directly.
source "$(dirname "$0")/lib.sh"
DNS=$ROOT/build/hosted/dns

for tool in nsupdate knotd knotc dig kdig; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done

net_up
# Two keys: one for updates, one for transfers (each allowed one thing).
UPD=dXBkYXRlLWtleS1mb3ItYXRvbGwtdGVzdHMtMDAwMDA=
XFR=eGZyLWtleS1mb3ItYXRvbGwtdGVzdHMtMDAwMDAwMDA=
cat >"$WORK/keys" <<EOF
# BIND key syntax: what tsig-keygen writes and nsupdate -k reads
key "upd" {
	algorithm hmac-sha256;
	secret "$UPD";
};
key "xfr" { algorithm hmac-sha256; secret "$XFR"; };
EOF
cat >"$WORK/example.test.zone" <<'EOF'
$ORIGIN example.test.
$TTL 300
@     SOA  ns1 hostmaster 1 2 2 86400 300
      NS   ns1
ns1   A    10.77.0.2
www   A    192.0.2.80
old   TXT  "to be deleted"
EOF
(cd "$WORK" && tar --format=ustar -cf zones.tar example.test.zone keys)
truncate -s 1M "$WORK/journal"
chmod a+rw "$WORK/zones.tar" "$WORK/journal"
ARGS=(--mem=32M --net:service=tap0 --block:zones="$WORK/zones.tar" --block:journal="$WORK/journal"
	ipv4=10.77.0.2/24 mac=02:00:00:77:00:02 update-allow=upd@example.test axfr-allow=key:xfr)
start_uk "$WORK/dns.log" "$DNS" "${ARGS[@]}"
if wait_for_log "$WORK/dns.log" "zones on port 53" && grep -q "2 TSIG keys" "$WORK/dns.log"; then
	ok "atoll starts with the zone, two TSIG keys and a new journal"
else
	not_ok "atoll starts with the zone, two TSIG keys and a new journal" "$(tail -5 "$WORK/dns.log")"
fi

# nsupdate from the client namespace; prints its own errors on stderr.
upd() { # upd KEYSPEC COMMANDS...
	local key=$1
	shift
	{
		echo "server 10.77.0.2 53"
		echo "zone example.test."
		printf '%s\n' "$@"
		echo send
	} | in_c nsupdate -t 3 ${key:+-y "$key"} 2>&1
}
q() { in_c dig +short +time=2 +tries=1 @10.77.0.2 "$@"; }
serial() { q example.test. SOA | awk '{print $3}'; }

# Asked before each update, twice, so the response cache holds the old
# answers: the updates must still be seen by the next query.
[ -z "$(q new.example.test. A)$(q new.example.test. A)" ] && [ "$(serial)$(serial)" = 11 ] &&
	ok "before the updates: no new.example.test., serial 1 (asked twice: cached)" ||
	not_ok "before the updates: no new.example.test., serial 1" "$(serial)"
out=$(upd hmac-sha256:upd:$UPD "update add new.example.test. 300 A 192.0.2.99")
[ $? -eq 0 ] && [ "$(q new.example.test. A)" = 192.0.2.99 ] && [ "$(serial)" = 2 ] &&
	ok "nsupdate -y: an added A record is served at once, serial 1 -> 2" ||
	not_ok "nsupdate -y: an added A record is served at once, serial 1 -> 2" "$out" "$(q new.example.test. A) $(serial)"

out=$(upd hmac-sha256:upd:$UPD "prereq nxdomain www.example.test." "update add x.example.test. 60 A 192.0.2.1")
echo "$out" | grep -q "YXDOMAIN" && ok "prerequisite 'name not in use' fails: YXDOMAIN" ||
	not_ok "prerequisite 'name not in use' fails: YXDOMAIN" "$out"
out=$(upd hmac-sha256:upd:$UPD "prereq yxrrset www.example.test. A 192.0.2.81" "update add x.example.test. 60 A 192.0.2.1")
echo "$out" | grep -q "NXRRSET" && ok "prerequisite 'RRset exists (value dependent)' fails: NXRRSET" ||
	not_ok "prerequisite 'RRset exists (value dependent)' fails: NXRRSET" "$out"
out=$(upd hmac-sha256:upd:$UPD "prereq nxrrset www.example.test. A" "update add x.example.test. 60 A 192.0.2.1")
echo "$out" | grep -q "YXRRSET" && ok "prerequisite 'RRset does not exist' fails: YXRRSET" ||
	not_ok "prerequisite 'RRset does not exist' fails: YXRRSET" "$out"
out=$(upd hmac-sha256:upd:$UPD "update add x.elsewhere.test. 60 A 192.0.2.1")
echo "$out" | grep -q "NOTZONE" && ok "a record outside the zone: NOTZONE" ||
	not_ok "a record outside the zone: NOTZONE" "$out"
[ -z "$(q x.example.test. A)" ] && [ "$(serial)" = 2 ] &&
	ok "failed updates change nothing (serial still 2)" ||
	not_ok "failed updates change nothing (serial still 2)" "$(serial)"

out=$(upd "" "update add x.example.test. 60 A 192.0.2.1")
echo "$out" | grep -q "REFUSED" && ok "an unsigned update is REFUSED" ||
	not_ok "an unsigned update is REFUSED" "$out"
out=$(upd hmac-sha256:xfr:$XFR "update add x.example.test. 60 A 192.0.2.1")
echo "$out" | grep -q "REFUSED" && ok "an update signed with a key not in update-allow= is REFUSED" ||
	not_ok "an update signed with a key not in update-allow= is REFUSED" "$out"
out=$(upd hmac-sha256:upd:$XFR "update add x.example.test. 60 A 192.0.2.1")
echo "$out" | grep -q "NOTAUTH(BADSIG)" && ok "a wrong secret: NOTAUTH (BADSIG), as NSD and Knot answer" ||
	not_ok "a wrong secret: NOTAUTH (BADSIG), as NSD and Knot answer" "$out"
out=$(upd hmac-sha256:nobody:$UPD "update add x.example.test. 60 A 192.0.2.1")
echo "$out" | grep -q "NOTAUTH(BADKEY)" && ok "an unknown key: NOTAUTH (BADKEY)" ||
	not_ok "an unknown key: NOTAUTH (BADKEY)" "$out"
[ -z "$(q x.example.test. A)" ] && grep -q "TSIG BADSIG" "$WORK/dns.log" &&
	ok "refused updates change nothing and are logged" ||
	not_ok "refused updates change nothing and are logged" "$(tail -3 "$WORK/dns.log")"

# nsupdate over TCP (-v), the key given by its "key" command.
q old.example.test. TXT >/dev/null
q www.example.test. A >/dev/null
out=$({
	echo "server 10.77.0.2 53"
	echo "zone example.test."
	echo "key hmac-sha256:upd $UPD"
	echo "update delete old.example.test. TXT"
	echo "update delete www.example.test. A 192.0.2.80"
	echo "update add www.example.test. 300 A 192.0.2.81"
	echo send
} | in_c nsupdate -v -t 3 2>&1)
[ $? -eq 0 ] && [ -z "$(q old.example.test. TXT)" ] && [ "$(q www.example.test. A)" = 192.0.2.81 ] &&
	[ "$(serial)" = 3 ] &&
	ok "nsupdate over TCP: an RRset deleted, an RR replaced, serial 3" ||
	not_ok "nsupdate over TCP: an RRset deleted, an RR replaced, serial 3" "$out" "$(serial)"

# ---- Knot as a secondary with the transfer key ----
mkdir -p "$WORK/ksec"
chmod a+rwx "$WORK/ksec"
cat >"$WORK/knot.conf" <<EOF
server:
    listen: 10.77.0.3@5304
    rundir: "$WORK/ksec"
database:
    storage: "$WORK/ksec"
control:
    listen: "$WORK/ksec/knot.sock"
log:
  - target: stderr
    any: info
key:
  - id: xfr
    algorithm: hmac-sha256
    secret: $XFR
remote:
  - id: atoll
    address: 10.77.0.2@53
    key: xfr
zone:
  - domain: example.test.
    master: atoll
    storage: "$WORK/ksec"
    zonefile-sync: -1
    journal-content: changes
EOF
ip netns exec "$NS_S" knotd -c "$WORK/knot.conf" >"$WORK/knot.out" 2>&1 &
PIDS+=($!)
kq() { in_c dig +short +norec +time=1 +tries=1 -p 5304 @10.77.0.3 "$@" 2>/dev/null; }
for i in $(seq 100); do
	[ "$(kq example.test. SOA | awk '{print $3}')" = 3 ] && break
	sleep 0.2
done
[ "$(kq www.example.test. A)" = 192.0.2.81 ] && grep -q "AXFR, incoming.*finished" "$WORK/knot.out" &&
	ok "Knot transfers the updated zone (AXFR, TSIG key xfr) and serves serial 3" ||
	not_ok "Knot transfers the updated zone (AXFR, TSIG key xfr) and serves serial 3" "$(tail -5 "$WORK/knot.out")"

upd hmac-sha256:upd:$UPD "update add ixfr1.example.test. 300 A 192.0.2.101" >/dev/null
upd hmac-sha256:upd:$UPD "update add ixfr2.example.test. 300 AAAA 2001:db8::102" \
	"update delete new.example.test. A" >/dev/null
knotc -s "$WORK/ksec/knot.sock" zone-refresh example.test. >/dev/null 2>&1
for i in $(seq 100); do
	[ "$(kq example.test. SOA | awk '{print $3}')" = 5 ] && break
	sleep 0.2
done
[ "$(kq ixfr2.example.test. AAAA)" = 2001:db8::102 ] && [ -z "$(kq new.example.test. A)" ] &&
	grep -q "IXFR, incoming.*finished" "$WORK/knot.out" && ! grep -q "fallback to AXFR" "$WORK/knot.out" &&
	ok "after two updates Knot refreshes by IXFR (differences, not the whole zone): serial 5" ||
	not_ok "after two updates Knot refreshes by IXFR (differences, not the whole zone): serial 5" \
		"$(grep -E 'XFR|refresh' "$WORK/knot.out" | tail -6)"

# ---- NSD as a secondary too (in the client namespace, so its address
# tells its transfers from Knot's in atoll's log); SOA refresh is 2 s.
mkdir -p "$WORK/nsd"
cat >"$WORK/nsd/nsd.conf" <<EOF
server:
	ip-address: 10.77.0.1@5305
	username: ""
	chroot: ""
	zonesdir: "$WORK/nsd"
	database: ""
	zonelistfile: "$WORK/nsd/zone.list"
	xfrdfile: "$WORK/nsd/xfrd.state"
	xfrdir: "$WORK/nsd"
	pidfile: "$WORK/nsd/nsd.pid"
	logfile: "$WORK/nsd/nsd.log"
	verbosity: 2
remote-control:
	control-enable: no
key:
	name: xfr
	algorithm: hmac-sha256
	secret: "$XFR"
zone:
	name: example.test.
	zonefile: example.test.secondary
	request-xfr: 10.77.0.2@53 xfr
EOF
ip netns exec "$NS_C" nsd -d -c "$WORK/nsd/nsd.conf" >"$WORK/nsd/out" 2>&1 &
PIDS+=($!)
nq() { in_c dig +short +norec +time=1 +tries=1 -p 5305 @10.77.0.1 "$@" 2>/dev/null; }
for i in $(seq 100); do
	[ "$(nq example.test. SOA | awk '{print $3}')" = 5 ] && break
	sleep 0.2
done
upd hmac-sha256:upd:$UPD "update add nsd.example.test. 300 A 192.0.2.53" >/dev/null
for i in $(seq 100); do
	[ "$(nq nsd.example.test. A)" = 192.0.2.53 ] && break
	sleep 0.2
done
[ "$(nq nsd.example.test. A)" = 192.0.2.53 ] && [ "$(nq ixfr2.example.test. AAAA)" = 2001:db8::102 ] &&
	grep -q "IXFR of example.test. to 10.77.0.1: serial 5 -> 6 as differences" "$WORK/dns.log" &&
	grep -q "TSIG verified with key xfr" "$WORK/nsd/nsd.log" &&
	ok "NSD as a secondary (TSIG key xfr): AXFR, then the next update by IXFR as differences" ||
	not_ok "NSD as a secondary (TSIG key xfr): AXFR, then the next update by IXFR as differences" \
		"$(grep -E "XFR of" "$WORK/dns.log" | tail -4)" "$(tail -3 "$WORK/nsd/nsd.log")"

out=$(in_c kdig +time=2 @10.77.0.2 -y hmac-sha256:xfr:$XFR example.test. IXFR=3 2>&1)
soas=$(echo "$out" | grep -c "SOA")
echo "$out" | grep -q "ixfr1.example.test." && [ "$soas" -eq 8 ] &&
	ok "kdig IXFR=3 with the key: three differences (8 SOAs), signed, verified by kdig" ||
	not_ok "kdig IXFR=3 with the key: three differences (8 SOAs), signed, verified by kdig" "$out"
out=$(in_c kdig +time=2 @10.77.0.2 example.test. AXFR 2>&1)
echo "$out" | grep -q "REFUSED" && ok "an unsigned AXFR is refused (axfr-allow=key:xfr)" ||
	not_ok "an unsigned AXFR is refused (axfr-allow=key:xfr)" "$out"

# ---- kill -9 right after an acknowledged update, restart ----
out=$(upd hmac-sha256:upd:$UPD "update add durable.example.test. 300 TXT \"survives\"")
kill -9 "$UK_PID"
wait "$UK_PID" 2>/dev/null
start_uk "$WORK/dns2.log" "$DNS" "${ARGS[@]}"
wait_for_log "$WORK/dns2.log" "zones on port 53"
[ "$(q durable.example.test. TXT)" = '"survives"' ] && [ "$(serial)" = 7 ] &&
	[ "$(q ixfr1.example.test. A)" = 192.0.2.101 ] && grep -q "journal: 6 records" "$WORK/dns2.log" &&
	ok "kill -9 after the answer, restart: the journal replays all 6 updates (serial 7)" ||
	not_ok "kill -9 after the answer, restart: the journal replays all 6 updates (serial 7)" "$out" \
		"$(grep journal "$WORK/dns2.log")"
# IXFR across the restart: the journal still has the differences.
knotc -s "$WORK/ksec/knot.sock" zone-refresh example.test. >/dev/null 2>&1
for i in $(seq 100); do
	[ "$(kq example.test. SOA | awk '{print $3}')" = 7 ] && break
	sleep 0.2
done
[ "$(kq durable.example.test. TXT)" = '"survives"' ] &&
	[ "$(grep -c "IXFR, incoming.*finished" "$WORK/knot.out")" -ge 2 ] &&
	ok "after the restart Knot catches up to serial 7, by IXFR from the replayed journal" ||
	not_ok "after the restart Knot catches up to serial 7, by IXFR from the replayed journal" \
		"$(grep -E 'XFR|refresh' "$WORK/knot.out" | tail -4)"

# ---- a crash in the middle of writing a record: torn, ignored ----
# What a kill during the write leaves: the head of record 6 (this
# journal's generation, the next sequence number) and part of its body,
# never acknowledged.  The restart must ignore it and write over it.
stop_uk "$UK_PID"
end=$(sed -n 's/.*journal: 6 records, \([0-9]*\) of.*/\1/p' "$WORK/dns2.log")
python3 - "$WORK/journal" "$end" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
f.seek(16)
gen = f.read(8)
f.seek(int(sys.argv[2]))
f.write(b"ATJR" + gen + (6).to_bytes(4, "big") + (300).to_bytes(4, "big") + b"\x07" * 200)
PY
start_uk "$WORK/dns3.log" "$DNS" "${ARGS[@]}"
wait_for_log "$WORK/dns3.log" "zones on port 53"
out=$(upd hmac-sha256:upd:$UPD "update add after.example.test. 300 A 192.0.2.7")
[ -n "$end" ] && grep -q "record 6 is torn" "$WORK/dns3.log" && [ "$(serial)" = 8 ] &&
	[ "$(q after.example.test. A)" = 192.0.2.7 ] &&
	ok "a torn last record (crash mid-write) is ignored; the next update takes its place" ||
	not_ok "a torn last record (crash mid-write) is ignored; the next update takes its place" \
		"end=$end" "$out" "$(grep journal "$WORK/dns3.log")"
kill -9 "$UK_PID"
wait "$UK_PID" 2>/dev/null
start_uk "$WORK/dns4.log" "$DNS" "${ARGS[@]}"
wait_for_log "$WORK/dns4.log" "zones on port 53"
[ "$(q after.example.test. A)" = 192.0.2.7 ] && grep -q "journal: 7 records" "$WORK/dns4.log" &&
	ok "... and that update survives the next kill -9 (7 records replayed)" ||
	not_ok "... and that update survives the next kill -9 (7 records replayed)" \
		"$(grep journal "$WORK/dns4.log")"

# A larger update (over TCP, as nsupdate sends anything above 512 bytes).
cmds=()
for i in $(seq 150); do cmds+=("update add bulk$i.example.test. 300 A 192.0.2.$((i % 250 + 1))"); done
out=$(upd hmac-sha256:upd:$UPD "${cmds[@]}")
[ $? -eq 0 ] && [ "$(q bulk150.example.test. A)" = 192.0.2.151 ] && [ "$(serial)" = 9 ] &&
	ok "one update of 150 records (about 5 KB, over TCP)" ||
	not_ok "one update of 150 records (about 5 KB, over TCP)" "$out" "$(tail -2 "$WORK/dns4.log")"

stop_uk "$UK_PID"
[ "$UK_STATUS" -eq 0 ] && grep -q "dns.queries" "$WORK/dns4.log" &&
	ok "stops cleanly; counters printed" ||
	not_ok "stops cleanly; counters printed" "status $UK_STATUS" "$(tail -12 "$WORK/dns4.log")"
# ---- a small journal fills up: compaction into the other half ----
# 8 KiB of 512-byte blocks: two areas of a header and 7 records.  20
# updates need two compactions; after kill -9 all 20 are there.
truncate -s 8K "$WORK/small-journal"
chmod a+rw "$WORK/small-journal"
SARGS=("${ARGS[@]}")
SARGS[3]=--block:journal="$WORK/small-journal"
start_uk "$WORK/dns5.log" "$DNS" "${SARGS[@]}"
wait_for_log "$WORK/dns5.log" "zones on port 53"
{
	echo "server 10.77.0.2 53"
	echo "zone example.test."
	for i in $(seq 20); do
		echo "update add c$i.example.test. 300 A 192.0.2.$i"
		echo send
	done
} | in_c nsupdate -t 3 -y hmac-sha256:upd:$UPD >"$WORK/compact.out" 2>&1
kill -9 "$UK_PID"
wait "$UK_PID" 2>/dev/null
start_uk "$WORK/dns6.log" "$DNS" "${SARGS[@]}"
wait_for_log "$WORK/dns6.log" "zones on port 53"
[ "$(grep -c "journal: compacted" "$WORK/dns5.log")" -ge 2 ] && [ "$(serial)" = 21 ] &&
	[ "$(q c1.example.test. A)" = 192.0.2.1 ] && [ "$(q c20.example.test. A)" = 192.0.2.20 ] &&
	grep -q "snapshot at serial" "$WORK/dns6.log" &&
	ok "a full journal compacts into its other half (twice); kill -9 and all 20 updates are back" ||
	not_ok "a full journal compacts into its other half (twice); kill -9 and all 20 updates are back" \
		"$(cat "$WORK/compact.out")" "$(grep journal "$WORK/dns5.log" | tail -3)" \
		"$(grep journal "$WORK/dns6.log")" "serial $(serial)"
stop_uk "$UK_PID"
finish
