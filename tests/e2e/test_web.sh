#!/usr/bin/env bash
# test_web.sh - the web server unikernel (apps/web: HTTP/1.1 and HTTPS on
# atoll's own TCP/IP and TLS) against real peers: curl over TLS 1.3, TLS
# 1.2 and plain HTTP, openssl s_client and gnutls-cli for the TLS side
# (ALPN, SNI), and raw sockets from tests/e2e/webcheck.py for what curl
# will not send (bad framing, smuggling, pipelining, slow heads, many
# connections at once).
#
# A test site (files of many MIME types, a subdirectory, a 100 KiB and a
# 5 MB file checked by SHA-256, style.css with its gzip and app.js with
# gzip and brotli variants, a web.conf with cache-control lines) is made
# at the start and packed with tar for the "site" block device; a test CA
# with ECDSA P-256 leaves for web.atoll.test and other.atoll.test (SNI)
# for the "certs" device, as in test_tls.sh.
#
#   ns $NS_C: c0 10.78.0.1 - the Linux clients
#   ns $NS_S: br0 10.78.0.3;
#     W tap0 .2  the site; header-timeout=3 idle-timeout=2 max-body=65536
#     D tap1 .4  no site, no certs: the built-in page and credential
#     S tap2 .6  http=serve hsts=600 log-rate=5
#     L tap3 .8  http=serve conns=3 keepalive-requests=3
#     E          the socket stack: 127.0.0.1:8443 and :8080 in $NS_S
source "$(dirname "$0")/lib.sh"
WEB=$ROOT/build/hosted/web
WEBCHECK=$ROOT/tests/e2e/webcheck.py
TLSPEER=$ROOT/tests/e2e/tlspeer.py
PKI=$WORK/pki
SITE=$WORK/site
C=10.78.0.1
W=10.78.0.2
D=10.78.0.4
S=10.78.0.6
L=10.78.0.8
CUR_LOG=/dev/null

for tool in openssl gnutls-cli curl python3 gzip tar; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done
if [ ! -x "$WEB" ]; then
	not_ok "$WEB is built (make)"
	finish
fi

# ---- helpers -----------------------------------------------------------------
RUN=in_c # where fetch and wcheck run their clients

# fetch CURL-COMMAND...: one request; the status lands in $CODE, the
# headers (CR stripped) in $WORK/h, the body in $WORK/b, curl's stderr in
# $WORK/curl.err.
fetch() {
	rm -f "$WORK/h.raw" "$WORK/b"
	LAST="$*"
	CODE=$($RUN "$@" -D "$WORK/h.raw" -o "$WORK/b" -w '%{http_code}' </dev/null 2>"$WORK/curl.err") ||
		CODE="(curl failed: $(tail -1 "$WORK/curl.err"))"
	tr -d '\r' <"$WORK/h.raw" >"$WORK/h" 2>/dev/null
	touch "$WORK/h" "$WORK/b"
}

# hval NAME: the values of header NAME in the last response (one a line;
# of the last header block, after a 100 Continue).
hval() {
	awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" '
		/^HTTP\// { k = 0; next }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) {
			x = substr($0, i + 1); sub(/^[ \t]+/, "", x); sub(/[ \t]+$/, "", x); v[k++] = x } }
		END { for (j = 0; j < k; j++) print v[j] }' "$WORK/h"
}

fail_row() { # NAME LINE...: a failing row, with the server's last log lines
	local name=$1
	shift
	not_ok "$name" "$@" "server log ($CUR_LOG), last lines:" \
		"$(tail -3 "$CUR_LOG" 2>/dev/null | tr '\n' '|')"
}

# want NAME CHECK...: a row about the last fetch.  Checks:
#   code ERE          the status matches ERE
#   h NAME ERE        header NAME present once, its value matching ERE whole
#   hi NAME ERE       the same, ignoring case
#   noh NAME          header NAME absent
#   body FILE         the body is FILE's bytes;  sha FILE: by SHA-256
#   empty             no body
#   has ERE           the body holds a match of ERE
#   len FILE          Content-Length is FILE's size
#   err ERE           curl's stderr (-v) matches ERE
#   date NAME         header NAME is an IMF-fixdate within 5 minutes of now
want() {
	local name=$1 errs=() v n
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		code)
			echo "$CODE" | grep -Eqx -- "$2" || errs+=("status $CODE, wanted $2")
			shift 2
			;;
		h | hi)
			v=$(hval "$2")
			n=$(echo -n "$v" | grep -c '^')
			local gi=-Eqx
			[ "$1" = hi ] && gi=-Eqxi
			{ [ "$n" = 1 ] && echo "$v" | grep $gi -- "$3"; } ||
				errs+=("$2: '$(echo "$v" | tr '\n' '|')', wanted one matching /$3/")
			shift 3
			;;
		noh)
			v=$(hval "$2")
			[ -z "$v" ] || errs+=("$2 present: '$v'")
			shift 2
			;;
		body)
			cmp -s "$WORK/b" "$2" ||
				errs+=("body ($(stat -c %s "$WORK/b") bytes) is not $2 ($(stat -c %s "$2") bytes)")
			shift 2
			;;
		sha)
			[ "$(sha256sum <"$WORK/b")" = "$(sha256sum <"$2")" ] ||
				errs+=("body SHA-256 differs from $2's ($(stat -c %s "$WORK/b") bytes)")
			shift 2
			;;
		empty)
			[ ! -s "$WORK/b" ] || errs+=("a body of $(stat -c %s "$WORK/b") bytes")
			shift
			;;
		has)
			grep -Eq -- "$2" "$WORK/b" || errs+=("body does not match /$2/: $(head -c 200 "$WORK/b")")
			shift 2
			;;
		len)
			v=$(hval Content-Length)
			[ "$v" = "$(stat -c %s "$2")" ] || errs+=("Content-Length '$v', wanted $(stat -c %s "$2")")
			shift 2
			;;
		err)
			grep -Eq -- "$2" "$WORK/curl.err" || errs+=("curl's stderr does not match /$2/")
			shift 2
			;;
		date)
			v=$(hval "$2")
			n=$(date -u -d "$v" +%s 2>/dev/null)
			if ! echo "$v" | grep -Eqx '(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT' ||
				[ -z "$n" ] || [ $((n - $(date +%s))) -gt 300 ] || [ $(($(date +%s) - n)) -gt 300 ]; then
				errs+=("$2 '$v' is not an IMF-fixdate near now")
			fi
			shift 2
			;;
		*)
			errs+=("test bug: unknown check $1")
			break
			;;
		esac
	done
	if [ ${#errs[@]} = 0 ]; then
		ok "$name"
	else
		local hl=()
		mapfile -t hl < <(head -16 "$WORK/h")
		fail_row "$name" "request: $LAST" "${errs[@]}" "response headers:" "${hl[@]}"
	fi
}

# wcheck NAME WEBCHECK-ARG...: one row driven by webcheck.py.
wcheck() {
	local name=$1 out lines=()
	shift
	if out=$($RUN timeout 60 python3 "$WEBCHECK" "$@" </dev/null 2>&1); then
		ok "$name"
	else
		mapfile -t lines < <(echo "$out" | head -30)
		fail_row "$name" "${lines[@]}"
	fi
}

# peer NAME STEP... -- COMMAND...: one row, a TLS tool driven by tlspeer.py.
peer() {
	local name=$1 out lines=()
	shift
	if out=$(in_c timeout 60 python3 "$TLSPEER" "$@" 2>&1); then
		ok "$name"
	else
		mapfile -t lines < <(echo "$out" | head -30)
		fail_row "$name" "${lines[@]}"
	fi
}

counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---- the test site -------------------------------------------------------------
LONG=$(printf 'l%.0s' $(seq 120)).txt
MTIME='2024-05-01 12:00:00 UTC'
MTIME_CSS='2023-01-02 03:04:05 UTC'
make_site() {
	mkdir -p "$SITE/sub" "$SITE/img" && cd "$SITE" || return 1
	printf '<!doctype html>\n<title>atoll web test</title>\n<p>the test site index</p>\n' >index.html
	printf '<!doctype html>\n<p>sub index</p>\n' >sub/index.html
	printf '<!doctype html>\n<p>a page in sub</p>\n' >sub/page.html
	for i in $(seq 200); do echo ".rule$i { color: #$(printf %06x $((i * 77777))); margin: ${i}px; }"; done >style.css
	gzip -k -9 style.css
	python3 -c 'print("// app.js\n" + "\n".join("function f%d() { return %d * 3; }" % (i, i) for i in range(300)))' >app.js
	gzip -k -9 app.js
	# app.js.br: one uncompressed brotli meta-block (RFC 7932 9.2), then
	# the last, empty one - a valid stream that needs no brotli tool.
	python3 -c '
import sys
d = open("app.js", "rb").read()
v = (len(d) - 1) << 4 | 1 << 20  # WBITS 16, ISLAST 0, MNIBBLES 4, MLEN-1, ISUNCOMPRESSED
sys.stdout.buffer.write(v.to_bytes(3, "little") + d + b"\x03")' >app.js.br
	echo '{"atoll": "web", "n": 1}' >data.json
	echo 'plain text notes' >notes.txt
	echo 'a file name with a space' >'hello world.txt'
	# A path of 130 bytes: over ustar's 100, a GNU long-name member.
	echo 'a long name' >"sub/$LONG"
	printf '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n' >logo.svg
	python3 -c '
import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b""))' >img/pixel.png
	printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00fake jpeg' >photo.jpg
	printf 'GIF89a\x01\x00\x01\x00fake gif' >anim.gif
	printf 'RIFF\x10\x00\x00\x00WEBPVP8 fake' >pic.webp
	printf '\x00\x00\x01\x00\x01\x00fake ico' >favicon.ico
	printf 'wOF2fake woff2' >font.woff2
	printf '\x00asm\x01\x00\x00\x00' >mod.wasm
	printf '<?xml version="1.0"?>\n<feed/>\n' >feed.xml
	printf '%%PDF-1.4\n%%fake\n' >doc.pdf
	echo 'an unknown extension' >file.zzz
	head -c 102400 /dev/urandom >rand100k.bin
	head -c 5242880 /dev/urandom >big5m.bin
	cat >web.conf <<'EOF'
