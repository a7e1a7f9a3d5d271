#!/usr/bin/env bash
# test_dns_secondary.sh - atoll as a secondary of Knot, and Knot as a
# secondary of atoll, with NOTIFY both ways (RFC 1996).
#
# Knot (10.77.0.3 port 5302) is the primary for example. and short.test.
# and a secondary for fromatoll.test.; atoll (10.77.0.2) is a secondary for
# the first two (primary=) and the primary of the third (from its zones
# archive), and announces its zones to Knot (notify=).
#
#   - atoll transfers example. in at start (AXFR) and serves what Knot does;
#   - a change on Knot (knotc zone-begin/zone-set/zone-commit) makes Knot
#     send NOTIFY; atoll answers it and transfers the difference (IXFR from
#     Knot's journal) long before the SOA refresh (1 h) would; twice, the
#     second change deleting a record;
#   - NOTIFY from an address that is not the zone's primary is REFUSED, for
#     a zone atoll is not a secondary for NOTAUTH;
#   - Knot, told by atoll's NOTIFY, serves atoll's fromatoll.test. with the
#     same serial, at start and after an update (nsupdate) changed it;
#   - with Knot stopped, short.test. (SOA expire 4 s) stops being answered:
#     SERVFAIL, as Knot and NSD do;
#   - restarted with Knot still stopped, atoll serves example. as it last
#     transferred it, from its "secondary" block device.
source "$(dirname "$0")/lib.sh"
DNS=$ROOT/build/hosted/dns

for tool in knotd knotc dig kdig nsupdate; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done
if [ -d /run/systemd/system ] && systemctl is-active --quiet knot 2>/dev/null; then
	systemctl stop knot
fi

net_up
mkdir -p "$WORK/knot" "$WORK/zones"
cat >"$WORK/knot/example.zone" <<'EOF'
$ORIGIN example.
$TTL 300
@       SOA   ns hostmaster 1 3600 600 86400 60
        NS    ns
        MX    10 mail
ns      A     10.77.0.3
mail    A     192.0.2.25
www     A     192.0.2.80
www     A     192.0.2.81
old     TXT   "to be deleted"
alias   CNAME www
EOF
cat >"$WORK/knot/short.test.zone" <<'EOF'
$ORIGIN short.test.
$TTL 60
@       SOA   ns hostmaster 5 1 1 4 60
        NS    ns
ns      A     10.77.0.3
EOF
cat >"$WORK/knot/signed.test.zone" <<'EOF'
$ORIGIN signed.test.
$TTL 300
@       SOA   ns hostmaster 1 3600 600 86400 60
        NS    ns
ns      A     10.77.0.3
EOF
cat >"$WORK/zones/fromatoll.test.zone" <<'EOF'
$ORIGIN fromatoll.test.
$TTL 300
@       SOA   ns hostmaster 2026112610 3600 600 86400 60
        NS    ns
ns      A     10.77.0.2
host    A     198.51.100.7
EOF
UPD=dXBkYXRlLWtleS1mb3ItYXRvbGwtdGVzdHMtMDAwMDA=
XFR=eGZyLWtleS1mb3ItYXRvbGwtdGVzdHMtMDAwMDAwMDA=
printf 'key "upd" { algorithm hmac-sha256; secret "%s"; };\nkey "xfr" { algorithm hmac-sha256; secret "%s"; };\n' \
	"$UPD" "$XFR" >"$WORK/zones/keys"
(cd "$WORK/zones" && tar --format=ustar -cf "$WORK/zones.tar" fromatoll.test.zone keys)
chmod -R a+rX "$WORK"

cat >"$WORK/knot.conf" <<EOF
server:
    listen: 10.77.0.3@5302
    rundir: "$WORK/knot"
control:
    listen: "$WORK/knot/knot.sock"
database:
    storage: "$WORK/knot"
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
  - id: atoll_tsig
    address: 10.77.0.2@53
    key: xfr
acl:
  - id: to_atoll_tsig
    address: 10.77.0.2
    key: xfr
    action: transfer
  - id: to_atoll
    address: 10.77.0.2
    action: transfer
  - id: from_atoll
    address: 10.77.0.2
    key: xfr
    action: notify
  - id: to_client
    address: 10.77.0.1
    action: transfer
template:
  - id: default
    storage: "$WORK/knot"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: changes
