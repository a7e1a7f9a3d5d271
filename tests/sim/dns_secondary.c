/*
 * dns_secondary - a DNS primary and two secondaries through a switch, over
 * links that lose, duplicate and reorder frames, while the primary's zone
 * changes again and again: every secondary must end on the primary's last
 * serial, its copy built from transfers (AXFR or IXFR over TCP) that NOTIFY
 * (RFC 1996) started, or the SOA refresh when every NOTIFY was lost.
 *
 * The primary is the dns app itself (dns_serve) with a fiber that installs
 * a new version of sim.test. every 1 to 5 s of virtual time, through
 * dns_srv_replace_zone as an UPDATE or a reload would: serial + 1, one more
 * name, and every other time one name less.  After the last change the
 * primary waits settle= seconds and stops; the secondaries are then
 * stopped and each reports the serial it holds.  One secondary is cut off
 * for a while during the changes (chaos=1), and one is rebooted (reboot=1)
 * with a power cut on its "secondary" block device, where it keeps the
 * zone it transferred.
 *
 *   make TARGET=sim && build/sim/dns_secondary --seed=1
 *   build/sim/dns_secondary --seeds=1..200            (the CI sweep)
 */
#include <stdio.h>
#include <string.h>

#include "../../apps/dns/srv.h"
#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "sim/sim.h"

extern const struct plat_app dns_app;

#define SECONDARIES 2

struct world {
	struct sim_node *primary;
	struct sim_node *sec[SECONDARIES];
	struct sim_link *link[SECONDARIES + 1];
	struct sim_node *rebooted;
	unsigned updates;
};

/* ---- the primary: the dns app plus a fiber that changes its zone ---------- */

struct updater {
	struct dns_srv *d;
	unsigned updates, settle;
	bool replace; /* via=replace: whole versions, no journal */
	char text[8192];
	uint8_t msg[512];
};

/* Change k as a dynamic update (RFC 2136), applied and journaled as
 * apps/dns/update.c does for a signed one, so that the primary answers
 * IXFR with differences: u<k> comes, and u<k-1> goes again when it was
 * only there as the latest (even k-1). */
static struct dns_zone *zone_update(struct updater *u, unsigned k)
{
	struct dns_srv *d = u->d;
	struct wr w = wr_make(u->msg, sizeof u->msg);
	uint8_t origin[DNS_NAME_MAX], name[DNS_NAME_MAX];
	char t[32];
	bool del = k > 1 && (k - 1) % 2 == 0;
	struct dns_hdr h = {0, DNS_OP_UPDATE << 11, 1, 0, (uint16_t)(del ? 2 : 1), 0};
	dns_hdr_write(&w, &h);
	dns_name_from_text("sim.test.", 9, NULL, origin);
	dns_name_write(&w, origin, NULL);
	wr_be16(&w, DNS_T_SOA);
	wr_be16(&w, DNS_C_IN);
	for (unsigned i = del ? k - 1 : k; i <= k; i++) {
		int n = fmt_snprintf(t, sizeof t, "u%u", i);
		dns_name_from_text(t, (size_t)n, origin, name);
		dns_name_write(&w, name, NULL);
		wr_be16(&w, DNS_T_A);
		wr_be16(&w, i == k ? DNS_C_IN : 254); /* RFC 2136 2.5.4: NONE deletes one RR */
		wr_be32(&w, i == k ? 60 : 0);
		wr_be16(&w, 4);
		uint8_t a[4] = {192, 0, 2, (uint8_t)(i % 250 + 1)};
		wr_bytes(&w, a, 4);
	}
	const struct dns_zone *z = dns_srv_zone(d, origin);
	struct dns_update up = {.z = z, .r = &d->zr};
	if (!z || !wr_ok(&w) || dns_update_apply(&up, u->msg, w.pos) != DNS_R_NOERROR || !up.nz) {
		LOG_ERROR(d->loop, "update %u: %s", k, up.err);
		return NULL;
	}
	int rc = dns_srv_journal_append(d, up.diff, up.difflen);
	region_free(&d->zr, up.diff);
	if (rc != ATL_OK) {
		LOG_ERROR(d->loop, "update %u: journal: %s", k, atl_strerror(rc));
		dns_zone_free(&d->zr, up.nz);
		return NULL;
	}
	up.nz->journaled = true;
	return up.nz;
}

