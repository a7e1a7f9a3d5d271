/*
 * net.c - the interface of atoll's own stack: configuration from boot
 * arguments, the device (receive in batches, one transmit function) and
 * Ethernet II framing (RFC 894).  See net.h.
 */
#include "net/net.h"

#include <string.h>

#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/log.h"

#define ETH_HDR	       14
#define ETH_MIN_FRAME  60 /* without the FCS: RFC 894 pads data to 46 bytes */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806
#define ETHERTYPE_VLAN 0x8100

const uint8_t net_bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* platform/hosted provides it; elsewhere (pvh, unit tests) it is absent. */
int hosted_socket_stack_open(struct loop *l, struct stack **out) __attribute__((weak));

#define NET_COUNTER_NAME(g, name) #name,
static const char *const eth_names[] = {ETH_COUNTERS(NET_COUNTER_NAME)};
static const char *const pkt_names[] = {PKT_COUNTERS(NET_COUNTER_NAME)};
static const char *const arp_names[] = {ARP_COUNTERS(NET_COUNTER_NAME)};
static const char *const ipv4_names[] = {IP4_COUNTERS(NET_COUNTER_NAME)};
static const char *const icmp_names[] = {ICMP_COUNTERS(NET_COUNTER_NAME)};
static const char *const udp_names[] = {UDP_COUNTERS(NET_COUNTER_NAME)};

/* ---- The virtio-net header ----------------------------------------------------- */

/* Its fields are little-endian (virtio 1.x; a legacy TAP uses the host's
 * order, the same on x86_64, the one hosted architecture).  Written and
 * read byte by byte over the caller's len bytes, every frame both ways. */
static void store_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t load_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void vnet_hdr_put(uint8_t *b, size_t len, const struct vnet_hdr *h)
{
	ASSERT(len >= VNET_HDR_MIN);
	b[0] = h->flags;
	b[1] = h->gso_type;
	store_le16(b + 2, h->hdr_len);
	store_le16(b + 4, h->gso_size);
	store_le16(b + 6, h->csum_start);
	store_le16(b + 8, h->csum_offset);
	if (len > VNET_HDR_MIN)
		memset(b + VNET_HDR_MIN, 0, len - VNET_HDR_MIN); /* num_buffers: the device's */
}

int vnet_hdr_get(const uint8_t *b, size_t len, struct vnet_hdr *h)
{
	if (len < VNET_HDR_MIN)
		return ATL_EINVAL;
	h->flags = b[0];
	h->gso_type = b[1];
	h->hdr_len = load_le16(b + 2);
	h->gso_size = load_le16(b + 4);
	h->csum_start = load_le16(b + 6);
	h->csum_offset = load_le16(b + 8);
	return ATL_OK;
}

/* Strip the virtio-net header of a received frame and keep what it says:
 * a partial (NEEDS_CSUM) or verified (DATA_VALID) checksum is one the
 * host made or checked, so TCP and UDP need not sum the bytes again. */
