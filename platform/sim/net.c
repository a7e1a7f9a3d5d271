/*
 * net.c - the simulated network: node devices, links with faults,
 * learning switches, pcap recording, the frame digest, and plat_net_*.
 *
 * A frame sent on a link gets its fate decided at once, from the link's
 * own random stream: dropped (down, over the MTU, queue full, lost), or
 * scheduled to arrive at the far end at some virtual time, possibly
 * corrupted, possibly twice.  Arrival is an event like any other; that is
 * where it is recorded (pcap, digest) and handed to a device queue or a
 * switch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "simint.h"

#define ETH_HDR		  14
#define PCAP_MAGIC_NS	  0xa1b23c4du /* pcap-savefile(5): nanosecond time stamps */
#define LINKTYPE_ETHERNET 1u

static const char *const dir_names[2] = {"A->B", "B->A"};

static struct sim_port *port_new(struct sim *s)
{
	struct sim_port *p = sim_xmalloc(sizeof *p);
	p->id = s->nports;
	struct sim_port **ports = realloc(s->ports, (s->nports + 1) * sizeof *ports);
	if (!ports)
		sim_usage_fatal("out of host memory");
	s->ports = ports;
	s->ports[s->nports++] = p;
	return p;
}

struct sim_port *sim_node_net(struct sim_node *n, const char *dev, uint16_t mtu)
{
	struct sim *s = n->sim;
	if (s->started)
		sim_usage_fatal("sim_node_net: only during setup");
	if (n->ndevs == SIM_DEVS_MAX)
		sim_usage_fatal("sim_node_net(%s): more than %d devices", n->name, SIM_DEVS_MAX);
	for (unsigned i = 0; i < n->ndevs; i++)
		if (strcmp(n->devs[i].name, dev) == 0)
			sim_usage_fatal("sim_node_net(%s): two devices called %s", n->name, dev);
	if (mtu != 0 && (mtu < 68 || mtu > SIM_FRAME_MAX - ETH_HDR))
		sim_usage_fatal("sim_node_net(%s, %s): mtu %u out of range", n->name, dev, mtu);
	struct sim_dev *d = &n->devs[n->ndevs];
	d->name = sim_xstrdup(dev);
	d->kind = PLAT_DEV_NET;
	struct sim_nic *nic = &d->u.net;
	/* Locally administered, unicast, and readable in a capture. */
	uint8_t mac[6] = {0x02, 0, 0, (uint8_t)(n->id >> 8), (uint8_t)n->id, (uint8_t)n->ndevs};
	memcpy(nic->info.mac, mac, 6);
	nic->info.mtu = mtu ? mtu : 1500;
	nic->info.offloads = 0; /* frames travel whole, one per slot */
	nic->info.vnet_hdr_len = 0;
	nic->info.frame_max = 0;
	nic->port = port_new(s);
	nic->port->node = n;
	nic->port->dev = n->ndevs;
	n->ndevs++;
	return nic->port;
}

struct sim_switch *sim_switch_new(struct sim *s, const char *name)
{
	if (s->started)
		sim_usage_fatal("sim_switch_new: only during setup");
	struct sim_switch *sw = sim_xmalloc(sizeof *sw);
	sw->sim = s;
	sw->name = sim_xstrdup(name);
	struct sim_switch **v = realloc(s->switches, (s->nswitches + 1) * sizeof *v);
	if (!v)
		sim_usage_fatal("out of host memory");
	s->switches = v;
	s->switches[s->nswitches++] = sw;
	return sw;
}

struct sim_port *sim_switch_port(struct sim_switch *sw)
{
	struct sim *s = sw->sim;
	if (s->started)
		sim_usage_fatal("sim_switch_port: only during setup");
	struct sim_port *p = port_new(s);
	p->sw = sw;
	p->sw_port = sw->nports;
	struct sim_port **v = realloc(sw->ports, (sw->nports + 1) * sizeof *v);
	if (!v)
		sim_usage_fatal("out of host memory");
	sw->ports = v;
	sw->ports[sw->nports++] = p;
	return p;
}