static struct dns_zone *zone_version(struct updater *u, unsigned k)
{
	/* Short timers, so that a secondary that missed every NOTIFY still
	 * catches up by refresh well within the settle time. */
	int n = fmt_snprintf(u->text, sizeof u->text,
			     "$TTL 60\n"
			     "@ SOA ns hm %u 20 5 3600 60\n"
			     "@ NS ns\n"
			     "ns A 10.0.0.1\n",
			     k + 1);
	for (unsigned i = 1; i <= k && n > 0 && (size_t)n < sizeof u->text - 64; i++)
		if (i % 2 || i == k) /* every other name goes again later */
			n += fmt_snprintf(u->text + n, sizeof u->text - (size_t)n,
					  "u%u A 192.0.2.%u\n", i, i % 250 + 1);
	uint8_t origin[DNS_NAME_MAX];
	struct dns_zone *z = NULL;
	char err[256];
	dns_name_from_text("sim.test.", 9, NULL, origin);
	if (dns_zone_load_text_region(&u->d->zr, origin, "sim.test.zone", u->text, strlen(u->text),
				      NULL, NULL, &z, err, sizeof err) != ATL_OK) {
		LOG_ERROR(u->d->loop, "version %u: %s", k, err);
		return NULL;
	}
	return z;
}

static void updater_fiber(void *arg)
{
	struct updater *u = arg;
	struct loop *l = u->d->loop;
	for (unsigned k = 1; k <= u->updates; k++) {
		uint8_t r;
		plat_entropy(&r, 1);
		if (fiber_sleep(l, loop_now(l) + (1 + r % 5) * NS_PER_SEC) != ATL_OK)
			return;
		struct dns_zone *z = u->replace ? zone_version(u, k) : zone_update(u, k);
		if (!z || dns_srv_replace_zone(u->d, z) != ATL_OK) {
			LOG_ERROR(l, "update %u not installed", k);
			continue;
		}
		LOG_INFO(l, "update %u: sim.test. serial %u", k, z->serial);
	}
	fiber_sleep(l, loop_now(l) + u->settle * NS_PER_SEC);
	LOG_INFO(l, "primary done: sim.test. serial %u", u->updates + 1);
	loop_stop(l);
}

static void primary_started(struct dns_srv *d, void *arg)
{
	(void)arg;
	const struct plat_start *s = d->loop->start;
	struct updater *u = heap_alloc(d->loop->heap, sizeof *u, 16);
	uint64_t updates = 10, settle = 120;
	const char *v;
	if ((v = args_get(s, "updates")))
		args_parse_u64(v, &updates);
	if ((v = args_get(s, "settle")))
		args_parse_u64(v, &settle);
	v = args_get(s, "via");
	if (!u)
		return;
	u->d = d;
	u->updates = (unsigned)updates;
	u->settle = (unsigned)settle;
	u->replace = v && !strcmp(v, "replace");
	struct dns_zone *z = zone_version(u, 0);
	if (z)
		dns_srv_replace_zone(d, z);
	fiber_spawn(d->loop, "updater", updater_fiber, u, 32 << 10);
}

static int primary_main(const struct plat_start *s)
{
	return dns_serve(s, primary_started, NULL);
}

static const struct plat_device_decl primary_devices[] = {
    {"service", PLAT_DEV_NET, "the network"},
    {"journal", PLAT_DEV_BLOCK, "the update journal (IXFR differences)"},
};

static const struct plat_arg_decl primary_args[] = {
    {"ipv4", "address/prefix"},
    {"notify", "the secondaries"},
    {"axfr-allow", "who may transfer"},
    {"updates", "changes of the zone"},
    {"settle", "seconds to wait after the last change"},
    {"via", "update (journaled: IXFR sends differences) or replace (whole versions)"},
};

static const struct plat_app primary_app = {
    .name = "dns-primary",
    .summary = "the dns app with a fiber that changes sim.test.",
    .devices = primary_devices,
    .ndevices = ARRAY_SIZE(primary_devices),
    .args = primary_args,
    .nargs = ARRAY_SIZE(primary_args),
    .main = primary_main,
};

/* ---- the world ---------------------------------------------------------------- */

static void heal(struct sim *s, void *arg)
{
	(void)s;
	sim_link_set_up(arg, true);
	sim_log(s, "link %s up", sim_link_name(arg));
}

static void partition(struct sim *s, void *arg)
{
	sim_link_set_up(arg, false);
	sim_log(s, "link %s down", sim_link_name(arg));
	sim_at(s, sim_now(s) + sim_rand_range(s, 2, 30) * SIM_SEC, heal, arg);
}

static void reboot(struct sim *s, void *arg)
{
	sim_log(s, "%s reboots (unflushed writes kept or lost at random)", sim_node_name(arg));
	sim_node_restart(arg);
}