zone:
  - domain: example.
    file: example.zone
    notify: atoll
    acl: [to_atoll, to_client]
  - domain: short.test.
    file: short.test.zone
    acl: to_atoll
  - domain: signed.test.
    file: signed.test.zone
    notify: atoll_tsig
    acl: to_atoll_tsig
  - domain: fromatoll.test.
    master: atoll
    acl: from_atoll
    journal-content: none
EOF
ip netns exec "$NS_S" knotd -c "$WORK/knot.conf" >"$WORK/knot.out" 2>&1 &
KNOT_PID=$!
PIDS+=($KNOT_PID)
kc() { ip netns exec "$NS_S" knotc -s "$WORK/knot/knot.sock" "$@"; }
for i in $(seq 50); do
	in_c dig +short +time=1 +tries=1 -p 5302 @10.77.0.3 example. SOA 2>/dev/null | grep -q hostmaster && break
	sleep 0.2
done

truncate -s 1M "$WORK/secondary.img"
chmod a+rw "$WORK/secondary.img"
ARGS=(--mem=32M --net:service=tap0 --block:zones="$WORK/zones.tar" --block:secondary="$WORK/secondary.img"
	ipv4=10.77.0.2/24 mac=02:00:00:77:00:02 axfr-allow=10.77.0.1,10.77.0.3 update-allow=upd@fromatoll.test \
	primary=example.@10.77.0.3:5302,short.test.@10.77.0.3:5302,signed.test.@10.77.0.3:5302/xfr
	notify=10.77.0.3:5302/xfr)
start_uk "$WORK/dns.log" "$DNS" "${ARGS[@]}"
if wait_for_log "$WORK/dns.log" "zone example. serial 1: transferred in (AXFR)" 15; then
	ok "atoll transfers example. in from Knot at start (AXFR)"
else
	not_ok "atoll transfers example. in from Knot at start" "$(tail -8 "$WORK/dns.log")"
fi

# axfr SERVER PORT: the zone as sorted presentation lines.
axfr() { in_c kdig +time=3 -p "$2" @"$1" example. AXFR | grep -v '^;' | grep -v '^$' | awk '{ $1 = tolower($1); print }' | sort; }
same_as_knot() {
	local a b
	a=$(axfr 10.77.0.2 53)
	b=$(axfr 10.77.0.3 5302)
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		ok "$1 ($(echo "$a" | wc -l) RRs)"
	else
		not_ok "$1" "$(diff <(echo "$a") <(echo "$b") | head -10)"
	fi
}
same_as_knot "atoll's copy of example. equals Knot's, RR for RR"
out=$(in_c dig +norec +time=2 @10.77.0.2 alias.example. A)
echo "$out" | grep -q "flags: qr aa" && echo "$out" | grep -q "192.0.2.81" &&
	ok "atoll answers for the transferred zone authoritatively" ||
	not_ok "atoll answers for the transferred zone authoritatively" "$out"

# ---- NOTIFY from Knot: a change arrives without waiting for refresh ----------
kc zone-begin example. >/dev/null &&
	kc zone-set example. new 300 A 192.0.2.99 >/dev/null &&
	kc zone-commit example. >"$WORK/commit.out" 2>&1
if wait_for_log "$WORK/dns.log" "zone example. serial 2: transferred in (IXFR)" 10; then
	ok "NOTIFY from Knot: atoll takes serial 2 as an IXFR at once (refresh is 1 h)"
else
	not_ok "NOTIFY from Knot: atoll takes serial 2 as an IXFR" "$(cat "$WORK/commit.out")" \
		"$(grep -i "example" "$WORK/dns.log" | tail -5)" "$(grep -i notify "$WORK/knot.out" | tail -3)"
fi
out=$(in_c dig +short +time=2 @10.77.0.2 new.example. A)
[ "$out" = 192.0.2.99 ] && ok "the added record is answered" || not_ok "the added record is answered" "$out"
kc zone-begin example. >/dev/null &&
	kc zone-unset example. old TXT >/dev/null &&
	kc zone-set example. www 300 A 192.0.2.82 >/dev/null &&
	kc zone-commit example. >/dev/null 2>&1
if wait_for_log "$WORK/dns.log" "zone example. serial 3: transferred in (IXFR)" 10; then
	ok "a second change (a deletion and an addition): serial 3 as an IXFR"