# cache rules for the test site: the longest prefix wins
cache-control / public, max-age=60

cache-control /sub/ no-cache
cache-control /img/ public, max-age=31536000, immutable
EOF
	find . -exec touch -d "$MTIME" {} +
	touch -d "$MTIME_CSS" style.css style.css.gz
	# Members "./index.html", "./sub/", ...: the leading "./" is ignored.
	tar cf "$WORK/site.tar" . || return 1
	cd "$ROOT" || return 1
}

make_pki() {
	mkdir -p "$PKI/certs"
	cd "$PKI" || return 1
	printf '[req]\ndistinguished_name = dn\n[dn]\n[ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n' >ca.cnf
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
		openssl req -new -x509 -key ca.key -subj "/CN=atoll web test root" -days 30 -sha256 \
			-extensions ca -config ca.cnf -out ca.pem || return 1
	local name
	for name in web other; do
		openssl ecparam -name prime256v1 -genkey -noout -out "$name.key" || return 1
		printf 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:%s.atoll.test\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n' \
			"$name" >"$name.ext"
		openssl req -new -key "$name.key" -subj "/CN=$name.atoll.test" -out "$name.csr" &&
			openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
				-days 30 -sha256 -extfile "$name.ext" -out "$name.pem" 2>/dev/null || return 1
	done
	cp web.pem certs/cert.pem && cp web.key certs/key.pem && cp other.pem certs/other.cert.pem &&
		cp other.key certs/other.key.pem &&
		tar --format=ustar -C certs -cf "$WORK/certs.tar" cert.pem key.pem other.cert.pem other.key.pem ||
		return 1
	chmod -R a+rX "$PKI"
	cd "$ROOT" || return 1
}

if make_site >"$WORK/site.log" 2>&1 && make_pki >"$WORK/pki.log" 2>&1; then
	ok "test site ($(tar tf "$WORK/site.tar" | wc -l) members) and test PKI (CA, web. and other.atoll.test) made"
else
	not_ok "test site and PKI made" "$(tail -5 "$WORK/site.log" "$WORK/pki.log")"
	finish
fi
CA=$PKI/ca.pem
chmod -R a+rX "$WORK"
head -c 200 "$SITE/rand100k.bin" | tail -c 100 >"$WORK/r100-199"
tail -c 500 "$SITE/rand100k.bin" >"$WORK/r-500"
tail -c 400 "$SITE/rand100k.bin" >"$WORK/r102000-"
head -c 1 "$SITE/rand100k.bin" >"$WORK/r0-0"
etag_of() { # FILE: "<mtime hex>-<size hex>"
	printf '"%x-%x"' "$(stat -c %Y "$1")" "$(stat -c %s "$1")"
}

# ---- the network and the servers -----------------------------------------------
ip netns add "$NS_C"
ip netns add "$NS_S"
ip link add c0 netns "$NS_C" type veth peer name s0 netns "$NS_S"
in_c ip addr add $C/24 dev c0
in_c ip link set c0 up
in_c ip link set lo up
in_s ip link set lo up
in_s ip link add br0 type bridge
in_s ip link set br0 type bridge forward_delay 0 stp_state 0
in_s ip link set s0 master br0
in_s ip addr add 10.78.0.3/24 dev br0
in_s ip link set s0 up
in_s ip link set br0 up
bridge_tap tap0 tap1 tap2 tap3

SITE_ARGS=(--mem=64M --block:site="$WORK/site.tar" --block:certs="$WORK/certs.tar")
start_uk "$WORK/w.log" "$WEB" "${SITE_ARGS[@]}" --net:service=tap0 ipv4=$W/24 mac=02:00:00:78:00:02 \
	header-timeout=3 idle-timeout=2 max-body=65536
W_PID=$UK_PID
start_uk "$WORK/d.log" "$WEB" --mem=64M --net:service=tap1 ipv4=$D/24 mac=02:00:00:78:00:04
D_PID=$UK_PID
start_uk "$WORK/s.log" "$WEB" "${SITE_ARGS[@]}" --net:service=tap2 ipv4=$S/24 mac=02:00:00:78:00:06 \
	http=serve hsts=600 log-rate=5
S_PID=$UK_PID
start_uk "$WORK/l.log" "$WEB" "${SITE_ARGS[@]}" --net:service=tap3 ipv4=$L/24 mac=02:00:00:78:00:08 \
	http=serve conns=3 keepalive-requests=3
L_PID=$UK_PID
start_uk "$WORK/e.log" "$WEB" "${SITE_ARGS[@]}" --stack=socket port=8443 http-port=8080
E_PID=$UK_PID

# CW: curl to W (web.atoll.test, and other.atoll.test for SNI); CS, CL to
# S and L under the same name; CD to D as "localhost".  All offer ALPN
# http/1.1 alone: this test is about HTTP/1.1 (test_web_h2.sh does h2).
CW=(curl -sS --http1.1 --max-time 30 --cacert "$CA" --resolve web.atoll.test:443:$W --resolve web.atoll.test:80:$W
	--resolve other.atoll.test:443:$W)
CS=(curl -sS --http1.1 --max-time 30 --cacert "$CA" --resolve web.atoll.test:443:$S --resolve web.atoll.test:80:$S)
CL=(curl -sS --http1.1 --max-time 30 --cacert "$CA" --resolve web.atoll.test:443:$L --resolve web.atoll.test:80:$L)
CD=(curl -sS --http1.1 --max-time 30 -k --resolve localhost:443:$D --resolve localhost:80:$D)
CE=(curl -sS --http1.1 --max-time 60 --cacert "$CA" --resolve web.atoll.test:8443:127.0.0.1
	--resolve web.atoll.test:8080:127.0.0.1)
U=https://web.atoll.test
P=http://web.atoll.test

