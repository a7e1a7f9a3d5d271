#!/usr/bin/env bash
# test_tls_scan.sh - sslscan and testssl.sh (Debian's) against tlsd: no
# SSL, TLS 1.0 or 1.1, only ECDHE with AEAD suites, only X25519 / P-256 /
# P-384, no renegotiation, TLS_FALLBACK_SCSV honoured, no Heartbleed; and
# testssl.sh's protocol, cipher-category, forward-secrecy and
# vulnerability checks (-p -s -f -U) find nothing rated LOW or worse.
# tlsd runs on the socket stack on the loopback of the test's namespace.
#
# sslscan's TLS 1.2 probes do not offer extended master secret, which
# tlsd requires by default (RFC 7627; docs/tls.md), so a first tlsd with
# ems=0 shows sslscan the whole TLS 1.2 surface, and a second, default one
# must look to it as a server without TLS 1.2 at all.
source "$(dirname "$0")/lib.sh"
TLSD=$ROOT/build/hosted/tlsd

if ! command -v sslscan >/dev/null; then
	not_ok "sslscan is installed (sh tools/deps.sh)"
	finish
fi
[ -x "$TLSD" ] || {
	not_ok "$TLSD is built (make)"
	finish
}
net_up
start_uk "$WORK/a.log" "$TLSD" --mem=32M --stack=socket listen=127.0.0.1:8443 ems=0
start_uk "$WORK/b.log" "$TLSD" --mem=32M --stack=socket listen=127.0.0.1:8444
wait_for_log "$WORK/a.log" "tlsd on TCP port" && wait_for_log "$WORK/b.log" "tlsd on TCP port" &&
	ok "two tlsd on the socket stack (ems=0 and the default)" ||
	not_ok "two tlsd start" "$(tail -3 "$WORK"/[ab].log)"

out=$(in_s timeout 120 sslscan --no-colour 127.0.0.1:8443 2>&1)
echo "$out" >"$WORK/sslscan.txt"
proto() { echo "$out" | grep -qE "^$1 +$2"; }
for p in SSLv2 SSLv3 TLSv1.0 TLSv1.1; do
	proto "$p" disabled && ok "sslscan: $p disabled" || not_ok "sslscan: $p disabled" \
		"$(echo "$out" | grep -E "^$p")"
done
for p in TLSv1.2 TLSv1.3; do
	proto "${p/./\\.}" enabled && ok "sslscan: $p enabled" || not_ok "sslscan: $p enabled" \
		"$(echo "$out" | grep -E "^$p")"
done
echo "$out" | grep -q "Session renegotiation not supported" &&
	ok "sslscan: no renegotiation" || not_ok "sslscan: no renegotiation" "$(echo "$out" | grep -i reneg)"
echo "$out" | grep -q "Server supports TLS Fallback SCSV" &&
	ok "sslscan: TLS_FALLBACK_SCSV honoured" || not_ok "sslscan: TLS_FALLBACK_SCSV honoured"
hb=$(echo "$out" | grep -E "^TLSv[0-9.]+ .*heartbleed")
[ -n "$hb" ] && ! echo "$hb" | grep -qv "not vulnerable" && ok "sslscan: not vulnerable to Heartbleed" ||
	not_ok "sslscan: not vulnerable to Heartbleed" "$hb"
# Every accepted suite is one of the six ECDHE+AEAD ones.
suites=$(echo "$out" | awk '$1 == "Preferred" || $1 == "Accepted" { print $2, $5 }')
want='TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256
TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384
TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305
TLSv1.3 TLS_AES_128_GCM_SHA256
TLSv1.3 TLS_AES_256_GCM_SHA384
TLSv1.3 TLS_CHACHA20_POLY1305_SHA256'
[ "$(echo "$suites" | sort)" = "$want" ] &&
	ok "sslscan: exactly the ECDHE AEAD suites (3 for 1.2 with ECDSA, 3 for 1.3)" ||
	not_ok "sslscan: exactly the ECDHE AEAD suites" "$suites"
groups=$(echo "$out" | sed -n '/Key Exchange Group/,/^$/p' | grep -oE '(x25519|secp[0-9]+r1|ffdhe[0-9]+|x448|sect[0-9a-z]+|prime[0-9a-z]+)' | sort -u | tr '\n' ' ')
[ "$groups" = "secp256r1 secp384r1 x25519 " ] && ok "sslscan: groups x25519, P-256, P-384 only" ||
	not_ok "sslscan: groups x25519, P-256, P-384 only" "$groups"

if command -v testssl >/dev/null; then
	in_s timeout 400 testssl --quiet --color 0 --warnings off -p -s -f -U \
		--jsonfile "$WORK/testssl.json" 127.0.0.1:8443 >"$WORK/testssl.txt" 2>&1
	bad=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d))
for x in d:
    if x["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL"):
        print(x["id"], x["severity"], x["finding"])' "$WORK/testssl.json" 2>&1)
	n=$(echo "$bad" | head -1)
	if [ "$n" -gt 20 ] 2>/dev/null && [ "$(echo "$bad" | wc -l)" = 1 ]; then
		ok "testssl.sh -p -s -f -U: $n findings, none LOW or worse"
	else
		not_ok "testssl.sh -p -s -f -U: nothing LOW or worse" "$bad" "$(tail -5 "$WORK/testssl.txt")"
	fi
	python3 -c '
import json, sys
d = {x["id"]: x["finding"] for x in json.load(open(sys.argv[1]))}
sys.exit(0 if d.get("TLS1_2", "").startswith("offered") and d.get("TLS1_3", "").startswith("offered") and
         d.get("TLS1", "").startswith("not offered") and d.get("SSLv3", "").startswith("not offered") else 1)' \
		"$WORK/testssl.json" && ok "testssl.sh: TLS 1.2 and 1.3 offered, TLS 1.0 and SSLv3 not" ||
		not_ok "testssl.sh: TLS 1.2 and 1.3 offered, TLS 1.0 and SSLv3 not" "$(grep -E 'TLS1|SSLv' "$WORK/testssl.txt")"
else
	not_ok "testssl.sh is installed (sh tools/deps.sh)"
fi

out=$(in_s timeout 120 sslscan --no-colour --tls12 127.0.0.1:8444 2>&1)
echo "$out" | grep -qE "^TLSv1\.2 +disabled" &&
	ok "sslscan vs the default tlsd: its 1.2 probes without EMS are refused" ||
	not_ok "sslscan vs the default tlsd: 1.2 probes without EMS refused" "$(echo "$out" | grep TLSv1)"
n=$(grep -c "client does not offer extended master secret" "$WORK/b.log")
[ "$n" -ge 1 ] && ok "tlsd logged why ($n refusals)" || not_ok "tlsd logged why" "$(tail -3 "$WORK/b.log")"
finish