struct sim_link *sim_link_new(struct sim *s, const char *name, struct sim_port *a,
			      struct sim_port *b)
{
	if (s->started)
		sim_usage_fatal("sim_link_new: only during setup");
	if (a == b || a->link || b->link)
		sim_usage_fatal("sim_link_new(%s): each end must be a different, unused port",
				name);
	if (sim_link_find(s, name))
		sim_usage_fatal("sim_link_new: two links called %s", name);
	struct sim_link *l = sim_xmalloc(sizeof *l);
	l->sim = s;
	l->id = s->nlinks;
	l->name = sim_xstrdup(name);
	l->end[0] = a;
	l->end[1] = b;
	a->link = b->link = l;
	a->side = 0;
	b->side = 1;
	l->up = true;
	for (unsigned d = 0; d < 2; d++)
		l->dir[d].f.delay = SIM_LINK_DELAY_DEFAULT;
	/* A stream per link: faults on one link do not shift with traffic on
	 * another, so a scenario edit disturbs less of a known-bad run. */
	l->rng = sim_rng_derive(s->seed, SIM_RNG_LINK, l->id);
	struct sim_link **v = realloc(s->links, (s->nlinks + 1) * sizeof *v);
	if (!v)
		sim_usage_fatal("out of host memory");
	s->links = v;
	s->links[s->nlinks++] = l;
	return l;
}

struct sim_link *sim_link_find(const struct sim *s, const char *name)
{
	for (unsigned i = 0; i < s->nlinks; i++)
		if (strcmp(s->links[i]->name, name) == 0)
			return s->links[i];
	return NULL;
}

const char *sim_link_name(const struct sim_link *l)
{
	return l->name;
}

void sim_link_faults(struct sim_link *l, enum sim_dir dir, const struct sim_faults *f)
{
	for (unsigned d = 0; d < 2; d++)
		if (dir & (1u << d))
			l->dir[d].f = *f;
}

struct sim_faults sim_link_get_faults(const struct sim_link *l, enum sim_dir dir)
{
	return l->dir[dir == SIM_B_TO_A].f;
}

struct sim_link_stats sim_link_stats(const struct sim_link *l, enum sim_dir dir)
{
	struct sim_link_stats t = {0};
	for (unsigned d = 0; d < 2; d++) {
		if (!(dir & (1u << d)))
			continue;
		const struct sim_link_stats *x = &l->dir[d].st;
		t.sent += x->sent;
		t.delivered += x->delivered;
		t.lost += x->lost;
		t.duplicated += x->duplicated;
		t.reordered += x->reordered;
		t.corrupted += x->corrupted;
		t.mtu_drops += x->mtu_drops;
		t.queue_drops += x->queue_drops;
		t.down_drops += x->down_drops;
		t.in_flight += x->in_flight;
	}
	return t;
}

void sim_link_set_up(struct sim_link *l, bool up)
{
	if (l->up == up)
		return;
	sim_log(l->sim, "link %s %s", l->name, up ? "up (healed)" : "down (partitioned)");
	l->up = up;
	if (!up)
		l->epoch++;
}

void sim_node_isolate(struct sim_node *n, bool isolated)
{
	for (unsigned i = 0; i < n->ndevs; i++)
		if (n->devs[i].kind == PLAT_DEV_NET && n->devs[i].u.net.port->link)
			sim_link_set_up(n->devs[i].u.net.port->link, !isolated);
}

/* ---- pcap ------------------------------------------------------------------ */

static bool pcap_open(struct sim_link *l, const char *path)
{
	if (l->pcap)
		fclose(l->pcap);
	l->pcap = fopen(path, "wb");
	if (!l->pcap) {
		fprintf(stderr, "sim: link %s: cannot create %s: %s\n", l->name, path,
			strerror(errno));
		return false;
	}
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} hdr = {PCAP_MAGIC_NS, 2, 4, 0, 0, SIM_FRAME_MAX, LINKTYPE_ETHERNET};
	fwrite(&hdr, sizeof hdr, 1, l->pcap);
	return true;
}

bool sim_link_pcap(struct sim_link *l, const char *path)
{
	return pcap_open(l, path);
}

