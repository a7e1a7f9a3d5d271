#!/usr/bin/env bash
# test_tls.sh - lib/tls against OpenSSL, GnuTLS and curl: the TLS server
# unikernel (apps/tlsd) on atoll's own stack, on TAP devices in the test's
# namespaces, answering openssl s_client, gnutls-cli and curl; and the
# TLS client unikernel (apps/tlsc) against openssl s_server and
# gnutls-serv.  Each row is one version / suite / group / certificate
# type / feature (HelloRetryRequest, resumption, KeyUpdate both ways,
# ALPN, SNI, client certificates, close_notify both ways, large transfers
# checked by SHA-256), and the failures that must be clean alerts (a TLS
# 1.3-only client against an RSA-only server, 1.2 against a 1.3-only
# server, no common ALPN protocol, a missing client certificate, a wrong
# name or CA on the client's side).
#
# A test CA, an ECDSA P-256 leaf (atoll.test, www.atoll.test), an ECDSA
# P-384 leaf (other.atoll.test), an RSA-2048 leaf (rsa.atoll.test) and a
# client certificate are made with openssl at the start, into the test's
# directory, and packed as tar archives for the unikernels' "certs" block
# device.
#
#   ns $NS_C: c0 10.77.0.1 - the Linux clients, s_server and gnutls-serv
#   ns $NS_S: br0 10.77.0.3; tlsd A tap0 10.77.0.2 (ECDSA, SNI, ALPN);
#             B tap1 .4 (1.3 only, x25519 only, no tickets); C tap2 .6
#             (RSA only); D tap3 .8 (client certificate required);
#             tlsc tap4 .5; tlsd E on the socket stack, 127.0.0.1:8443
#
# TLS_FINDINGS=<file>: append every failing row (the peer's output and
# the server's log) to that file, with a timestamp.
source "$(dirname "$0")/lib.sh"
TLSD=$ROOT/build/hosted/tlsd
TLSC=$ROOT/build/hosted/tlsc
TLSPEER=$ROOT/tests/e2e/tlspeer.py
PKI=$WORK/pki
A=10.77.0.2
B=10.77.0.4
C=10.77.0.6
D=10.77.0.8
L=10.77.0.1 # the Linux servers
CUR_LOG=/dev/null

for tool in openssl gnutls-cli gnutls-serv curl python3; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done
for bin in "$TLSD" "$TLSC"; do
	if [ ! -x "$bin" ]; then
		not_ok "$bin is built (make)"
		finish
	fi
done

finding() { # NAME OUTPUT: into $TLS_FINDINGS, when set
	[ -n "${TLS_FINDINGS:-}" ] || return 0
	{
		echo "=== $(date '+%F %T') test_tls.sh: not ok - $1"
		echo "$2" | head -40 | sed 's/^/  peer| /'
		echo "  server log ($CUR_LOG), last lines:"
		tail -12 "$CUR_LOG" 2>/dev/null | sed 's/^/  log| /'
	} >>"$TLS_FINDINGS"
}

fail_row() { # NAME OUTPUT
	not_ok "$1" "$(echo "$2" | head -30)" "server log: $(tail -3 "$CUR_LOG" 2>/dev/null)"
	finding "$1" "$2"
}

# peer NAME STEP... -- COMMAND...: one row, a Linux client in $NS_C driven
# by tlspeer.py.
peer() {
	local name=$1 out
	shift
	if out=$(in_c timeout 60 python3 "$TLSPEER" "$@" 2>&1); then
		ok "$name"
	else
		fail_row "$name" "$out"
	fi
}

# tlsc NAME REGEX ARG...: one row, the client unikernel on tap4; its
# result line must match REGEX (ERE).  TLSC_OUT keeps its output.
TLSC_OUT=
tlsc_run() {
	TLSC_RC=0
	TLSC_OUT=$(in_s timeout 60 "$TLSC" --mem=16M --net:service=tap4 \
		--block:certs="$WORK/client.tar" ipv4=10.77.0.5/24 mac=02:00:00:77:00:05 "$@" 2>&1) ||
		TLSC_RC=$?
}
tlsc() {
	local name=$1 want=$2
	shift 2
	tlsc_run "$@"
	if [ "$TLSC_RC" = 0 ] && echo "$TLSC_OUT" | grep -qE "$want"; then
		ok "$name"
	else
		fail_row "$name" "status $TLSC_RC; wanted /$want/; tlsc $*
$TLSC_OUT"
	fi
}
# tlsc_fails NAME REGEX ARG...: the client must fail, saying REGEX.
tlsc_fails() {
	local name=$1 want=$2
	shift 2
	tlsc_run "$@"
	if [ "$TLSC_RC" != 0 ] && [ "$TLSC_RC" != 124 ] && echo "$TLSC_OUT" | grep -qE "$want"; then
		ok "$name"
	else
		fail_row "$name" "status $TLSC_RC; wanted a failure /$want/; tlsc $*
$TLSC_OUT"
	fi
}