static void setup(struct sim *s)
{
	struct world *w = sim_world(s);
	w->updates = (unsigned)sim_arg_u64(s, "updates", 10);
	struct sim_switch *sw = sim_switch_new(s, "sw");
	struct sim_faults rough = {
	    .delay = 500 * SIM_US,
	    .jitter = 500 * SIM_US,
	    .loss = SIM_PERCENT(sim_arg_u64(s, "loss", 10)),
	    .duplicate = SIM_PERCENT(sim_arg_u64(s, "dup", 5)),
	    .reorder = SIM_PERCENT(sim_arg_u64(s, "reorder", 5)),
	    .reorder_delay = 3 * SIM_MS,
	};
	char args[256];
	snprintf(args, sizeof args,
		 "ipv4=10.0.0.1/24 notify=10.0.0.2,10.0.0.3 axfr-allow=10.0.0.2,10.0.0.3 "
		 "updates=%u settle=%u via=%s",
		 w->updates, (unsigned)sim_arg_u64(s, "settle", 120), sim_arg(s, "via", "update"));
	w->primary = sim_node_new(s, "primary", &primary_app, args, 8 << 20);
	sim_node_block(w->primary, "journal", 1 << 20, 512);
	w->link[0] =
	    sim_link_new(s, "primary", sim_node_net(w->primary, "service", 0), sim_switch_port(sw));
	sim_link_faults(w->link[0], SIM_BOTH, &rough);
	for (unsigned i = 0; i < SECONDARIES; i++) {
		char name[16];
		snprintf(name, sizeof name, "s%u", i + 1);
		snprintf(args, sizeof args, "ipv4=10.0.0.%u/24 primary=sim.test.@10.0.0.1", i + 2);
		w->sec[i] = sim_node_new(s, name, &dns_app, args, 8 << 20);
		sim_node_daemon(w->sec[i]);
		sim_node_block(w->sec[i], "secondary", 256 << 10, 512);
		sim_node_boot_at(w->sec[i], sim_rand_range(s, 0, 3000) * SIM_MS);
		w->link[i + 1] = sim_link_new(s, name, sim_node_net(w->sec[i], "service", 0),
					      sim_switch_port(sw));
		sim_link_faults(w->link[i + 1], SIM_BOTH, &rough);
	}
	if (sim_arg_u64(s, "chaos", 1)) {
		struct sim_link *victim = w->link[1 + sim_rand_range(s, 0, SECONDARIES - 1)];
		sim_at(s, sim_rand_range(s, 1, 20) * SIM_SEC, partition, victim);
	}
	if (sim_arg_u64(s, "reboot", 1)) {
		w->rebooted = w->sec[sim_rand_range(s, 0, SECONDARIES - 1)];
		sim_at(s, sim_rand_range(s, 1000, 40000) * SIM_MS, reboot, w->rebooted);
	}
}

static void check(struct sim *s)
{
	struct world *w = sim_world(s);
	char want[96];
	snprintf(want, sizeof want, "primary done: sim.test. serial %u", w->updates + 1);
	if (!strstr(sim_node_console(w->primary), want))
		sim_fail(s, "primary: no \"%s\" line", want);
	/* The apex, ns, u<i> for odd i and the latest u<k>: the same zone. */
	unsigned k = w->updates, names = 2 + (k + 1) / 2 + (k % 2 == 0 && k > 0);
	snprintf(want, sizeof want, "secondary sim.test.: loaded, serial %u, %u names\n", k + 1,
		 names);
	for (unsigned i = 0; i < SECONDARIES; i++) {
		const char *con = sim_node_console(w->sec[i]);
		const char *line = strstr(con, "secondary sim.test.:");
		if (!line || !strstr(line, want))
			sim_fail(s, "%s did not converge: %.*s", sim_node_name(w->sec[i]),
				 line ? (int)strcspn(line, "\n") : 7, line ? line : "no line");
		if (!strstr(con, "transferred in"))
			sim_fail(s, "%s: no transfer logged", sim_node_name(w->sec[i]));
		/* Changes 1 to 5 s apart against a 20 s refresh: with no
		 * partition and no reboot, NOTIFY must have brought some (a
		 * node cut off or rebooted through the changes may have had
		 * none). */
		if (!w->rebooted && !sim_arg_u64(s, "chaos", 1) &&
		    !strstr(con, "counter xfr.notify_in "))
			sim_fail(s, "%s: no NOTIFY was accepted", sim_node_name(w->sec[i]));
	}
}

static const char *const args_help[] = {
    "updates=N    changes of the primary's zone, 1 to 5 s apart (10)",
    "via=update|replace  changes as journaled updates, so IXFR carries differences",
    "             (update), or as whole new versions (replace)",
    "settle=S     seconds the primary runs after the last change (120)",
    "loss=P dup=P reorder=P",
    "             percent of frames every link loses, duplicates, holds back (10 5 5)",
    "chaos=0|1    cut one secondary off for 2 to 30 s during the changes (1)",
    "reboot=0|1   reboot one secondary during the changes: it starts again from the zone",
    "             kept on its block device, if the power cut left it whole (1)",
    NULL,
};

const struct sim_scenario sim_scenario = {
    .name = "dns_secondary",
    .summary = "a DNS primary whose zone keeps changing and two secondaries under loss "
	       "converge on its last serial (NOTIFY, SOA refresh, AXFR/IXFR)",
    .args_help = args_help,
    .time_limit = 1800 * SIM_SEC,
    .world_size = sizeof(struct world),
    .setup = setup,
    .check = check,
};