/* The command line's --pcap:<link>=<file> and --pcap-dir=<dir>. */
bool sim_net_open_pcaps(struct sim *s)
{
	bool ok = true;
	if (s->opt->pcap_dir) {
		for (unsigned i = 0; i < s->nlinks; i++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s.pcap", s->opt->pcap_dir,
				 s->links[i]->name);
			ok &= pcap_open(s->links[i], path);
		}
	}
	for (int i = 0; i < s->opt->npcaps; i++) {
		const char *spec = s->opt->pcaps[i];
		const char *eq = strchr(spec, '=');
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
		struct sim_link *l = sim_link_find(s, name);
		if (!l) {
			fprintf(stderr, "sim: --pcap:%s: no link called %s (links:", spec, name);
			for (unsigned k = 0; k < s->nlinks; k++)
				fprintf(stderr, " %s", s->links[k]->name);
			fprintf(stderr, ")\n");
			ok = false;
			continue;
		}
		ok &= pcap_open(l, eq + 1);
	}
	return ok;
}

static void pcap_record(struct sim_link *l, const struct sim_frame *f)
{
	uint64_t t = SIM_WALL_EPOCH + l->sim->now;
	uint32_t rec[4] = {(uint32_t)(t / SIM_SEC), (uint32_t)(t % SIM_SEC), (uint32_t)f->len,
			   (uint32_t)f->len};
	fwrite(rec, sizeof rec, 1, l->pcap);
	fwrite(f->data, 1, f->len, l->pcap);
}

/* ---- Frames on the wire -------------------------------------------------------- */

static struct sim_frame *frame_new(const uint8_t *data, size_t len)
{
	struct sim_frame *f = malloc(sizeof *f + len);
	if (!f)
		sim_usage_fatal("out of host memory for frames");
	f->next = NULL;
	f->len = len;
	memcpy(f->data, data, len);
	return f;
}

void sim_net_free_frame(struct sim_frame *f)
{
	free(f);
}

static void trace(struct sim *s, const struct sim_link *l, unsigned d, const char *what, size_t len)
{
	if (s->opt->trace)
		sim_log(s, "link %s %s %s %zu bytes", l->name, dir_names[d], what, len);
}

/* Decide the fate of one frame entering direction d of link l. */
static void link_send(struct sim *s, struct sim_link *l, unsigned d, const uint8_t *data,
		      size_t len)
{
	struct sim_link_dir *ld = &l->dir[d];
	const struct sim_faults *f = &ld->f;
	ld->st.sent++;
	if (!l->up) {
		ld->st.down_drops++;
		trace(s, l, d, "dropped (link down)", len);
		return;
	}
	if (f->mtu && len > f->mtu + ETH_HDR) {
		ld->st.mtu_drops++;
		trace(s, l, d, "dropped (over the link MTU)", len);
		return;
	}
	uint64_t depart = s->now;
	if (f->bandwidth) {
		/* The wire sends one frame at a time: this one starts when the
		 * ones before it are out, if the queue has room for it. */
		uint64_t start = ld->busy_until > s->now ? ld->busy_until : s->now;
		size_t limit = f->queue_limit ? f->queue_limit : SIM_QUEUE_LIMIT_DEFAULT;
		uint64_t backlog_bytes =
		    (uint64_t)((unsigned __int128)(start - s->now) * f->bandwidth / (8 * SIM_SEC));
		if (backlog_bytes + len > limit) {
			ld->st.queue_drops++;
			trace(s, l, d, "dropped (queue full)", len);
			return;
		}
		uint64_t tx = (uint64_t)(((unsigned __int128)len * 8 * SIM_SEC + f->bandwidth - 1) /
					 f->bandwidth);
		ld->busy_until = start + tx;
		depart = ld->busy_until;
	}
	/* Lost on the wire: it still took its time on the sender's side. */
	if (sim_rng_chance(&l->rng, f->loss)) {
		ld->st.lost++;
		trace(s, l, d, "lost", len);
		return;
	}
	unsigned copies = 1;
	if (sim_rng_chance(&l->rng, f->duplicate)) {
		copies = 2;
		ld->st.duplicated++;
	}
	for (unsigned c = 0; c < copies; c++) {
		uint64_t at = depart + f->delay;
		if (f->jitter)
			at += sim_rng_next(&l->rng) % (f->jitter + 1);
		if (sim_rng_chance(&l->rng, f->reorder)) {
			/* Held back out of line: later frames may pass it. */
			at += f->reorder_delay ? f->reorder_delay : SIM_REORDER_DELAY_DEFAULT;
			ld->st.reordered++;
		} else {
			/* A wire keeps its order: jitter delays, it does not
			 * reorder, and one nanosecond apart keeps equal times
			 * from being shuffled by the scheduler's tie-break. */
			if (at <= ld->last_arrival)
				at = ld->last_arrival + 1;
			ld->last_arrival = at;
		}
		struct sim_frame *fr = frame_new(data, len);
		if (sim_rng_chance(&l->rng, f->corrupt)) {
			unsigned bits = f->corrupt_bits ? f->corrupt_bits : 1;
			for (unsigned b = 0; b < bits; b++) {
				uint64_t r = sim_rng_next(&l->rng) % (len * 8);
				fr->data[r / 8] ^= (uint8_t)(1u << (r % 8));
			}
			ld->st.corrupted++;
		}
		struct sim_event ev = {.time = at, .kind = SIM_EV_ARRIVE};
		ev.u.arrive.frame = fr;
		ev.u.arrive.link = l;
		ev.u.arrive.dir = d;
		ev.u.arrive.epoch = l->epoch;
		sim_event_push(s, &ev);
		ld->st.in_flight++;
	}
}

