/*
 * web_fetch - the web unikernel (apps/web, its built-in site and
 * credential) in the simulation, answering clients over links that lose,
 * duplicate, reorder and corrupt frames: every response must arrive
 * whole and right, over HTTPS and plain HTTP, with keep-alive and
 * pipelining, and no connection may get stuck.
 *
 * Each client (a small app defined here) opens a TLS connection to port
 * 443 (verifying the built-in localhost certificate against itself as
 * the trust anchor) and a plain one to port 80, and on each writes three
 * requests at once: GET / (200, the page), GET /style.css (200), GET
 * /missing with Connection: close (404).  It checks the status, the
 * Content-Length and the bytes of each answer, then the server's close.
 * The server is given patient timeouts (600 s): with a quarter of the
 * frames lost, TCP's backed-off retransmissions can outlast the default
 * 10 s for a handshake, and this scenario is about correctness.
 *
 *   make TARGET=sim && build/sim/web_fetch --seed=1
 *   build/sim/web_fetch --seeds=1..100                (the CI sweep)
 */
#include <stdio.h>
#include <string.h>

#include "../../apps/tlsd/default_cred.h"
#include "../../apps/web/default_site.h"
#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "net/stack.h"
#include "net/tcp.h"
#include "sim/sim.h"
#include "tls/tls.h"

extern const struct plat_app web_app;

#define MAX_CLIENTS 6
#define CLIENT_BUF  16384

/* ---- the client app ------------------------------------------------------- */

struct wclient {
	struct loop *loop;
	struct stack *st;
	struct ip4_ep server;
	struct tls_config cfg;
	void *tls_mem;
	size_t tls_size;
	uint8_t buf[CLIENT_BUF];
	unsigned done; /* connections checked */
	bool bad;
	char why[160];
};

static const char requests[] =
    "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    "GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n"
    "GET /missing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

static void fail(struct wclient *t, const char *what, int rc)
{
	if (!t->bad)
		fmt_snprintf(t->why, sizeof t->why, "%s: %s", what, atl_strerror(rc));
	t->bad = true;
}

/* One answer at buf[*pos..len): status, Content-Length, the body. */
static bool check_answer(struct wclient *t, const uint8_t *buf, size_t len, size_t *pos, int want,
			 const char *body, size_t blen)
{
	const char *p = (const char *)buf + *pos;
	size_t n = len - *pos;
	const char *end = NULL;
	for (size_t i = 3; i < n && !end; i++)
		if (!memcmp(p + i - 3, "\r\n\r\n", 4))
			end = p + i + 1;
	char st[4];
	fmt_snprintf(st, sizeof st, "%d", want);
	if (!end || n < 12 || memcmp(p, "HTTP/1.1 ", 9) || memcmp(p + 9, st, 3)) {
		fmt_snprintf(t->why, sizeof t->why, "answer %d: bad status line or head", want);
		return false;
	}
	const char *cl = NULL;
	for (const char *q = p; q + 16 < end && !cl; q++)
		if (!memcmp(q, "\r\nContent-Length:", 17))
			cl = q + 17;
	size_t clen = 0;
	while (cl && *cl == ' ')
		cl++;
	for (; cl && *cl >= '0' && *cl <= '9'; cl++)
		clen = clen * 10 + (size_t)(*cl - '0');
	size_t head = (size_t)(end - p);
	if (!cl || head + clen > n || (body && (clen != blen || memcmp(end, body, blen)))) {
		fmt_snprintf(t->why, sizeof t->why, "answer %d: body wrong (%zu bytes)", want,
			     clen);
		return false;
	}
	*pos += head + clen;
	return true;
}

/* Write the three requests on one connection, read until the server
 * closes, check the three answers. */
static void wclient_fetch(struct wclient *t, bool tls)
{
	struct tcp_conn *c = NULL;
	int rc;
	for (int attempt = 0;; attempt++) {
		rc = tcp_connect(t->st, &(struct ip4_ep){t->server.addr, tls ? 443 : 80}, &c,
				 loop_now(t->loop) + 120 * NS_PER_SEC);
		if (rc == ATL_OK)
			break;
		if (rc == ATL_ESTOPPED || attempt > 20)
			return fail(t, "connect", rc);
	}
	struct tls_stream *s = NULL;
	uint64_t deadline = loop_now(t->loop) + 600 * NS_PER_SEC;
	if (tls) {
		rc = tls_stream_connect(t->tls_mem, t->tls_size, &t->cfg, c, "localhost", NULL,
					deadline, &s);
		if (rc != ATL_OK) {
			if (s)
				tls_close(s, TCP_NOWAIT);
			else
				tcp_close(c);
			return fail(t, "TLS handshake", rc);
		}
		rc = tls_write(s, requests, sizeof requests - 1, deadline);
	} else {
		rc = tcp_write(c, requests, sizeof requests - 1, NULL, deadline);
	}
	size_t len = 0;
	while (rc == ATL_OK && len < sizeof t->buf) {
		size_t n;
		rc = tls ? tls_read(s, t->buf + len, sizeof t->buf - len, &n, deadline)
			 : tcp_read(c, t->buf + len, sizeof t->buf - len, &n, deadline);
		if (rc != ATL_OK || n == 0)
			break;
		len += n;
	}
	if (tls)
		tls_close(s, loop_now(t->loop) + 10 * NS_PER_SEC);
	else
		tcp_close(c);
	if (rc != ATL_OK)
		return fail(t, tls ? "HTTPS read" : "HTTP read", rc);
	size_t pos = 0;
	if (!check_answer(t, t->buf, len, &pos, 200, web_default_index,
			  sizeof web_default_index - 1) ||
	    !check_answer(t, t->buf, len, &pos, 200, web_default_css, sizeof web_default_css - 1) ||
	    !check_answer(t, t->buf, len, &pos, 404, NULL, 0) || pos != len) {
		t->bad = true;
		return;
	}
	t->done++;
}

