/* tests/sim/ping_pair.c - two echo servers behind a switch, one client
 * talking to each; the switch's uplink to the second flaps. */
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"

extern const struct plat_app echo_app; /* apps/echo/echo.c */
extern const struct plat_app udpclient_app;

struct world {
	struct sim_node *client[2];
	struct sim_link *flappy;
};

static void flap(struct sim *s, void *arg)
{
	struct world *w = sim_world(s);
	bool up = arg != NULL;
	sim_link_set_up(w->flappy, up);
	/* Next change in 50 to 500 ms: scheduled calls may schedule more. */
	uint64_t next = sim_now(s) + sim_rand_range(s, 50, 500) * SIM_MS;
	sim_at(s, next, flap, up ? NULL : w);
}

static void setup(struct sim *s)
{
	struct world *w = sim_world(s);
	struct sim_switch *sw = sim_switch_new(s, "sw");
	struct sim_faults lossy = {
	    .delay = 2 * SIM_MS,
	    .jitter = 1 * SIM_MS,
	    .loss = SIM_PERCENT(sim_arg_u64(s, "loss", 10)),
	};
	for (int i = 0; i < 2; i++) {
		char name[16], args[128];
		snprintf(name, sizeof name, "echo%d", i + 1);
		snprintf(args, sizeof args, "ipv4=10.1.0.%d/24", i + 1);
		struct sim_node *e = sim_node_new(s, name, &echo_app, args, 0);
		sim_node_daemon(e); /* the run does not wait for it to end */
		struct sim_link *l =
		    sim_link_new(s, name, sim_node_net(e, "service", 0), sim_switch_port(sw));
		if (i == 1)
			w->flappy = l;

		snprintf(name, sizeof name, "client%d", i + 1);
		snprintf(args, sizeof args, "ipv4=10.1.0.%d/24 server=10.1.0.%d:7 count=20", i + 10,
			 i + 1);
		w->client[i] = sim_node_new(s, name, &udpclient_app, args, 0);
		l = sim_link_new(s, name, sim_node_net(w->client[i], "service", 0),
				 sim_switch_port(sw));
		sim_link_faults(l, SIM_BOTH, &lossy);
	}
	sim_at(s, 100 * SIM_MS, flap, NULL);
}

static void check(struct sim *s)
{
	struct world *w = sim_world(s);
	for (int i = 0; i < 2; i++)
		if (!strstr(sim_node_console(w->client[i]), "udpclient: 20/20 echoed"))
			sim_fail(s, "%s did not finish", sim_node_name(w->client[i]));
}

static const char *const args_help[] = {"loss=P   percent lost on client links (10)", NULL};

const struct sim_scenario sim_scenario = {
    .name = "ping_pair",
    .summary = "two echo servers, two clients, one flapping link",
    .args_help = args_help,
    .time_limit = 600 * SIM_SEC,
    .world_size = sizeof(struct world),
    .setup = setup,
    .check = check,
};