up() { # RUNNER CURL...: the server answers within 20 s
	local i
	for ((i = 0; i < 80; i++)); do
		"$@" -o /dev/null 2>/dev/null && return 0
		sleep 0.25
	done
	return 1
}
started=1
up in_c "${CW[@]}" $U/ || started=0
up in_c "${CD[@]}" https://localhost/ || started=0
up in_c "${CS[@]}" $U/ || started=0
up in_c "${CL[@]}" $U/ || started=0
up in_s "${CE[@]}" https://web.atoll.test:8443/ || started=0
if [ $started = 1 ]; then
	ok "five web unikernels answer (4 on the atoll stack, 1 on the socket stack)"
else
	not_ok "five web unikernels answer" "$(tail -n 3 "$WORK"/[wdsle].log)"
	finish
fi

# ---- D: no site, no certs ------------------------------------------------------
CUR_LOG=$WORK/d.log
fetch "${CD[@]}" https://localhost/
want "no site device: the built-in site at / (\"atoll web server\")" code 200 \
	h Content-Type 'text/html; charset=utf-8' has 'atoll web server' h Server atoll
out=$(echo | in_c timeout 10 openssl s_client -connect $D:443 -servername localhost 2>&1)
echo "$out" | grep -Eq '^subject=.*CN ?= ?localhost' &&
	ok "no certs device: the built-in self-signed localhost certificate" ||
	fail_row "no certs device: the built-in localhost certificate" "$(echo "$out" | grep -E 'subject|error' | head -3)"
fetch "${CD[@]}" 'http://localhost/a/b.html?c=d'
want "defaults: port 80 redirects (301) to https://<host><target>" code 301 \
	h Location 'https://localhost/a/b\.html\?c=d' noh Strict-Transport-Security

# ---- W: GET of each file, over TLS 1.3 ------------------------------------------
CUR_LOG=$WORK/w.log
# FILE TYPE-ERE (where the spec leaves a choice: x-icon or vnd.microsoft.icon,
# a charset on JSON or XML)
while read -r f type; do
	label=$(echo "$type" | sed 's/([^)]*)?//g; s/(\([^|)]*\)|[^)]*)/\1/; s/|.*//; s/\\//g')
	fetch "${CW[@]}" "$U/$f"
	want "GET /$f: 200, $label, Content-Length, body" code 200 h Content-Type "$type" \
		len "$SITE/$f" body "$SITE/$f"
done <<'EOF'
index.html text/html; charset=utf-8
sub/page.html text/html; charset=utf-8
style.css text/css; charset=utf-8
app.js text/javascript; charset=utf-8|application/javascript(; charset=utf-8)?
data.json application/json(; charset=utf-8)?
notes.txt text/plain; charset=utf-8
logo.svg image/svg\+xml(; charset=utf-8)?
img/pixel.png image/png
photo.jpg image/jpeg
anim.gif image/gif
pic.webp image/webp
favicon.ico image/(x-icon|vnd\.microsoft\.icon)
font.woff2 font/woff2
mod.wasm application/wasm
feed.xml application/xml(; charset=utf-8)?|text/xml; charset=utf-8
doc.pdf application/pdf
file.zzz application/octet-stream
EOF
fetch "${CW[@]}" "$U/index.html"
want "GET /index.html: Server, Date, Last-Modified (the member's mtime), strong ETag, Accept-Ranges" \
	h Server atoll date Date h Last-Modified 'Wed, 01 May 2024 12:00:00 GMT' \
	hi ETag "$(etag_of "$SITE/index.html")" h Accept-Ranges bytes
fetch "${CW[@]}" -v "$U/rand100k.bin"
want "GET 100 KiB binary over TLS 1.3: SHA-256 equal, application/octet-stream" code 200 \
	err 'SSL connection using TLSv1\.3' h Content-Type application/octet-stream h Content-Length 102400 \
	sha "$SITE/rand100k.bin"
ET100=$(hval ETag)
LM100=$(hval Last-Modified)
fetch "${CW[@]}" -v "$U/big5m.bin"
want "GET 5 MB file over TLS 1.3: SHA-256 equal" code 200 err 'SSL connection using TLSv1\.3' \
	h Content-Length 5242880 sha "$SITE/big5m.bin"
fetch "${CW[@]}" -v --tlsv1.2 --tls-max 1.2 "$U/big5m.bin"
want "GET 5 MB file over TLS 1.2: SHA-256 equal" code 200 err 'SSL connection using TLSv1\.2' \
	sha "$SITE/big5m.bin"
fetch "${CW[@]}" -v --tlsv1.2 --tls-max 1.2 "$U/sub/page.html"
want "GET over TLS 1.2, curl --http1.1: ALPN http/1.1, 200" code 200 err 'SSL connection using TLSv1\.2' \
	err 'ALPN: server accepted http/1\.1' body "$SITE/sub/page.html"
fetch "${CW[@]}" -v "$U/notes.txt"
want "curl --http1.1 (ALPN http/1.1 alone): answered in HTTP/1.1" code 200 \
	err 'ALPN: server accepted http/1\.1' err '< HTTP/1\.1 200' body "$SITE/notes.txt"
# docs/http.md: alpn= defaults to h2,http/1.1 (the server's order wins).
fetch "${CW[@]}" -v --http2 "$U/notes.txt"
want "curl --http2 offers h2,http/1.1: the server's first choice h2 (alpn= default h2,http/1.1)" code 200 \
	err 'ALPN: server accepted h2' body "$SITE/notes.txt"
fetch "${CW[@]}" "$U/hello%20world.txt"
want "GET /hello%20world.txt: the member 'hello world.txt'" code 200 body "$SITE/hello world.txt"
fetch "${CW[@]}" "$U/sub/$LONG"
want "GET /sub/l...l.txt (a 128-byte member name: a GNU long-name header)" code 200 body "$SITE/sub/$LONG"
fetch "${CW[@]}" "$U/notes.txt?x=1&y=2"
want "GET /notes.txt?x=1&y=2: the query is not part of the file name" code 200 body "$SITE/notes.txt"

# HEAD: the headers of a GET and no body.
fetch "${CW[@]}" -I "$U/rand100k.bin"
# (curl -I writes the headers as its output: the next row shows there is no body.)
want "HEAD /rand100k.bin: 200, the GET's Content-Length, Content-Type and ETag" code 200 \
	h Content-Length 102400 h Content-Type application/octet-stream h ETag "$ET100"
TW=(--tls --sni=web.atoll.test --ca="$CA" $W:443)
H='Host: web.atoll.test\r\n'
wcheck "HEAD then GET pipelined: the HEAD's answer has no body (the GET's answer follows it at once)" \
	"${TW[@]}" send="HEAD /notes.txt HTTP/1.1\r\n$H\r\nGET /notes.txt HTTP/1.1\r\n$H\r\n" \
	resp=200/head hdr="Content-Length:$(stat -c %s "$SITE/notes.txt")" resp=200 body="$SITE/notes.txt"
wcheck "HEAD of a missing file then GET pipelined: 404 without its body, then 200" "${TW[@]}" \
	send="HEAD /nope.html HTTP/1.1\r\n$H\r\nGET /notes.txt HTTP/1.1\r\n$H\r\n" \
	resp=404/head resp=200 body="$SITE/notes.txt"

# ---- paths -------------------------------------------------------------------------
fetch "${CW[@]}" "$U/nope.html"
want "GET /nope.html: 404 with a small text/html body naming it" code 404 h Content-Type 'text/html.*' \
	has '404|Not Found'
