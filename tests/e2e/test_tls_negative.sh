#!/usr/bin/env bash
# test_tls_negative.sh - lib/tls's server against what a state-machine fuzzer
# sends: tlsneg.py, a raw-socket TLS 1.3 / 1.2 client (no ssl module), drives
# tlsd into each state and sends messages out of order, duplicated,
# truncated, oversized records, bad padding, bad MACs, wrong versions and
# downgrade attempts.  Each case wants the alert the RFC names and then the
# TCP close (a few want the handshake to go on); after every case a whole
# TLS 1.3 handshake and an echoed line must still work.  Then: tlsd is still
# running, logged every failure with the alert it sent (and every control
# handshake), counted them, and stops with status 0 on SIGTERM.
#
#   ns $NS_S (loopback only): tlsd on the socket stack, 127.0.0.1:8443, with
#   its built-in localhost credential; tlsneg.py beside it.
#
# TLSNEG_PYTHON: the python3 to run tlsneg.py with (default python3; it
# needs python3-cryptography, 38.0 or later).
# TLS_FINDINGS=<file>: append every failing case, with its diagnostics, to
# that file, with a timestamp, as test_tls.sh does.
source "$(dirname "$0")/lib.sh"
TLSD=$ROOT/build/hosted/tlsd
NEG=$ROOT/tests/e2e/tlsneg.py
PORT=8443
LOG=$WORK/tlsd.log
OUT=$WORK/tlsneg.out
MAN=$WORK/manifest

if ! "${TLSNEG_PYTHON:-python3}" -c 'import cryptography.hazmat.primitives.ciphers.aead' 2>/dev/null; then
	not_ok "python3 with python3-cryptography is installed (sh tools/deps.sh)"
	finish
fi
# make may be rebuilding tlsd right now: wait for a binary that has not
# changed for two seconds, and run a copy of it.
for _ in $(seq 60); do
	if [ -x "$TLSD" ] && [ $(($(date +%s) - $(stat -c %Y "$TLSD"))) -ge 2 ] &&
		cp "$TLSD" "$WORK/tlsd" 2>/dev/null; then
		break
	fi
	rm -f "$WORK/tlsd"
	sleep 1
done
if [ ! -x "$WORK/tlsd" ]; then
	not_ok "$TLSD is built (make)"
	finish
fi

ip netns add "$NS_S"
in_s ip link set lo up
start_uk "$LOG" "$WORK/tlsd" --mem=32M --stack=socket listen=127.0.0.1:$PORT
TLSD_PID=$UK_PID
if wait_for_log "$LOG" "tlsd on TCP port" && grep -q "built-in self-signed localhost" "$LOG"; then
	ok "tlsd starts on the socket stack (127.0.0.1:$PORT) with the built-in credential"
else
	not_ok "tlsd starts on the socket stack" "$(tail -5 "$LOG")"
	finish
fi

# ---- the cases ------------------------------------------------------------------
start=$(date +%s)
rc=0
in_s timeout 110 "${TLSNEG_PYTHON:-python3}" "$NEG" 127.0.0.1 $PORT --manifest "$MAN" >"$OUT" 2>"$WORK/tlsneg.err" || rc=$?
secs=$(($(date +%s) - start))
cur=
while IFS= read -r line; do
	case $line in
	"ok "[0-9]*) ok "${line#ok * - }" ;;
	"not ok "[0-9]*)
		cur=${line#not ok * - }
		not_ok "$cur"
		;;
	"#"*) echo "$line" ;;
	esac
done <"$OUT"
if [ "$rc" != 0 ] && ! grep -q '^not ok' "$OUT"; then
	not_ok "tlsneg.py ran to the end (status $rc)" "$(tail -5 "$WORK/tlsneg.err")"
elif ! grep -q '^# [0-9]* cases' "$OUT"; then
	not_ok "tlsneg.py ran to the end (status $rc)" "$(tail -5 "$WORK/tlsneg.err")"
else
	ok "tlsneg.py ran all its cases in ${secs}s"