void sim_port_transmit(struct sim *s, struct sim_port *from, const uint8_t *data, size_t len)
{
	if (from->link)
		link_send(s, from->link, from->side, data, len);
}

/* ---- Arrival: digest, capture, then a device or a switch ----------------------------- */

/* FNV-1a over a few words and the bytes, then a final mix: not for
 * security, only to say "same frames, same times, same places". */
static uint64_t digest_add(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void nic_receive(struct sim *s, struct sim_port *p, struct sim_frame *f)
{
	struct sim_node *n = p->node;
	struct sim_nic *nic = &n->devs[p->dev].u.net;
	/* A machine that is off, frozen or not yet booted drops what arrives,
	 * as a NIC without a driver does. */
	if (n->state == SIM_NODE_EXITED || n->paused || s->now < n->boot_time ||
	    nic->rx_count >= SIM_RXQ_MAX) {
		nic->rx_drops++;
		sim_net_free_frame(f);
		return;
	}
	f->next = NULL;
	if (nic->rx_tail)
		nic->rx_tail->next = f;
	else
		nic->rx_head = f;
	nic->rx_tail = f;
	nic->rx_count++;
	sim_node_wake_now(n);
}

static void switch_receive(struct sim *s, struct sim_port *p, struct sim_frame *f)
{
	struct sim_switch *sw = p->sw;
	const uint8_t *dst = f->data, *src = f->data + 6;
	if (f->len >= ETH_HDR && !(src[0] & 1)) {
		/* Learn where the source lives (a moved MAC is re-learned). */
		unsigned i;
		for (i = 0; i < sw->nmacs; i++)
			if (memcmp(sw->macs[i].mac, src, 6) == 0)
				break;
		if (i == sw->nmacs && sw->nmacs < SIM_SWITCH_MACS)
			memcpy(sw->macs[sw->nmacs++].mac, src, 6);
		if (i < sw->nmacs)
			sw->macs[i].port = p->sw_port;
	}
	int out = -1;
	if (f->len >= ETH_HDR && !(dst[0] & 1))
		for (unsigned i = 0; i < sw->nmacs; i++)
			if (memcmp(sw->macs[i].mac, dst, 6) == 0)
				out = (int)sw->macs[i].port;
	if (out >= 0) {
		if ((unsigned)out != p->sw_port)
			sim_port_transmit(s, sw->ports[out], f->data, f->len);
	} else {
		for (unsigned i = 0; i < sw->nports; i++)
			if (i != p->sw_port)
				sim_port_transmit(s, sw->ports[i], f->data, f->len);
	}
	sim_net_free_frame(f);
}

void sim_net_arrive(struct sim *s, struct sim_event *ev)
{
	struct sim_link *l = ev->u.arrive.link;
	unsigned d = ev->u.arrive.dir;
	struct sim_frame *f = ev->u.arrive.frame;
	l->dir[d].st.in_flight--;
	if (ev->u.arrive.epoch != l->epoch) {
		l->dir[d].st.down_drops++;
		trace(s, l, d, "dropped (link went down in flight)", f->len);
		sim_net_free_frame(f);
		return;
	}
	l->dir[d].st.delivered++;
	trace(s, l, d, "delivered", f->len);
	if (l->pcap)
		pcap_record(l, f);
	uint64_t hdr[3] = {s->now, l->id, d};
	s->digest = digest_add(s->digest, hdr, sizeof hdr);
	s->digest = digest_add(s->digest, f->data, f->len);
	s->frames++;
	struct sim_port *to = l->end[1 - d];
	if (to->node)
		nic_receive(s, to, f);
	else
		switch_receive(s, to, f);
}

void sim_net_node_down(struct sim_node *n)
{
	for (unsigned i = 0; i < n->ndevs; i++) {
		if (n->devs[i].kind != PLAT_DEV_NET)
			continue;
		struct sim_nic *nic = &n->devs[i].u.net;
		while (nic->rx_head) {
			struct sim_frame *f = nic->rx_head;
			nic->rx_head = f->next;
			sim_net_free_frame(f);
		}
		nic->rx_tail = NULL;
		nic->rx_count = 0;
	}
}

void sim_net_destroy(struct sim *s)
{
	for (unsigned i = 0; i < s->nnodes; i++)
		sim_net_node_down(s->nodes[i]);
	for (unsigned i = 0; i < s->nlinks; i++) {
		if (s->links[i]->pcap)
			fclose(s->links[i]->pcap);
		free(s->links[i]->name);
		free(s->links[i]);
	}
	free(s->links);
	for (unsigned i = 0; i < s->nswitches; i++) {
		free(s->switches[i]->ports);
		free(s->switches[i]->name);
		free(s->switches[i]);
	}
	free(s->switches);
	for (unsigned i = 0; i < s->nports; i++)
		free(s->ports[i]);
	free(s->ports);
}

/* ---- The platform's network calls ----------------------------------------------------- */

static struct sim_nic *nic_get(plat_handle_t h)
{
	struct sim_node *n = sim_active ? sim_active->current : NULL;
	if (!n) {
		fprintf(stderr, "sim: plat_net_* called outside a node\n");
		abort();
	}
	if (h >= n->ndevs || n->devs[h].kind != PLAT_DEV_NET)
		return NULL;
	return &n->devs[h].u.net;
}

int plat_net_acquire(const char *name, plat_handle_t *h, struct plat_net_info *info)
{
	struct sim_node *n = sim_active ? sim_active->current : NULL;
	if (!n) {
		fprintf(stderr, "sim: plat_net_acquire called outside a node\n");
		abort();
	}
	/* The handle is the device's index, the same on every boot. */
	for (unsigned i = 0; i < n->ndevs; i++) {
		if (n->devs[i].kind == PLAT_DEV_NET && strcmp(n->devs[i].name, name) == 0) {
			*h = i;
			*info = n->devs[i].u.net.info;
			return PLAT_OK;
		}
	}
	return PLAT_ENOENT;
}

int plat_net_recv(plat_handle_t h, struct plat_frame *frames, unsigned n)
{
	struct sim_nic *nic = nic_get(h);
	if (!nic || n == 0)
		return PLAT_EINVAL;
	unsigned got = 0;
	while (got < n && nic->rx_head) {
		struct sim_frame *f = nic->rx_head;
		nic->rx_head = f->next;
		if (!nic->rx_head)
			nic->rx_tail = NULL;
		nic->rx_count--;
		/* Longer than the buffer the app offered (over the MTU it was
		 * given): dropped, as a NIC would. */
		if (f->len <= frames[got].cap) {
			memcpy(frames[got].data, f->data, f->len);
			frames[got].len = f->len;
			frames[got].more = false;
			got++;
		} else {
			nic->rx_drops++;
		}
		sim_net_free_frame(f);
	}
	return got > 0 ? (int)got : PLAT_EAGAIN;
}

int plat_net_send(plat_handle_t h, const struct plat_frame *frames, unsigned n)
{
	struct sim_nic *nic = nic_get(h);
	if (!nic)
		return PLAT_EINVAL;
	/* As on hosted: refuse the whole batch up front, so that a short count
	 * could only ever mean "device full" (which never happens here). */
	for (unsigned i = 0; i < n; i++)
		if (frames[i].len < ETH_HDR || frames[i].len > SIM_FRAME_MAX || frames[i].more)
			return PLAT_EINVAL;
	struct sim *s = sim_active;
	for (unsigned i = 0; i < n; i++)
		sim_port_transmit(s, nic->port, frames[i].data, frames[i].len);
	return (int)n;
}