fetch "${CW[@]}" "$U/"
want "GET /: index.html" code 200 h Content-Type 'text/html; charset=utf-8' body "$SITE/index.html"
fetch "${CW[@]}" "$U/sub/"
want "GET /sub/: sub/index.html" code 200 body "$SITE/sub/index.html"
fetch "${CW[@]}" "$U/sub"
want "GET /sub: 301 Location: /sub/" code 301 h Location '/sub/'
fetch "${CW[@]}" "$U/img/"
want "GET /img/ (a directory without index.html): 404, no listing" code '40[34]' noh Location
fetch "${CW[@]}" --path-as-is "$U/sub/../notes.txt"
want "GET /sub/../notes.txt: dot segment removed, /notes.txt" code 200 body "$SITE/notes.txt"
fetch "${CW[@]}" --path-as-is "$U/./sub/./page.html"
want "GET /./sub/./page.html: /sub/page.html" code 200 body "$SITE/sub/page.html"
fetch "${CW[@]}" --path-as-is "$U/%6eotes.txt"
want "GET /%6eotes.txt: percent-decoded, /notes.txt" code 200 body "$SITE/notes.txt"
fetch "${CW[@]}" --path-as-is "$U/sub/%2e%2e/notes.txt"
want "GET /sub/%2e%2e/notes.txt: an encoded dot segment, /notes.txt" code 200 body "$SITE/notes.txt"
for p in /../notes.txt /sub/../../notes.txt /%2e%2e/notes.txt /sub/%2e%2e/%2e%2e/etc/passwd; do
	fetch "${CW[@]}" --path-as-is "$U$p"
	want "GET $p: climbs above the root, 400" code 400
done
for p in /notes%zz.txt /notes%00.txt; do
	fetch "${CW[@]}" --path-as-is "$U$p"
	want "GET $p: a bad escape or a NUL, 400" code 400
done
fetch "${CW[@]}" "$U/web.conf"
want "GET /web.conf: the configuration is not served (404)" code 404

# ---- content codings -----------------------------------------------------------------
fetch "${CW[@]}" --compressed "$U/style.css"
want "GET /style.css --compressed: Content-Encoding gzip, Vary, the .gz member's length, same CSS decoded" \
	code 200 h Content-Encoding gzip h Vary '(.*, *)?Accept-Encoding(, *.*)?' len "$SITE/style.css.gz" \
	h Content-Type 'text/css; charset=utf-8' body "$SITE/style.css"
ETGZ=$(hval ETag)
fetch "${CW[@]}" -H 'Accept-Encoding: gzip' "$U/style.css"
want "GET /style.css, Accept-Encoding: gzip: the bytes of style.css.gz" code 200 h Content-Encoding gzip \
	body "$SITE/style.css.gz"
fetch "${CW[@]}" "$U/style.css"
want "GET /style.css without Accept-Encoding: identity, Vary: Accept-Encoding too" code 200 \
	noh Content-Encoding h Vary '(.*, *)?Accept-Encoding(, *.*)?' len "$SITE/style.css" body "$SITE/style.css" \
	h Last-Modified 'Mon, 02 Jan 2023 03:04:05 GMT'
ETID=$(hval ETag)
[ -n "$ETID" ] && [ -n "$ETGZ" ] && [ "$ETID" != "$ETGZ" ] &&
	ok "the gzip and identity representations have different strong ETags ($ETGZ, $ETID)" ||
	fail_row "the gzip and identity representations have different ETags" "gzip '$ETGZ' identity '$ETID'"
fetch "${CW[@]}" -H 'Accept-Encoding: gzip;q=0, identity' "$U/style.css"
want "GET /style.css, Accept-Encoding: gzip;q=0: identity" code 200 noh Content-Encoding body "$SITE/style.css"
fetch "${CW[@]}" -H 'Accept-Encoding: gzip, br' "$U/app.js"
want "GET /app.js, Accept-Encoding: gzip, br: br preferred (the .br member)" code 200 h Content-Encoding br \
	h Vary '(.*, *)?Accept-Encoding(, *.*)?' body "$SITE/app.js.br"
fetch "${CW[@]}" --compressed "$U/app.js"
want "GET /app.js --compressed: br, and curl decodes it to app.js" code 200 h Content-Encoding br \
	body "$SITE/app.js"
fetch "${CW[@]}" -H 'Accept-Encoding: br;q=0, gzip' "$U/app.js"
want "GET /app.js, Accept-Encoding: br;q=0, gzip: gzip" code 200 h Content-Encoding gzip \
	body "$SITE/app.js.gz"
fetch "${CW[@]}" -H 'Accept-Encoding: *' "$U/app.js"
want "GET /app.js, Accept-Encoding: *: an encoded variant (br)" code 200 h Content-Encoding br

# ---- Cache-Control from web.conf ----------------------------------------------------------
fetch "${CW[@]}" "$U/index.html"
want "Cache-Control for /index.html: the '/' rule" code 200 h Cache-Control 'public, max-age=60'
fetch "${CW[@]}" "$U/sub/page.html"
want "Cache-Control for /sub/page.html: the longer '/sub/' prefix wins" code 200 h Cache-Control 'no-cache'
fetch "${CW[@]}" "$U/img/pixel.png"
want "Cache-Control for /img/pixel.png: the '/img/' rule" code 200 h Content-Type image/png \
	h Cache-Control 'public, max-age=31536000, immutable' body "$SITE/img/pixel.png"

# ---- conditionals -------------------------------------------------------------------------
fetch "${CW[@]}" "$U/notes.txt"
ET=$(hval ETag)
LM=$(hval Last-Modified)
[ -n "$ET" ] && [ "${ET#W/}" = "$ET" ] && [ -n "$LM" ] &&
	ok "ETag ($ET, strong) and Last-Modified ($LM) present" ||
	fail_row "ETag (strong) and Last-Modified present" "ETag '$ET' Last-Modified '$LM'"
fetch "${CW[@]}" -H "If-None-Match: $ET" "$U/notes.txt"
want "If-None-Match: the ETag -> 304, no body, with ETag and Cache-Control (RFC 9110 15.4.5)" code 304 \
	empty h ETag "$ET" h Cache-Control 'public, max-age=60'
fetch "${CW[@]}" -H "If-None-Match: W/$ET" "$U/notes.txt"
want "If-None-Match: W/ETag -> 304 (weak comparison)" code 304 empty
fetch "${CW[@]}" -H "If-None-Match: \"x\", $ET" "$U/notes.txt"
want "If-None-Match: a list holding the ETag -> 304" code 304
fetch "${CW[@]}" -H 'If-None-Match: *' "$U/notes.txt"
want "If-None-Match: * -> 304" code 304
fetch "${CW[@]}" -H 'If-None-Match: "other"' "$U/notes.txt"
want "If-None-Match: another tag -> 200" code 200 body "$SITE/notes.txt"
fetch "${CW[@]}" -I -H "If-None-Match: $ET" "$U/notes.txt"
want "HEAD with If-None-Match: the ETag -> 304" code 304
fetch "${CW[@]}" -H "If-Modified-Since: $LM" "$U/notes.txt"
want "If-Modified-Since: Last-Modified -> 304" code 304 empty
fetch "${CW[@]}" -H 'If-Modified-Since: Wednesday, 01-May-24 12:00:00 GMT' "$U/notes.txt"
want "If-Modified-Since in RFC 850 form -> 304" code 304
fetch "${CW[@]}" -H 'If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT' "$U/notes.txt"
want "If-Modified-Since: an earlier date -> 200" code 200 body "$SITE/notes.txt"
fetch "${CW[@]}" -H 'If-None-Match: "other"' -H "If-Modified-Since: $LM" "$U/notes.txt"
want "If-None-Match (no match) with If-Modified-Since: the latter ignored (RFC 9110 13.1.3) -> 200" code 200
fetch "${CW[@]}" -H 'If-Match: "nomatch"' "$U/notes.txt"
want "If-Match: another tag -> 412" code 412
fetch "${CW[@]}" -H "If-Match: $ET" "$U/notes.txt"
want "If-Match: the ETag -> 200" code 200 body "$SITE/notes.txt"
fetch "${CW[@]}" -H 'If-Unmodified-Since: Mon, 01 Jan 2024 00:00:00 GMT' "$U/notes.txt"
want "If-Unmodified-Since: an earlier date -> 412" code 412
fetch "${CW[@]}" -H "If-Unmodified-Since: $LM" "$U/notes.txt"
want "If-Unmodified-Since: Last-Modified -> 200" code 200

