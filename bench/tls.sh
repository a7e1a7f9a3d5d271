#!/usr/bin/env bash
# bench/tls.sh - TLS servers against their peers on one path (loopback), as
# ratios within one run:
#   (a) new TLS 1.3 full handshakes (ECDSA P-256 certificate, X25519,
#       TLS_AES_128_GCM_SHA256, no tickets, no session cache), each followed
#       by one small HTTP GET answered with Connection: close; the server
#       pinned to CPU 1, the load generator to CPU 0.  The figure to
#       compare is handshakes per CPU-second of the server process (its
#       run time, user + system, from /proc/<pid>/task/*/schedstat), since
#       on two cores the client can be the limit; handshakes per wall second,
#       the server's CPU % and the client's (its own getrusage, and CPU 0
#       as a whole from /proc/stat) are printed beside it;
#   (b) bulk: one TLS 1.3 AES-128-GCM connection downloading MBYTES MiB
#       (MiB/s, and MiB per server CPU-second), median of REPS;
#   (c) memory per idle TLS connection: N established connections (the
#       handshake done, no request sent) against a freshly started server,
#       its VmRSS delta / N, for N = IDLE (200) and TLSD_IDLE (50: tlsd on
#       the socket stack holds at most 62).
# Peers: Debian's nginx (OpenSSL 3.0; one worker, from a private config in
# a temporary directory) and openssl s_server (-www for handshakes, -WWW
# for the file); atoll's apps/tlsd on the socket stack (hosted build),
# started from $TLSD (below), skipped with a message if not built.
#
# The load generator is a small C program built here against OpenSSL
# (tlsload, source below): epoll, CONC connections in flight, each a new
# TCP connection, a full handshake (a fresh SSL object, no session given,
# no ticket kept), "GET / HTTP/1.1 ... Connection: close", read to EOF.
# It checks every handshake (TLS 1.3, the suite, X25519, not resumed) and
# counts tickets received.  h2load was tried first: it cannot read
# s_server's -www answer (HTTP/1.0, no Content-Length) and fails every
# request there.
#
#   bench/tls.sh                 (SECS=8 REPS=3 CONC=32 MBYTES=256 IDLE=200 TLSD_IDLE=50)
#   PARTS="hs bulk mem" SERVERS="nginx s_server tlsd" bench/tls.sh
#   TLSD='build/hosted/tlsd ... listen=127.0.0.1:{port} --block:certs={certs} conns={conns}'
#        {port}, {certs} (a tar of cert.pem + key.pem) and {conns} are
#        filled in by the script.
# Prints Markdown for bench/RESULTS.md.  Not a test.  Needs root (apt-get).
set -u
cd "$(dirname "$0")/.." || exit 1
SECS=${SECS:-8}
REPS=${REPS:-3}
CONC=${CONC:-32}
MBYTES=${MBYTES:-256}
IDLE=${IDLE:-200}
# tlsd on the socket stack holds at most 62 connections (every socket is a
# platform handle, and there are 64: platform/platform.h), so its idle
# row is taken at TLSD_IDLE, and nginx's too, for the ratio.
TLSD_IDLE=${TLSD_IDLE:-50}
PARTS=${PARTS:-hs bulk mem}
SERVERS=${SERVERS:-nginx s_server tlsd}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
PORT_BASE=${PORT_BASE:-18440}
TLSD=${TLSD:-"build/hosted/tlsd --mem=128M --stack=socket listen=127.0.0.1:{port} --block:certs={certs} conns={conns} tcp-conns=256 tls-min=1.3 groups=x25519 suites=TLS_AES_128_GCM_SHA256 tickets=0 log=warn"}
TLSD_BIN=${TLSD%% *}

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
want() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
say() { echo "$*" >&2; }

