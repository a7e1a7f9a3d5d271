#!/usr/bin/env bash
# test_web_h2.sh - HTTP/2 (RFC 9113) of the web unikernel (apps/web, on
# atoll's TCP/IP and TLS on a TAP device): nghttp, curl --http2 (the chain
# verified against the test's CA) and h2load against it, h2c with prior
# knowledge on the plain port (http=serve), then the attacks of RFC 9113
# 10.5 and the 2023/2024 advisories from tests/e2e/h2hostile.py (raw
# frames over TLS, ALPN h2): rapid reset, CONTINUATION floods, HPACK
# bombs, PING floods (over TLS and h2c), a wrong preface, an oversized
# frame, streams past MAX_CONCURRENT_STREAMS.  Each attack must get the
# answer RFC 9113 gives (GOAWAY with its code, or RST_STREAM), read from
# the socket; the server must keep serving, stop cleanly on SIGTERM, and
# its heap.used must equal that of a fresh instance that only held as
# many connections at once (the heap is laid out at start and fibers are
# recycled, so any growth path would show).
#
#   ns $NS_C: c0 10.77.0.1 - the clients
#   ns $NS_S: br0 10.77.0.3; tap0 10.77.0.2 the web unikernel:
#             --mem=128M conns=8 http=serve idle-timeout=10
source "$(dirname "$0")/lib.sh"
WEB=$ROOT/build/hosted/web
H2H=$ROOT/tests/e2e/h2hostile.py
A=10.77.0.2
NAME=web.atoll.test
SITE=$WORK/site
CONNS=8
ARGS=(--mem=128M --net:service=tap0 --block:site="$WORK/site.tar" --block:certs="$WORK/certs.tar"
	"ipv4=$A/24" http=serve "conns=$CONNS" idle-timeout=10)

for tool in nghttp h2load curl openssl python3 gzip tar sha256sum; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done
[ -x "$WEB" ] || {
	not_ok "$WEB is built (make)"
	finish
}
if python3 -c 'import h2' 2>/dev/null; then
	echo "# note: python's h2 module is installed; h2hostile.py does not use it"
fi

# ---- a CA, a leaf for web.atoll.test, the site --------------------------------
PKI=$WORK/pki
mkdir -p "$PKI" "$SITE/f"
(
	cd "$PKI" &&
		openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
		openssl req -new -x509 -key ca.key -subj "/CN=atoll h2 test CA" -days 30 -sha256 \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
			-out ca.pem &&
		openssl ecparam -name prime256v1 -genkey -noout -out key.pem &&
		openssl req -new -key key.pem -subj /CN=$NAME -out leaf.csr &&
		printf 'subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth\n' $NAME $A >ext.cnf &&
		openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
			-sha256 -extfile ext.cnf -out cert.pem &&
		tar -cf ../certs.tar cert.pem key.pem
) >"$WORK/pki.log" 2>&1 || {
	not_ok "a test CA and certificate made with openssl" "$(tail -3 "$WORK/pki.log")"
	finish
}
printf '<!doctype html>\n<title>h2 test</title>\n<p>served over HTTP/2 by atoll</p>\n' >"$SITE/index.html"
head -c 1000000 /dev/urandom >"$SITE/big.bin"
for i in $(seq 1 10); do printf 'file number %d of ten\n' "$i" >"$SITE/f/$i.txt"; done
for i in $(seq 1 300); do echo ".rule$i { margin: ${i}px; padding: $((i * 3))px; }"; done >"$SITE/style.css"
gzip -k -9 "$SITE/style.css"
tar -C "$SITE" -cf "$WORK/site.tar" .
chmod -R a+rX "$PKI" "$SITE" "$WORK/certs.tar" "$WORK/site.tar"

# ---- helpers ----------------------------------------------------------------
LOG=$WORK/web.log
CURL=(curl -sS --max-time 30 --http2 --cacert "$PKI/ca.pem" --resolve "$NAME:443:$A")
U=https://$NAME

fail_row() { # NAME LINE...: a failing row, with the server's last log lines
	local name=$1
	shift
	not_ok "$name" "$@" "server log, last lines: $(grep -v '^counter' "$LOG" | tail -3 | tr '\n' '|')"
}

