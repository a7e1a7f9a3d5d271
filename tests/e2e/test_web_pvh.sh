#!/usr/bin/env bash
# test_web_pvh.sh - the web unikernel (apps/web) as a PVH virtual machine
# under QEMU (microvm, software emulation): virtio-net on a TAP device, the
# site and its credential as two tar archives on virtio-blk disks.  curl
# loads the index over HTTPS with the chain verified, a 1 MB file checked
# by SHA-256, a byte range, a 304 from its ETag, the gzip twin of a style
# sheet; the plain port redirects to HTTPS; SIGTERM stops the VM through
# the power button.
source "$(dirname "$0")/lib.sh"
ATOLL=$ROOT/tools/atoll
A=10.77.0.2

for tool in qemu-system-x86_64 openssl curl python3 gzip; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done
if ! (cd "$ROOT" && make -s TARGET=pvh build/pvh/web.elf) >"$WORK/build.log" 2>&1; then
	not_ok "build/pvh/web.elf builds" "$(tail -5 "$WORK/build.log")"
	finish
fi
size=$(stat -c %s "$ROOT/build/pvh/web.elf")
if [ "$size" -lt 524288 ]; then
	ok "build/pvh/web.elf builds, $size bytes (under 512 KiB)"
else
	not_ok "build/pvh/web.elf builds, $size bytes (under 512 KiB)"
fi

mkdir -p "$WORK/c" "$WORK/site/docs"
(
	cd "$WORK/c" &&
		openssl ecparam -name prime256v1 -genkey -noout -out key.pem &&
		openssl req -new -x509 -key key.pem -subj /CN=pvh.atoll.test -days 30 -sha256 \
			-addext "subjectAltName=DNS:pvh.atoll.test" -out cert.pem &&
		tar -cf ../certs.tar cert.pem key.pem
) >"$WORK/pki.log" 2>&1 || {
	not_ok "a certificate made with openssl" "$(tail -3 "$WORK/pki.log")"
	finish
}
printf '<!DOCTYPE html>\n<title>pvh site</title><p>served from a virtio-blk disk</p>\n' \
	>"$WORK/site/index.html"
head -c 1000000 /dev/urandom >"$WORK/site/docs/blob.bin"
for i in $(seq 1 200); do echo "p.c$i { margin: ${i}px; }"; done >"$WORK/site/style.css"
gzip -k -9 "$WORK/site/style.css"
tar -C "$WORK/site" -cf "$WORK/site.tar" .
chmod -R a+rX "$WORK/c" "$WORK/certs.tar" "$WORK/site.tar"

net_up
log=$WORK/web-pvh.log
# Not lib.sh's start_uk: "ip netns exec" execs timeout, which passes
# SIGTERM on to the launcher, which presses the guest's power button.
ip netns exec "$NS_S" timeout 300 "$ATOLL" run -M microvm -m 64M --net service=tap0 \
	--block site="$WORK/site.tar" --block certs="$WORK/certs.tar" \
	web ipv4=$A/24 mac=02:00:00:77:00:02 >"$log" 2>&1 &
UK_PID=$!
PIDS+=($UK_PID)
if wait_for_log "$log" "web on atoll stack" 120; then
	ok "pvh: web starts with the site and credential from virtio-blk disks"
else
	not_ok "pvh: web starts with the site and credential from virtio-blk disks" "$(tail -5 "$log")"
fi

CURL=(curl -sS --max-time 120 --cacert "$WORK/c/cert.pem" --resolve pvh.atoll.test:443:$A)
out=$(in_c "${CURL[@]}" https://pvh.atoll.test/ 2>&1)
if echo "$out" | grep -q "served from a virtio-blk disk"; then
	ok "pvh: curl GET / over verified HTTPS: the site's index.html"
else
	not_ok "pvh: curl GET / over verified HTTPS: the site's index.html" "$out" "$(tail -3 "$log")"
fi
in_c "${CURL[@]}" -o "$WORK/got" https://pvh.atoll.test/docs/blob.bin 2>"$WORK/curl.err"
if [ "$(sha256sum <"$WORK/got" 2>/dev/null)" = "$(sha256sum <"$WORK/site/docs/blob.bin")" ]; then
	ok "pvh: curl GET of a 1 MB file, SHA-256 equal"
else
	not_ok "pvh: curl GET of a 1 MB file, SHA-256 equal" "$(cat "$WORK/curl.err")" "$(tail -3 "$log")"
fi
in_c "${CURL[@]}" -r 1000-1999 -o "$WORK/part" -w '%{http_code}' https://pvh.atoll.test/docs/blob.bin \
	>"$WORK/code" 2>&1
if [ "$(cat "$WORK/code")" = 206 ] && cmp -s "$WORK/part" <(tail -c +1001 "$WORK/site/docs/blob.bin" | head -c 1000); then
	ok "pvh: Range bytes=1000-1999: 206 and the very bytes"
else
	not_ok "pvh: Range bytes=1000-1999: 206 and the very bytes" "$(cat "$WORK/code")"
fi
etag=$(in_c "${CURL[@]}" -sI https://pvh.atoll.test/docs/blob.bin | tr -d '\r' | sed -n 's/^ETag: //ip')
code=$(in_c "${CURL[@]}" -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" \
	https://pvh.atoll.test/docs/blob.bin 2>&1)
if [ -n "$etag" ] && [ "$code" = 304 ]; then
	ok "pvh: If-None-Match with the ETag ($etag): 304"
else
	not_ok "pvh: If-None-Match with the ETag ($etag): 304" "got $code"
fi
hdr=$(in_c "${CURL[@]}" --compressed -o "$WORK/css" -D - https://pvh.atoll.test/style.css 2>&1 | tr -d '\r')
if echo "$hdr" | grep -qi "^content-encoding: gzip" && cmp -s "$WORK/css" "$WORK/site/style.css"; then
	ok "pvh: the precompressed style.css.gz for Accept-Encoding: gzip, same bytes unpacked"
else
	not_ok "pvh: the precompressed style.css.gz for Accept-Encoding: gzip, same bytes unpacked" "$hdr"
fi
hdr=$(in_c curl -sS --max-time 60 -o /dev/null -D - http://$A/docs/?x=1 2>&1 | tr -d '\r')
if echo "$hdr" | grep -q "^HTTP/1.1 301" && echo "$hdr" | grep -qi "^location: https://$A/docs/?x=1$"; then
	ok "pvh: plain HTTP on port 80: 301 to the same target over HTTPS"
else
	not_ok "pvh: plain HTTP on port 80: 301 to the same target over HTTPS" "$hdr"
fi

kill -TERM "$UK_PID" 2>/dev/null
rc=0
wait "$UK_PID" || rc=$?
if [ $rc = 0 ] && grep -q "stopping: stop requested" "$log" && grep -q "web.requests" "$log"; then
	ok "pvh: SIGTERM stops web through the power button, status 0, counters printed"
else
	not_ok "pvh: SIGTERM stops web through the power button, status 0, counters printed" "status $rc" \
		"$(grep -v "^counter" "$log" | tail -5)"
fi
finish