# log_grew FILE COUNT PATTERN: FILE has more than COUNT lines matching.
log_count() { grep -cE "$2" "$1" 2>/dev/null || true; }
log_check() { # NAME FILE BEFORE PATTERN
	local n
	for _ in $(seq 20); do
		n=$(log_count "$2" "$4")
		[ "${n:-0}" -gt "$3" ] && break
		sleep 0.1
	done
	if [ "${n:-0}" -gt "$3" ]; then
		ok "$1"
	else
		fail_row "$1" "no new line /$4/ in $2"
	fi
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---- the test PKI ---------------------------------------------------------
make_pki() {
	mkdir -p "$PKI"
	cd "$PKI" || return 1
	printf '[req]\ndistinguished_name = dn\n[dn]\n[ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n' >ca.cnf
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
		openssl req -new -x509 -key ca.key -subj "/CN=atoll test root" -days 30 -sha256 \
			-extensions ca -config ca.cnf -out ca.pem || return 1
	# A second root nobody trusts.
	openssl ecparam -name prime256v1 -genkey -noout -out rogue.key &&
		openssl req -new -x509 -key rogue.key -subj "/CN=atoll test root" -days 30 -sha256 \
			-extensions ca -config ca.cnf -out rogue.pem || return 1
	local name type names
	while read -r name type names; do
		case $type in
		p256) openssl ecparam -name prime256v1 -genkey -noout -out "$name.key" ;;
		p384) openssl ecparam -name secp384r1 -genkey -noout -out "$name.key" ;;
		rsa) openssl genrsa -out "$name.key" 2048 2>/dev/null ;; # PKCS#8 "PRIVATE KEY"
		esac || return 1
		{
			echo "basicConstraints = critical,CA:FALSE"
			echo "keyUsage = critical,digitalSignature,keyEncipherment"
			echo "extendedKeyUsage = serverAuth,clientAuth"
			echo "subjectAltName = $(echo "$names" | sed 's/\([^,]*\)/DNS:\1/g')"
			echo "subjectKeyIdentifier = hash"
			echo "authorityKeyIdentifier = keyid"
		} >"$name.ext"
		openssl req -new -key "$name.key" -subj "/CN=${names%%,*}" -out "$name.csr" &&
			openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
				-days 30 -sha256 -extfile "$name.ext" -out "$name.pem" 2>/dev/null || return 1
	done <<EOF
ecdsa p256 atoll.test,www.atoll.test
other p384 other.atoll.test
rsa rsa rsa.atoll.test
client p256 client.atoll.test
EOF
	mkdir -p a c cl
	cp ecdsa.pem a/cert.pem && cp ecdsa.key a/key.pem && cp other.pem a/other.cert.pem &&
		cp other.key a/other.key.pem && cp ca.pem a/ca.pem &&
		tar --format=ustar -C a -cf "$WORK/a.tar" cert.pem key.pem other.cert.pem other.key.pem ca.pem &&
		cp rsa.pem c/cert.pem && cp rsa.key c/key.pem &&
		tar --format=ustar -C c -cf "$WORK/c.tar" cert.pem key.pem &&
		cp ca.pem rogue.pem client.pem client.key cl/ &&
		tar --format=ustar -C cl -cf "$WORK/client.tar" ca.pem rogue.pem client.pem client.key || return 1
	# The built-in credential's certificate, to verify tlsd E.
	sed -n '/tlsd_default_cert/,/;/p' "$ROOT/apps/tlsd/default_cred.h" | grep -o '"[^"]*"' |
		tr -d '"' | sed 's/\\n$//' >default.pem
	chmod -R a+rX "$PKI"
	cd "$ROOT" || return 1
}
if make_pki >"$WORK/pki.log" 2>&1; then
	ok "test CA, ECDSA P-256, P-384 and RSA-2048 certificates made with openssl"
else
	not_ok "test CA and certificates made with openssl" "$(tail -5 "$WORK/pki.log")"
	finish
fi
CA=$PKI/ca.pem

