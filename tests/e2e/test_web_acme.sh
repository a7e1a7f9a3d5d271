#!/usr/bin/env bash
# test_web_acme.sh - the web unikernel gets its certificates from an ACME
# server (RFC 8555) and renews them without a restart.  The server is
# Let's Encrypt's test server, Debian's pebble, started here; it validates
# the challenges for real: it looks names up in the atoll DNS unikernel
# (pebble -dnsserver), fetches http-01 answers from the web unikernel's
# port 80 and reads dns-01 TXT records that the web unikernel added to the
# DNS server by a TSIG-signed UPDATE.  curl then checks the served chain
# against pebble's own root.
#
#   ns $NS_C: c0 10.77.0.1 - curl
#   ns $NS_S: br0 10.77.0.3 - pebble (ACME on :14000, its roots on :15000)
#     D tap2 .5  web, dns-01 for dns01.atoll.test (first)
#     H tap0 .2  web, http-01, renewing 20 s after each issuance
#     N tap1 .4  dns: zone atoll.test (web, dns01, acme), UPDATE with key "acme"
#     B tap3 .6  web trusting another CA for the ACME server: refuses it
source "$(dirname "$0")/lib.sh"
WEB=$ROOT/build/hosted/web
DNS=$ROOT/build/hosted/dns
PKI=$WORK/pki

for tool in pebble openssl curl tar; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done
for b in "$WEB" "$DNS"; do
	if [ ! -x "$b" ]; then
		not_ok "$b is built (make)"
		finish
	fi
done

net_up
bridge_tap tap1 tap2 tap3
in_c ip route add default dev c0 2>/dev/null

# ---- pebble's own HTTPS certificate, from a CA of ours ----
mkdir -p "$PKI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=atoll ACME test CA" -keyout "$PKI/ca.key" -out "$PKI/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=acme.atoll.test" \
	-keyout "$PKI/pebble.key" -out "$PKI/pebble.csr" 2>/dev/null
printf 'subjectAltName=DNS:acme.atoll.test,IP:10.77.0.3\n' >"$PKI/ext"
openssl x509 -req -in "$PKI/pebble.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" \
	-CAcreateserial -days 30 -extfile "$PKI/ext" -out "$PKI/pebble.pem" 2>/dev/null
