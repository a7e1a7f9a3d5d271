#!/usr/bin/env bash
# test_web_browser.sh - a real browser against the web unikernel: Debian's
# chromium, headless, in the client namespace, trusting the test's own CA
# through an NSS database of its own (no certificate errors ignored),
# loads the built-in site over HTTPS from apps/web on atoll's TCP/IP on a
# TAP device.  The page's DOM must hold its title, the server must have
# been asked for the style sheet the page links, and a screenshot of the
# rendered page must read (by tesseract OCR) "atoll web server".
source "$(dirname "$0")/lib.sh"
WEB=$ROOT/build/hosted/web
A=10.77.0.2

for tool in chromium certutil tesseract openssl; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (sh tools/deps.sh)"
		finish
	fi
done
[ -x "$WEB" ] || {
	not_ok "$WEB is built (make)"
	finish
}

PKI=$WORK/pki
mkdir -p "$PKI"
(
	cd "$PKI" &&
		openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
		openssl req -new -x509 -key ca.key -subj "/CN=atoll browser test CA" -days 30 -sha256 \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
			-out ca.pem &&
		openssl ecparam -name prime256v1 -genkey -noout -out key.pem &&
		openssl req -new -key key.pem -subj /CN=web.atoll.test -out leaf.csr &&
		printf 'subjectAltName=DNS:web.atoll.test\nextendedKeyUsage=serverAuth\n' >ext.cnf &&
		openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
			-sha256 -extfile ext.cnf -out cert.pem &&
		tar -cf ../certs.tar cert.pem key.pem
) >"$WORK/pki.log" 2>&1 || {
	not_ok "a test CA and certificate made with openssl" "$(tail -3 "$WORK/pki.log")"
	finish
}
chmod -R a+rX "$PKI" "$WORK/certs.tar"

# The browser's own profile: HOME, its NSS database with the CA trusted
# for servers, a user-data-dir that goes with the test.
export HOME=$WORK/home
mkdir -p "$HOME/.pki/nssdb"
certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password &&
	certutil -d "sql:$HOME/.pki/nssdb" -A -t "C,," -n atoll-test-ca -i "$PKI/ca.pem" || {
	not_ok "the test CA in chromium's NSS database"
	finish
}

net_up
log=$WORK/web.log
start_uk "$log" "$WEB" --mem=64M --net:service=tap0 --block:certs="$WORK/certs.tar" \
	ipv4=$A/24 hsts=0
if wait_for_log "$log" "web on atoll stack" 10; then
	ok "web starts with the built-in site and the test CA's certificate"
else
	not_ok "web starts with the built-in site and the test CA's certificate" "$(tail -5 "$log")"
	finish
fi

CHROME=(timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run
	--user-data-dir="$WORK/profile" --host-resolver-rules="MAP web.atoll.test $A"
	--window-size=1000,700)
in_c "${CHROME[@]}" --dump-dom https://web.atoll.test/ >"$WORK/dom.html" 2>"$WORK/chrome.err"
if grep -q "<title>atoll web server</title>" "$WORK/dom.html"; then
	ok "chromium loads https://web.atoll.test/ with the CA trusted: the DOM has the page's title"
else
	not_ok "chromium loads https://web.atoll.test/ with the CA trusted: the DOM has the page's title" \
		"$(head -c 300 "$WORK/dom.html")" "$(grep -v dbus "$WORK/chrome.err" | tail -5)" "$(tail -5 "$log")"
fi
if grep -qE '"GET /style.css HTTP/(1.1|2.0)" 200 .*Chrome' "$log"; then
	ok "the browser fetched the page's style sheet (access log: GET /style.css 200, HTTP/1.1 or HTTP/2)"
else
	not_ok "the browser fetched the page's style sheet (access log: GET /style.css 200, HTTP/1.1 or HTTP/2)" \
		"$(grep web_log "$log" | tail -5)"
fi
in_c "${CHROME[@]}" --screenshot="$WORK/shot.png" https://web.atoll.test/ >/dev/null 2>&1
text=$(tesseract "$WORK/shot.png" - 2>/dev/null)
if echo "$text" | grep -q "atoll web server"; then
	ok "a screenshot of the rendered page reads \"atoll web server\" (OCR)"
else
	not_ok "a screenshot of the rendered page reads \"atoll web server\" (OCR)" \
		"$(echo "$text" | head -5)" "$(ls -la "$WORK/shot.png" 2>&1)"
fi
if [ -n "${WEB_SHOT:-}" ]; then cp "$WORK/shot.png" "$WEB_SHOT"; fi

stop_uk "$UK_PID"
if [ "$UK_STATUS" = 0 ] && grep -q "counter web.handshakes" "$log" &&
	! grep -q "counter web.tls_failures" "$log"; then
	ok "web stops cleanly; no TLS handshake failed"
else
	not_ok "web stops cleanly; no TLS handshake failed" "status $UK_STATUS" \
		"$(grep -E "counter web|failed" "$log" | head)"
fi
finish