# The byte pattern of apps/tlsd/tlsargs.h, in files for the large rows.
python3 -c '
import sys
n = int(sys.argv[1])
sys.stdout.buffer.write(bytes((i + i // 4093) & 255 for i in range(n)))' 5000000 >"$WORK/pat5m"
head -c 1048576 "$WORK/pat5m" >"$WORK/pat1m"
head -c 3000000 "$WORK/pat5m" >"$WORK/pat3m"
mkdir -p "$WORK/www" && cp "$WORK/pat3m" "$WORK/www/pat3m.bin"

# ---- the servers --------------------------------------------------------------
net_up
bridge_tap tap1 tap2 tap3 tap4
TLSD_COMMON=(--mem=48M tcp-conns=64 tcp-buf=64K)
start_uk "$WORK/a.log" "$TLSD" "${TLSD_COMMON[@]}" --net:service=tap0 --block:certs="$WORK/a.tar" \
	ipv4=$A/24 mac=02:00:00:77:00:02 alpn=http/1.1,h2
A_PID=$UK_PID
start_uk "$WORK/b.log" "$TLSD" "${TLSD_COMMON[@]}" --net:service=tap1 --block:certs="$WORK/a.tar" \
	ipv4=$B/24 mac=02:00:00:77:00:04 tls-min=1.3 groups=x25519 tickets=0
B_PID=$UK_PID
start_uk "$WORK/c.log" "$TLSD" "${TLSD_COMMON[@]}" --net:service=tap2 --block:certs="$WORK/c.tar" \
	ipv4=$C/24 mac=02:00:00:77:00:06
C_PID=$UK_PID
start_uk "$WORK/d.log" "$TLSD" "${TLSD_COMMON[@]}" --net:service=tap3 --block:certs="$WORK/a.tar" \
	ipv4=$D/24 mac=02:00:00:77:00:08 client-cert=require
D_PID=$UK_PID
# tlsd E is the lean configuration: a send buffer of 8 KiB (room for its
# whole flight) and 4 KiB for a ClientHello, under 40 KiB per connection.
start_uk "$WORK/e.log" "$TLSD" --mem=32M --stack=socket listen=127.0.0.1:8443 out-buf=8192 \
	hs-buf=4096
E_PID=$UK_PID
started=1
for x in a b c d e; do
	wait_for_log "$WORK/$x.log" "tlsd on TCP port" || started=0
done
if [ $started = 1 ]; then
	ok "five tlsd unikernels start (4 on the atoll stack, 1 on the socket stack)"
else
	not_ok "five tlsd unikernels start" "$(tail -n 4 "$WORK"/[a-e].log)"
fi
grep -q "credential other.cert.pem loaded" "$WORK/a.log" &&
	grep -q "trust anchors for client certificates" "$WORK/a.log" &&
	ok "tlsd A loaded cert.pem, other.cert.pem and ca.pem from its tar archive" ||
	not_ok "tlsd A loaded its credentials" "$(grep -E 'credential|ca.pem|error' "$WORK/a.log")"
per=$(sed -n 's/.*connections of \([0-9]*\) bytes.*/\1/p' "$WORK/e.log")
[ -n "$per" ] && [ "$per" -lt 40960 ] && ok "tlsd E: $per bytes per connection (under 40 KiB)" ||
	not_ok "tlsd E: under 40 KiB per connection" "$(grep 'connections of' "$WORK/e.log")"
grep -q "built-in self-signed localhost" "$WORK/e.log" &&
	ok "tlsd E without an archive serves the built-in credential" ||
	not_ok "tlsd E serves the built-in credential" "$(tail -3 "$WORK/e.log")"

# Linux servers in the client namespace for tlsc.
ip netns exec "$NS_C" sh -c "cd '$WORK/www' && exec openssl s_server -accept $L:4433 -cert '$PKI/ecdsa.pem' \
	-key '$PKI/ecdsa.key' -dcert '$PKI/rsa.pem' -dkey '$PKI/rsa.key' -www -msg" \
	>"$WORK/ss.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS_C" openssl s_server -accept $L:4434 -cert "$PKI/ecdsa.pem" -key "$PKI/ecdsa.key" -groups P-256 \
	-www -msg >"$WORK/ss-hrr.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS_C" sh -c "cd '$WORK/www' && exec openssl s_server -accept $L:4435 -cert '$PKI/ecdsa.pem' \
	-key '$PKI/ecdsa.key' -WWW" >"$WORK/ss-www.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS_C" gnutls-serv --http -p 5557 --x509certfile "$PKI/ecdsa.pem" --x509keyfile "$PKI/ecdsa.key" \
	>"$WORK/gs-http.log" 2>&1 &
PIDS+=($!)
expect "ping tlsd A (ARP both ways)" in_c ping -c 1 -W 2 $A

# ---- atoll server vs openssl s_client -----------------------------------------
CUR_LOG=$WORK/a.log
SC=(openssl s_client -connect $A:443 -servername atoll.test -verify_hostname atoll.test
	-CAfile "$CA" -verify_return_error)
ECHO=(send='hello-atoll\n' expect='^hello-atoll$')
BYE=(send='Q\n' exit=0)

for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	peer "s_client TLS 1.3 $s: echo" expect="New, TLSv1.3, Cipher is $s" \
		expect='Verify return code: 0 \(ok\)' "${ECHO[@]}" "${BYE[@]}" \
		-- "${SC[@]}" -tls1_3 -ciphersuites $s
done
for g in X25519:X25519 P-256:'ECDH, prime256v1' P-384:'ECDH, secp384r1'; do
	peer "s_client TLS 1.3 group ${g%%:*}: echo" expect="Server Temp Key: ${g#*:}" \
		expect='New, TLSv1.3' "${ECHO[@]}" "${BYE[@]}" -- "${SC[@]}" -tls1_3 -groups "${g%%:*}"
done
for s in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
	peer "s_client TLS 1.2 $s: echo" expect="New, TLSv1.2, Cipher is $s" \
		expect='Verify return code: 0 \(ok\)' "${ECHO[@]}" "${BYE[@]}" \
		-- "${SC[@]}" -tls1_2 -cipher $s
done
# In TLS 1.2 supported_groups also bounds the curve of an ECDSA certificate
# (RFC 8422 5.1): a client that wants X25519 lists P-256 too, for the
# default certificate; one that lists P-384 alone gets the P-384
# certificate (other.atoll.test) whatever name it asked for.
SC_OTHER=(openssl s_client -connect $A:443 -servername other.atoll.test
	-verify_hostname other.atoll.test -CAfile "$CA" -verify_return_error)
peer "s_client TLS 1.2 group X25519 (with P-256 listed): echo" expect="Server Temp Key: X25519" \
	expect='New, TLSv1.2' "${ECHO[@]}" "${BYE[@]}" -- "${SC[@]}" -tls1_2 -groups X25519:P-256
peer "s_client TLS 1.2 group P-256: echo" expect="Server Temp Key: ECDH, prime256v1" \
	expect='New, TLSv1.2' "${ECHO[@]}" "${BYE[@]}" -- "${SC[@]}" -tls1_2 -groups P-256
peer "s_client TLS 1.2 group P-384 only: the P-384 certificate, echo" \
	expect="Server Temp Key: ECDH, secp384r1" expect='New, TLSv1.2' "${ECHO[@]}" "${BYE[@]}" \
	-- "${SC_OTHER[@]}" -tls1_2 -groups P-384
peer "s_client TLS 1.2 -groups X25519 only vs a P-256 certificate: handshake_failure (as OpenSSL's server)" \
	expect='alert handshake failure' -- "${SC[@]}" -tls1_2 -groups X25519
peer "s_client with no version flag gets TLS 1.3" expect='New, TLSv1.3' "${ECHO[@]}" "${BYE[@]}" \
	-- "${SC[@]}"

# HTTP: the text body names what was negotiated; the server closes with
# close_notify after the response ("closed", not "unexpected eof").
peer "s_client GET /: the body names TLS1.3, the suite, group, SNI; server's close_notify" \
	send='GET / HTTP/1.1\r\nHost: atoll.test\r\n\r\n' \
	expect='version=TLS1.3 suite=TLS_AES_256_GCM_SHA384 group=x25519 alpn=none sni=atoll.test resumed=0' \
	expect='^closed$' exit=0 absent='unexpected eof' \
	-- "${SC[@]}" -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 -groups X25519
n=$(log_count "$WORK/a.log" "closed cleanly \(close_notify received\)")
peer "s_client Q sends close_notify: echo" "${ECHO[@]}" "${BYE[@]}" -- "${SC[@]}"
log_check "tlsd logs the client's close_notify as a clean close" "$WORK/a.log" "$n" \
	"closed cleanly \(close_notify received\)"
n=$(log_count "$WORK/a.log" "without close_notify \(truncation\)")
peer "s_client killed mid-connection (no close_notify)" "${ECHO[@]}" -- "${SC[@]}"
log_check "tlsd logs a TCP close without close_notify as a truncation" "$WORK/a.log" "$n" \
	"without close_notify \(truncation\)"

# SNI: the P-384 credential for other.atoll.test, the default for the rest.
peer "SNI other.atoll.test: the P-384 certificate, verified for that name" \
	expect='Verify return code: 0 \(ok\)' "${ECHO[@]}" "${BYE[@]}" \
	-- openssl s_client -connect $A:443 -servername other.atoll.test \
	-verify_hostname other.atoll.test -CAfile "$CA" -verify_return_error
peer "SNI www.atoll.test: the default certificate (its second SAN)" \
	expect='Verify return code: 0 \(ok\)' "${ECHO[@]}" "${BYE[@]}" \
	-- openssl s_client -connect $A:443 -servername www.atoll.test \
	-verify_hostname www.atoll.test -CAfile "$CA" -verify_return_error

# ALPN: the server's list is http/1.1,h2.
peer "ALPN: s_client offers h2, gets h2" expect='ALPN protocol: h2' "${ECHO[@]}" "${BYE[@]}" \
	-- "${SC[@]}" -alpn h2
peer "ALPN: s_client offers h2,http/1.1, gets the server's first choice http/1.1" \
	expect='ALPN protocol: http/1.1' "${ECHO[@]}" "${BYE[@]}" -- "${SC[@]}" -alpn h2,http/1.1
peer "ALPN: no common protocol fails with no_application_protocol" \
	expect='alert no application protocol' exit=fail -- "${SC[@]}" -alpn spdy/1

# Resumption with tickets, both versions.
for v in 1_3:TLSv1.3 1_2:TLSv1.2; do
	sess=$WORK/sess-${v%%:*}
	peer "s_client TLS ${v#*:TLSv} full handshake saves a ticket (-sess_out)" \
		expect="New, ${v#*:}" "${ECHO[@]}" "${BYE[@]}" -- "${SC[@]}" -tls${v%%:*} -sess_out "$sess"
	peer "s_client TLS ${v#*:TLSv} resumes with it (-sess_in): Reused" \
		expect="Reused, ${v#*:}" "${ECHO[@]}" "${BYE[@]}" -- "${SC[@]}" -tls${v%%:*} -sess_in "$sess"
done
grep -q "resumed=1" "$WORK/a.log" && ok "tlsd logged resumed=1 handshakes" ||
	not_ok "tlsd logged resumed=1 handshakes" "$(grep handshake "$WORK/a.log" | tail -3)"

# KeyUpdate both ways (TLS 1.3).
peer "KeyUpdate from s_client (k, update_not_requested), then echo on new keys" \
	"${ECHO[@]}" send='k\n' expect='KEYUPDATE' send='after-k\n' expect='^after-k$' "${BYE[@]}" \
	-- "${SC[@]}" -tls1_3 -msg
peer "KeyUpdate from s_client (K, update_requested): tlsd answers with its own" \
	"${ECHO[@]}" send='K\n' expect='^>>> [^\n]*KeyUpdate' expect='^<<< [^\n]*KeyUpdate' \
	send='after-K\n' expect='^after-K$' "${BYE[@]}" -- "${SC[@]}" -tls1_3 -msg
peer "KeyUpdate from tlsd (the KEYUPDATE line): s_client updates and answers" \
	"${ECHO[@]}" send='KEYUPDATE\n' expect='^<<< [^\n]*KeyUpdate' \
	send='after-server-ku\n' expect='^>>> [^\n]*KeyUpdate' expect='^after-server-ku$' close exit=0 \
	-- "${SC[@]}" -tls1_3 -msg -nocommands
grep -q "KeyUpdate sent" "$WORK/a.log" && ok "tlsd logged its KeyUpdate" ||
	not_ok "tlsd logged its KeyUpdate" "$(tail -3 "$WORK/a.log")"

# Large: 1 MiB echoed through s_client (-quiet: nothing but data on stdout).
peer "s_client TLS 1.3 echo of 1 MiB, byte-exact" timeout=30 sendfile="$WORK/pat1m" \
	expectout="$WORK/pat1m" -- "${SC[@]}" -tls1_3 -quiet -nocommands
peer "s_client TLS 1.2 echo of 1 MiB, byte-exact" timeout=30 sendfile="$WORK/pat1m" \
	expectout="$WORK/pat1m" -- "${SC[@]}" -tls1_2 -quiet -nocommands

# HelloRetryRequest: tlsd B takes x25519 only; s_client sends a key share
# for its first group, P-256, so the server must ask again (a second
# ClientHello).
CUR_LOG=$WORK/b.log
SCB=(openssl s_client -connect $B:443 -servername atoll.test -verify_hostname atoll.test
	-CAfile "$CA" -verify_return_error)
peer "HelloRetryRequest: s_client P-256:X25519 vs x25519-only tlsd: two ClientHellos, X25519" \
	expect='^>>> [^\n]*ClientHello' expect='^>>> [^\n]*ClientHello' \
	expect='Server Temp Key: X25519' "${ECHO[@]}" "${BYE[@]}" \
	-- "${SCB[@]}" -groups P-256:X25519 -msg
peer "HelloRetryRequest: s_client P-384:P-256:X25519 vs x25519-only tlsd" \
	expect='^>>> [^\n]*ClientHello' expect='^>>> [^\n]*ClientHello' \
	expect='Server Temp Key: X25519' "${ECHO[@]}" "${BYE[@]}" \
	-- "${SCB[@]}" -groups P-384:P-256:X25519 -msg
peer "no common group (s_client P-256 only vs x25519-only) fails with an alert" \
	expect='alert handshake failure|alert insufficient security|alert illegal parameter' \
	exit=fail -- "${SCB[@]}" -groups P-256
peer "TLS 1.2 client vs 1.3-only tlsd fails with protocol_version" \
	expect='alert protocol version' exit=fail -- "${SCB[@]}" -tls1_2
peer "tickets=0: the 1.3 handshake works, no ticket is sent" \
	expect='New, TLSv1.3' "${ECHO[@]}" "${BYE[@]}" absent='New Session Ticket arrived' \
	-- "${SCB[@]}" -sess_out "$WORK/sess-b"

# RSA: tlsd C has an RSA-2048 certificate only, which serves TLS 1.2 only.
CUR_LOG=$WORK/c.log
SCC=(openssl s_client -connect $C:443 -servername rsa.atoll.test -verify_hostname rsa.atoll.test
	-CAfile "$CA" -verify_return_error)
for s in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
	peer "s_client TLS 1.2 RSA certificate $s: echo" expect="New, TLSv1.2, Cipher is $s" \
		expect='Verify return code: 0 \(ok\)' "${ECHO[@]}" "${BYE[@]}" \
		-- "${SCC[@]}" -tls1_2 -cipher $s
done
peer "RSA-only tlsd and a 1.2+1.3 client: TLS 1.2 with ECDHE-RSA" \
	expect='New, TLSv1.2, Cipher is ECDHE-RSA-' "${ECHO[@]}" "${BYE[@]}" -- "${SCC[@]}"
n=$(log_count "$WORK/c.log" "failed: .*alert=")
peer "a TLS 1.3-only client vs the RSA-only tlsd fails cleanly with an alert" \
	expect='alert (handshake failure|insufficient security|protocol version)' exit=fail \
	-- "${SCC[@]}" -tls1_3
log_check "tlsd C logs that failure with the alert it sent" "$WORK/c.log" "$n" "failed: .*alert="

# Client certificates: tlsd D requires one from the test CA.
CUR_LOG=$WORK/d.log
SCD=(openssl s_client -connect $D:443 -servername atoll.test -verify_hostname atoll.test
	-CAfile "$CA" -verify_return_error)
peer "client certificate required, TLS 1.3: s_client presents one, echo" \
	"${ECHO[@]}" "${BYE[@]}" -- "${SCD[@]}" -tls1_3 -cert "$PKI/client.pem" -key "$PKI/client.key"
# Client certificates are TLS 1.3 only (docs/tls.md): a server that
# requires one refuses TLS 1.2 whether or not the client has one.
peer "client certificate required, TLS 1.2 with one: refused (client certificates need 1.3)" \
	expect='alert handshake failure' exit=fail \
	-- "${SCD[@]}" -tls1_2 -cert "$PKI/client.pem" -key "$PKI/client.key"
peer "client certificate required, TLS 1.3: none presented fails with an alert" \
	send='hello-atoll\n' expect='alert (certificate required|handshake failure|bad certificate)' \
	exit=any -- "${SCD[@]}" -tls1_3
peer "client certificate required, TLS 1.2: none presented fails with an alert" \
	expect='alert (handshake failure|bad certificate|certificate required)' exit=fail \
	-- "${SCD[@]}" -tls1_2
peer "client certificate from an untrusted CA is refused" \
	send='hello-atoll\n' expect='alert (unknown ca|bad certificate|decrypt error|handshake failure)' \
	exit=any -- "${SCD[@]}" -tls1_3 -cert "$PKI/rogue.pem" -key "$PKI/rogue.key"

# ---- atoll server vs gnutls-cli ---------------------------------------------------
CUR_LOG=$WORK/a.log
GC=(gnutls-cli --x509cafile "$CA" --sni-hostname atoll.test --verify-hostname atoll.test -p 443)
GECHO=(send='hello-atoll\n' expect='^hello-atoll' close exit=any)
V13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
V12="NORMAL:-VERS-ALL:+VERS-TLS1.2"
for c in AES-128-GCM AES-256-GCM CHACHA20-POLY1305; do
	peer "gnutls-cli TLS 1.3 $c: echo" expect="\(TLS1.3-X.509\)-.*-\($c\)" "${GECHO[@]}" \
		-- "${GC[@]}" --priority "$V13:-CIPHER-ALL:+$c" $A
	peer "gnutls-cli TLS 1.2 ECDHE-ECDSA $c: echo" \
		expect="\(TLS1.2-X.509\)-\(ECDHE-[A-Z0-9]+\)-\(ECDSA-[A-Z0-9-]+\)-\($c\)" "${GECHO[@]}" \
		-- "${GC[@]}" --priority "$V12:-CIPHER-ALL:+$c:-KX-ALL:+ECDHE-ECDSA" $A
done
for g in X25519 SECP256R1 SECP384R1; do
	peer "gnutls-cli TLS 1.3 group $g: echo" expect="\(TLS1.3-X.509\)-\(ECDHE-$g\)" "${GECHO[@]}" \
		-- "${GC[@]}" --priority "$V13:-GROUP-ALL:+GROUP-$g" $A
done
# TLS 1.2: the certificate's curve must be listed too (RFC 8422 5.1).
peer "gnutls-cli TLS 1.2 group X25519 (with SECP256R1 listed): echo" \
	expect="\(TLS1.2-X.509\)-\(ECDHE-X25519\)" "${GECHO[@]}" \
	-- "${GC[@]}" --priority "$V12:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1" $A
peer "gnutls-cli TLS 1.2 group SECP256R1: echo" expect="\(TLS1.2-X.509\)-\(ECDHE-SECP256R1\)" \
	"${GECHO[@]}" -- "${GC[@]}" --priority "$V12:-GROUP-ALL:+GROUP-SECP256R1" $A
peer "gnutls-cli TLS 1.2 group SECP384R1 only: the P-384 certificate, echo" \
	expect="\(TLS1.2-X.509\)-\(ECDHE-SECP384R1\)" "${GECHO[@]}" \
	-- gnutls-cli --x509cafile "$CA" --sni-hostname other.atoll.test \
	--verify-hostname other.atoll.test -p 443 --priority "$V12:-GROUP-ALL:+GROUP-SECP384R1" $A
peer "gnutls-cli TLS 1.3 --resume: a resumed session" expect='This is a resumed session' \
	close exit=any -- "${GC[@]}" --priority "$V13" --resume $A
peer "gnutls-cli TLS 1.2 --resume: a resumed session" expect='This is a resumed session' \
	close exit=any -- "${GC[@]}" --priority "$V12" --resume $A
peer "gnutls-cli KeyUpdate (^rekey1^, update requested), then echo" \
	send='hello-atoll\n' expect='^hello-atoll' send='^rekey1^\n' expect='Rekey was completed' \
	send='after\n' expect='^after' close exit=any -- "${GC[@]}" --inline-commands $A
peer "gnutls-cli ALPN http/1.1" expect='- Application protocol: http/1.1' "${GECHO[@]}" \
	-- "${GC[@]}" --alpn http/1.1 $A
CUR_LOG=$WORK/c.log
peer "gnutls-cli TLS 1.2 vs the RSA tlsd: ECDHE-RSA" \
	expect='\(TLS1.2-X.509\)-\(ECDHE-[A-Z0-9]+\)-\(RSA-' "${GECHO[@]}" \
	-- gnutls-cli --x509cafile "$CA" --sni-hostname rsa.atoll.test \
	--verify-hostname rsa.atoll.test -p 443 $C
CUR_LOG=$WORK/b.log
peer "gnutls-cli SECP256R1 first vs x25519-only tlsd: X25519" expect='\(ECDHE-X25519\)' \
	"${GECHO[@]}" -- "${GC[@]}" --priority "$V13:-GROUP-ALL:+GROUP-SECP256R1:+GROUP-X25519" $B

# ---- atoll server vs curl ------------------------------------------------------------
CUR_LOG=$WORK/a.log
CURL=(curl -sS --max-time 30 --cacert "$CA" --resolve atoll.test:443:$A
	--resolve www.atoll.test:443:$A --resolve other.atoll.test:443:$A)
curl_row() { # NAME REGEX CURL-ARG...: the output must match REGEX
	local name=$1 want=$2 out
	shift 2
	if out=$(in_c "${CURL[@]}" "$@" 2>&1) && echo "$out" | grep -qE "$want"; then
		ok "$name"
	else
		fail_row "$name" "wanted /$want/; curl $*
$out"
	fi
}
curl_row "curl --tlsv1.3: version=TLS1.3, ALPN http/1.1" 'version=TLS1.3 .*alpn=http/1.1 sni=atoll.test' \
	--tlsv1.3 https://atoll.test/
curl_row "curl --tlsv1.2 --tls-max 1.2: version=TLS1.2" 'version=TLS1.2 .*sni=atoll.test' \
	--tlsv1.2 --tls-max 1.2 https://atoll.test/
for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	curl_row "curl --tls13-ciphers $s" "version=TLS1.3 suite=$s " --tlsv1.3 --tls13-ciphers $s \
		https://atoll.test/
done
for s in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
	curl_row "curl TLS 1.2 --ciphers $s" "version=TLS1.2 suite=$s " --tlsv1.2 --tls-max 1.2 \
		--ciphers $s https://atoll.test/
done
for g in X25519:x25519 P-256:p256 P-384:p384; do
	curl_row "curl --curves ${g%%:*}" "group=${g#*:} " --curves "${g%%:*}" https://atoll.test/
done
curl_row "curl --http1.1: ALPN http/1.1" 'alpn=http/1.1' --http1.1 https://atoll.test/
curl_row "curl --http2 (h2,http/1.1): the server's preference http/1.1" 'alpn=http/1.1' --http2 \
	https://atoll.test/
curl_row "curl --no-alpn: alpn=none" 'alpn=none' --no-alpn https://atoll.test/
curl_row "curl SNI www.atoll.test" 'sni=www.atoll.test' https://www.atoll.test/
curl_row "curl SNI other.atoll.test (P-384 certificate, name checked)" 'sni=other.atoll.test' \
	https://other.atoll.test/
curl_row "curl two requests: the second connection resumes (resumed=1)" 'resumed=1' \
	https://atoll.test/ https://atoll.test/
# curl (7.88, OpenSSL) offers no session_ticket extension in TLS 1.2, and
# tlsd keeps no session-ID cache (stateless tickets only, docs/tls.md):
# both connections are full handshakes.
out=$(in_c "${CURL[@]}" --tlsv1.2 --tls-max 1.2 https://atoll.test/ https://atoll.test/ 2>&1)
[ "$(echo "$out" | grep -cE '^version=TLS1.2 .*resumed=0')" = 2 ] &&
	ok "curl TLS 1.2 two requests: two full handshakes (curl sends no 1.2 ticket)" ||
	fail_row "curl TLS 1.2 two requests: two full handshakes" "$out"
for v in --tlsv1.3 "--tlsv1.2 --tls-max 1.2"; do
	# shellcheck disable=SC2086
	got=$(in_c "${CURL[@]}" $v https://atoll.test/bytes/5000000 2>"$WORK/curl.err" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$(sha_of "$WORK/pat5m")" ] &&
		ok "curl $v GET /bytes/5000000: SHA-256 equal" ||
		fail_row "curl $v GET /bytes/5000000: SHA-256 equal" "got $got; $(cat "$WORK/curl.err")"
done
n=$(log_count "$WORK/a.log" "response sent, then close_notify: sent")
curl_row "curl GET: Connection: close" '^version=' https://atoll.test/
log_check "tlsd sent close_notify after the response" "$WORK/a.log" "$n" \
	"response sent, then close_notify: sent"
CUR_LOG=$WORK/c.log
curl_row "curl TLS 1.2 vs the RSA tlsd" 'version=TLS1.2 suite=ECDHE-RSA-' --resolve rsa.atoll.test:443:$C \
	https://rsa.atoll.test/
CUR_LOG=$WORK/e.log
if out=$(in_s curl -sS --max-time 20 --cacert "$PKI/default.pem" https://localhost:8443/ 2>&1) &&
	echo "$out" | grep -q 'version=TLS1.3'; then
	ok "curl vs tlsd E on the socket stack with the built-in localhost certificate"
else
	fail_row "curl vs tlsd E on the socket stack with the built-in localhost certificate" "$out"
fi
for v in --tlsv1.3 "--tlsv1.2 --tls-max 1.2"; do
	# shellcheck disable=SC2086
	in_s curl -sS --max-time 60 --cacert "$PKI/default.pem" $v -o "$WORK/e.got" \
		https://localhost:8443/bytes/3000000 2>"$WORK/e.err"
	[ "$(sha_of "$WORK/e.got")" = "$(sha_of "$WORK/pat3m")" ] &&
		ok "curl $v GET /bytes/3000000 from the lean tlsd E (8 KiB records out): SHA-256 equal" ||
		fail_row "curl $v GET /bytes/3000000 from the lean tlsd E" "$(cat "$WORK/e.err")"
done

# ---- atoll client (tlsc) vs openssl s_server ----------------------------------------------
CUR_LOG=$WORK/ss.log
TC=(connect=$L:4433 sni=atoll.test ca=ca.pem)
for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	tlsc "tlsc vs s_server TLS 1.3 $s" "^tlsc: version=TLS1.3 suite=$s " "${TC[@]}" suites=$s
done
for g in x25519 p256 p384; do
	tlsc "tlsc vs s_server TLS 1.3 group $g" "^tlsc: version=TLS1.3 .*group=$g " "${TC[@]}" \
		groups=$g
	# 1.2: P-256 listed too, for the certificate's curve (RFC 8422 5.1);
	# with x25519 alone s_server falls back to its RSA certificate.
	tlsc "tlsc vs s_server TLS 1.2 group $g" "^tlsc: version=TLS1.2 .*group=$g " "${TC[@]}" \
		tls-max=1.2 groups=$g$([ $g = p256 ] || echo ,p256)
done
for s in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
	tlsc "tlsc vs s_server TLS 1.2 $s" "^tlsc: version=TLS1.2 suite=$s " "${TC[@]}" \
		tls-max=1.2 suites=$s
done
# s_server's second (-dcert) certificate is RSA, for rsa.atoll.test.
for s in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
	tlsc "tlsc vs s_server TLS 1.2 $s (RSA certificate)" "^tlsc: version=TLS1.2 suite=$s " \
		connect=$L:4433 sni=rsa.atoll.test ca=ca.pem tls-max=1.2 suites=$s
done
tlsc "tlsc vs s_server -www: the status page, ended by close_notify" \
	'^tlsc: version=TLS1.3 .*bytes=[1-9]' "${TC[@]}"
tlsc "tlsc vs s_server TLS 1.3 resume=1: resumed=1" '^tlsc: version=TLS1.3 .*resumed=1 ' \
	"${TC[@]}" resume=1
tlsc "tlsc vs s_server TLS 1.2 resume=1: resumed=1" '^tlsc: version=TLS1.2 .*resumed=1 ' \
	"${TC[@]}" resume=1 tls-max=1.2
n=$(log_count "$WORK/ss.log" "^<<< .*KeyUpdate")
tlsc "tlsc keyupdate=1 vs s_server" '^tlsc: version=TLS1.3 ' "${TC[@]}" keyupdate=1
log_check "s_server received tlsc's KeyUpdate" "$WORK/ss.log" "$n" "^<<< .*KeyUpdate"
tlsc "tlsc ALPN h2 vs s_server (no ALPN): alpn=none" '^tlsc: .*alpn=none ' "${TC[@]}" alpn=h2
tlsc_fails "tlsc sni=wrong.atoll.test: the certificate's name does not match" 'failed: handshake' \
	connect=$L:4433 sni=wrong.atoll.test ca=ca.pem
tlsc_fails "tlsc with an untrusted CA fails (unknown_ca)" 'failed: handshake' \
	connect=$L:4433 sni=atoll.test ca=rogue.pem
tlsc "tlsc verify=0 accepts any chain" '^tlsc: version=TLS1.3 ' connect=$L:4433 verify=0
CUR_LOG=$WORK/ss-hrr.log
n=$(log_count "$WORK/ss-hrr.log" "^<<< .*ClientHello")
tlsc "tlsc x25519,p256 vs s_server -groups P-256: group=p256" '^tlsc: version=TLS1.3 .*group=p256 ' \
	connect=$L:4434 sni=atoll.test ca=ca.pem groups=x25519,p256
log_check "HelloRetryRequest: s_server got a second ClientHello" "$WORK/ss-hrr.log" $((n + 1)) \
	"^<<< .*ClientHello"
CUR_LOG=$WORK/ss-www.log
tlsc "tlsc GET 3 MB file from s_server -WWW, SHA-256 equal" \
	"^tlsc: .*body=3000000 body_sha256=$(sha_of "$WORK/pat3m")" connect=$L:4435 sni=atoll.test \
	ca=ca.pem request='GET /pat3m.bin HTTP/1.0\r\n\r\n'

# ---- tlsc vs gnutls-serv ----------------------------------------------------------------------
# gnutls-serv --echo answers whole lines only (a command interpreter), so
# bulk echo is left to s_server and tlsd; these rows are HTTP requests to
# gnutls-serv --http, whose status page answers each one.
CUR_LOG=$WORK/gs-http.log
GS=(connect=$L:5557 sni=atoll.test ca=ca.pem)
tlsc "tlsc GET / vs gnutls-serv --http, TLS 1.3" '^tlsc: version=TLS1.3 .*body=[1-9]' "${GS[@]}"
tlsc "tlsc GET / vs gnutls-serv --http, TLS 1.2" '^tlsc: version=TLS1.2 .*body=[1-9]' "${GS[@]}" \
	tls-max=1.2
tlsc "tlsc keyupdate=1 (update_requested) then GET vs gnutls-serv: answered on new keys" \
	'^tlsc: version=TLS1.3 .*body=[1-9]' "${GS[@]}" keyupdate=1
tlsc "tlsc vs gnutls-serv TLS 1.3 resume=1" '^tlsc: version=TLS1.3 .*resumed=1 ' "${GS[@]}" resume=1
tlsc "tlsc vs gnutls-serv TLS 1.2 resume=1" '^tlsc: version=TLS1.2 .*resumed=1 ' "${GS[@]}" resume=1 \
	tls-max=1.2

# ---- tlsc vs tlsd: atoll on both ends ---------------------------------------------------------
CUR_LOG=$WORK/a.log
TA=(connect=$A:443 sni=atoll.test ca=ca.pem)
tlsc "tlsc vs tlsd GET /: the body names the handshake" \
	'^tlsc: version=TLS1.3 .*alpn=http/1.1 .*body=' "${TA[@]}" alpn=http/1.1
tlsc "tlsc vs tlsd GET /bytes/5000000: SHA-256 equal" \
	"^tlsc: .*body=5000000 body_sha256=$(sha_of "$WORK/pat5m")" "${TA[@]}" request=/bytes/5000000
tlsc "tlsc vs tlsd echo of 3 MB, TLS 1.3" "^tlsc: version=TLS1.3 .*sha256=$(sha_of "$WORK/pat3m")" \
	"${TA[@]}" echo=3000000
tlsc "tlsc vs tlsd echo of 3 MB, TLS 1.2" "^tlsc: version=TLS1.2 .*sha256=$(sha_of "$WORK/pat3m")" \
	"${TA[@]}" echo=3000000 tls-max=1.2
tlsc "tlsc vs tlsd keyupdate=1 mid-echo" '^tlsc: version=TLS1.3 .*bytes=1000000 ' "${TA[@]}" \
	echo=1000000 keyupdate=1
tlsc "tlsc vs tlsd resume=1 TLS 1.3" '^tlsc: version=TLS1.3 .*resumed=1 ' "${TA[@]}" resume=1
tlsc "tlsc vs tlsd resume=1 TLS 1.2" '^tlsc: version=TLS1.2 .*resumed=1 ' "${TA[@]}" resume=1 \
	tls-max=1.2
CUR_LOG=$WORK/d.log
tlsc "tlsc with a client certificate vs tlsd (required)" '^tlsc: version=TLS1.3 ' \
	connect=$D:443 sni=atoll.test ca=ca.pem cert=client.pem key=client.key echo=1000
CUR_LOG=$WORK/b.log
tlsc "tlsc p256,x25519 vs x25519-only tlsd (HelloRetryRequest if it sent only p256)" \
	'^tlsc: version=TLS1.3 .*group=x25519 ' connect=$B:443 sni=atoll.test ca=ca.pem \
	groups=p256,x25519 echo=1000

# ---- stops and counters --------------------------------------------------------------------------
counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }
for x in A:$A_PID B:$B_PID C:$C_PID D:$D_PID E:$E_PID; do
	stop_uk "${x#*:}"
	[ "$UK_STATUS" = 0 ] && ok "tlsd ${x%%:*} stops with status 0" ||
		not_ok "tlsd ${x%%:*} stops with status 0" "status $UK_STATUS" \
			"$(tail -5 "$WORK/$(echo "${x%%:*}" | tr A-E a-e).log")"
done
hs=$(counter "$WORK/a.log" tlsd.handshakes)
res=$(counter "$WORK/a.log" tlsd.resumed)
fl=$(counter "$WORK/a.log" tlsd.failures)
[ "${hs:-0}" -ge 60 ] && [ "${res:-0}" -ge 4 ] &&
	ok "tlsd A counted ${hs} handshakes, ${res} resumed, ${fl:-0} failed" ||
	not_ok "tlsd A counted its handshakes" "$(grep 'counter tlsd' "$WORK/a.log")"
fl=$(counter "$WORK/c.log" tlsd.failures)
[ "${fl:-0}" -ge 1 ] && ok "tlsd C counted the refused TLS 1.3-only client (failures=$fl)" ||
	not_ok "tlsd C counted the refused TLS 1.3-only client" "$(grep 'counter tlsd' "$WORK/c.log")"
finish