# ---- ranges -------------------------------------------------------------------------------
fetch "${CW[@]}" -r 100-199 "$U/rand100k.bin"
want "Range: bytes=100-199 -> 206, Content-Range, those 100 bytes" code 206 \
	h Content-Range 'bytes 100-199/102400' h Content-Length 100 body "$WORK/r100-199"
fetch "${CW[@]}" -H 'Range: bytes=-500' "$U/rand100k.bin"
want "Range: bytes=-500 -> the last 500 bytes" code 206 h Content-Range 'bytes 101900-102399/102400' \
	body "$WORK/r-500"
fetch "${CW[@]}" -H 'Range: bytes=102000-' "$U/rand100k.bin"
want "Range: bytes=102000- -> to the end" code 206 h Content-Range 'bytes 102000-102399/102400' \
	body "$WORK/r102000-"
fetch "${CW[@]}" -H 'Range: bytes=0-0' "$U/rand100k.bin"
want "Range: bytes=0-0 -> one byte" code 206 h Content-Range 'bytes 0-0/102400' body "$WORK/r0-0"
wcheck "Range: bytes=0-99,1000-1099 -> 206 multipart/byteranges, both parts exact" \
	"${TW[@]}" send="GET /rand100k.bin HTTP/1.1\r\n${H}Range: bytes=0-99,1000-1099\r\n\r\n" resp=206 \
	hdr='Content-Type:multipart/byteranges; *boundary=.+' parts="$SITE/rand100k.bin:0-99,1000-1099" \
	parttype=application/octet-stream
wcheck "two ranges of the gzip variant of style.css: parts of style.css.gz, typed text/css (RFC 9110 14.6)" \
	"${TW[@]}" send="GET /style.css HTTP/1.1\r\n${H}Accept-Encoding: gzip\r\nRange: bytes=0-9,20-29\r\n\r\n" \
	resp=206 hdr=Content-Encoding:gzip parts="$SITE/style.css.gz:0-9,20-29" parttype='text/css; charset=utf-8'
fetch "${CW[@]}" -r 0-99 -H "If-None-Match: $ET100" "$U/rand100k.bin"
want "Range with a matching If-None-Match: the precondition first -> 304 (RFC 9110 13.2.2)" code 304 empty
fetch "${CW[@]}" -H 'Range: bytes=-0' "$U/rand100k.bin"
want "Range: bytes=-0 (a zero suffix) -> 416 (RFC 9110 14.1.3)" code 416 h Content-Range 'bytes \*/102400'
fetch "${CW[@]}" -H 'Range: bytes=200000-300000' "$U/rand100k.bin"
want "Range: bytes=200000-300000 -> 416, Content-Range: bytes */102400" code 416 \
	h Content-Range 'bytes \*/102400'
fetch "${CW[@]}" -H 'Range: items=0-5' "$U/rand100k.bin"
want "Range: items=0-5 (not bytes) is ignored -> 200, the whole file" code 200 sha "$SITE/rand100k.bin"
fetch "${CW[@]}" -r 0-99 -H "If-Range: $ET100" "$U/rand100k.bin"
want "If-Range: the ETag -> 206" code 206 h Content-Range 'bytes 0-99/102400'
fetch "${CW[@]}" -r 0-99 -H 'If-Range: "other"' "$U/rand100k.bin"
want "If-Range: another tag -> 200, the whole file" code 200 sha "$SITE/rand100k.bin"
fetch "${CW[@]}" -r 0-99 -H "If-Range: $LM100" "$U/rand100k.bin"
want "If-Range: Last-Modified (a Wednesday: $LM100) -> 206" code 206
fetch "${CW[@]}" -r 0-99 -H 'If-Range: Mon, 02 Jan 2023 03:04:05 GMT' "$U/style.css"
want "If-Range: Last-Modified (a Monday) -> 206" code 206 h Content-Range "bytes 0-99/$(stat -c %s "$SITE/style.css")"
fetch "${CW[@]}" -r 0-99 -H 'If-Range: Mon, 01 Jan 2024 00:00:00 GMT' "$U/rand100k.bin"
want "If-Range: another date -> 200" code 200

# ---- HSTS, port 80 -----------------------------------------------------------------------
fetch "${CW[@]}" "$U/notes.txt"
want "HTTPS: Strict-Transport-Security: max-age=31536000 (default)" h Strict-Transport-Security 'max-age=31536000'
fetch "${CW[@]}" "$P/sub/page.html?x=1"
want "port 80 (http=redirect): 301 Location https://web.atoll.test/sub/page.html?x=1, no HSTS" code 301 \
	h Location 'https://web\.atoll\.test/sub/page\.html\?x=1' noh Strict-Transport-Security
wcheck "port 80 redirect with Host: web.atoll.test:80: the port is not carried to https" $W:80 \
	send="GET /notes.txt HTTP/1.1\r\nHost: web.atoll.test:80\r\n\r\n" resp=301 \
	hdr='Location:https://web\.atoll\.test/notes\.txt'
CUR_LOG=$WORK/s.log
fetch "${CS[@]}" "$P/index.html"
want "http=serve: port 80 serves the site, no HSTS on plain HTTP" code 200 body "$SITE/index.html" \
	noh Strict-Transport-Security
fetch "${CS[@]}" "$P/big5m.bin"
want "http=serve: 5 MB over plain HTTP, SHA-256 equal" code 200 sha "$SITE/big5m.bin"
fetch "${CS[@]}" "$U/notes.txt"
want "hsts=600: Strict-Transport-Security: max-age=600 on HTTPS" code 200 h Strict-Transport-Security 'max-age=600'
wcheck "plain HTTP (http=serve): 3 pipelined requests answered in order" $S:80 \
	send="GET /notes.txt HTTP/1.1\r\n$H\r\nGET /data.json HTTP/1.1\r\n$H\r\nGET /sub/page.html HTTP/1.1\r\n$H\r\n" \
	resp=200 body="$SITE/notes.txt" resp=200 body="$SITE/data.json" resp=200 body="$SITE/sub/page.html"
steps=()
for i in $(seq 20); do steps+=(conn=$i send="GET /notes.txt HTTP/1.1\r\n$H\r\n" resp=200); done
for i in $(seq 20); do steps+=(conn=$i send="GET /data.json HTTP/1.1\r\n$H\r\n" resp=200); done
wcheck "conns=64 (the default): 20 connections at once are all served, and each serves a second request" \
	$S:80 "${steps[@]}"
# log-rate: a second of its own (the bucket refills when the second turns).
sleep 1.1
urls=()
for i in $(seq 30); do urls+=(-o /dev/null "$U/notes.txt?rate=$i"); done
t0=$(date +%s%N)
in_c "${CS[@]}" "${urls[@]}" 2>/dev/null
t1=$(date +%s%N)
sleep 0.5
m=$(grep -c 'GET /notes.txt?rate=' "$WORK/s.log")
# 5 a second: in t seconds (rounded up) at most 5 * (t + 1), across
# the edges of the server's one-second windows.
max=$((5 * ((t1 - t0 + 999999999) / 1000000000 + 1)))
[ "$m" -ge 1 ] && [ "$m" -le "$max" ] &&
	ok "log-rate=5: 30 requests in $(((t1 - t0) / 1000000)) ms logged $m lines (at most $max)" ||
	fail_row "log-rate=5: 30 requests logged at most 5 lines a second" "$m lines, wanted 1..$max"
S_LOGGED=$m
CUR_LOG=$WORK/w.log

# ---- methods ---------------------------------------------------------------------------
fetch "${CW[@]}" -X OPTIONS "$U/index.html"
want "OPTIONS -> 204, Allow: GET, HEAD, OPTIONS" code 204 h Allow 'GET, HEAD, OPTIONS' empty
want "OPTIONS 204 has no Content-Length (RFC 9110 8.6)" noh Content-Length
for m in POST:-d PUT:-d PATCH:-d DELETE: TRACE:; do
	# shellcheck disable=SC2046
	fetch "${CW[@]}" -X ${m%%:*} $([ -n "${m#*:}" ] && echo "-d x=1") "$U/index.html"
	want "${m%%:*} -> 405 with Allow: GET, HEAD, OPTIONS" code 405 h Allow 'GET, HEAD, OPTIONS'
