#!/usr/bin/env bash
# bench/web.sh - the static web server unikernel (apps/web) against nginx on
# the same namespace path (tests/e2e/lib.sh's topology: the client's
# namespace, a veth pair, a bridge in the server's namespace; nginx on the
# bridge's Linux address, web on a TAP device on the same bridge), as
# ratios within one run:
#   (a) keep-alive: requests per second and server CPU per request, for a
#       1 KiB and a 100 KiB file, over plain HTTP/1.1 (port 80) and over
#       TLS 1.3 (port 443), with wrk (-t1 -c CONNS, HTTP/1.1 keep-alive);
#   (b) new TLS 1.3 full handshakes (ECDSA P-256 certificate, X25519,
#       TLS_AES_128_GCM_SHA256, no tickets, no session cache), each followed
#       by "GET /" with Connection: close: bench/tls.sh's load generator
#       (tlsload, taken from that script's text and built here), handshakes
#       per second and server CPU per handshake;
#   (d) HTTP/2 over TLS 1.3 (ALPN h2): h2load -c H2_CONNS -m 100 (100
#       concurrent streams on each connection), H2_N requests of the 1 KiB
#       file; requests per second and server CPU per request;
#   (c) memory per idle keep-alive connection: N connections, each having
#       done one request (TLS 1.3, and plain HTTP), held open, against a
#       freshly started server: its VmRSS delta / N.
# Server CPU is the server process's run time (user + system, the
# scheduler's, /proc/<pid>/task/*/schedstat: nginx's one worker, the web
# unikernel's process) over the run, divided by the requests wrk counted;
# beside it the server core as a whole (/proc/stat, which also holds the
# softirq work done there) and the client core's busy share.  The servers
# run pinned to CPU 1, wrk and tlsload to CPU 0.
#
# nginx: Debian's (apt-get install nginx-light if missing; its system
# service neither started nor touched), one worker, access_log off,
# sendfile and tcp_nopush on (Debian's defaults), keepalive_requests
# raised so that wrk's connections stay up, TLS as in bench/tls.sh.
# web: started from $WEB (below), a copy of build/hosted/web; skipped with
# a message if that is not built.  The same certificate and the same files
# for both.
#
#   bench/web.sh          (SECS=8 HS_SECS=8 REPS=3 CONNS=32 CONC=32 IDLE=200: about 7 min)
#   PARTS="ka hs mem" SERVERS="nginx web web-offload" KA="http:1k https:100k" bench/web.sh
#   WEB='build/hosted/web --mem=256M --net:service={tap} ipv4={addr}/24 --block:site={site}
#        --block:certs={certs} http=serve conns={conns} ...'
#        {tap}, {addr}, {site}, {certs} and {conns} are filled in by the script;
#        "web-offload" is a second web on a TAP with offloads ({tap} = tap1,offload).
# Prints Markdown for bench/RESULTS.md (on stdout; progress on stderr).
# Not a test.  Needs root (namespaces, apt-get).
set -u
cd "$(dirname "$0")/.." || exit 1
SECS=${SECS:-8}
HS_SECS=${HS_SECS:-$SECS}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
CONC=${CONC:-32}
IDLE=${IDLE:-200}
PARTS=${PARTS:-ka hs h2 mem}
H2_CONNS=${H2_CONNS:-4}
H2_N=${H2_N:-100000}
SERVERS=${SERVERS:-nginx web web-offload}
KA=${KA:-http:1k http:100k https:1k https:100k}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
WEB=${WEB:-"build/hosted/web --mem=256M --net:service={tap} ipv4={addr}/24 --block:site={site} --block:certs={certs} http=serve conns={conns} tcp-conns={tcpconns} hsts=0 access-log=0 keepalive-requests=1000000 tls-min=1.3 groups=x25519 suites=TLS_AES_128_GCM_SHA256 log=warn"}
WEB_BIN=${WEB%% *}
WEB_CONNS=${WEB_CONNS:-256}

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
want() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
say() { echo "$*" >&2; }

# ---- the network: tests/e2e/lib.sh's, with a second TAP for web-offload --------
E2E_ID=webbench
# A run killed hard leaves its namespaces behind; they are ours by name.
ip netns del atlc-$E2E_ID 2>/dev/null
ip netns del atls-$E2E_ID 2>/dev/null
source tests/e2e/lib.sh
T=$WORK
POLICY=
trap '[ -n "$POLICY" ] && rm -f "$POLICY"; exec 9>&- 2>/dev/null; cleanup' EXIT
trap 'exit 130' INT TERM
declare -A ADDR TAPDEV
ADDR[nginx]=10.77.0.3
ADDR[web]=10.77.0.2 TAPDEV[web]=tap0
ADDR[web-offload]=10.77.0.4 TAPDEV[web-offload]=tap1,offload