static bool net_vnet_strip(struct net *n, struct pkt *p)
{
	struct rd r = pkt_rd(p);
	struct vnet_hdr h;
	const uint8_t *b = rd_take(&r, n->vnet_len);
	if (!b || vnet_hdr_get(b, n->vnet_len, &h) != ATL_OK) {
		NET_COUNT(n, eth, bad_vnet);
		return false;
	}
	pkt_pull(p, n->vnet_len);
	p->flags &= (uint8_t)~PKT_F_CSUM_OK;
	if (h.flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) {
		p->flags |= PKT_F_CSUM_OK;
		NET_COUNT(n, eth, rx_csum_host);
	}
	if ((h.gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE)
		NET_COUNT(n, eth, rx_gso);
	return true;
}

/* ---- Ethernet ---------------------------------------------------------------- */

void net_eth_begin(struct net *n, struct pkt *p, struct wr *w, const uint8_t dst[6], uint16_t type)
{
	*w = pkt_wr(p);
	uint8_t *e = wr_take(w, ETH_HDR);
	ASSERT(e); /* a fresh buffer */
	memcpy(e, dst, 6);
	memcpy(e + 6, n->mac, 6);
	store_be16(e + 12, type);
}

void net_eth_end(struct pkt *p, struct wr *w)
{
	if (w->pos < ETH_MIN_FRAME)
		wr_zero(w, ETH_MIN_FRAME - w->pos);
	/* Every builder sizes its frame from the MTU, far below the room. */
	ASSERT(wr_ok(w));
	p->len = (uint16_t)w->pos;
}

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

void net_input(struct net *n, struct pkt *p, uint64_t now)
{
	if (n->vnet_len && !net_vnet_strip(n, p))
		goto drop_uncounted;
	struct rd r = pkt_rd(p);
	const uint8_t *dst = rd_take(&r, 6);
	const uint8_t *src = rd_take(&r, 6);
	uint16_t type = rd_be16(&r);
	NET_COUNT(n, eth, rx);
	if (!rd_ok(&r)) {
		NET_COUNT(n, eth, truncated);
		goto drop;
	}
	bool bcast = mac_eq(dst, net_bcast_mac);
	if (!bcast && !mac_eq(dst, n->mac)) {
		/* Multicast too: we join no group. */
		NET_COUNT(n, eth, not_for_us);
		goto drop;
	}
	if (src[0] & 1) {
		/* IEEE 802-2014 8.2.2: a source address is never a group. */
		NET_COUNT(n, eth, bad_src);
		goto drop;
	}
	pkt_pull(p, ETH_HDR);
	switch (type) {
	case ETHERTYPE_IPV4:
		ip4_input(n, p, bcast, now);
		return;
	case ETHERTYPE_ARP:
		arp_input(n, p, now);
		return;
	case ETHERTYPE_VLAN:
		NET_COUNT(n, eth, vlan);
		goto drop;
	default:
		NET_COUNT(n, eth, unknown_type);
		goto drop;
	}
drop:
drop_uncounted:
	pkt_free(&n->pkts, p);
}

/* Put a frame's virtio-net header in front: the one ip4_output left in
 * the headroom, or "no offload" (all zero).  False without headroom. */
static bool net_vnet_push(struct net *n, struct pkt *p)
{
	bool have = (p->flags & PKT_F_VNET) != 0;
	uint8_t *b = pkt_push(p, n->vnet_len);
	if (!b)
		return false;
	if (!have)
		memset(b, 0, n->vnet_len); /* no offload: every field zero */
	return true;
}

void net_xmit(struct net *n, struct pkt *frames)
{
	while (frames) {
		/* One slot per buffer: a chain is one frame over several slots
		 * (only with offloads, where it is a TSO super-frame). */
		struct plat_frame batch[NET_TX_SLOTS];
		struct pkt *p = frames;
		unsigned k = 0, nf = 0;
		for (; p && nf < NET_TX_BATCH; p = p->next, nf++) {
			unsigned slots = p->more ? pkt_chain_count(p) : 1;
			ASSERT(slots <= NET_TX_SLOTS); /* ip4_output builds 64 KiB at most */
			if (k + slots > NET_TX_SLOTS)
				break;
			/* Every builder leaves PKT_HEADROOM in front. */
			if (n->vnet_len) {
				bool room = net_vnet_push(n, p);
				ASSERT(room);
			}
			for (struct pkt *q = p; q; q = q->more, k++) {
				struct wr w = pkt_wr(q);
				batch[k].data = wr_take(&w, q->len);
				batch[k].cap = batch[k].len = q->len;
				batch[k].more = q->more != NULL;
			}
		}
		int sent = plat_net_send(n->h, batch, k);
		/* Whole frames are sent or not: count them by their slots. */
		unsigned done = 0, slots = 0;
		for (struct pkt *q = frames; sent > 0 && q != p; q = q->next) {
			slots += q->more ? pkt_chain_count(q) : 1;
			if (slots > (unsigned)sent)
				break;
			done++;
		}
		NET_COUNT_N(n, eth, tx, done);
		NET_COUNT_N(n, eth, tx_errors, nf - done);
		/* The platform keeps no pointer past the call: free the batch. */
		while (nf--) {
			struct pkt *next = frames->next;
			pkt_free(&n->pkts, frames);
			frames = next;
		}
	}
}

/* The buffer pool's figures, copied into the pkt group when counters
 * are read (counter_group.sync), not on every frame. */
void net_stats_sync(struct net *n)
{
	n->cnt_pkt[C_pkt_total] = n->pkts.total;
	n->cnt_pkt[C_pkt_in_use] = n->pkts.in_use - n->rx_posted;
	n->cnt_pkt[C_pkt_rx_posted] = n->rx_posted;
	n->cnt_pkt[C_pkt_hwm] = n->pkts.hwm;
}

static void net_stats_sync_cb(void *arg)
{
	net_stats_sync(arg);
}

/* ---- The device ---------------------------------------------------------------- */

/* Put buffer p in receive slot i: the device fills it from off on. */
static void net_rx_post(struct net *n, unsigned i, struct pkt *p)
{
	struct wr w = pkt_wr(p);
	n->rxp[i] = p;
	n->rxf[i].cap = wr_room(&w);
	n->rxf[i].data = wr_take(&w, n->rxf[i].cap);
}

/* Fill the ring's empty slots from the pool, never below rx_reserve. */
static void net_rx_refill(struct net *n)
{
	while (n->rx_posted < n->rx_ring && pkt_pool_free(&n->pkts) > n->rx_reserve) {
		struct pkt *p = pkt_alloc(&n->pkts);
		if (!p)
			break;
		net_rx_post(n, n->rx_posted++, p);
	}
}

void net_rx_release(struct net *n)
{
	while (n->rx_posted)
		pkt_free(&n->pkts, n->rxp[--n->rx_posted]);
}

/* Take the frames in the ring's first got slots out of it, then hand
 * them to net_input.  The slots are emptied first (the last posted
 * buffers move into them) because what net_input sends may take the
 * ring's buffers back (net_rx_release). */
static void net_rx_deliver(struct net *n, unsigned got, uint64_t now)
{
	struct pkt *in[NET_RX_SLOTS];
	unsigned nin = 0;
	struct pkt *head = NULL, *tail = NULL;
	for (unsigned i = 0; i < got; i++) {
		struct pkt *p = n->rxp[i];
		const struct plat_frame *f = &n->rxf[i];
		p->len = (uint16_t)(f->len <= f->cap ? f->len : 0);
		if (tail)
			tail->more = p;
		else
			head = p;
		tail = p;
		if (f->more && n->vnet_len && i + 1 < got)
			continue;
		in[nin++] = head;
		head = tail = NULL;
	}
	unsigned left = n->rx_posted - got;
	for (unsigned i = 0; i < got && i < left; i++) {
		n->rxp[i] = n->rxp[n->rx_posted - 1 - i];
		n->rxf[i] = n->rxf[n->rx_posted - 1 - i];
	}
	n->rx_posted = left;
	pkt_free(&n->pkts, head); /* a frame cut at the end: none */
	for (unsigned i = 0; i < nin; i++)
		net_input(n, in[i], now);
}

void net_poll(struct loop *l, void *arg)
{
	struct net *n = arg;
	for (;;) {
		/* The ring's buffers stay posted between wakeups, like a NIC's
		 * receive ring: a wakeup takes from the pool only the buffers
		 * that frames arrived in.  (With offloads a frame may span
		 * slots, a 64 KiB one 34 of them, so the ring has them all.) */
		net_rx_refill(n);
		unsigned k = n->rx_posted;
		/* Too few buffers: drain into the scratch buffer and drop, so a
		 * flood costs frames, never the loop (readiness is level-
		 * triggered: an undrained device would spin it). */
		bool scratch = k == 0;
		if (scratch) {
			net_rx_post(n, 0, n->scratch);
			k = 1;
		}
		int got = plat_net_recv(n->h, n->rxf, k);
		if (got < 0 && got != PLAT_EAGAIN)
			NET_COUNT(n, eth, rx_errors);
		if (got < 0 || (unsigned)got > k)
			got = 0;
		if (scratch) {
			if (got > 0)
				NET_COUNT(n, pkt, rx_nobuf_drop);
		} else if (got > 0) {
			net_rx_deliver(n, (unsigned)got, l->now);
		}
		/* The platform stops short only when no frame waits or (with
		 * offloads) when the slots left could not hold the largest:
		 * another receive is worth its system call only then. */
		size_t left = (size_t)(k - (unsigned)got) * (PKT_CAP - PKT_HEADROOM);
		if (got == 0 || (left > 0 && left >= n->rx_need))
			break;
	}
}

/* ---- Configuration ------------------------------------------------------------- */

static int parse_mac(const char *s, uint8_t mac[6])
{
	for (unsigned i = 0; i < 6; i++) {
		unsigned v = 0;
		for (unsigned j = 0; j < 2; j++) {
			char c = *s++;
			unsigned d;
			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				return ATL_EINVAL;
			v = v << 4 | d;
		}
		mac[i] = (uint8_t)v;
		char sep = *s;
		if (i < 5) {
			if (sep != ':' && sep != '-')
				return ATL_EINVAL;
			s++;
		} else if (sep != '\0') {
			return ATL_EINVAL;
		}
	}
	return ATL_OK;
}

static const char *arg(struct loop *l, const char *dev, const char *key)
{
	return l->start ? args_get_dev(l->start, dev, key) : NULL;
}

/* Read ipv4=, ipv4-gateway=, mac= and net-buffers= into n. */
static int net_config(struct net *n, const char *dev, uint64_t *nbufs, bool *mac_set, bool spans)
{
	struct loop *l = n->loop;
	char a[16], b[16];
	const char *v = arg(l, dev, "ipv4");
	if (!v) {
		LOG_ERROR(l, "no address: give ipv4=<addr>/<prefix>");
		return ATL_EINVAL;
	}
	if (ip4_parse_prefix(v, &n->addr, &n->prefix) != ATL_OK) {
		LOG_ERROR(l, "%s: malformed ipv4=%s: give ipv4=<addr>/<prefix>", dev, v);
		return ATL_EINVAL;
	}
	n->mask = n->prefix ? ~0u << (32 - n->prefix) : 0;
	/* RFC 1122 3.2.1.3: our own address must be a single unicast host,
	 * neither the subnet's network nor its broadcast address (on subnets
	 * that have them: RFC 3021 /31 and /32 do not). */
	uint32_t host = n->addr & ~n->mask;
	if (n->addr == 0 || n->addr >> 28 >= 0xe || n->addr >> 24 == 127 ||
	    (n->prefix <= 30 && (host == 0 || host == ~n->mask))) {
		LOG_ERROR(l, "%s: ipv4=%s is not a unicast host address", dev, v);
		return ATL_EINVAL;
	}
	v = arg(l, dev, "ipv4-gateway");
	if (v) {
		if (ip4_parse(v, &n->gw) != ATL_OK || n->gw == 0) {
			LOG_ERROR(l, "%s: malformed ipv4-gateway=%s", dev, v);
			return ATL_EINVAL;
		}
		if ((n->gw & n->mask) != (n->addr & n->mask) || n->gw == n->addr) {
			LOG_ERROR(l, "%s: gateway %s is not on the subnet of %s/%u", dev,
				  ip4_fmt(n->gw, a), ip4_fmt(n->addr, b), n->prefix);
			return ATL_EINVAL;
		}
	}
	v = arg(l, dev, "mac");
	if (v) {
		uint8_t mac[6];
		static const uint8_t zero[6];
		if (parse_mac(v, mac) != ATL_OK || (mac[0] & 1) || mac_eq(mac, zero)) {
			LOG_ERROR(l, "%s: mac=%s is not a unicast MAC address", dev, v);
			return ATL_EINVAL;
		}
		memcpy(n->mac, mac, 6);
		*mac_set = true;
	}
	*nbufs = spans ? NET_BUFFERS_OFFLOAD_DEFAULT : NET_BUFFERS_DEFAULT;
	v = arg(l, dev, "net-buffers");
	if (v && (args_parse_u64(v, nbufs) != ATL_OK || *nbufs < NET_BUFFERS_MIN ||
		  *nbufs > NET_BUFFERS_MAX)) {
		LOG_ERROR(l, "%s: net-buffers=%s: give a count from %u to %u", dev, v,
			  NET_BUFFERS_MIN, NET_BUFFERS_MAX);
		return ATL_EINVAL;
	}
	return ATL_OK;
}

static void net_counters_register(struct net *n, const char *dev)
{
	static const struct {
		const char *name;
		const char *const *names;
		unsigned count;
	} defs[6] = {
	    {"eth", eth_names, C_eth_N},    {"pkt", pkt_names, C_pkt_N},
	    {"arp", arp_names, C_arp_N},    {"ipv4", ipv4_names, C_ipv4_N},
	    {"icmp", icmp_names, C_icmp_N}, {"udp", udp_names, C_udp_N},
	};
	const uint64_t *values[6] = {n->cnt_eth,  n->cnt_pkt,  n->cnt_arp,
				     n->cnt_ipv4, n->cnt_icmp, n->cnt_udp};
	/* The conventional one device ("service") gets the plain names that
	 * tools grep for; other devices prefix theirs. */
	bool plain = strcmp(dev, "service") == 0;
	for (unsigned i = 0; i < 6; i++) {
		if (plain)
			fmt_snprintf(n->group_names[i], sizeof n->group_names[i], "%s",
				     defs[i].name);
		else
			fmt_snprintf(n->group_names[i], sizeof n->group_names[i], "%s.%s", dev,
				     defs[i].name);
		n->groups[i].name = n->group_names[i];
		n->groups[i].names = defs[i].names;
		n->groups[i].values = values[i];
		n->groups[i].n = defs[i].count;
		if (values[i] == n->cnt_pkt) {
			n->groups[i].sync = net_stats_sync_cb;
			n->groups[i].sync_arg = n;
		}
		counters_register(n->loop, &n->groups[i]);
	}
}

static void net_arp_timer(struct loop *l, struct timer *t)
{
	arp_tick(CONTAINER_OF(t, struct net, arp_timer), l->now);
}

static void net_reasm_timer(struct loop *l, struct timer *t)
{
	ip4_reasm_tick(CONTAINER_OF(t, struct net, reasm_timer), l->now);
}

static int net_open(struct loop *l, const char *dev, struct stack **out)
{
	struct net *n = heap_alloc(l->heap, sizeof *n, 16);
	if (!n) {
		LOG_ERROR(l, "%s: heap too small for the network stack", dev);
		return ATL_ENOMEM;
	}
	n->st.ops = &net_stack_ops;
	n->st.loop = l;
	n->loop = l;
	n->dev = dev;

	uint64_t nbufs;
	bool mac_set = false;
	struct plat_net_info info;
	memset(&info, 0, sizeof info);
	int rc = plat_net_acquire(dev, &n->h, &info);
	if (rc != PLAT_OK) {
		LOG_ERROR(l, "%s: no such network device (%s)", dev, atl_strerror(rc));
		return rc == PLAT_ENOENT ? ATL_ENOENT : rc;
	}
	/* The offloads this stack uses: a header it knows the size of, and
	 * checksum offload, which TSO needs. */
	bool offload = (info.offloads & PLAT_NET_OFF_CSUM) && info.vnet_hdr_len >= VNET_HDR_MIN &&
		       info.vnet_hdr_len <= 12;
	/* Frames that span buffers (TSO/GRO): the receive ring offers them
	 * all and the pool is larger. */
	bool spans = offload && info.frame_max > PKT_CAP - PKT_HEADROOM;
	rc = net_config(n, dev, &nbufs, &mac_set, spans);
	if (rc != ATL_OK)
		return rc;
	if (info.offloads && !offload) {
		LOG_ERROR(l, "%s: device offloads %#x with a %u-byte header: not understood", dev,
			  (unsigned)info.offloads, info.vnet_hdr_len);
		return ATL_EINVAL;
	}
	if (offload) {
		n->offloads = info.offloads;
		n->vnet_len = info.vnet_hdr_len;
		if (info.offloads & PLAT_NET_OFF_TSO4)
			n->tso_max = NET_TSO_MAX;
	}
	if (!mac_set)
		memcpy(n->mac, info.mac, 6);
	if (info.mtu < NET_MTU_MIN) {
		LOG_ERROR(l, "%s: device MTU %u is below the IPv4 minimum %u", dev, info.mtu,
			  NET_MTU_MIN);
		return ATL_EINVAL;
	}
	n->mtu = info.mtu < NET_MTU_MAX ? info.mtu : NET_MTU_MAX;

	if (pkt_pool_init(&n->pkts, l->heap, (unsigned)nbufs) != ATL_OK ||
	    !(n->scratch = heap_alloc(l->heap, PKT_SIZE, 16)) || arp_init(n) != ATL_OK ||
	    udp_init(n) != ATL_OK) {
		LOG_ERROR(l, "%s: heap too small for %u packet buffers of %u bytes", dev,
			  (unsigned)nbufs, PKT_SIZE);
		return ATL_ENOMEM;
	}
	n->scratch->off = PKT_HEADROOM;
	/* Keep buffers for replies however hard the device is flooded. */
	n->rx_reserve = (unsigned)nbufs / 8;
	n->rx_ring = spans ? NET_RX_SLOTS : NET_RX_BATCH;
	n->rx_need = n->vnet_len ? info.frame_max : 1;
	n->reasm_max_bufs = (unsigned)nbufs / 2;
	n->icmp_tokens = ICMP_ERR_BURST;
	n->icmp_refill = l->now;
	plat_entropy(&n->ip_id, sizeof n->ip_id);
	ip4_reasm_init(n);
	timer_init(&n->arp_timer, net_arp_timer);
	timer_init(&n->reasm_timer, net_reasm_timer);

	net_counters_register(n, dev);
	loop_watch(l, n->h, net_poll, n);
	arp_announce(n);

	char a[16], g[16];
	LOG_INFO(l, "%s: %s/%u gateway %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u buffers %u%s",
		 dev, ip4_fmt(n->addr, a), n->prefix, n->gw ? ip4_fmt(n->gw, g) : "none", n->mac[0],
		 n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->mtu, (unsigned)nbufs,
		 !n->vnet_len ? ""
		 : n->tso_max ? " offloads csum,tso"
			      : " offloads csum");
	*out = &n->st;
	return ATL_OK;
}

int stack_open(struct loop *l, const char *dev, struct stack **out)
{
	const char *which = l->start ? args_get(l->start, "stack") : NULL;
	if (which && strcmp(which, "socket") == 0) {
		if (!hosted_socket_stack_open) {
			LOG_ERROR(
			    l, "stack=socket: the socket stack exists on the hosted target only");
			return ATL_ENOTSUP;
		}
		return hosted_socket_stack_open(l, out);
	}
	if (which && strcmp(which, "atoll") != 0 && strcmp(which, "") != 0) {
		LOG_ERROR(l, "stack=%s: give stack=atoll or stack=socket", which);
		return ATL_EINVAL;
	}
	return net_open(l, dev, out);
}