cat >"$WORK/pebble.json" <<EOF
{"pebble": {"listenAddress": "10.77.0.3:14000", "managementListenAddress": "10.77.0.3:15000",
  "certificate": "$PKI/pebble.pem", "privateKey": "$PKI/pebble.key",
  "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF

# ---- the DNS unikernel: the names, and the UPDATE key for dns-01 ----
KEY=YWNtZS1kbnMtMDEta2V5LWZvci1hdG9sbC10ZXN0cw==
cat >"$WORK/keys" <<EOF
key "acme" { algorithm hmac-sha256; secret "$KEY"; };
EOF
cat >"$WORK/atoll.test.zone" <<'EOF'
$ORIGIN atoll.test.
$TTL 60
@      SOA  ns hostmaster 1 3600 600 86400 60
       NS   ns
ns     A    10.77.0.4
acme   A    10.77.0.3
web    A    10.77.0.2
dns01  A    10.77.0.5
EOF
(cd "$WORK" && tar --format=ustar -cf zones.tar atoll.test.zone keys)
truncate -s 1M "$WORK/journal"
chmod a+rw "$WORK/zones.tar" "$WORK/journal"
start_uk "$WORK/dns.log" "$DNS" --mem=32M --net:service=tap1 --block:zones="$WORK/zones.tar" \
	--block:journal="$WORK/journal" ipv4=10.77.0.4/24 mac=02:00:00:77:00:04 \
	update-allow=acme@atoll.test
DNS_PID=$UK_PID
wait_for_log "$WORK/dns.log" "zones on port 53" ||
	not_ok "the DNS unikernel starts" "$(tail -5 "$WORK/dns.log")"

# ---- pebble, resolving through the DNS unikernel ----
# PEBBLE_VA_NOSLEEP: no random wait before validating (the validation
# itself is real); the 5% of nonces pebble rejects stays on (badNonce).
ip netns exec "$NS_S" env PEBBLE_VA_NOSLEEP=1 pebble -config "$WORK/pebble.json" \
	-dnsserver 10.77.0.4:53 >"$WORK/pebble.log" 2>&1 &
PIDS+=($!)
wait_for_log "$WORK/pebble.log" "Listening on: 10.77.0.3:14000" 20 ||
	not_ok "pebble starts" "$(tail -5 "$WORK/pebble.log")"

# ---- the web unikernels' certs archives: the anchors of pebble's HTTPS ----
mkdir -p "$WORK/certs-h" "$WORK/certs-d"
cp "$PKI/ca.pem" "$WORK/certs-h/acme-ca.pem"
cp "$PKI/ca.pem" "$WORK/certs-d/acme-ca.pem"
cp "$WORK/keys" "$WORK/certs-d/tsig.key"
(cd "$WORK/certs-h" && tar --format=ustar -cf ../certs-h.tar acme-ca.pem)
(cd "$WORK/certs-d" && tar --format=ustar -cf ../certs-d.tar acme-ca.pem tsig.key)
chmod a+r "$WORK"/certs-*.tar
ACME=(acme=https://acme.atoll.test:14000/dir acme-server=10.77.0.3 acme-email=ops@atoll.test)

start_uk "$WORK/d.log" "$WEB" --mem=64M --net:service=tap2 --block:certs="$WORK/certs-d.tar" \
	ipv4=10.77.0.5/24 mac=02:00:00:77:00:05 "${ACME[@]}" acme-names=dns01.atoll.test \
	acme-challenge=dns-01 acme-dns=10.77.0.4 acme-dns-key=acme
D_PID=$UK_PID
# B trusts a CA that did not sign pebble's certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=some other CA" -keyout "$PKI/other.key" -out "$PKI/other.pem" 2>/dev/null
mkdir -p "$WORK/certs-b"
cp "$PKI/other.pem" "$WORK/certs-b/acme-ca.pem"
(cd "$WORK/certs-b" && tar --format=ustar -cf ../certs-b.tar acme-ca.pem)
chmod a+r "$WORK/certs-b.tar"
start_uk "$WORK/b.log" "$WEB" --mem=64M --net:service=tap3 --block:certs="$WORK/certs-b.tar" \
	ipv4=10.77.0.6/24 mac=02:00:00:77:00:06 "${ACME[@]}" acme-names=web.atoll.test
B_PID=$UK_PID

# pebble's root and intermediate, from its management port
root_of_pebble() {
	in_c curl -sf --cacert "$PKI/ca.pem" "https://10.77.0.3:15000/roots/0" >"$WORK/proot.pem" &&
		in_c curl -sf --cacert "$PKI/ca.pem" "https://10.77.0.3:15000/intermediates/0" \
			>"$WORK/pinter.pem"
}

# serial NAME IP: the serial of the certificate served for NAME
serial() {
	in_c openssl s_client -connect "$2:443" -servername "$1" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null
}

# ---- dns-01 ----
expect "pebble's roots are fetched from its management port" root_of_pebble
if wait_for_log "$WORK/d.log" "certificate for dns01.atoll.test installed" 60; then
	ok "dns-01: dns01.atoll.test gets a certificate, the TXT record added by a TSIG UPDATE"
else
	not_ok "dns-01: dns01.atoll.test gets a certificate, the TXT record added by a TSIG UPDATE" \
		"$(tail -8 "$WORK/d.log")" "dns: $(tail -3 "$WORK/dns.log" | tr '\n' '|')"
fi
expect "dns-01: the challenge was validated through the atoll DNS server" \
	grep -q "dns01.atoll.test: dns-01 challenge valid" "$WORK/d.log"
out=$(in_c dig +short +norec @10.77.0.4 _acme-challenge.dns01.atoll.test TXT 2>&1)
[ -z "$out" ] && ok "dns-01: the TXT record is deleted again afterwards" ||
	not_ok "dns-01: the TXT record is deleted again afterwards" "$out"
out=$(in_c curl -sS --cacert "$WORK/proot.pem" --resolve dns01.atoll.test:443:10.77.0.5 \
	-o /dev/null -w '%{http_code} %{ssl_verify_result}' https://dns01.atoll.test/ 2>&1)
[ "$out" = "200 0" ] && ok "dns-01: curl verifies the chain of dns01.atoll.test" ||
	not_ok "dns-01: curl verifies the chain of dns01.atoll.test" "$out"

# The web unikernel renewing 20 s after issuance: acme-renew-before= is
# the lifetime of pebble's certificates (read off the one just issued)
# less 20 s.
dates=$(in_c openssl s_client -connect 10.77.0.5:443 -servername dns01.atoll.test </dev/null \
	2>/dev/null | openssl x509 -noout -startdate -enddate 2>/dev/null)
nb=$(date -d "$(echo "$dates" | sed -n 's/^notBefore=//p')" +%s 2>/dev/null)
na=$(date -d "$(echo "$dates" | sed -n 's/^notAfter=//p')" +%s 2>/dev/null)
LIFE=$((${na:-0} - ${nb:-0}))
[ "$LIFE" -gt 60 ] || LIFE=157766400
start_uk "$WORK/h.log" "$WEB" --mem=64M --net:service=tap0 --block:certs="$WORK/certs-h.tar" \
	ipv4=10.77.0.2/24 mac=02:00:00:77:00:02 "${ACME[@]}" acme-names=web.atoll.test \
	acme-renew-before=$((LIFE - 20))
H_PID=$UK_PID

# ---- http-01 ----
if wait_for_log "$WORK/h.log" "certificate for web.atoll.test installed" 90; then
	ok "http-01: web.atoll.test gets a certificate from pebble"
else
	not_ok "http-01: web.atoll.test gets a certificate from pebble" "$(tail -8 "$WORK/h.log")" \
		"pebble: $(tail -3 "$WORK/pebble.log" | tr '\n' '|')"
fi
expect "http-01: the challenge was answered by the web unikernel on port 80" \
	grep -q "web.atoll.test: http-01 challenge valid" "$WORK/h.log"

out=$(in_c curl -sS --cacert "$WORK/proot.pem" --resolve web.atoll.test:443:10.77.0.2 \
	-o /dev/null -w '%{http_code} %{ssl_verify_result}' https://web.atoll.test/ 2>&1)
[ "$out" = "200 0" ] && ok "curl verifies the ACME chain of web.atoll.test against pebble's root" ||
	not_ok "curl verifies the ACME chain of web.atoll.test against pebble's root" "$out"

issuer=$(in_c openssl s_client -connect 10.77.0.2:443 -servername web.atoll.test </dev/null \
	2>/dev/null | openssl x509 -noout -issuer 2>/dev/null)
echo "$issuer" | grep -q "Pebble Intermediate" &&
	ok "the served certificate is pebble's, not the built-in one ($issuer)" ||
	not_ok "the served certificate is pebble's, not the built-in one" "$issuer"

# ---- renewal without a restart ----
S1=$(serial web.atoll.test 10.77.0.2)
if wait_for_log "$WORK/h.log" "acme: order .*" 1 &&
	for i in $(seq 1 90); do
		[ "$(grep -c 'certificate for web.atoll.test installed' "$WORK/h.log")" -ge 2 ] && break
		sleep 1
	done && [ "$(grep -c 'certificate for web.atoll.test installed' "$WORK/h.log")" -ge 2 ]; then
	ok "renewal: a second certificate is obtained before the first expires"
else
	not_ok "renewal: a second certificate is obtained before the first expires" \
		"$(tail -5 "$WORK/h.log")"
fi
S2=$(serial web.atoll.test 10.77.0.2)
[ -n "$S1" ] && [ -n "$S2" ] && [ "$S1" != "$S2" ] && kill -0 "$H_PID" 2>/dev/null &&
	ok "renewal: the same process now serves a new certificate ($S1 -> $S2)" ||
	not_ok "renewal: the same process now serves a new certificate" "before $S1, after $S2"
out=$(in_c curl -sS --cacert "$WORK/proot.pem" --resolve web.atoll.test:443:10.77.0.2 \
	-o /dev/null -w '%{http_code} %{ssl_verify_result}' https://web.atoll.test/ 2>&1)
[ "$out" = "200 0" ] && ok "renewal: the renewed chain verifies too" ||
	not_ok "renewal: the renewed chain verifies too" "$out"

# ---- what must not work ----
# the token of the http-01 challenge, from pebble's fetch in H's access log
tok=$(sed -n 's|.*GET /.well-known/acme-challenge/\([A-Za-z0-9_-]*\) .*|\1|p' "$WORK/h.log" | head -1)
code=$(in_c curl -s -o /dev/null -w '%{http_code}' "http://10.77.0.2/.well-known/acme-challenge/$tok")
[ -n "$tok" ] && [ "$code" = 301 ] &&
	ok "a token no longer pending is not answered (its path redirects to HTTPS like any other)" ||
	not_ok "a token no longer pending is not answered" "token '$tok', status $code"
if wait_for_log "$WORK/b.log" "no certificate this time" 30 &&
	grep -q "TLS with acme.atoll.test failed" "$WORK/b.log"; then
	ok "an ACME server whose chain does not lead to acme-ca.pem is refused, and retried later"
else
	not_ok "an ACME server whose chain does not lead to acme-ca.pem is refused, and retried later" \
		"$(tail -4 "$WORK/b.log")"
fi
out=$(in_c curl -sk -o /dev/null -w '%{http_code}' https://10.77.0.6/ 2>&1)
[ "$out" = 200 ] && kill -0 "$B_PID" 2>/dev/null &&
	ok "meanwhile it serves HTTPS with the built-in credential" ||
	not_ok "meanwhile it serves HTTPS with the built-in credential" "$out"

# ---- counters at exit ----
stop_uk "$H_PID"
grep -Eq "counter acme.certificates [2-9]" "$WORK/h.log" && [ "$UK_STATUS" = 0 ] &&
	ok "counters at exit: acme.certificates >= 2, clean exit" ||
	not_ok "counters at exit: acme.certificates >= 2, clean exit" "status $UK_STATUS" \
		"$(grep 'counter acme\.' "$WORK/h.log" | tr '\n' ' ')"
stop_uk "$D_PID"
stop_uk "$B_PID"
grep -Eq "counter acme.failures [1-9]" "$WORK/b.log" && [ "$UK_STATUS" = 0 ] &&
	ok "the refused one counts its failures and exits cleanly" ||
	not_ok "the refused one counts its failures and exits cleanly" "status $UK_STATUS"
stop_uk "$DNS_PID"
finish
