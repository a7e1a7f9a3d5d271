#!/usr/bin/env bash
# test_tls_pvh.sh - the TLS server unikernel (apps/tlsd) as a PVH virtual
# machine under QEMU (microvm, software emulation): virtio-net on a TAP
# device, its credential (an ECDSA P-256 certificate made here by openssl)
# as a tar archive on a virtio-blk disk; openssl s_client completes TLS 1.3
# and TLS 1.2 handshakes that verify the chain and echoes through it, curl
# downloads 1 MB checked by SHA-256 and resumes with a ticket, and
# SIGTERM stops the VM through the power button.
source "$(dirname "$0")/lib.sh"
ATOLL=$ROOT/tools/atoll
A=10.77.0.2

for tool in qemu-system-x86_64 openssl curl python3; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done
if ! (cd "$ROOT" && make -s TARGET=pvh build/pvh/tlsd.elf) >"$WORK/build.log" 2>&1; then
	not_ok "build/pvh/tlsd.elf builds" "$(tail -5 "$WORK/build.log")"
	finish
fi
ok "build/pvh/tlsd.elf builds"

mkdir -p "$WORK/c"
(
	cd "$WORK/c" &&
		openssl ecparam -name prime256v1 -genkey -noout -out key.pem &&
		openssl req -new -x509 -key key.pem -subj /CN=pvh.atoll.test -days 30 -sha256 \
			-addext "subjectAltName=DNS:pvh.atoll.test" -out cert.pem &&
		tar --format=ustar -cf ../certs.tar cert.pem key.pem
) >"$WORK/pki.log" 2>&1 || {
	not_ok "a certificate made with openssl" "$(tail -3 "$WORK/pki.log")"
	finish
}
chmod -R a+rX "$WORK/c" "$WORK/certs.tar"

net_up
log=$WORK/tlsd-pvh.log
# Not lib.sh's start_uk: "ip netns exec" execs timeout, which passes
# SIGTERM on to the launcher, which presses the guest's power button.
ip netns exec "$NS_S" timeout 300 "$ATOLL" run -M microvm -m 64M --net service=tap0 \
	--block certs="$WORK/certs.tar" tlsd ipv4=$A/24 mac=02:00:00:77:00:02 >"$log" 2>&1 &
UK_PID=$!
PIDS+=($UK_PID)
if wait_for_log "$log" "tlsd on TCP port" 120; then
	ok "pvh: tlsd starts with the credential from the virtio-blk disk"
else
	not_ok "pvh: tlsd starts with the credential from the virtio-blk disk" "$(tail -5 "$log")"
fi

SC=(openssl s_client -connect $A:443 -servername pvh.atoll.test -verify_hostname pvh.atoll.test
	-CAfile "$WORK/c/cert.pem" -verify_return_error)
for v in 1_3 1_2; do
	out=$( (
		printf 'hello-pvh\n'
		sleep 8
	) | in_c timeout 60 "${SC[@]}" -tls$v 2>&1)
	if echo "$out" | grep -q "New, TLSv${v/_/.}" && echo "$out" | grep -q "Verify return code: 0 (ok)" &&
		echo "$out" | grep -q "^hello-pvh$"; then
		ok "pvh: s_client TLS ${v/_/.}: chain verified, line echoed"
	else
		not_ok "pvh: s_client TLS ${v/_/.}: chain verified, line echoed" "$(echo "$out" | tail -15)"
	fi
done

python3 -c '
import sys
n = int(sys.argv[1])
sys.stdout.buffer.write(bytes((i + i // 4093) & 255 for i in range(n)))' 1000000 >"$WORK/pat"
CURL=(curl -sS --max-time 120 --cacert "$WORK/c/cert.pem" --resolve pvh.atoll.test:443:$A)
in_c "${CURL[@]}" -o "$WORK/got" https://pvh.atoll.test/bytes/1000000 2>"$WORK/curl.err"
if [ "$(sha256sum <"$WORK/got" 2>/dev/null)" = "$(sha256sum <"$WORK/pat")" ]; then
	ok "pvh: curl GET /bytes/1000000, SHA-256 equal"
else
	not_ok "pvh: curl GET /bytes/1000000, SHA-256 equal" "$(cat "$WORK/curl.err")" "$(tail -3 "$log")"
fi
out=$(in_c "${CURL[@]}" https://pvh.atoll.test/ https://pvh.atoll.test/ 2>&1)
echo "$out" | grep -q "version=TLS1.3 .*resumed=1" &&
	ok "pvh: curl's second connection resumes with the ticket" ||
	not_ok "pvh: curl's second connection resumes with the ticket" "$out"

kill -TERM "$UK_PID" 2>/dev/null
rc=0
wait "$UK_PID" || rc=$?
if [ $rc = 0 ] && grep -q "stopping: stop requested" "$log"; then
	ok "pvh: SIGTERM stops tlsd through the power button, status 0"
else
	not_ok "pvh: SIGTERM stops tlsd through the power button, status 0" "status $rc" \
		"$(grep -v "^counter" "$log" | tail -5)"
fi
finish