# ---- the temporary directory, and every process we start ----------------
T=$(mktemp -d /tmp/atoll-tlsbench.XXXXXX)
chmod 755 "$T" # tlsd drops to nobody, as does nginx's worker
PIDS=()
POLICY=
cleanup() {
	local p
	[ -n "$POLICY" ] && rm -f "$POLICY"
	exec 9>&- 2>/dev/null
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
# forget PID: a child that has been waited for leaves the list (its PID
# may be reused by then).
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- packages ----------------------------------------------------------------
# Debian's postinst for nginx starts the system service (port 80) through
# invoke-rc.d; a policy-rc.d that answers 101 for the install keeps it
# from starting (only when the machine has no policy-rc.d of its own; it
# is removed again at once, or by cleanup).  Nothing here depends on, or
# stops, a system nginx.
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v taskset >/dev/null || need+=(util-linux)
command -v ss >/dev/null || need+=(iproute2)
command -v pgrep >/dev/null || need+=(procps)
command -v gcc >/dev/null || need+=(gcc)
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
	for c in nginx openssl taskset ss pgrep gcc; do
		command -v $c >/dev/null || { say "$c missing after apt-get: $(tail -5 "$T/apt.log")"; exit 1; }
	done
fi

# port VAR: a free port at or above PORT_BASE into VAR (others' servers
# may hold some; none handed out twice).
NEXT_PORT=$PORT_BASE
port() {
	while ss -Hltn "sport = :$NEXT_PORT" | grep -q .; do NEXT_PORT=$((NEXT_PORT + 1)); done
	printf -v "$1" %s $NEXT_PORT
	NEXT_PORT=$((NEXT_PORT + 1))
}
wait_port() { # PORT PID: until it listens (10 s), or the process died
	local i
	for i in $(seq 100); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ---- the credential and the files --------------------------------------------
mkdir -p "$T/pki" "$T/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-keyout "$T/pki/key.pem" -out "$T/pki/cert.pem" >/dev/null 2>&1 || { say "openssl req failed"; exit 1; }
tar --format=ustar -C "$T/pki" -cf "$T/certs.tar" cert.pem key.pem
echo "atoll tls bench: a small static body" >"$T/www/index.html"
head -c $((MBYTES << 20)) /dev/zero >"$T/www/big.bin"
chmod -R a+rX "$T"

# ---- the load generator ------------------------------------------------------
cat >"$T/tlsload.c" <<'EOF'
/* tlsload - TLS 1.3 client load for bench/tls.sh.
 *   tlsload hs   HOST PORT CONC SECS PATH  new connections, CONC at once, for SECS
 *   tlsload bulk HOST PORT PATH            one connection, read the answer to EOF
 *   tlsload idle HOST PORT N               N handshakes, then hold them until stdin ends
 *   tlsload pattern - - MBYTES             CPU time of tlsd's /bytes/ body generation
 *                                          (apps/tlsd/tlsargs.h's pattern, in 16 KiB chunks)
 * Every connection: a new socket and SSL object (no session offered),
 * TLS 1.3 only, TLS_AES_128_GCM_SHA256, X25519, no certificate check
 * (the CertificateVerify signature is still checked by OpenSSL).
 * Prints key=value on one line. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_CONNECT, S_HS, S_WRITE, S_READ };
struct conn {
	int fd, state;
	SSL *ssl;
	size_t got;
};
static SSL_CTX *ctx;
static struct sockaddr_in addr;
static char req[512];
static size_t reqlen;
static long done, fails, badparams, tickets;
static unsigned long long bytes;
static int ep;
static char rbuf[1 << 16];

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}
static double cpu(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
	       r.ru_stime.tv_usec / 1e6;
}
static int new_ticket(SSL *s, SSL_SESSION *sess)
{
	(void)s;
	(void)sess;
	tickets++;
	return 0; /* not kept: the next connection offers no session */
}
static void check(SSL *s)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(s);
	if (SSL_version(s) != TLS1_3_VERSION || !c ||
	    strcmp(SSL_CIPHER_get_name(c), "TLS_AES_128_GCM_SHA256") ||
	    SSL_get_negotiated_group(s) != NID_X25519 || SSL_session_reused(s))
		badparams++;
}
static struct conn *conn_new(int blocking)
{
	struct conn *c = calloc(1, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
		perror("connect");
		exit(1);
	}
	c->state = S_CONNECT;
	if (!blocking) {
		struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
	}
	return c;
}
static void conn_free(struct conn *c)
{
	SSL_free(c->ssl);
	close(c->fd);
	free(c);
}
static void want(struct conn *c, int ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}
/* Advance c; 1 when it ended (done or failed), else 0 with epoll set. */
static int step(struct conn *c)
{
	int r, err;
	switch (c->state) {
	case S_CONNECT: {
		int e = 0;
		socklen_t l = sizeof e;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l);
		if (e) {
			fails++;
			return 1;
		}
		c->state = S_HS;
	} /* fall through */
	case S_HS:
		r = SSL_connect(c->ssl);
		if (r != 1) {
			err = SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
				want(c, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
				return 0;
			}
			fails++;
			return 1;
		}
		check(c->ssl);
		c->state = S_WRITE;
		/* fall through */
	case S_WRITE:
		r = SSL_write(c->ssl, req, (int)reqlen);
		if (r <= 0) {
			err = SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
				want(c, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
				return 0;
			}
			fails++;
			return 1;
		}
		c->state = S_READ;
		want(c, EPOLLIN);
		/* fall through */
	case S_READ:
		for (;;) {
			r = SSL_read(c->ssl, rbuf, sizeof rbuf);
			if (r > 0) {
				c->got += (size_t)r;
				bytes += (unsigned long long)r;
				continue;
			}
			err = SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_READ) {
				want(c, EPOLLIN);
				return 0;
			}
			if (err == SSL_ERROR_WANT_WRITE) {
				want(c, EPOLLOUT);
				return 0;
			}
			/* EOF: close_notify, or a TCP close (SSL_OP_IGNORE_UNEXPECTED_EOF) */
			if (err == SSL_ERROR_ZERO_RETURN && c->got > 0)
				done++;
			else
				fails++;
			return 1;
		}
	}
	return 1;
}
/* Keep conc connections going until deadline (then drain); count them. */
static void run(int conc, double secs)
{
	ep = epoll_create1(0);
	double t0 = now(), c0 = cpu(), end = t0 + secs;
	int live = 0, stop = 0;
	for (int i = 0; i < conc; i++, live++)
		conn_new(0);
	struct epoll_event ev[64];
	while (live > 0) {
		int n = epoll_wait(ep, ev, 64, 1000);
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			if (!step(c))
				continue;
			conn_free(c);
			live--;
			if (!stop && now() >= end)
				stop = 1;
			if (!stop) {
				conn_new(0);
				live++;
			}
		}
		if (n == 0 && now() > end + 30)
			break; /* a stuck server: report what was done */
	}
	double t1 = now();
	printf("handshakes=%ld fails=%ld badparams=%ld tickets=%ld bytes=%llu wall=%.3f cpu=%.3f\n",
	       done, fails, badparams, tickets, bytes, t1 - t0, cpu() - c0);
}
static void idle(int n)
{
	struct conn **cs = calloc((size_t)n, sizeof *cs);
	for (int i = 0; i < n; i++) {
		cs[i] = conn_new(1);
		if (SSL_connect(cs[i]->ssl) != 1) {
			fprintf(stderr, "idle: handshake %d failed\n", i);
			ERR_print_errors_fp(stderr);
			exit(1);
		}
		check(cs[i]->ssl);
	}
	printf("ready=%d badparams=%ld tickets=%ld\n", n, badparams, tickets);
	fflush(stdout);
	char b[64];
	while (read(0, b, sizeof b) > 0)
		;
	for (int i = 0; i < n; i++)
		conn_free(cs[i]);
}
static uint8_t pattern(uint64_t i) /* tlsargs_pattern */
{
	return (uint8_t)(i + i / 4093);
}
static void pattern_cost(uint64_t n)
{
	static uint8_t io[16384];
	unsigned sum = 0;
	double c0 = cpu();
	for (uint64_t off = 0; off < n; off += sizeof io) {
		for (size_t i = 0; i < sizeof io; i++)
			io[i] = pattern(off + i);
		__asm__ volatile("" ::"r"(io) : "memory");
		sum += io[off % sizeof io];
	}
	printf("cpu=%.4f sum=%u\n", cpu() - c0, sum);
}
int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "pattern")) {
		pattern_cost((uint64_t)atoll(argv[4]) << 20);
		return 0;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: tlsload hs|bulk|idle HOST PORT ...\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
	SSL_CTX_set1_groups_list(ctx, "X25519");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Count the server's tickets, keep none. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_ticket);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[3]));
	inet_pton(AF_INET, argv[2], &addr.sin_addr);
	const char *path = "/";
	if (!strcmp(argv[1], "hs") && argc >= 7)
		path = argv[6];
	else if (!strcmp(argv[1], "bulk"))
		path = argv[4];
	reqlen = (size_t)snprintf(req, sizeof req,
				  "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
	if (!strcmp(argv[1], "hs") && argc >= 6)
		run(atoi(argv[4]), atof(argv[5]));
	else if (!strcmp(argv[1], "bulk"))
		run(1, 0);
	else if (!strcmp(argv[1], "idle"))
		idle(atoi(argv[4]));
	else
		return 2;
	return 0;
}
EOF
gcc -O2 -Wall -o "$T/tlsload" "$T/tlsload.c" -lssl -lcrypto || { say "tlsload did not build"; exit 1; }
LOAD=(taskset -c "$CLIENT_CPU" "$T/tlsload")

# ---- the servers -----------------------------------------------------------
PIN=(taskset -c "$SERVER_CPU")
declare -A PORT PID BULKPORT BULKPID BULKPATH
# start_nginx NAME PORT: an nginx of our own (master + one worker, pinned)
# from a config in $T/NAME; the worker's PID in NGINX_WORKER.
start_nginx() {
	local d=$T/$1 i
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
	server {
		listen 127.0.0.1:$2 ssl;
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
	"${PIN[@]}" nginx -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" >"$d/stdout.log" 2>&1 &
	PIDS+=("$!")
	local master=$!
	wait_port "$2" $master || { say "nginx ($1) did not start: $(cat "$d/error.log" "$d/stdout.log")"; return 1; }
	for i in $(seq 50); do
		NGINX_WORKER=$(pgrep -P $master | head -1)
		[ -n "$NGINX_WORKER" ] && PIDS+=("$NGINX_WORKER") && return 0
		sleep 0.1
	done
	say "nginx ($1): no worker"
	return 1
}
if want nginx; then
	port PORT[nginx]
	start_nginx nginx "${PORT[nginx]}" || exit 1
	PID[nginx]=$NGINX_WORKER
	BULKPORT[nginx]=${PORT[nginx]}
	BULKPID[nginx]=$NGINX_WORKER
	BULKPATH[nginx]=/big.bin
fi
SSOPT=(-cert "$T/pki/cert.pem" -key "$T/pki/key.pem" -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
	-groups X25519 -num_tickets 0 -no_cache -quiet)
if want s_server; then
	port PORT[s_server]
	"${PIN[@]}" openssl s_server -accept 127.0.0.1:${PORT[s_server]} "${SSOPT[@]}" -www \
		</dev/null >"$T/ss.log" 2>&1 &
	PIDS+=("$!")
	PID[s_server]=$!
	port BULKPORT[s_server]
	(cd "$T/www" && exec "${PIN[@]}" openssl s_server -accept 127.0.0.1:${BULKPORT[s_server]} \
		"${SSOPT[@]}" -WWW) </dev/null >"$T/ss-www.log" 2>&1 &
	PIDS+=("$!")
	BULKPID[s_server]=$!
	BULKPATH[s_server]=/big.bin
	wait_port "${PORT[s_server]}" "${PID[s_server]}" && wait_port "${BULKPORT[s_server]}" "${BULKPID[s_server]}" ||
		{ say "s_server did not start: $(cat "$T"/ss*.log)"; exit 1; }
fi
# tlsd_cmd PORT CONNS: $TLSD with its blanks filled in, as words.
tlsd_cmd() {
	local c="$T/tlsd.bin ${TLSD#* }"
	c=${c//\{port\}/$1}
	c=${c//\{certs\}/$T/certs.tar}
	echo "${c//\{conns\}/$2}"
}
start_tlsd() { # NAME PORT CONNS: a tlsd pinned, its PID in TLSD_PID
	# shellcheck disable=SC2046
	"${PIN[@]}" $(tlsd_cmd "$2" "$3") >"$T/$1.log" 2>&1 &
	PIDS+=("$!")
	TLSD_PID=$!
	wait_port "$2" $TLSD_PID || { say "tlsd ($1) did not start: $(tail -3 "$T/$1.log")"; return 1; }
}
TLSD_NOTE="" TLSD_STAMP="not built"
if want tlsd; then
	if [ ! -x "$TLSD_BIN" ]; then
		TLSD_NOTE="$TLSD_BIN is not built (make): the tlsd rows are skipped"
		say "$TLSD_NOTE"
		SERVERS=${SERVERS//tlsd/}
	else
		# A copy: a rebuild during the run (others work in this tree) must
		# not change the binary under the measurement, nor under perf.
		cp "$TLSD_BIN" "$T/tlsd.bin"
		TLSD_STAMP="$TLSD_BIN of $(date -u -r "$TLSD_BIN" '+%F %H:%M UTC'), tree at $(git rev-parse --short HEAD 2>/dev/null)"
		port PORT[tlsd]
		start_tlsd tlsd "${PORT[tlsd]}" 256 || exit 1
		PID[tlsd]=$TLSD_PID
		BULKPORT[tlsd]=${PORT[tlsd]}
		BULKPID[tlsd]=$TLSD_PID
		BULKPATH[tlsd]=/bytes/$((MBYTES << 20))
	fi
fi
LIST=()
for s in nginx s_server tlsd; do want $s && LIST+=("$s"); done
[ ${#LIST[@]} -gt 0 ] || { say "no server to measure"; exit 1; }

# ---- measuring helpers ---------------------------------------------------------
# A process's CPU time (user + system) in ns, over all its threads: the
# scheduler's run time (/proc/<pid>/task/*/schedstat, first field), finer
# than /proc/<pid>/stat's clock ticks for the short bulk runs.
HZ=1000000000
ticks() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f", t }'; }
cpustat() { awk -v c="cpu$1" '$1 == c { b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6 }' /proc/stat; }
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; } # KiB

# one_hs NAME: one SECS run; sets HS_* (per wall s, per server CPU s, server %, client %, CPU 0 %).
one_hs() {
	local s=$1 t0 t1 a0 a1 b0 b1 out
	read -r a0 A0 <<<"$(cpustat "$CLIENT_CPU")"
	read -r b0 B0 <<<"$(cpustat "$SERVER_CPU")"
	t0=$(ticks "${PID[$s]}")
	out=$("${LOAD[@]}" hs 127.0.0.1 "${PORT[$s]}" "$CONC" "$SECS" /)
	t1=$(ticks "${PID[$s]}")
	read -r a1 A1 <<<"$(cpustat "$CLIENT_CPU")"
	read -r b1 B1 <<<"$(cpustat "$SERVER_CPU")"
	local n w c fl bp tk
	n=$(kv handshakes "$out") w=$(kv wall "$out") c=$(kv cpu "$out") fl=$(kv fails "$out")
	bp=$(kv badparams "$out") tk=$(kv tickets "$out")
	[ "${fl:-1}" = 0 ] && [ "${bp:-1}" = 0 ] && [ "${tk:-1}" = 0 ] ||
		say "$s: $out (failures, unexpected parameters or tickets)"
	HS_W=$(awk -v n="$n" -v w="$w" 'BEGIN { printf "%.0f", n / w }')
	HS_C=$(awk -v n="$n" -v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN { printf "%.0f", (t > 0 ? n / (t / hz) : 0) }')
	HS_S=$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v w="$w" 'BEGIN { printf "%.0f", t / hz / w * 100 }')
	HS_K=$(awk -v c="$c" -v w="$w" 'BEGIN { printf "%.0f", c / w * 100 }')
	HS_0=$(awk -v b=$((a1 - a0)) -v a=$((A1 - A0)) 'BEGIN { printf "%.0f", (a > 0 ? b / a * 100 : 0) }')
	HS_1=$(awk -v b=$((b1 - b0)) -v a=$((B1 - B0)) 'BEGIN { printf "%.0f", (a > 0 ? b / a * 100 : 0) }')
	HS_US=$(awk -v n="$n" -v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN { printf "%.0f", (n > 0 ? t / hz / n * 1e6 : 0) }')
	HS_CUS=$(awk -v n="$n" -v c="$c" 'BEGIN { printf "%.0f", (n > 0 ? c / n * 1e6 : 0) }')
	say "$s: $n handshakes in $w s; server ${HS_S}% CPU (${HS_US} us each), client ${HS_K}% (${HS_CUS} us each), cpu$CLIENT_CPU ${HS_0}%, cpu$SERVER_CPU ${HS_1}%"
}
one_bulk() { # NAME: sets BK_MBS, BK_MBC (MiB per server CPU-s), BK_S (server %), BK_K (client %)
	local s=$1 t0 t1 out b w c
	t0=$(ticks "${BULKPID[$s]}")
	out=$("${LOAD[@]}" bulk 127.0.0.1 "${BULKPORT[$s]}" "${BULKPATH[$s]}")
	t1=$(ticks "${BULKPID[$s]}")
	b=$(kv bytes "$out") w=$(kv wall "$out") c=$(kv cpu "$out")
	[ "${b:-0}" -ge $((MBYTES << 20)) ] && [ "$(kv badparams "$out")" = 0 ] ||
		say "$s bulk: $out (short, or unexpected parameters)"
	BK_MBS=$(awk -v b="$b" -v w="$w" 'BEGIN { printf "%.0f", b / 1048576 / w }')
	BK_MBC=$(awk -v b="$b" -v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN { printf "%.0f", (t > 0 ? b / 1048576 / (t / hz) : 0) }')
	BK_S=$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v w="$w" 'BEGIN { printf "%.0f", t / hz / w * 100 }')
	BK_K=$(awk -v c="$c" -v w="$w" 'BEGIN { printf "%.0f", c / w * 100 }')
	say "$s bulk: $b bytes in $w s: $BK_MBS MiB/s, $BK_MBC MiB per server CPU-s, server ${BK_S}%, client ${BK_K}%"
}
# perf_share SYMBOL: one tlsd bulk run under perf record; SYMBOL's share
# of the samples (%) in PAT_SHARE.
perf_share() {
	local pp
	perf record -q -e cpu-clock -F 2000 -p "${BULKPID[tlsd]}" -o "$T/perf.data" >/dev/null 2>"$T/perf.err" &
	pp=$!
	PIDS+=("$pp")
	sleep 0.5
	"${LOAD[@]}" bulk 127.0.0.1 "${BULKPORT[tlsd]}" "${BULKPATH[tlsd]}" >/dev/null
	kill -INT $pp 2>/dev/null
	wait $pp 2>/dev/null
	forget $pp
	PAT_SHARE=$(perf report -i "$T/perf.data" --stdio --sort sym 2>/dev/null |
		awk -v s="$1" '$NF == s { sub("%", "", $1); print $1; exit }')
	[ -n "$PAT_SHARE" ]
}
# idle_rss PID PORT N: VmRSS before and with N idle connections; sets IR0 IR1 (KiB)
idle_rss() {
	local pid=$1 p=$2 n=$3 i
	"${LOAD[@]}" hs 127.0.0.1 "$p" 1 0.2 / >/dev/null # warm up: every path run, one at a time
	sleep 0.5
	IR0=$(rss "$pid")
	rm -f "$T/idle.in" "$T/idle.out"
	mkfifo "$T/idle.in"
	"${LOAD[@]}" idle 127.0.0.1 "$p" "$n" <"$T/idle.in" >"$T/idle.out" 2>&1 &
	PIDS+=("$!")
	local lp=$!
	exec 9>"$T/idle.in"
	for i in $(seq 300); do
		grep -q '^ready' "$T/idle.out" && break
		kill -0 $lp 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^ready' "$T/idle.out" || say "idle connections to $p: $(cat "$T/idle.out")"
	grep -q 'tickets=0' "$T/idle.out" || say "idle: $(cat "$T/idle.out")"
	sleep 1 # the server's side of the last handshakes
	IR1=$(rss "$pid")
	exec 9>&-
	wait $lp 2>/dev/null
	local rc=$?
	forget $lp
	return $rc
}

# ---- run -----------------------------------------------------------------------------
say "servers: ${LIST[*]}; server on CPU $SERVER_CPU, load generator on CPU $CLIENT_CPU"
declare -A HW HC HS HK H0 H1 HUS HCUS BMS BMC BMCX BS BK
PAT_CPU="" PAT_NOTE=""
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if part hs; then
	for r in $(seq "$REPS"); do
		for s in "${LIST[@]}"; do
			one_hs "$s"
			HW[$s]+="$HS_W " HC[$s]+="$HS_C " HS[$s]+="$HS_S " HK[$s]+="$HS_K "
			H0[$s]+="$HS_0 " H1[$s]+="$HS_1 " HUS[$s]+="$HS_US " HCUS[$s]+="$HS_CUS "
		done
	done
fi
if part bulk; then
	for r in $(seq "$REPS"); do
		for s in "${LIST[@]}"; do
			one_bulk "$s"
			BMS[$s]+="$BK_MBS " BMC[$s]+="$BK_MBC " BS[$s]+="$BK_S " BK[$s]+="$BK_K "
		done
	done
	# tlsd computes its /bytes/ body (a byte pattern, a multiply per byte,
	# inlined into tlsd_conn_run) where nginx and s_server copy a cached
	# file.  One more tlsd run under perf (cpu-clock samples, not counted
	# above) gives that loop's share of tlsd's CPU, taken out in a second
	# row.  Without perf: the same loop compiled here, timed alone.
	if want tlsd; then
		if command -v perf >/dev/null && perf_share tlsd_conn_run; then
			PAT_NOTE="perf: ${PAT_SHARE}% of tlsd's samples in tlsd_conn_run, where the /bytes/ loop is inlined"
			for v in ${BMC[tlsd]}; do
				BMCX[tlsd]+="$(awk -v v="$v" -v p="$PAT_SHARE" 'BEGIN { printf "%.0f", (p < 100 ? v / (1 - p / 100) : 0) }') "
			done
		else
			PAT_CPU=$(kv cpu "$(taskset -c "$SERVER_CPU" "$T/tlsload" pattern - - "$MBYTES")")
			PAT_NOTE="estimate: the pattern loop compiled here takes $PAT_CPU s per $MBYTES MiB alone"
			for v in ${BMC[tlsd]}; do
				BMCX[tlsd]+="$(awk -v v="$v" -v p="$PAT_CPU" -v m="$MBYTES" 'BEGIN { c = m / v - p; printf "%.0f", (c > 0 ? m / c : 0) }') "
			done
		fi
		say "tlsd's body generation: $PAT_NOTE"
	fi
fi
# MK[server:N]: KiB per idle connection (VmRSS delta / N); MR: the two VmRSS.
declare -A MK MR
TLSD_BASE=
NS=("$IDLE")
want tlsd && [ "$TLSD_IDLE" != "$IDLE" ] && NS+=("$TLSD_IDLE")
if part mem; then
	# Fresh servers: the ones above have malloc'd and freed for 32
	# connections at once, and would hand that memory to idle ones.
	for n in "${NS[@]}"; do
		if want nginx; then
			port mp
			start_nginx nginx-mem-$n "$mp" && idle_rss "$NGINX_WORKER" "$mp" "$n" &&
				MK[nginx:$n]=$(awk -v a=$IR0 -v b=$IR1 -v n=$n 'BEGIN { printf "%.1f", (b - a) / n }') &&
				MR[nginx:$n]="$IR0 $IR1"
		fi
		# tlsd sized conns=N: it takes its connection slots from the heap at
		# start, so its RSS at rest grows with conns=.
		if want tlsd && [ "$n" -le "$TLSD_IDLE" ]; then
			port mp
			start_tlsd tlsd-mem-$n "$mp" "$n" && idle_rss $TLSD_PID "$mp" "$n" &&
				MK[tlsd:$n]=$(awk -v a=$IR0 -v b=$IR1 -v n=$n 'BEGIN { printf "%.1f", (b - a) / n }') &&
				MR[tlsd:$n]="$IR0 $IR1"
		fi
	done
	if want tlsd; then # what the slots cost: a tlsd with conns=1
		port bp
		start_tlsd tlsd-one "$bp" 1 && "${LOAD[@]}" hs 127.0.0.1 "$bp" 1 0.2 / >/dev/null &&
			sleep 0.5 && TLSD_BASE=$(rss $TLSD_PID)
	fi
fi

# ---- report --------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.2f", a / b }'; }
hdr="| measure |"
sep="|---|"
for s in "${LIST[@]}"; do hdr+=" $s |"; sep+="---:|"; done
if want tlsd; then
	for s in "${LIST[@]}"; do [ "$s" = tlsd ] || { hdr+=" tlsd / $s |"; sep+="---:|"; }; done
fi
row() { # LABEL ASSOC: median (range) per server, then tlsd / peer ratios of the medians
	local s line="| $1 |"
	declare -n A=$2
	declare -A M
	for s in "${LIST[@]}"; do
		M[$s]=$(median ${A[$s]:-})
		line+=" ${M[$s]} ($(range ${A[$s]:-})) |"
	done
	if want tlsd; then
		for s in "${LIST[@]}"; do [ "$s" = tlsd ] || line+=" $(ratio "${M[tlsd]}" "${M[$s]}") |"; done
	fi
	echo "$line"
}
echo
echo "$(date -u '+%F %H:%M UTC'); load average before: $LOAD_BEFORE, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(openssl version | cut -d' ' -f1-2); tlsd: $TLSD_STAMP"
echo "$REPS runs of each, interleaved; median (min-max). Server on CPU $SERVER_CPU, tlsload on CPU $CLIENT_CPU, $CONC connections in flight, $SECS s per handshake run."
[ -n "$TLSD_NOTE" ] && echo "$TLSD_NOTE"
echo
echo "$hdr"
echo "$sep"
if part hs; then
	row "full handshakes per server CPU-second (the figure to compare)" HC
	row "full handshakes per second (wall)" HW
	row "server CPU per handshake, µs" HUS
	row "server process CPU %" HS
	row "tlsload CPU % (its own CPU time / wall)" HK
	row "tlsload CPU per handshake, µs" HCUS
	row "CPU $CLIENT_CPU busy % (/proc/stat: the client and its kernel work)" H0
	row "CPU $SERVER_CPU busy % (/proc/stat)" H1
fi
if part bulk; then
	row "bulk, one connection, $MBYTES MiB, MiB/s" BMS
	row "bulk, MiB per server CPU-second" BMC
	if [ -n "$PAT_NOTE" ]; then
		for s in "${LIST[@]}"; do [ "$s" = tlsd ] || BMCX[$s]=${BMC[$s]}; done
		row "bulk, MiB per server CPU-second, tlsd's body generation taken out ($PAT_NOTE)" BMCX
	fi
	row "bulk, server process CPU %" BS
	row "bulk, tlsload CPU %" BK
fi
if part mem; then
	mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
	for n in "${NS[@]}"; do
		line="| idle TLS connections, N=$n: VmRSS delta / N, KiB (VmRSS before -> with them, MiB) |"
		for s in "${LIST[@]}"; do
			if [ -n "${MK[$s:$n]:-}" ]; then
				read -r r0 r1 <<<"${MR[$s:$n]}"
				line+=" ${MK[$s:$n]} ($(mib $r0) -> $(mib $r1)) |"
			elif [ "$s" = s_server ]; then
				line+=" n/a (one connection at a time) |"
			elif [ "$s" = tlsd ] && [ "$n" -gt "$TLSD_IDLE" ]; then
				line+=" n/a (socket stack: 64 platform handles) |"
			else
				line+=" failed |"
			fi
		done
		if want tlsd; then
			for s in "${LIST[@]}"; do
				[ "$s" = tlsd ] || line+=" $(ratio "${MK[tlsd:$n]:-}" "${MK[$s:$n]:-}") |"
			done
		fi
		echo "$line"
	done
	n=$TLSD_IDLE
	if [ -n "$TLSD_BASE" ] && [ -n "${MR[tlsd:$n]:-}" ]; then
		read -r r0 r1 <<<"${MR[tlsd:$n]}"
		slot=$(awk -v a="$TLSD_BASE" -v b="$r1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
		line="| idle TLS connections, N=$n, tlsd's slots counted: (VmRSS with N idle, conns=N - VmRSS of a tlsd with conns=1) / N, KiB |"
		for s in "${LIST[@]}"; do [ "$s" = tlsd ] && line+=" $slot |" || line+=" |"; done
		for s in "${LIST[@]}"; do [ "$s" = tlsd ] || line+=" $(ratio "$slot" "${MK[$s:$n]:-}") |"; done
		echo "$line"
	fi
fi