else
	not_ok "a second change: serial 3 as an IXFR" "$(grep -i "example" "$WORK/dns.log" | tail -5)"
fi
out=$(in_c dig +norec +time=2 @10.77.0.2 old.example. TXT)
echo "$out" | grep -q "status: NXDOMAIN" && ok "the deleted record is gone (NXDOMAIN)" ||
	not_ok "the deleted record is gone" "$out"
same_as_knot "after two IXFRs atoll's copy still equals Knot's"
n=$(grep -c "notify, outgoing.*10.77.0.2@53.*serial [23]" "$WORK/knot.out")
[ "$n" -ge 2 ] && ok "Knot logged its NOTIFYs to atoll as answered ($n)" ||
	not_ok "Knot logged its NOTIFYs to atoll as answered" "$(grep -i notify "$WORK/knot.out" | tail -5)"

# ---- TSIG (RFC 8945): a zone Knot transfers and announces only with a key ------
if grep -q "zone signed.test. serial 1: transferred in (AXFR)" "$WORK/dns.log"; then
	ok "TSIG: atoll signs its SOA query and AXFR request and checks Knot's signed answers"
else
	not_ok "TSIG: atoll transfers signed.test. with key xfr" "$(grep -i 'signed\|tsig' "$WORK/dns.log" | tail -5)"
fi
kc zone-begin signed.test. >/dev/null &&
	kc zone-set signed.test. new 300 A 192.0.2.7 >/dev/null &&
	kc zone-commit signed.test. >/dev/null 2>&1
if wait_for_log "$WORK/dns.log" "zone signed.test. serial 2: transferred in (IXFR)" 10; then
	ok "TSIG: Knot's signed NOTIFY is accepted and the IXFR comes signed"
else
	not_ok "TSIG: signed NOTIFY and IXFR" "$(grep -i 'signed\|tsig' "$WORK/dns.log" | tail -5)" \
		"$(grep -i 'signed.test' "$WORK/knot.out" | tail -5)"
fi
if grep -q "\[signed.test.\] notify, outgoing, remote 10.77.0.2@53, serial 2" "$WORK/knot.out" &&
	! grep -i "signed.test.*\(failed\|error\)" "$WORK/knot.out" >/dev/null; then
	ok "TSIG: Knot accepts atoll's signed answer to its NOTIFY"
else
	not_ok "TSIG: Knot accepts atoll's signed NOTIFY answer" "$(grep -i 'signed.test' "$WORK/knot.out" | tail -5)"