# hostile NAME MODE ARG...: one row driven by h2hostile.py.
hostile() {
	local name=$1 out
	shift
	if out=$(in_c timeout 90 python3 "$H2H" --ca="$PKI/ca.pem" --sni=$NAME $A:443 "$@" 2>&1) &&
		[ "${out#ok: }" != "$out" ]; then
		ok "$name"
		echo "#   ${out#ok: }"
	else
		fail_row "$name" "$(echo "$out" | tail -5)"
	fi
}

# hostile80 NAME MODE ARG...: the same over h2c with prior knowledge on the plain port.
hostile80() {
	local name=$1 out
	shift
	if out=$(in_c timeout 90 python3 "$H2H" --plain $A:80 "$@" 2>&1) && [ "${out#ok: }" != "$out" ]; then
		ok "$name"
		echo "#   ${out#ok: }"
	else
		fail_row "$name" "$(echo "$out" | tail -5)"
	fi
}

# alive WHAT: a plain curl request over h2 right after WHAT is answered.
alive() {
	local got
	got=$(in_c "${CURL[@]}" -o "$WORK/alive" -w '%{http_code} %{http_version}' $U/f/7.txt 2>&1)
	if [ "$got" = "200 2" ] && cmp -s "$WORK/alive" "$SITE/f/7.txt"; then
		ok "after $1: a fresh curl --http2 request is answered 200"
	else
		fail_row "after $1: a fresh curl --http2 request is answered 200" "curl: $got"
	fi
}

counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }

net_up
start_uk "$LOG" "$WEB" "${ARGS[@]}"
if wait_for_log "$LOG" "web on atoll stack" 10; then
	ok "web starts with the site, the test CA's leaf, http=serve, conns=$CONNS"
else
	not_ok "web starts with the site, the test CA's leaf, http=serve, conns=$CONNS" "$(tail -5 "$LOG")"
	finish
fi
WEB_PID=$UK_PID

# Every connection slot in use once, so that every fiber stack the server
# will ever have exists now (the heap's high-water mark for conns=8).
hostile "$CONNS h2 connections held at once (every connection slot used)" saturate $CONNS
hostile "h2hostile.py's own GET / over TLS+ALPN h2: SETTINGS first (100 streams, 16384 frames), 200, the body" \
	get / "$SITE/index.html"