done
wcheck "CONNECT -> 405" "${TW[@]}" send="CONNECT web.atoll.test:443 HTTP/1.1\r\nHost: web.atoll.test:443\r\n\r\n" \
	resp=405 hdr='Allow:GET, HEAD, OPTIONS'
fetch "${CW[@]}" -X BREW "$U/index.html"
want "unknown method BREW -> 501" code 501
wcheck "lower-case 'get' is another method (case-sensitive) -> 501" "${TW[@]}" \
	send="get /notes.txt HTTP/1.1\r\n$H\r\n" resp=501

# ---- the request head: limits and framing (raw, over TLS) -----------------------------------
wcheck "HTTP/2.0 request line -> 505" "${TW[@]}" send="GET / HTTP/2.0\r\n$H\r\n" resp=505
wcheck "request line of 9000 bytes -> 414, closed" "${TW[@]}" \
	send="GET /{{a*9000}} HTTP/1.1\r\n$H\r\n" resp=414 eof=5
wcheck "request line of 8000 bytes is within the limit: 404 (or 414 for a long path, RFC 9110 15.5.15)" \
	"${TW[@]}" send="GET /{{a*8000}} HTTP/1.1\r\n$H\r\n" resp='404|414'
wcheck "one header field of 9000 bytes -> 431, closed" "${TW[@]}" \
	send="GET / HTTP/1.1\r\n${H}X-Big: {{b*9000}}\r\n\r\n" resp=431 eof=5
wcheck "a head of 5 x 4000-byte fields (20000 > 16384) -> 431" "${TW[@]}" \
	send="GET / HTTP/1.1\r\n${H}{{X-Big: $(printf 'c%.0s' $(seq 4000))\r\n*5}}\r\n" resp=431
wcheck "70 header fields -> 431" "${TW[@]}" send="GET / HTTP/1.1\r\n${H}{{X-N: v\r\n*70}}\r\n" resp=431
wcheck "63 header fields are within the limit -> 200" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n${H}{{X-N: v\r\n*62}}\r\n" resp=200 body="$SITE/notes.txt"
wcheck "HTTP/1.1 without Host -> 400 (text/html naming it), closed" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n\r\n" resp=400 hdr='Content-Type:text/html.*' bodyre=400 eof=5
wcheck "two Host fields -> 400" "${TW[@]}" send="GET /notes.txt HTTP/1.1\r\n${H}${H}\r\n" resp=400 eof=5
wcheck "Content-Length with Transfer-Encoding (smuggling) -> 400, closed, the smuggled GET unanswered" \
	"${TW[@]}" send="POST /index.html HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /notes.txt HTTP/1.1\r\n$H\r\n" \
	resp=400 eof=5
wcheck "obs-fold (a continuation line) -> 400, closed" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n${H}X-A: b\r\n c\r\n\r\n" resp=400 eof=5
wcheck "whitespace before the colon -> 400" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n${H}X-A : b\r\n\r\n" resp=400 eof=5
wcheck "a bare CR in a field -> 400" "${TW[@]}" send="GET /notes.txt HTTP/1.1\r\n${H}X-A: b\rc\r\n\r\n" \
	resp=400 eof=5
wcheck "Content-Length: 1x -> 400" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Content-Length: 1x\r\n\r\nx" resp=400 eof=5
wcheck "Content-Length: 5, 6 -> 400" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\nhello!" resp=400 eof=5
wcheck "Transfer-Encoding: chunked, gzip (chunked not last) -> 400" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" resp=400 eof=5
wcheck "Transfer-Encoding: foo, chunked (unknown coding) -> 501" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Transfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n" resp=501
wcheck "Transfer-Encoding in HTTP/1.0 -> 400" "${TW[@]}" \
	send="POST /index.html HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" resp=400 eof=5
wcheck "a bad version token (HTTX/1.1) -> 400" "${TW[@]}" send="GET /notes.txt HTTX/1.1\r\n$H\r\n" resp=400
wcheck "an empty line before the request line is skipped -> 200" "${TW[@]}" \
	send="\r\nGET /notes.txt HTTP/1.1\r\n$H\r\n" resp=200 body="$SITE/notes.txt"
wcheck "field names are case-insensitive: 'host:' in lower case -> 200" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\nhost: web.atoll.test\r\n\r\n" resp=200 body="$SITE/notes.txt"
wcheck "absolute-form target https://web.atoll.test/notes.txt -> 200" "${TW[@]}" \
	send="GET https://web.atoll.test/notes.txt HTTP/1.1\r\n$H\r\n" resp=200 body="$SITE/notes.txt"