fi
if [ -n "${TLS_FINDINGS:-}" ] && grep -q '^not ok' "$OUT"; then
	{
		echo "=== $(date '+%F %T') test_tls_negative.sh"
		awk '/^not ok/ { p = 1; print; next } /^#/ && p { print; next } { p = 0 }' "$OUT" |
			sed 's/^/  case| /'
	} >>"$TLS_FINDINGS"
fi

# ---- tlsd survived, logged and counted each failure, stops cleanly ----------------
if kill -0 "$TLSD_PID" 2>/dev/null; then
	ok "tlsd is still running after every case"
else
	not_ok "tlsd is still running after every case" "$(tail -5 "$LOG")"
fi
stop_uk "$TLSD_PID"
if [ "$UK_STATUS" = 0 ]; then
	ok "tlsd stops with status 0 on SIGTERM"
else
	not_ok "tlsd stops with status 0 on SIGTERM" "status $UK_STATUS" "$(tail -5 "$LOG")"
fi

# The manifest: PORT WHAT CASE per connection tlsd should have logged.
nfail=0 nhs=0 missing=() hs_missing=()
while IFS=$'\t' read -r port what name; do
	case $what in
	handshake)
		nhs=$((nhs + 1))
		grep -qE "handshake with 127\.0\.0\.1:$port: version=TLS1\.3 " "$LOG" ||
			hs_missing+=("$name (port $port)")
		;;
	failed)
		nfail=$((nfail + 1))
		grep -qE "127\.0\.0\.1:$port failed: .* alert=none " "$LOG" ||
			missing+=("$name (port $port): no failure line with alert=none")
		;;
	*)
		nfail=$((nfail + 1))
		grep -qE "127\.0\.0\.1:$port failed: .* alert=$what \(sent\) reason=" "$LOG" ||
			missing+=("$name (port $port): no failure line with alert=$what (sent)")
		;;
	esac
done <"$MAN"
if [ "$nfail" -gt 0 ] && [ ${#missing[@]} = 0 ]; then
	ok "tlsd logged each of the $nfail failures with the alert it sent"
else
	not_ok "tlsd logged each of the $nfail failures with the alert it sent" "${missing[@]:0:20}"
fi
if [ "$nhs" -gt 0 ] && [ ${#hs_missing[@]} = 0 ]; then
	ok "tlsd logged each of the $nhs control handshakes"
else
	not_ok "tlsd logged each of the $nhs control handshakes" "${hs_missing[@]:0:20}"
fi
counter() { awk -v k="$1" '$1 == "counter" && $2 == k { print $3 }' "$LOG"; }
conns=$(counter tlsd.conns)
fl=$(counter tlsd.failures)
hsn=$(counter tlsd.handshakes)
fl_lines=$(grep -cE "handshake with [0-9.:]+ failed: " "$LOG")
# Every connection is a handshake or a failed one; failures after the
# handshake ("connection from ... failed") are not in tlsd.failures.
if [ -n "$conns" ] && [ "$((${fl:-0} + ${hsn:-0}))" = "$conns" ] && [ "${fl:-0}" = "$fl_lines" ] &&
	[ "${hsn:-0}" -ge "$nhs" ] && [ "$conns" -ge "$((nfail + nhs))" ]; then
	ok "tlsd counted $conns connections: $hsn handshakes, $fl failed handshakes"
else
	not_ok "tlsd counted its connections, handshakes and failures" \
		"$(grep 'counter tlsd' "$LOG" | tr '\n' ' ')" \
		"$fl_lines handshake failures logged; manifest: $nfail failures, $nhs control handshakes"
fi
CRASH='assertion failed|panic|Sanitizer|Segmentation fault|Aborted'
if grep -qE "$CRASH" "$LOG"; then
	not_ok "tlsd's log shows no assertion or crash" "$(grep -E "$CRASH" "$LOG" | head -5)"
else
	ok "tlsd's log shows no assertion or crash"
fi
finish