# ---- packages: as bench/tls.sh (a policy-rc.d keeps nginx's service down) ------
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v taskset >/dev/null || need+=(util-linux)
command -v gcc >/dev/null || need+=(gcc)
command -v curl >/dev/null || need+=(curl)
command -v wrk >/dev/null || need+=(wrk)
command -v h2load >/dev/null || need+=(nghttp2-client)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ] || ! command -v nginx >/dev/null; then
	say "installing ${need[*]} $(command -v nginx >/dev/null || echo nginx-light)"
	export DEBIAN_FRONTEND=noninteractive
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d &&
			POLICY=/usr/sbin/policy-rc.d
	fi
	[ ${#need[@]} -eq 0 ] || apt-get install -y "${need[@]}" >>"$T/apt.log" 2>&1
	command -v nginx >/dev/null || apt-get install -y nginx-light >>"$T/apt.log" 2>&1 ||
		apt-get install -y nginx >>"$T/apt.log" 2>&1
	[ -n "$POLICY" ] && rm -f "$POLICY"
	POLICY=
	for c in nginx openssl taskset gcc curl wrk; do
		command -v $c >/dev/null || { say "$c missing after apt-get: $(tail -5 "$T/apt.log")"; exit 1; }
	done
fi

net_up
want web-offload && bridge_tap tap1

# ---- the credential and the files ------------------------------------------------
mkdir -p "$T/pki" "$T/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:10.77.0.2,IP:10.77.0.3,IP:10.77.0.4 \
	-keyout "$T/pki/key.pem" -out "$T/pki/cert.pem" >/dev/null 2>&1 || { say "openssl req failed"; exit 1; }
tar --format=ustar -C "$T/pki" -cf "$T/certs.tar" cert.pem key.pem
echo "atoll web bench: a small static page" >"$T/www/index.html"
head -c 1024 /dev/urandom >"$T/www/1k.bin"
head -c 102400 /dev/urandom >"$T/www/100k.bin"
tar --format=ustar -C "$T/www" -cf "$T/site.tar" index.html 1k.bin 100k.bin
chmod -R a+rX "$T"

# ---- the load generators ---------------------------------------------------------
# tlsload: bench/tls.sh's, from its text (one program for both benches).
sed -n '/^cat >"$T\/tlsload.c" <<.EOF.$/,/^EOF$/p' bench/tls.sh | sed '1d;$d' >"$T/tlsload.c"
gcc -O2 -Wall -o "$T/tlsload" "$T/tlsload.c" -lssl -lcrypto ||
	{ say "tlsload (from bench/tls.sh) did not build"; exit 1; }
# webidle: N keep-alive connections that have each had one answer.
cat >"$T/webidle.c" <<'EOF'
/* webidle - idle keep-alive connections for bench/web.sh.
 *   webidle tls|plain HOST PORT N PATH
 * N connections one after the other: TCP, for tls a TLS 1.3 handshake as
 * bench/tls.sh's tlsload makes them (a new SSL object, no session offered,
 * TLS_AES_128_GCM_SHA256, X25519, no certificate check), then
 * "GET PATH HTTP/1.1" (keep-alive) and its whole answer (Content-Length);
 * then all are held open until stdin ends.  Prints one key=value line. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static long tickets, bad;
static int new_ticket(SSL *s, SSL_SESSION *sess)
{
	(void)s;
	(void)sess;
	tickets++;
	return 0;
}
struct c {
	int fd;
	SSL *ssl;
};
static int rd(struct c *c, char *b, int n)
{
	return c->ssl ? SSL_read(c->ssl, b, n) : (int)read(c->fd, b, (size_t)n);
}
static int wr(struct c *c, const char *b, int n)
{
	return c->ssl ? SSL_write(c->ssl, b, n) : (int)write(c->fd, b, (size_t)n);
}
int main(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	int tls = !strcmp(argv[1], "tls"), n = atoi(argv[4]);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
	SSL_CTX_set1_groups_list(ctx, "X25519");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_ticket);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	inet_pton(AF_INET, argv[2], &a.sin_addr);
	char req[512];
	int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", argv[5]);
	struct c *cs = calloc((size_t)n, sizeof *cs);
	static char buf[1 << 18];
	for (int i = 0; i < n; i++) {
		struct c *c = &cs[i];
		int one = 1;
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) {
			fprintf(stderr, "webidle: connect %d: ", i);
			perror("");
			return 1;
		}
		if (tls) {
			c->ssl = SSL_new(ctx);
			SSL_set_fd(c->ssl, c->fd);
			SSL_set_tlsext_host_name(c->ssl, "localhost");
			if (SSL_connect(c->ssl) != 1) {
				fprintf(stderr, "webidle: handshake %d failed\n", i);
				ERR_print_errors_fp(stderr);
				return 1;
			}
		}
		if (wr(c, req, reqlen) != reqlen) {
			fprintf(stderr, "webidle: request %d not sent\n", i);
			return 1;
		}
		/* The head, then Content-Length bytes of body. */
		size_t got = 0, head = 0, want = 0;
		for (;;) {
			int r = rd(c, buf + got, (int)(sizeof buf - 1 - got));
			if (r <= 0) {
				fprintf(stderr, "webidle: answer %d cut short after %zu bytes\n", i, got);
				return 1;
			}
			got += (size_t)r;
			buf[got] = 0;
			if (!head) {
				char *e = strstr(buf, "\r\n\r\n");
				if (!e)
					continue;
				head = (size_t)(e + 4 - buf);
				if (strncmp(buf, "HTTP/1.1 200", 12))
					bad++;
				for (char *p = buf; p < e; p = strstr(p, "\r\n") + 2)
					if (!strncasecmp(p, "Content-Length:", 15))
						want = strtoul(p + 15, NULL, 10);
			}
			if (got >= head + want)
				break;
		}
	}
	printf("ready=%d bad=%ld tickets=%ld\n", n, bad, tickets);
	fflush(stdout);
	char b[64];
	while (read(0, b, sizeof b) > 0)
		;
	for (int i = 0; i < n; i++) {
		if (cs[i].ssl)
			SSL_free(cs[i].ssl);
		close(cs[i].fd);
	}
	return 0;
}
EOF
gcc -O2 -Wall -o "$T/webidle" "$T/webidle.c" -lssl -lcrypto || { say "webidle did not build"; exit 1; }
CL=(taskset -c "$CLIENT_CPU")