# ---- ordinary clients ----------------------------------------------------------
out=$(in_c timeout 30 nghttp -v https://$A/ 2>&1)
if echo "$out" | grep -q "The negotiated protocol: h2" &&
	echo "$out" | grep -Eq 'recv \(stream_id=[0-9]+\) :status: 200' &&
	echo "$out" | grep -q "served over HTTP/2 by atoll"; then
	ok "nghttp -v GET /: negotiated h2, :status 200, the site's index"
else
	fail_row "nghttp -v GET /: negotiated h2, :status 200, the site's index" "$(echo "$out" | grep -E 'protocol|status|GOAWAY|ERROR' | head -5)"
fi

got=$(in_c "${CURL[@]}" -o "$WORK/b" -w '%{http_code} %{http_version} %{ssl_verify_result}' $U/ 2>&1)
if [ "$got" = "200 2 0" ] && cmp -s "$WORK/b" "$SITE/index.html"; then
	ok "curl --http2 --cacert GET /: verified chain, HTTP/2, 200, the index's bytes"
else
	fail_row "curl --http2 --cacert GET /: verified chain, HTTP/2, 200, the index's bytes" "curl: $got"
fi

got=$(in_c "${CURL[@]}" -o "$WORK/big" -w '%{http_code} %{http_version}' $U/big.bin 2>&1)
if [ "$got" = "200 2" ] && [ "$(sha256sum <"$WORK/big")" = "$(sha256sum <"$SITE/big.bin")" ]; then
	ok "curl --http2 GET of a 1 MB file: SHA-256 equal (flow control past the 64 KiB windows)"
else
	fail_row "curl --http2 GET of a 1 MB file: SHA-256 equal (flow control past the 64 KiB windows)" \
		"curl: $got, $(stat -c %s "$WORK/big" 2>/dev/null) bytes"
fi

uris=()
for i in $(seq 1 10); do uris+=("https://$A/f/$i.txt"); done
out=$(in_c timeout 30 nghttp -v "${uris[@]}" 2>&1)
nproto=$(echo "$out" | grep -c "The negotiated protocol: h2")
nok=$(echo "$out" | grep -Eo 'recv \(stream_id=[0-9]+\) :status: 200' | sort -u | wc -l)
nbody=$(echo "$out" | grep -c "^file number .* of ten")
if [ "$nproto" = 1 ] && [ "$nok" = 10 ] && [ "$nbody" = 10 ]; then
	ok "nghttp with 10 URIs: one connection (one handshake, h2), 10 streams answered 200, 10 bodies"
else
	fail_row "nghttp with 10 URIs: one connection (one handshake, h2), 10 streams answered 200, 10 bodies" \
		"negotiations $nproto, 200s $nok, bodies $nbody"
fi

args=()
for i in $(seq 1 10); do args+=(-o "$WORK/f$i" "$U/f/$i.txt"); done
got=$(in_c "${CURL[@]}" -w '%{http_code}/%{http_version}/%{num_connects} ' "${args[@]}" 2>&1)
bad=0
for i in $(seq 1 10); do cmp -s "$WORK/f$i" "$SITE/f/$i.txt" || bad=$((bad + 1)); done
conns=$(echo "$got" | tr ' ' '\n' | awk -F/ '{ s += $3 } END { print s }')
if [ "$(echo "$got" | tr ' ' '\n' | grep -c '^200/2/')" = 10 ] && [ "$conns" = 1 ] && [ $bad = 0 ]; then
	ok "curl --http2 with 10 URLs: all 200 over HTTP/2 on one connection (num_connects 1), bodies equal"
else
	fail_row "curl --http2 with 10 URLs: all 200 over HTTP/2 on one connection (num_connects 1), bodies equal" \
		"curl: $got" "connections $conns, bodies wrong $bad"
fi

# (before h2load: its 2000 requests exceed log-rate, and the lines after are counted, not written)
if grep -q '"GET / HTTP/2.0" 200 74 "-" "nghttp2/' "$LOG" && grep -q '"GET /big.bin HTTP/2.0" 200 1000000 "-" "curl/' "$LOG"; then
	ok "the access log has the HTTP/2.0 requests (nghttp's GET / 200 74, curl's GET /big.bin 200 1000000)"
else
	fail_row "the access log has the HTTP/2.0 requests (nghttp's GET / 200 74, curl's GET /big.bin 200 1000000)" \
		"$(grep 'HTTP/2' "$LOG" | head -3 | tr '\n' '|')"
fi

out=$(in_c timeout 60 h2load -n 2000 -c 4 -m 100 https://$A/f/3.txt 2>&1)
if echo "$out" | grep -q "Application protocol: h2" &&
	echo "$out" | grep -q "requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout" &&
	echo "$out" | grep -q "status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx"; then
	ok "h2load -n 2000 -c 4 -m 100 (100 streams at once per connection): 2000 succeeded, all 2xx"
else
	fail_row "h2load -n 2000 -c 4 -m 100 (100 streams at once per connection): 2000 succeeded, all 2xx" \
		"$(echo "$out" | grep -E 'protocol|requests:|status codes|error|fail' | head -5)"
fi

got=$(in_c curl -sS --max-time 30 --http2-prior-knowledge -o "$WORK/b" -w '%{http_code} %{http_version}' \
	http://$A/f/5.txt 2>&1)
if [ "$got" = "200 2" ] && cmp -s "$WORK/b" "$SITE/f/5.txt"; then
	ok "curl --http2-prior-knowledge on the plain port (http=serve): h2c, 200, the file"
else
	fail_row "curl --http2-prior-knowledge on the plain port (http=serve): h2c, 200, the file" "curl: $got"
fi

got=$(in_c "${CURL[@]}" -r 1000-1999 -o "$WORK/part" -D "$WORK/h" -w '%{http_code} %{http_version}' \
	$U/big.bin 2>&1)
cr=$(tr -d '\r' <"$WORK/h" | sed -n 's/^content-range: //ip')
if [ "$got" = "206 2" ] && [ "$cr" = "bytes 1000-1999/1000000" ] &&
	cmp -s "$WORK/part" <(tail -c +1001 "$SITE/big.bin" | head -c 1000); then
	ok "Range bytes=1000-1999 over h2: 206, content-range bytes 1000-1999/1000000, the very bytes"
else
	fail_row "Range bytes=1000-1999 over h2: 206, content-range bytes 1000-1999/1000000, the very bytes" \
		"curl: $got, content-range '$cr', $(stat -c %s "$WORK/part" 2>/dev/null) bytes"
fi

etag=$(in_c "${CURL[@]}" -I $U/big.bin 2>/dev/null | tr -d '\r' | sed -n 's/^etag: //ip')
got=$(in_c "${CURL[@]}" -o "$WORK/b" -w '%{http_code} %{http_version} %{size_download}' \
	-H "If-None-Match: $etag" $U/big.bin 2>&1)
if [ -n "$etag" ] && [ "$got" = "304 2 0" ]; then
	ok "If-None-Match with the ETag ($etag) over h2: 304, no body"
else
	fail_row "If-None-Match with the ETag ($etag) over h2: 304, no body" "curl: $got"
fi

got=$(in_c "${CURL[@]}" -I -o /dev/null -D "$WORK/h" -w '%{http_code} %{http_version} %{size_download}' \
	$U/big.bin 2>&1)
cl=$(tr -d '\r' <"$WORK/h" | sed -n 's/^content-length: //ip')
if [ "$got" = "200 2 0" ] && [ "$cl" = 1000000 ]; then
	ok "HEAD over h2: 200, content-length 1000000, no DATA"
else
	fail_row "HEAD over h2: 200, content-length 1000000, no DATA" "curl: $got, content-length '$cl'"
fi

got=$(in_c "${CURL[@]}" -o /dev/null -w '%{http_code} %{http_version}' $U/no/such/file 2>&1)
if [ "$got" = "404 2" ]; then
	ok "GET of a missing file over h2: 404"
else
	fail_row "GET of a missing file over h2: 404" "curl: $got"
fi

got=$(in_c "${CURL[@]}" --compressed -o "$WORK/css" -D "$WORK/h" -w '%{http_code} %{http_version}' \
	$U/style.css 2>&1)
if [ "$got" = "200 2" ] && tr -d '\r' <"$WORK/h" | grep -qi '^content-encoding: gzip$' &&
	cmp -s "$WORK/css" "$SITE/style.css"; then
	ok "--compressed over h2: the gzip twin (content-encoding: gzip), the same bytes unpacked"
else
	fail_row "--compressed over h2: the gzip twin (content-encoding: gzip), the same bytes unpacked" \
		"curl: $got" "$(tr -d '\r' <"$WORK/h" | grep -i encoding)"
fi

got=$(in_c "${CURL[@]}" -d 'name=value&more=data' -o "$WORK/post" -w '%{http_code}/%{http_version}/%{num_connects} ' \
	$U/index.html --next "${CURL[@]:1}" -o "$WORK/b" -w '%{http_code}/%{http_version}/%{num_connects}' \
	$U/f/2.txt 2>&1)
if [ "$got" = "405/2/1 200/2/0" ] && cmp -s "$WORK/b" "$SITE/f/2.txt"; then
	ok "POST with a body over h2: 405, then a GET on the same connection (num_connects 0): 200"
else
	fail_row "POST with a body over h2: 405, then a GET on the same connection (num_connects 0): 200" \
		"curl: $got (code/version/new connections per transfer)"
fi

head -c 200000 /dev/zero | tr '\0' x >"$WORK/body"
got=$(in_c "${CURL[@]}" --max-time 15 --data-binary @"$WORK/body" -o /dev/null \
	-w '%{http_code}/%{http_version}/%{num_connects} ' $U/index.html --next "${CURL[@]:1}" -o "$WORK/b" \
	-w '%{http_code}/%{http_version}/%{num_connects}' $U/f/2.txt 2>&1)
if [ "$got" = "405/2/1 200/2/0" ]; then
	ok "POST of a 200 kB body (past the stream's 64 KiB window) over h2: 405, the upload ends, the connection goes on"
else
	fail_row "POST of a 200 kB body (past the stream's 64 KiB window) over h2: 405, the upload ends, the connection goes on" \
		"curl: $got (code/version/new connections per transfer)"
fi

# ---- hostile peers ---------------------------------------------------------
hostile "rapid reset: 1000 x (HEADERS, RST_STREAM at once) -> GOAWAY ENHANCE_YOUR_CALM, closed" \
	rapid-reset 1000 /f/1.txt
alive "rapid reset"
hostile "CONTINUATION flood (1000-byte frames, no END_HEADERS, no end) -> GOAWAY, closed" \
	continuation 1000
hostile "CONTINUATION flood (empty frames, no end) -> GOAWAY, closed" continuation 0
alive "the CONTINUATION floods"
hostile "HPACK bomb: a 4000-byte indexed value, 300 1-byte references in one block -> ENHANCE_YOUR_CALM or refused" \
	hpack-bomb 300
hostile "HPACK bomb in two requests (the entry's request 200, then 300 references) -> ENHANCE_YOUR_CALM or refused" \
	hpack-bomb2 300
hostile "HPACK bomb of 5 references (20 kB decoded from 4 kB, under 64 fields) -> ENHANCE_YOUR_CALM or refused" \
	hpack-bomb 5
alive "the HPACK bombs"
hostile "PING flood: 10000 PINGs written without reading -> cut off (GOAWAY or close), few acks" \
	ping-flood 10000
hostile80 "h2c PING flood (10000, from the first segment on): cut off, the server's SETTINGS first (RFC 9113 3.4)" \
	ping-flood 10000
alive "the PING floods"
hostile "a wrong preface (an HTTP/1.1 request after ALPN h2) -> GOAWAY PROTOCOL_ERROR" preface
hostile "a 16385-byte HEADERS frame (above MAX_FRAME_SIZE 16384) -> GOAWAY FRAME_SIZE_ERROR" bigframe
hostile "150 streams opened at once without reading -> the first 100 answered, the rest RST_STREAM REFUSED_STREAM" \
	streams 150 /big.bin
alive "all the attacks"

# ---- the end: a clean stop, the heap as a fresh instance's ----------------------
stop_uk "$WEB_PID"
s5=$(counter "$LOG" web.s5xx)
ga=$(counter "$LOG" web.h2_goaway)
rs=$(counter "$LOG" web.h2_resets)
hc=$(counter "$LOG" web.h2_conns)
if [ "$UK_STATUS" = 0 ] && grep -q "stopping: stop requested" "$LOG" && [ -z "$s5" ] &&
	[ "${ga:-0}" -ge 8 ] && [ "${rs:-0}" -ge 100 ]; then
	ok "SIGTERM: web exits 0; no 5xx; counters h2_conns $hc, h2_goaway $ga, h2_resets $rs"
else
	fail_row "SIGTERM: web exits 0; no 5xx; counters h2_conns $hc, h2_goaway $ga, h2_resets $rs" \
		"status $UK_STATUS, s5xx '${s5}'" "$(grep -E '^counter|stopping|ASSERT|assert' "$LOG" | head -20 | tr '\n' ' ')"
fi
heap=$(counter "$LOG" heap.used)

# The reference: the same arguments, every connection slot used once, nothing else.
LOG2=$WORK/web-ref.log
start_uk "$LOG2" "$WEB" "${ARGS[@]}"
if wait_for_log "$LOG2" "web on atoll stack" 10 &&
	ref_out=$(in_c timeout 60 python3 "$H2H" --ca="$PKI/ca.pem" --sni=$NAME $A:443 saturate $CONNS 2>&1); then
	stop_uk "$UK_PID"
	ref=$(counter "$LOG2" heap.used)
else
	ref="(reference failed: ${ref_out:-no start})"
fi
if [ -n "$heap" ] && [ "$heap" = "$ref" ]; then
	ok "heap.used after every row and attack ($heap) = a fresh instance's with $CONNS connections held ($ref)"
else
	fail_row "heap.used after every row and attack ($heap) = a fresh instance's with $CONNS connections held ($ref)"
fi
finish