# ---- connections: keep-alive, pipelining, bodies -----------------------------------------------
out=$(in_c "${CW[@]}" -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' \
	"$U/index.html" "$U/notes.txt" "$U/sub/page.html" 2>&1)
[ "$out" = "200:1 200:0 200:0 " ] &&
	ok "keep-alive: curl's 3 requests share one connection (num_connects $out)" ||
	fail_row "keep-alive: curl's 3 requests share one connection" "got '$out', wanted '200:1 200:0 200:0 '"
wcheck "pipelining over TLS: 3 requests written at once, 3 responses in order" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n$H\r\nGET /data.json HTTP/1.1\r\n$H\r\nGET /sub/page.html HTTP/1.1\r\n$H\r\n" \
	resp=200 body="$SITE/notes.txt" resp=200 body="$SITE/data.json" resp=200 body="$SITE/sub/page.html" \
	quiet=0.5
steps=()
for i in $(seq 100); do steps+=(resp=200 body="$SITE/notes.txt"); done
wcheck "100 requests pipelined in one write over TLS: 100 responses in order" "${TW[@]}" \
	send="{{GET /notes.txt HTTP/1.1\r\n$H\r\n*100}}" "${steps[@]}" quiet=0.3
wcheck "pipelined GET 100 KiB, GET, HEAD 100 KiB, GET 100 KiB: each answer whole and in order" "${TW[@]}" \
	send="GET /rand100k.bin HTTP/1.1\r\n$H\r\nGET /notes.txt HTTP/1.1\r\n$H\r\nHEAD /rand100k.bin HTTP/1.1\r\n$H\r\nGET /rand100k.bin HTTP/1.1\r\n$H\r\n" \
	resp=200 body="$SITE/rand100k.bin" resp=200 body="$SITE/notes.txt" resp=200/head hdr=Content-Length:102400 \
	resp=200 body="$SITE/rand100k.bin"
wcheck "Connection: close with a GET pipelined behind it: one answer, then closed" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /data.json HTTP/1.1\r\n$H\r\n" \
	resp=200 body="$SITE/notes.txt" eof=5
wcheck "GET with a Content-Length body, then GET pipelined: the body is skipped, 200 and 200" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhelloGET /data.json HTTP/1.1\r\n$H\r\n" \
	resp=200 body="$SITE/notes.txt" resp=200 body="$SITE/data.json"
wcheck "a chunk size that overflows 64 bits -> 400, closed" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n" resp=400 eof=5
wcheck "chunk data not followed by CRLF -> 400, closed" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n" resp=400 eof=5
wcheck "chunked POST (with a trailer) then GET, pipelined: 405 then 200 on the same connection" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGET /notes.txt HTTP/1.1\r\n$H\r\n" \
	resp=405 hdr='Allow:GET, HEAD, OPTIONS' resp=200 body="$SITE/notes.txt"
wcheck "POST with a Content-Length body then GET: 405 then 200 (the body read and discarded)" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\nGET /x HTTPGET /notes.txt HTTP/1.1\r\n$H\r\n" \
	resp=405 resp=200 body="$SITE/notes.txt"
wcheck "Expect: 100-continue: 100 Continue before the body, then 405, and the connection goes on" \
	"${TW[@]}" send="POST /index.html HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n" \
	resp=100 send="hello" resp=405 send="GET /notes.txt HTTP/1.1\r\n$H\r\n" resp=200 body="$SITE/notes.txt"
wcheck "a body of max-body (65536) bytes is taken: 405, then a GET on the same connection" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Content-Length: 65536\r\n\r\n" fill=65536 resp=405 \
	send="GET /notes.txt HTTP/1.1\r\n$H\r\n" resp=200
wcheck "Content-Length: 70000 over max-body=65536 -> 413" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Content-Length: 70000\r\n\r\n" fill=70000 resp=413
wcheck "a chunked body over max-body -> 413" "${TW[@]}" \
	send="POST /index.html HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n11170\r\n" fill=70000 resp=413
wcheck "HTTP/1.0 without keep-alive: the response, then the server closes" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.0\r\n\r\n" resp=200 body="$SITE/notes.txt" eof=5
wcheck "HTTP/1.0 with Connection: keep-alive: kept open (Connection: keep-alive), a second request" \
	"${TW[@]}" send="GET /notes.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" resp=200 \
	hdr='Connection:(?i)keep-alive' quiet=0.5 send="GET /data.json HTTP/1.0\r\n\r\n" resp=200 \
	body="$SITE/data.json" eof=5
wcheck "HTTP/1.1 Connection: close: Connection: close, then closed" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n${H}Connection: close\r\n\r\n" resp=200 hdr='Connection:close' eof=5

# ---- timeouts --------------------------------------------------------------------------------
# Two slow clients (TLS on 443, plain on 80) drip a header byte a second;
# header-timeout=3 ends them with 408 (or a close) while a third client is
# served at once.
in_c timeout 30 python3 "$WEBCHECK" "${TW[@]}" send="GET /notes.txt HTTP/1.1\r\n" \
	drip="${H}X-Slow: {{s*40}}\r\n\r\n:1" resp='408|eof' elapsed=2.5:7 eof=3 >"$WORK/slow-tls.out" 2>&1 &
slow1=$!
in_c timeout 30 python3 "$WEBCHECK" $W:80 send="GET /notes.txt HTTP/1.1\r\n" \
	drip="${H}X-Slow: {{s*40}}\r\n\r\n:1" resp='408|eof' elapsed=2.5:7 eof=3 >"$WORK/slow-tcp.out" 2>&1 &
slow2=$!
sleep 1
out=$(in_c "${CW[@]}" -o /dev/null -w '%{http_code} %{time_total}' "$U/notes.txt" 2>&1)
echo "$out" | grep -Eq '^200 (0|1)\.' &&
	ok "while two slowloris clients hold heads open, another client is served at once ($out)" ||
	fail_row "while slowloris clients hold heads open, another client is served at once" "$out"
for x in "$slow1:slow-tls:TLS" "$slow2:slow-tcp:plain HTTP"; do
	IFS=: read -r pid f what <<<"$x"
	if wait "$pid"; then
		ok "slowloris ($what, a byte a second): 408 or a close after header-timeout=3"
	else
		mapfile -t lines <"$WORK/$f.out"
		fail_row "slowloris ($what): 408 or a close after header-timeout=3" "${lines[@]}"
	fi
done
wcheck "a body dripped a byte a second (Content-Length: 40) gets 408 or a close, not its 405" \
	"${TW[@]}" send="POST /notes.txt HTTP/1.1\r\n${H}Content-Length: 40\r\n\r\n" \
	drip="{{b*40}}:1" resp='408|eof' eof=3
wcheck "idle-timeout=2: an idle keep-alive connection is closed after about 2 s" "${TW[@]}" \
	send="GET /notes.txt HTTP/1.1\r\n$H\r\n" resp=200 mark eof=8 elapsed=1.5:5
wcheck "a TLS handshake that stops after 6 bytes of ClientHello is dropped after header-timeout=3" $W:443 \
	send='\x16\x03\x01\x02\x00\x01' drain=10 elapsed=2.5:7
# --help: "idle-timeout: ... and a write for progress".
wcheck "a client that never reads its 5 MB response is cut off (no write progress for idle-timeout=2)" \
	"${TW[@]}" send="GET /big5m.bin HTTP/1.1\r\n$H\r\n" sleep=7 drain=6:5000000

# ---- TLS: SNI, ALPN with openssl and gnutls ---------------------------------------------------
for name in other.atoll.test web.atoll.test; do
	out=$(echo | in_c timeout 10 openssl s_client -connect $W:443 -servername $name -CAfile "$CA" \
		-verify_hostname $name -verify_return_error 2>&1)
	echo "$out" | grep -Eq "^subject=.*CN ?= ?${name//./\\.}\$" &&
		echo "$out" | grep -q 'Verify return code: 0 (ok)' &&
		ok "SNI $name: its own certificate (subject CN=$name), verified" ||
		fail_row "SNI $name: its own certificate" "$(echo "$out" | grep -E 'subject=|Verify|error|alert' | head -4)"
done
out=$(echo | in_c timeout 10 openssl s_client -connect $W:443 -noservername -CAfile "$CA" 2>&1)
echo "$out" | grep -Eq '^subject=.*CN ?= ?web\.atoll\.test$' &&
	ok "no SNI: the default certificate (web.atoll.test)" ||
	fail_row "no SNI: the default certificate" "$(echo "$out" | grep -E 'subject=|error' | head -3)"
fetch "${CW[@]}" "https://other.atoll.test/notes.txt"
want "curl https://other.atoll.test/ (SNI, name checked): the site" code 200 body "$SITE/notes.txt"
GETC="GET /notes.txt HTTP/1.1\r\nHost: web.atoll.test\r\nConnection: close\r\n\r\n"
SC=(openssl s_client -connect $W:443 -servername web.atoll.test -verify_hostname web.atoll.test
	-CAfile "$CA" -verify_return_error)
peer "openssl s_client TLS 1.3 -alpn http/1.1: ALPN http/1.1, GET answered, closed" \
	expect='ALPN protocol: http/1.1' send="$GETC" expect='HTTP/1.1 200 OK' expect='plain text notes' \
	exit=any -- "${SC[@]}" -tls1_3 -alpn http/1.1
peer "openssl s_client TLS 1.2 -alpn http/1.1: ALPN http/1.1, GET answered" \
	expect='ALPN protocol: http/1.1' expect='Protocol *: TLSv1.2' send="$GETC" expect='HTTP/1.1 200 OK' \
	expect='plain text notes' exit=any -- "${SC[@]}" -tls1_2 -alpn http/1.1
peer "openssl s_client -alpn http/1.1,h2: the server's order picks h2" expect='ALPN protocol: h2' \
	exit=any close -- "${SC[@]}" -alpn http/1.1,h2
GC=(gnutls-cli --x509cafile "$CA" --sni-hostname web.atoll.test --verify-hostname web.atoll.test -p 443
	--alpn http/1.1)
peer "gnutls-cli TLS 1.3 --alpn http/1.1: ALPN http/1.1, GET answered" \
	expect='\(TLS1.3-' expect='Application protocol: http/1.1' send="$GETC" expect='HTTP/1.1 200 OK' \
	expect='plain text notes' close exit=any -- "${GC[@]}" --priority NORMAL:-VERS-ALL:+VERS-TLS1.3 $W
peer "gnutls-cli TLS 1.2 --alpn http/1.1: ALPN http/1.1, GET answered" \
	expect='\(TLS1.2-' expect='Application protocol: http/1.1' send="$GETC" expect='HTTP/1.1 200 OK' \
	expect='plain text notes' close exit=any -- "${GC[@]}" --priority NORMAL:-VERS-ALL:+VERS-TLS1.2 $W
wcheck "python ssl: ALPN http/1.1 negotiated, GET answered" "${TW[@]}" alpn=http/1.1 \
	send="GET /notes.txt HTTP/1.1\r\n$H\r\n" resp=200
in_c timeout 10 curl -s -o /dev/null --resolve web.atoll.test:443:$W http://web.atoll.test:443/
rc=$?
[ $rc != 0 ] && [ $rc != 28 ] && [ $rc != 124 ] &&
	ok "plain HTTP to the TLS port: the connection fails at once (curl status $rc)" ||
	fail_row "plain HTTP to the TLS port fails at once" "curl status $rc"

# ---- the access log --------------------------------------------------------------------------
# A second of its own: W logs at most 50 lines a second (log-rate=), and
# the 100 pipelined requests above used up a second's worth.
sleep 1.1
fetch "${CW[@]}" -e 'http://ref.example/x' -A 'webtest-agent/1.0' "$U/notes.txt?log=1"
sleep 0.3
rx="$C - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] \"GET /notes\.txt\?log=1 HTTP/1\.1\" 200 $(stat -c %s "$SITE/notes.txt") \"http://ref\.example/x\" \"webtest-agent/1\.0\""
grep -Eq "$rx" "$WORK/w.log" &&
	ok "access log: a combined-format line for the GET (address, date, request, status, bytes, referer, agent)" ||
	fail_row "access log: a combined-format line for the GET" "no line /$rx/" \
		"$(grep -F 'log=1' "$WORK/w.log" | head -2)"
fetch "${CW[@]}" -A 'webtest-agent/1.0' "$U/nope-logged.html"
sleep 0.3
grep -Eq "\"GET /nope-logged\.html HTTP/1\.1\" 404 [0-9-]+ \"-\" \"webtest-agent/1\.0\"" "$WORK/w.log" &&
	ok "access log: the 404 logged, with referer \"-\"" ||
	fail_row "access log: the 404 logged" "$(grep -F nope-logged "$WORK/w.log" | head -2)"

# ---- L: the connection limit, keepalive-requests ----------------------------------------------
CUR_LOG=$WORK/l.log
G="GET /notes.txt HTTP/1.1\r\n$H\r\n"
wcheck "conns=3: 2 plain + 1 TLS open; a 4th (plain) and a 5th (TLS) are refused; the 3 still work" \
	--sni=web.atoll.test --ca="$CA" $L:80 \
	conn=1 send="$G" resp=200 conn=2 send="$G" resp=200 tlsconn=3@443 send="$G" resp=200 \
	conn=4 send="$G" resp=eof tlsconn=5@443 resp=eof \
	conn=1 send="$G" resp=200 conn=2 send="$G" resp=200 conn=3 send="$G" resp=200
served=0
for _ in $(seq 20); do
	[ "$(in_c "${CL[@]}" -o /dev/null -w '%{http_code}' "$P/notes.txt" 2>/dev/null)" = 200 ] && served=1 && break
	sleep 0.2
done
[ $served = 1 ] && ok "conns=3: once those close, a new connection is served" ||
	fail_row "conns=3: once those close, a new connection is served" "no 200 in 4 s"
wcheck "keepalive-requests=3: the 3rd response says Connection: close, then the server closes" $L:80 \
	send="$G" resp=200 send="$G" resp=200 send="$G" resp=200 hdr='Connection:close' eof=5

# ---- E: the socket stack --------------------------------------------------------------------
CUR_LOG=$WORK/e.log
RUN=in_s
fetch "${CE[@]}" https://web.atoll.test:8443/
want "socket stack: GET / on 127.0.0.1:8443 (TLS): index.html, HSTS" code 200 body "$SITE/index.html" \
	h Strict-Transport-Security 'max-age=31536000'
fetch "${CE[@]}" https://web.atoll.test:8443/rand100k.bin
want "socket stack: GET 100 KiB binary, SHA-256 equal" code 200 sha "$SITE/rand100k.bin"
fetch "${CE[@]}" https://web.atoll.test:8443/big5m.bin
want "socket stack: GET 5 MB file, SHA-256 equal" code 200 sha "$SITE/big5m.bin"
fetch "${CE[@]}" -r 1000-1099 https://web.atoll.test:8443/rand100k.bin
want "socket stack: Range: bytes=1000-1099 -> 206" code 206 h Content-Range 'bytes 1000-1099/102400'
fetch "${CE[@]}" http://web.atoll.test:8080/sub/page.html
want "socket stack: port 8080 redirects to https://web.atoll.test:8443/ (port=8443, not 8080)" code 301 \
	h Location 'https://web\.atoll\.test:8443/sub/page\.html'
wcheck "socket stack: 3 pipelined requests over TLS answered in order" --tls --sni=web.atoll.test \
	--ca="$CA" 127.0.0.1:8443 \
	send="GET /notes.txt HTTP/1.1\r\n$H\r\nGET /data.json HTTP/1.1\r\n$H\r\nGET /sub/ HTTP/1.1\r\n$H\r\n" \
	resp=200 body="$SITE/notes.txt" resp=200 body="$SITE/data.json" resp=200 body="$SITE/sub/index.html"
RUN=in_c

# ---- after all that: W still serves; stops and counters ----------------------------------------
CUR_LOG=$WORK/w.log
fetch "${CW[@]}" "$U/index.html"
want "after the hostile rows W still serves GET /index.html" code 200 body "$SITE/index.html"
for x in W:$W_PID:w D:$D_PID:d S:$S_PID:s L:$L_PID:l E:$E_PID:e; do
	IFS=: read -r name pid f <<<"$x"
	alive=0
	kill -0 "$pid" 2>/dev/null && alive=1
	stop_uk "$pid"
	[ $alive = 1 ] && [ "$UK_STATUS" = 0 ] && ok "web $name ran to the end and stops on SIGTERM with status 0" ||
		not_ok "web $name ran to the end and stops on SIGTERM with status 0" \
			"running before the SIGTERM: $alive; status $UK_STATUS" "$(tail -5 "$WORK/$f.log")"
done
# Counters that are 0 are not printed: refused is L's.
missing=
for k in conns refused requests s2xx s3xx s4xx s5xx bytes handshakes tls_failures timeouts; do
	[ -n "$(counter "$WORK/w.log" web.$k)$(counter "$WORK/l.log" web.$k)" ] || missing="$missing $k"
done
[ -z "$missing" ] && ok "the web counters are printed at exit (W's and L's)" ||
	not_ok "the web counters are printed at exit" "missing:$missing" "$(grep '^counter web' "$WORK/w.log" | tr '\n' ' ')"
c() { counter "$WORK/$1.log" "web.$2"; }
# WEB_LOGS=<dir>: keep the servers' logs there (for a failing run).
[ -n "${WEB_LOGS:-}" ] && mkdir -p "$WEB_LOGS" && cp "$WORK"/[wdsle].log "$WEB_LOGS"/
[ "$(c w requests)" -ge 100 ] 2>/dev/null && [ "$(c w s2xx)" -ge 50 ] 2>/dev/null &&
	[ "$(c w s3xx)" -ge 5 ] 2>/dev/null && [ "$(c w s4xx)" -ge 30 ] 2>/dev/null &&
	[ "$(c w s5xx)" -ge 3 ] 2>/dev/null && [ "$(c w bytes)" -ge 10485760 ] 2>/dev/null &&
	[ "$(c w handshakes)" -ge 50 ] 2>/dev/null && [ "$(c w tls_failures)" -ge 1 ] 2>/dev/null &&
	[ "$(c w timeouts)" -ge 2 ] 2>/dev/null &&
	ok "W's counters add up: $(grep '^counter web' "$WORK/w.log" | sed 's/counter web\.//' | tr '\n' ' ')" ||
	not_ok "W's counters add up (requests>=100 s2xx>=50 s3xx>=5 s4xx>=30 s5xx>=3 bytes>=10M handshakes>=50 tls_failures>=1 timeouts>=2)" \
		"$(grep '^counter web' "$WORK/w.log" | tr '\n' ' ')"
[ "$(c s log_suppressed)" -ge 1 ] 2>/dev/null &&
	[ $(($(c s log_suppressed) + S_LOGGED)) -ge 30 ] &&
	ok "S counted the access log lines log-rate= suppressed (log_suppressed=$(c s log_suppressed))" ||
	not_ok "S counted the suppressed access log lines" "$(grep '^counter web' "$WORK/s.log" | tr '\n' ' ')"
[ "$(c l refused)" -ge 2 ] 2>/dev/null &&
	ok "L counted the refused connections (refused=$(c l refused))" ||
	not_ok "L counted the refused connections" "$(grep '^counter web' "$WORK/l.log" | tr '\n' ' ')"
finish