# ---- the servers -------------------------------------------------------------------
PIN=(taskset -c "$SERVER_CPU")
declare -A PID KILL CMDLINE # the process measured; the one to stop; web's command line
# start_nginx NAME: an nginx of our own (master + one worker, pinned) in the
# server's namespace, from a config in $T/NAME; the worker's PID in NGINX_WORKER.
start_nginx() {
	local d=$T/$1 i a=${ADDR[nginx]}
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 75s;
	server {
		listen $a:80;
		listen $a:443 ssl http2;
		ssl_certificate $T/pki/cert.pem;
		ssl_certificate_key $T/pki/key.pem;
		ssl_protocols TLSv1.3;
		ssl_ecdh_curve X25519;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
		ssl_session_cache off;
		ssl_session_tickets off;
		ssl_conf_command NumTickets 0; # TLS 1.3 stateful tickets, sent even with tickets off
		root $T/www;
	}
}
EOF
	# ip netns exec and taskset exec: $! is nginx's master itself.
	ip netns exec "$NS_S" "${PIN[@]}" nginx -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" >"$d/stdout.log" 2>&1 &
	PIDS+=("$!")
	local master=$!
	NGINX_MASTER=$master
	wait_http nginx $master || { say "nginx ($1) did not start: $(cat "$d/error.log" "$d/stdout.log")"; return 1; }
	for i in $(seq 50); do
		NGINX_WORKER=$(pgrep -P $master | head -1)
		[ -n "$NGINX_WORKER" ] && return 0
		sleep 0.1
	done
	say "nginx ($1): no worker"
	return 1
}
# wait_http NAME PID: until NAME answers on port 80 and 443 (10 s), or PID died.
wait_http() {
	local i
	for i in $(seq 100); do
		in_c curl -s -o /dev/null --max-time 1 "http://${ADDR[$1]}/" &&
			in_c curl -sk --http1.1 -o /dev/null --max-time 1 "https://${ADDR[$1]}/" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# web_cmd NAME CONNS LOG: $WEB with its blanks filled in, as words.
web_cmd() {
	local c="$T/web.bin ${WEB#* }"
	c=${c//\{tap\}/${TAPDEV[$1]}}
	c=${c//\{addr\}/${ADDR[$1]}}
	c=${c//\{site\}/$T/site.tar}
	c=${c//\{certs\}/$T/certs.tar}
	c=${c//\{tcpconns\}/$(($2 + 16))}
	echo "${c//\{conns\}/$2}"
}
# start_web NAME CONNS LOG: a web unikernel pinned, in the server's
# namespace; its PID in WEB_PID.
start_web() {
	# shellcheck disable=SC2046
	ip netns exec "$NS_S" "${PIN[@]}" $(web_cmd "$1" "$2") >"$3" 2>&1 &
	PIDS+=("$!")
	WEB_PID=$!
	wait_http "$1" $WEB_PID || { say "web ($1) did not start (log $3): $(tail -5 "$3")"; return 1; }
}
stop() { # PID: SIGTERM, then reap
	kill -TERM "$1" 2>/dev/null
	reap "$1"
}
reap() { # PID: wait for it (its status in STOP_STATUS), and out of PIDS
	local p keep=()
	wait "$1" 2>/dev/null
	STOP_STATUS=$?
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

WEB_NOTE="" WEB_STAMP="not built"
if want web || want web-offload; then
	if [ ! -x "$WEB_BIN" ]; then
		WEB_NOTE="$WEB_BIN is not built (make): the web columns are left out"
		say "$WEB_NOTE"
		SERVERS=${SERVERS//web-offload/}
		SERVERS=${SERVERS//web/}
	else
		# A copy: a rebuild during the run must not change the binary under it.
		cp "$WEB_BIN" "$T/web.bin"
		WEB_STAMP="$WEB_BIN of $(date -u -r "$WEB_BIN" '+%F %H:%M UTC'), tree at $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- apps/web lib 2>/dev/null || echo ' with local changes')$(git ls-files --others --exclude-standard apps/web lib | grep -q . && echo ', untracked files in apps/web or lib')"
	fi
fi
LIST=()
for s in nginx web web-offload; do want $s && LIST+=("$s"); done
[ ${#LIST[@]} -gt 0 ] || { say "no server to measure"; exit 1; }

# check NAME: the files come back whole over both ports, and TLS is what
# the bench says; the negotiated parameters into CHECK[NAME].
declare -A CHECK HEADERS
check() {
	local s=$1 f u ok=1
	for f in 1k.bin 100k.bin; do
		for u in "http://${ADDR[$s]}/$f" "https://${ADDR[$s]}/$f"; do
			in_c curl -sk --http1.1 --max-time 5 -o "$T/got" "$u" && cmp -s "$T/got" "$T/www/$f" ||
				{ say "$s: $u does not give $f back"; ok=0; }
		done
	done
	HEADERS[$s]=$(in_c curl -sk --http1.1 -D - -o /dev/null "https://${ADDR[$s]}/1k.bin" | tr -d '\r')
	CHECK[$s]=$(in_c timeout 5 openssl s_client -connect "${ADDR[$s]}:443" -servername localhost </dev/null 2>&1 |
		grep -E '^New, |Peer signature type|Peer signing digest|Server Temp Key|Server public key' | sed 's/^ *//' | paste -sd';' | sed 's/;/; /g')
	say "$s: ${CHECK[$s]}"
	return $((1 - ok))
}

# ---- measuring helpers (bench/tls.sh's) ---------------------------------------------
HZ=1000000000
ticks() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f", t }'; }
cpustat() { awk -v c="cpu$1" '$1 == c { b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6, $8 }' /proc/stat; }
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; } # KiB
TCK=$(getconf CLK_TCK)
alive() { # NAME: the server still runs (else say so, with its log)
	kill -0 "${PID[$1]}" 2>/dev/null && return 0
	say "$1 (pid ${PID[$1]}) is gone: $(tail -5 "$T/$1.log" 2>/dev/null)"
	return 1
}

# one_ka NAME SCHEME SIZE: one wrk run; sets KA_RPS, KA_US (server process
# CPU per request), KA_CUS (server core, /proc/stat), KA_SI (softirq on the
# server core), KA_ALL (both cores), KA_S (server %), KA_C0 and KA_C1 (the
# cores' busy %), all per request in µs.
WRK_CMD="wrk -t1 -c$CONNS -d${SECS}s"
one_ka() {
	local s=$1 url="$2://${ADDR[$1]}/$3.bin" t0 t1 a0 A0 a1 A1 b0 B0 b1 B1 out n w rps errs q0 q1
	read -r a0 A0 _ <<<"$(cpustat "$CLIENT_CPU")"
	read -r b0 B0 q0 <<<"$(cpustat "$SERVER_CPU")"
	t0=$(ticks "${PID[$s]}")
	out=$(in_c "${CL[@]}" $WRK_CMD "$url" 2>&1)
	t1=$(ticks "${PID[$s]}")
	read -r a1 A1 _ <<<"$(cpustat "$CLIENT_CPU")"
	read -r b1 B1 q1 <<<"$(cpustat "$SERVER_CPU")"
	alive "$s"
	n=$(awk '/requests in/ { print $1 }' <<<"$out")
	w=$(awk '/requests in/ { sub("s,", "", $4); print $4 }' <<<"$out")
	rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
	errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | sed 's/^ *//' | paste -sd';')
	[ -z "$errs" ] || say "$s $url: $errs"
	[ -n "$n" ] && [ "$n" -gt 0 ] || { say "$s $url: wrk: $out"; n=0; }
	KA_RPS=${rps:-0}
	KA_US=$(awk -v n="$n" -v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN { printf "%.1f", (n > 0 ? t / hz / n * 1e6 : 0) }')
	KA_CUS=$(awk -v n="$n" -v b=$((b1 - b0)) -v hz="$TCK" 'BEGIN { printf "%.1f", (n > 0 ? b / hz / n * 1e6 : 0) }')
	KA_SI=$(awk -v n="$n" -v b=$((q1 - q0)) -v hz="$TCK" 'BEGIN { printf "%.1f", (n > 0 ? b / hz / n * 1e6 : 0) }')
	KA_ALL=$(awk -v n="$n" -v b=$((b1 - b0 + a1 - a0)) -v hz="$TCK" 'BEGIN { printf "%.1f", (n > 0 ? b / hz / n * 1e6 : 0) }')
	KA_S=$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v w="${w:-1}" 'BEGIN { printf "%.0f", t / hz / w * 100 }')
	KA_C0=$(awk -v b=$((a1 - a0)) -v a=$((A1 - A0)) 'BEGIN { printf "%.0f", (a > 0 ? b / a * 100 : 0) }')
	KA_C1=$(awk -v b=$((b1 - b0)) -v a=$((B1 - B0)) 'BEGIN { printf "%.0f", (a > 0 ? b / a * 100 : 0) }')
	say "$s $url: $n requests in ${w}s, $KA_RPS/s; server ${KA_S}% (${KA_US} us each), cpu$SERVER_CPU ${KA_C1}% (${KA_CUS} us each, softirq ${KA_SI}), cpu$CLIENT_CPU ${KA_C0}%, both ${KA_ALL} us each${errs:+; $errs}"
}
# one_hs NAME: one tlsload run; sets HS_W, HS_C (per server CPU-s), HS_US, HS_CUS, HS_S, HS_C0.
one_hs() {
	local s=$1 t0 t1 a0 A0 a1 A1 b0 B0 b1 B1 out n w fl bp tk
	read -r a0 A0 _ <<<"$(cpustat "$CLIENT_CPU")"
	read -r b0 B0 _ <<<"$(cpustat "$SERVER_CPU")"
	t0=$(ticks "${PID[$s]}")
	out=$(in_c "${CL[@]}" "$T/tlsload" hs "${ADDR[$s]}" 443 "$CONC" "$HS_SECS" /)
	t1=$(ticks "${PID[$s]}")
	read -r a1 A1 _ <<<"$(cpustat "$CLIENT_CPU")"
	read -r b1 B1 _ <<<"$(cpustat "$SERVER_CPU")"
	alive "$s"
	n=$(kv handshakes "$out") w=$(kv wall "$out") fl=$(kv fails "$out")
	bp=$(kv badparams "$out") tk=$(kv tickets "$out")
	[ "${fl:-1}" = 0 ] && [ "${bp:-1}" = 0 ] && [ "${tk:-1}" = 0 ] ||
		say "$s: $out (failures, unexpected parameters or tickets)"
	HS_NOTE[$s]+="$out; "
	n=${n:-0} w=${w:-1}
	HS_W=$(awk -v n="$n" -v w="$w" 'BEGIN { printf "%.0f", n / w }')
	HS_C=$(awk -v n="$n" -v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN { printf "%.0f", (t > 0 ? n / (t / hz) : 0) }')
	HS_US=$(awk -v n="$n" -v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN { printf "%.0f", (n > 0 ? t / hz / n * 1e6 : 0) }')
	HS_CUS=$(awk -v n="$n" -v b=$((b1 - b0)) -v hz="$TCK" 'BEGIN { printf "%.0f", (n > 0 ? b / hz / n * 1e6 : 0) }')
	HS_S=$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v w="$w" 'BEGIN { printf "%.0f", t / hz / w * 100 }')
	HS_C0=$(awk -v b=$((a1 - a0)) -v a=$((A1 - A0)) 'BEGIN { printf "%.0f", (a > 0 ? b / a * 100 : 0) }')
	say "$s: $n handshakes in $w s, $HS_W/s; server ${HS_S}% (${HS_US} us each), cpu$SERVER_CPU ${HS_CUS} us each, cpu$CLIENT_CPU ${HS_C0}%"
}
# one_h2 NAME: one h2load run; sets H2_RPS, H2_US (server process CPU per
# request, µs), H2_OK (requests that succeeded).
H2_CMD="h2load -c $H2_CONNS -m 100 -n $H2_N"
one_h2() {
	local s=$1 t0 t1 out
	t0=$(ticks "${PID[$s]}")
	out=$(in_c "${CL[@]}" $H2_CMD "https://${ADDR[$s]}/1k.bin" 2>&1)
	t1=$(ticks "${PID[$s]}")
	alive "$s"
	H2_OK=$(awk '/^requests:/ { print $8 }' <<<"$out")
	H2_RPS=$(awk '/^finished in/ { sub(",", "", $4); printf "%.0f", $4 }' <<<"$out")
	grep -q "Application protocol: h2" <<<"$out" || say "$s: h2load did not speak h2: $out"
	[ "${H2_OK:-0}" = "$H2_N" ] || say "$s: h2load: ${H2_OK:-0} of $H2_N succeeded: $(grep -E '^requests:|^status' <<<"$out")"
	H2_US=$(awk -v n="${H2_OK:-0}" -v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN { printf "%.1f", (n > 0 ? t / hz / n * 1e6 : 0) }')
	H2_RPS=${H2_RPS:-0}
	say "$s h2: ${H2_OK:-0} requests, $H2_RPS/s; server ${H2_US} us each"
}
# idle_rss PID MODE ADDR PORT N: VmRSS before and with N idle keep-alive
# connections (each had one GET /1k.bin); sets IR0 IR1 (KiB).
idle_rss() {
	local pid=$1 i lp rc
	in_c "${CL[@]}" "$T/webidle" "$2" "$3" "$4" 1 /1k.bin </dev/null >/dev/null # warm-up: every path once
	sleep 0.5
	IR0=$(rss "$pid")
	rm -f "$T/idle.in" "$T/idle.out"
	mkfifo "$T/idle.in"
	in_c "${CL[@]}" "$T/webidle" "$2" "$3" "$4" "$5" /1k.bin <"$T/idle.in" >"$T/idle.out" 2>&1 &
	PIDS+=("$!")
	lp=$!
	exec 9>"$T/idle.in"
	for i in $(seq 300); do
		grep -q '^ready' "$T/idle.out" && break
		kill -0 $lp 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^ready=.* bad=0 ' "$T/idle.out" || say "idle $2 connections to $3: $(cat "$T/idle.out")"
	sleep 1 # the server's side of the last ones
	IR1=$(rss "$pid")
	exec 9>&-
	reap $lp
	rc=$STOP_STATUS
	grep -q '^ready' "$T/idle.out" && [ $rc = 0 ]
}

# ---- run -----------------------------------------------------------------------------
say "servers: ${LIST[*]}; servers on CPU $SERVER_CPU, load generators on CPU $CLIENT_CPU"
for s in "${LIST[@]}"; do
	if [ "$s" = nginx ]; then
		start_nginx nginx || exit 1
		PID[nginx]=$NGINX_WORKER KILL[nginx]=$NGINX_MASTER
	else
		start_web "$s" "$WEB_CONNS" "$T/$s.log" || exit 1
		PID[$s]=$WEB_PID KILL[$s]=$WEB_PID
		CMDLINE[$s]=$(web_cmd "$s" "$WEB_CONNS")
	fi
	check "$s" || say "$s: content check failed (measuring anyway)"
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A R U C SI ALL S C0 C1 HW HC HUS HCUS HS HC0 HS_NOTE
if part ka; then
	for r in $(seq "$REPS"); do
		for k in $KA; do
			for s in "${LIST[@]}"; do
				one_ka "$s" "${k%%:*}" "${k#*:}"
				R[$s:$k]+="$KA_RPS " U[$s:$k]+="$KA_US " C[$s:$k]+="$KA_CUS "
				SI[$s:$k]+="$KA_SI " ALL[$s:$k]+="$KA_ALL "
				S[$s:$k]+="$KA_S " C0[$s:$k]+="$KA_C0 " C1[$s:$k]+="$KA_C1 "
			done
		done
	done
fi
if part hs; then
	for r in $(seq "$REPS"); do
		for s in "${LIST[@]}"; do
			one_hs "$s"
			HW[$s]+="$HS_W " HC[$s]+="$HS_C " HUS[$s]+="$HS_US " HCUS[$s]+="$HS_CUS "
			HS[$s]+="$HS_S " HC0[$s]+="$HS_C0 "
		done
	done
fi
declare -A H2R H2U
if part h2; then
	for r in $(seq "$REPS"); do
		for s in "${LIST[@]}"; do
			[ "$s" = web-offload ] && continue
			one_h2 "$s"
			H2R[$s]+="$H2_RPS " H2U[$s]+="$H2_US "
		done
	done
fi
# The servers' ends: web's counters (it prints them on SIGTERM).
declare -A COUNTERS STATUS
for s in "${LIST[@]}"; do
	stop "${KILL[$s]}"
	[ "$s" = nginx ] || {
		STATUS[$s]=$STOP_STATUS
		COUNTERS[$s]=$(grep -E '^counter (web|tls|tcp)\.' "$T/$s.log" | grep -vE ' 0$' | awk '{ printf "%s=%s ", $2, $3 }')
		grep -vE '^counter ' "$T/$s.log" | grep -iE 'warn|error|fail|panic|abort' | head -5 >"$T/$s.warn"
	}
done
# MK[server:mode]: KiB per idle connection; MR: the two VmRSS.
declare -A MK MR
WEB_BASE=
if part mem; then
	# Fresh servers: the ones above have handled CONNS connections at once.
	# web sized conns=IDLE: it may take its connection slots at start.
	for m in tls plain; do
		p=443
		[ $m = plain ] && p=80
		for s in "${LIST[@]}"; do
			if [ "$s" = nginx ]; then
				start_nginx nginx-mem-$m || continue
				mp=$NGINX_WORKER kp=$NGINX_MASTER
			else
				start_web "$s" "$IDLE" "$T/$s-mem-$m.log" || continue
				mp=$WEB_PID kp=$WEB_PID
			fi
			idle_rss "$mp" $m "${ADDR[$s]}" $p "$IDLE" &&
				MK[$s:$m]=$(awk -v a=$IR0 -v b=$IR1 -v n="$IDLE" 'BEGIN { printf "%.1f", (b - a) / n }') &&
				MR[$s:$m]="$IR0 $IR1"
			say "$s, $IDLE idle $m connections: VmRSS $IR0 -> $IR1 KiB"
			stop "$kp"
		done
	done
	if want web; then # what web's slots cost: a web with conns=1, at rest after one request
		start_web web 1 "$T/web-one.log" &&
			in_c "${CL[@]}" "$T/webidle" tls "${ADDR[web]}" 443 1 /1k.bin </dev/null >/dev/null &&
			sleep 0.5 && WEB_BASE=$(rss $WEB_PID)
		stop "$WEB_PID"
	fi
fi

# ---- report --------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.2f", a / b }'; }
hdr="| measure |"
sep="|---|"
for s in "${LIST[@]}"; do hdr+=" $s |"; sep+="---:|"; done
RAT=()
want nginx && for s in "${LIST[@]}"; do [ "$s" = nginx ] || RAT+=("$s"); done
for s in "${RAT[@]}"; do hdr+=" $s / nginx |"; sep+="---:|"; done
row() { # LABEL ASSOC [KEY [-]]: median (range) per server, then ratios to nginx's median (not with -)
	local s line="| $1 |" k=${3:+:$3} nr=${4:-}
	declare -n A=$2
	declare -A M
	for s in "${LIST[@]}"; do
		M[$s]=$(median ${A[$s$k]:-})
		line+=" **${M[$s]}** ($(range ${A[$s$k]:-})) |"
	done
	for s in "${RAT[@]}"; do [ -n "$nr" ] && line+=" |" || line+=" **$(ratio "${M[$s]}" "${M[nginx]}")** |"; done
	echo "$line"
}
label() { # http:1k -> "1 KiB, HTTP"
	local sz=${1#*:} pr=${1%%:*}
	sz=${sz%k}
	[ "$pr" = https ] && pr="TLS 1.3" || pr=HTTP
	echo "$sz KiB, $pr"
}
echo
echo "$(date -u '+%F %H:%M UTC'); load average before: $LOAD_BEFORE, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(openssl version | cut -d' ' -f1-2), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); web: $WEB_STAMP"
echo "$REPS runs of each, interleaved; median (min-max). Servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU."
[ -n "$WEB_NOTE" ] && echo "$WEB_NOTE"
echo
echo "Commands (in namespace $NS_C, 10.77.0.1; nginx at ${ADDR[nginx]}, web at ${ADDR[web]} on tap0${CMDLINE[web-offload]:+, web-offload at ${ADDR[web-offload]} on tap1,offload}):"
echo
echo "    keep-alive:  taskset -c $CLIENT_CPU $WRK_CMD {http,https}://<server>/{1k,100k}.bin"
echo "    handshakes:  taskset -c $CLIENT_CPU tlsload hs <server> 443 $CONC $HS_SECS /   (bench/tls.sh's)"
part h2 && echo "    h2:          taskset -c $CLIENT_CPU $H2_CMD https://<server>/1k.bin"
echo "    idle:        taskset -c $CLIENT_CPU webidle {tls,plain} <server> {443,80} $IDLE /1k.bin"
for s in "${LIST[@]}"; do
	[ "$s" = nginx ] && echo "    nginx:       ip netns exec $NS_S taskset -c $SERVER_CPU nginx -c nginx.conf  (one worker; config printed by the script's start_nginx)"
	[ -n "${CMDLINE[$s]:-}" ] && echo "    $s:         ip netns exec $NS_S taskset -c $SERVER_CPU ${CMDLINE[$s]//$T/\$T}"
done
echo
echo "$hdr"
echo "$sep"
if part ka; then
	for k in $KA; do
		row "$(label "$k"): requests per second" R "$k"
		row "$(label "$k"): server process CPU per request, µs" U "$k"
		row "$(label "$k"): server core (CPU $SERVER_CPU, /proc/stat) per request, µs" C "$k"
		row "$(label "$k"): of which softirq, µs" SI "$k"
		row "$(label "$k"): both cores (client, server, kernel) per request, µs" ALL "$k"
		row "$(label "$k"): server process CPU %" S "$k" -
		row "$(label "$k"): server core busy %" C1 "$k" -
		row "$(label "$k"): client core busy %" C0 "$k" -
	done
fi
if part hs; then
	row "new TLS 1.3 handshakes per second (wall)" HW
	row "handshakes per server CPU-second" HC
	row "server process CPU per handshake, µs" HUS
	row "server core (CPU $SERVER_CPU) per handshake, µs" HCUS
	row "handshakes: server process CPU %" HS "" -
	row "handshakes: client core (CPU $CLIENT_CPU) busy %" HC0 "" -
fi
if part h2; then
	row "HTTP/2, TLS 1.3, $H2_CONNS connections x 100 streams, 1 KiB: requests per second" H2R
	row "HTTP/2 1 KiB: server process CPU per request, µs" H2U
fi
if part mem; then
	mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
	for m in tls plain; do
		line="| idle keep-alive $m connections, N=$IDLE: VmRSS delta / N, KiB (VmRSS before -> with them, MiB) |"
		for s in "${LIST[@]}"; do
			if [ -n "${MK[$s:$m]:-}" ]; then
				read -r r0 r1 <<<"${MR[$s:$m]}"
				line+=" **${MK[$s:$m]}** ($(mib $r0) -> $(mib $r1)) |"
			else
				line+=" failed |"
			fi
		done
		for s in "${RAT[@]}"; do line+=" **$(ratio "${MK[$s:$m]:-}" "${MK[nginx:$m]:-}")** |"; done
		echo "$line"
	done
	if [ -n "$WEB_BASE" ] && [ -n "${MR[web:tls]:-}" ]; then
		read -r r0 r1 <<<"${MR[web:tls]}"
		slot=$(awk -v a="$WEB_BASE" -v b="$r1" -v n="$IDLE" 'BEGIN { printf "%.1f", (b - a) / n }')
		line="| idle TLS, web's slots counted: (VmRSS with N idle, conns=N - VmRSS of a web with conns=1) / N, KiB |"
		for s in "${LIST[@]}"; do [ "$s" = web ] && line+=" $slot |" || line+=" |"; done
		for s in "${RAT[@]}"; do [ "$s" = web ] && line+=" $(ratio "$slot" "${MK[nginx:tls]:-}") |" || line+=" |"; done
		echo "$line"
	fi
fi
echo
for s in "${LIST[@]}"; do
	echo "$s: ${CHECK[$s]:-}"
	[ "$s" = nginx ] && continue
	echo "$s: exit status ${STATUS[$s]:-?}; counters: ${COUNTERS[$s]:-none}"
	[ -s "$T/$s.warn" ] && echo "$s: log: $(paste -sd'|' "$T/$s.warn")"
done
part hs && for s in "${LIST[@]}"; do echo "$s tlsload: ${HS_NOTE[$s]}"; done
for s in "${LIST[@]}"; do echo "$s response head (1k.bin over TLS): $(echo "${HEADERS[$s]}" | paste -sd'|')"; done