fi
out=$(in_s python3 - <<'EOF'
import socket, struct
m = struct.pack(">HHHHHH", 0x4243, 4 << 11 | 0x0400, 1, 0, 0, 0)
m += b"\x06signed\x04test\x00" + struct.pack(">HH", 6, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.3", 0))
s.settimeout(3)
s.sendto(m, ("10.77.0.2", 53))
r, _ = s.recvfrom(512)
print("rcode=%d" % (r[3] & 15))
EOF
)
[ "$out" = "rcode=9" ] && ok "TSIG: an unsigned NOTIFY from the primary's own address is NOTAUTH" ||
	not_ok "TSIG: an unsigned NOTIFY for a keyed zone is refused" "$out"

# ---- NOTIFY refused from others -------------------------------------------------
notify() {
	in_c python3 - "$1" <<'EOF'
import socket, struct, sys
m = struct.pack(">HHHHHH", 0x4242, 4 << 11 | 0x0400, 1, 0, 0, 0)
for l in sys.argv[1].split("."):
    if l:
        m += bytes([len(l)]) + l.encode()
m += b"\0" + struct.pack(">HH", 6, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(m, ("10.77.0.2", 53))
r, _ = s.recvfrom(512)
print("id=%x qr=%d opcode=%d aa=%d rcode=%d qd=%d" % (struct.unpack(">H", r[:2])[0], r[2] >> 7,
      (r[2] >> 3) & 15, (r[2] >> 2) & 1, r[3] & 15, struct.unpack(">H", r[4:6])[0]))
EOF
}
out=$(notify example.)
[ "$out" = "id=4242 qr=1 opcode=4 aa=1 rcode=5 qd=1" ] &&
	ok "NOTIFY from an address that is not the primary: REFUSED" ||
	not_ok "NOTIFY from an address that is not the primary: REFUSED" "$out"
out=$(notify nowhere.test.)
[ "$out" = "id=4242 qr=1 opcode=4 aa=1 rcode=9 qd=1" ] &&
	ok "NOTIFY for a zone atoll is not a secondary for: NOTAUTH" ||
	not_ok "NOTIFY for a zone atoll is not a secondary for: NOTAUTH" "$out"
printf 'server 10.77.0.2 53\nzone example.\nupdate add x.example. 60 A 192.0.2.1\nsend\n' |
	in_c nsupdate -t 3 >"$WORK/upd-sec.out" 2>&1
grep -q REFUSED "$WORK/upd-sec.out" && [ -z "$(in_c dig +short +time=2 @10.77.0.2 x.example. A)" ] &&
	ok "an UPDATE for a zone atoll is a secondary for is REFUSED" ||
	not_ok "an UPDATE for a secondary zone is REFUSED" "$(cat "$WORK/upd-sec.out")"

# ---- NOTIFY out: Knot as a secondary of atoll ----------------------------------------
for i in $(seq 50); do
	in_c dig +short +time=1 +tries=1 -p 5302 @10.77.0.3 fromatoll.test. SOA 2>/dev/null | grep -q 2026112610 && break
	sleep 0.2
done
a=$(in_c dig +short +time=2 @10.77.0.2 fromatoll.test. SOA | awk '{ print $3 }')
k=$(in_c dig +short +time=2 -p 5302 @10.77.0.3 fromatoll.test. SOA | awk '{ print $3 }')
[ -n "$a" ] && [ "$a" = "$k" ] && ok "Knot as a secondary of atoll serves fromatoll.test. at atoll's serial ($k)" ||
	not_ok "Knot as a secondary of atoll serves atoll's serial" "atoll '$a' knot '$k'" "$(grep fromatoll "$WORK/knot.out" | tail -3)"
grep -q "\[fromatoll.test.\] notify, incoming, remote 10.77.0.2" "$WORK/knot.out" &&
	ok "Knot accepted atoll's NOTIFY for fromatoll.test., signed with the key its ACL asks for" ||
	not_ok "Knot received atoll's NOTIFY" "$(grep -i notify "$WORK/knot.out" | tail -5)"
upd() {
	printf 'server 10.77.0.2 53\nzone fromatoll.test.\n%s\nsend\n' "$1" |
		in_c nsupdate -t 3 -y "hmac-sha256:upd:$UPD" 2>&1
}
out=$(upd "update add new.fromatoll.test. 300 A 198.51.100.8")
a=$(in_c dig +short +time=2 @10.77.0.2 fromatoll.test. SOA | awk '{ print $3 }')
for i in $(seq 50); do
	k=$(in_c dig +short +time=1 +tries=1 -p 5302 @10.77.0.3 fromatoll.test. SOA | awk '{ print $3 }')
	[ "$k" = "$a" ] && break
	sleep 0.1
done
h=$(in_c dig +short +time=2 -p 5302 @10.77.0.3 new.fromatoll.test. A)
[ "$a" = 2026112611 ] && [ "$k" = "$a" ] && [ "$h" = 198.51.100.8 ] &&
	ok "after an update on atoll, its NOTIFY brings Knot to the new serial at once ($k; refresh is 1 h)" ||
	not_ok "after an update on atoll, Knot follows by NOTIFY" "$out" "atoll '$a' knot '$k' new '$h'" \
		"$(grep fromatoll "$WORK/knot.out" | tail -3)"

# ---- expire: the primary goes away ----------------------------------------------
out=$(in_c dig +norec +time=2 @10.77.0.2 ns.short.test. A)
echo "$out" | grep -q "flags: qr aa" && ok "short.test. is answered while its primary is up" ||
	not_ok "short.test. is answered while its primary is up" "$out"
kill "$KNOT_PID"
wait "$KNOT_PID" 2>/dev/null
if wait_for_log "$WORK/dns.log" "short.test.: expired" 15; then
	out=$(in_c dig +norec +time=2 @10.77.0.2 ns.short.test. A)
	echo "$out" | grep -q "status: SERVFAIL" && ok "after expire (4 s) without its primary, short.test. gets SERVFAIL" ||
		not_ok "after expire, short.test. gets SERVFAIL" "$out"
else
	not_ok "short.test. expires without its primary" "$(grep short "$WORK/dns.log" | tail -5)"
fi
out=$(in_c dig +short +norec +time=2 @10.77.0.2 www.example. A | sort | tr '\n' ' ')
[ "$out" = "192.0.2.80 192.0.2.81 192.0.2.82 " ] && ok "example. (expire 1 day) is still answered" ||
	not_ok "example. is still answered" "$out"

stop_uk "$UK_PID"
[ "$UK_STATUS" = 0 ] && ok "SIGTERM stops it with status 0" ||
	not_ok "SIGTERM stops it with status 0" "status $UK_STATUS" "$(tail -5 "$WORK/dns.log")"
grep -q "secondary example.: loaded, serial 3" "$WORK/dns.log" &&
	grep -q "secondary short.test.: expired, serial 5" "$WORK/dns.log" &&
	ok "the exit report names each secondary zone's state and serial" ||
	not_ok "the exit report names each secondary zone's state" "$(grep secondary "$WORK/dns.log")"
c() { awk -v k="$1" '$1 == "counter" && $2 == k { print $3 }' "$WORK/dns.log"; }
[ "$(c xfr.stored)" -ge 3 ] && ok "every transfer in was written to the secondary device ($(c xfr.stored))" ||
	not_ok "transfers written to the secondary device" "$(grep -i 'secondary device\|counter xfr' "$WORK/dns.log")"
[ "$(c xfr.ixfr_in)" -ge 2 ] && [ "$(c xfr.notify_in)" -ge 2 ] && [ "$(c xfr.notify_refused)" -ge 2 ] &&
	[ "$(c xfr.notify_answered)" -ge 1 ] &&
	ok "counters: ixfr_in=$(c xfr.ixfr_in) notify_in=$(c xfr.notify_in) notify_refused=$(c xfr.notify_refused) notify_answered=$(c xfr.notify_answered)" ||
	not_ok "xfr counters" "$(grep 'counter xfr' "$WORK/dns.log")"

# ---- a restart without the primary: the zones kept on the device ---------------
start_uk "$WORK/dns2.log" "$DNS" "${ARGS[@]}"
wait_for_log "$WORK/dns2.log" "zones on port 53" >/dev/null
if grep -q "zone example. serial 3: kept on the secondary device" "$WORK/dns2.log"; then
	ok "restarted with its primary down, atoll reads example. serial 3 back from the secondary device"
else
	not_ok "atoll reads example. back from the secondary device" "$(head -12 "$WORK/dns2.log")"
fi
out=$(in_c dig +short +norec +time=2 @10.77.0.2 www.example. A | sort | tr '\n' ' ')
[ "$out" = "192.0.2.80 192.0.2.81 192.0.2.82 " ] && ok "and answers from it" ||
	not_ok "and answers from the kept copy" "$out"
out=$(in_c dig +norec +time=2 @10.77.0.2 ns.short.test. A)
echo "$out" | grep -q "status: SERVFAIL" && ok "short.test., older than its expire, stays SERVFAIL after the restart" ||
	not_ok "short.test. stays expired after the restart" "$out" "$(grep short "$WORK/dns2.log")"
stop_uk "$UK_PID"

# ---- a damaged device is not trusted -------------------------------------------------
# One byte of zone data changed in each copy (the zone's text is in the
# payload, a block after each half's header): SHA-256 rejects both.
python3 - "$WORK/secondary.img" <<'EOF'
import sys
f = open(sys.argv[1], "r+b")
data = bytearray(f.read())
half = len(data) // 2
for base in (0, half):
    i = data.find(b"hostmaster", base + 512, base + half)
    if i > 0:
        data[i] ^= 0x20
f.seek(0)
f.write(data)
EOF
start_uk "$WORK/dns3.log" "$DNS" "${ARGS[@]}"
wait_for_log "$WORK/dns3.log" "zones on port 53" >/dev/null
out=$(in_c dig +norec +time=2 @10.77.0.2 www.example. A)
grep -q "secondary device: no zones kept yet" "$WORK/dns3.log" && echo "$out" | grep -q "status: SERVFAIL" &&
	ok "a device whose copies fail their SHA-256 is ignored: SERVFAIL until a transfer" ||
	not_ok "a damaged device is ignored" "$out" "$(grep -i secondary "$WORK/dns3.log")"
stop_uk "$UK_PID"
finish