static void wclient_run(void *arg)
{
	struct wclient *t = arg;
	wclient_fetch(t, true);
	if (!t->bad)
		wclient_fetch(t, false);
	loop_stop(t->loop);
}

static int wclient_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	struct wclient *t = heap_alloc(&heap, sizeof *t, 16);
	const char *sv = args_get(s, "server");
	if (!t || !sv || ip4_parse(sv, &t->server.addr) != ATL_OK)
		return 2;
	memset(t, 0, sizeof *t);
	ip4_parse(sv, &t->server.addr);
	t->loop = &l;
	if (stack_open(&l, "service", &t->st) != ATL_OK)
		return 1;
	tls_config_init(&t->cfg, false);
	t->cfg.loop = &l;
	unsigned skipped;
	struct tls_trust *anchor;
	if (tls_trust_load(&l, &heap, tlsd_default_cert, sizeof tlsd_default_cert - 1, &anchor,
			   &skipped) != ATL_OK)
		return 3;
	t->cfg.trust = anchor;
	if (tls_config_check(&t->cfg) != ATL_OK)
		return 3;
	t->cfg.verify_peer = true;
	t->tls_size = tls_stream_size(&t->cfg);
	t->tls_mem = heap_alloc(&heap, t->tls_size, 16);
	if (!t->tls_mem || !fiber_spawn(&l, "fetch", wclient_run, t, 64 * 1024))
		return 3;
	loop_run(&l);
	if (t->bad || t->done != 2) {
		con_printf("webclient: FAILED %s\n", t->why[0] ? t->why : "incomplete");
		return 4;
	}
	con_printf("webclient: ok\n");
	return 0;
}

static const struct plat_device_decl wclient_devices[] = {
    {"service", PLAT_DEV_NET, "the network"},
};
static const struct plat_arg_decl wclient_args[] = {
    {"ipv4", "address"},
    {"server", "the web server's address"},
};
static const struct plat_app webclient_app = {
    .name = "webclient",
    .summary = "fetches three answers over HTTPS and over HTTP and checks them",
    .devices = wclient_devices,
    .ndevices = 1,
    .args = wclient_args,
    .nargs = 2,
    .main = wclient_main,
};

/* ---- the scenario ------------------------------------------------------------ */

struct world {
	struct sim_node *server;
	struct sim_node *client[MAX_CLIENTS];
	unsigned nclients;
};

static void setup(struct sim *s)
{
	struct world *w = sim_world(s);
	w->nclients = (unsigned)sim_arg_u64(s, "clients", 3);
	if (w->nclients == 0 || w->nclients > MAX_CLIENTS) {
		sim_fail(s, "clients=%u: give 1 to %d", w->nclients, MAX_CLIENTS);
		w->nclients = 1;
	}
	struct sim_switch *sw = sim_switch_new(s, "sw");
	w->server = sim_node_new(
	    s, "web", &web_app,
	    "ipv4=10.0.0.1/24 http=serve conns=16 tcp-conns=32 header-timeout=600 idle-timeout=600",
	    32u << 20);
	sim_node_daemon(w->server);
	sim_link_new(s, "web", sim_node_net(w->server, "service", 0), sim_switch_port(sw));
	struct sim_faults rough = {
	    .delay = 500 * SIM_US,
	    .jitter = 200 * SIM_US,
	    .loss = SIM_PERCENT(sim_arg_u64(s, "loss", 10)),
	    .duplicate = SIM_PERCENT(sim_arg_u64(s, "dup", 5)),
	    .reorder = SIM_PERCENT(sim_arg_u64(s, "reorder", 5)),
	    .reorder_delay = 2 * SIM_MS,
	    .corrupt = SIM_PERCENT(sim_arg_u64(s, "corrupt", 1)),
	    .corrupt_bits = 1,
	};
	for (unsigned i = 0; i < w->nclients; i++) {
		char name[16], args[96];
		snprintf(name, sizeof name, "c%u", i + 1);
		snprintf(args, sizeof args, "ipv4=10.0.0.%u/24 server=10.0.0.1", 10 + i);
		w->client[i] = sim_node_new(s, name, &webclient_app, args, 4u << 20);
		sim_node_boot_at(w->client[i], sim_rand_range(s, 0, 100) * SIM_MS);
		struct sim_link *lk = sim_link_new(
		    s, name, sim_node_net(w->client[i], "service", 0), sim_switch_port(sw));
		sim_link_faults(lk, SIM_BOTH, &rough);
	}
}

static void check(struct sim *s)
{
	struct world *w = sim_world(s);
	for (unsigned i = 0; i < w->nclients; i++)
		if (!strstr(sim_node_console(w->client[i]), "webclient: ok"))
			sim_fail(s, "%s: fetch incomplete or wrong", sim_node_name(w->client[i]));
}

static const char *const args_help[] = {
    "clients=N    webclient nodes (3)",
    "loss=P dup=P reorder=P corrupt=P",
    "             percent of frames each client link loses, duplicates,",
    "             holds back, corrupts with one bit flip (10 5 5 1)",
    NULL,
};

const struct sim_scenario sim_scenario = {
    .name = "web_fetch",
    .summary = "the web unikernel over HTTPS and HTTP through lossy, reordering, corrupting links",
    .args_help = args_help,
    .time_limit = 900 * SIM_SEC,
    .world_size = sizeof(struct world),
    .setup = setup,
    .check = check,
};
