/*
 * test_net_open.c - configuring atoll's own stack: the address helpers of
 * stack.h and stack_open's boot arguments, errors and memory.
 */
#include <stdlib.h>

#include "test_net.h"

TEST(ip4_parse_accepts_dotted_quads_only)
{
	uint32_t a = 0;
	CHECK_EQ(ip4_parse("10.0.0.2", &a), ATL_OK);
	CHECK_EQ(a, IP(10, 0, 0, 2));
	CHECK_EQ(ip4_parse("255.255.255.255", &a), ATL_OK);
	CHECK_EQ(a, 0xffffffff);
	CHECK_EQ(ip4_parse("0.0.0.0", &a), ATL_OK);
	CHECK_EQ(a, 0);
	static const char *const bad[] = {
	    "",		"1.2.3",    "1.2.3.4.5", "256.1.1.1",	      "1.2.3.04",
	    "1..2.3",	"1.2.3.4 ", " 1.2.3.4",	 "a.b.c.d",	      "1.2.3.-4",
	    "1.2.3.4/", "01.2.3.4", "1.2.3.4:",	 "99999999999.1.1.1", "1.2.3.1000"};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		a = 77;
		CHECK_EQ(ip4_parse(bad[i], &a), ATL_EINVAL);
		CHECK_EQ(a, 77);
	}
	CHECK_EQ(ip4_parse(NULL, &a), ATL_EINVAL);
}

TEST(ip4_parse_prefix_and_endpoint)
{
	uint32_t a;
	unsigned p;
	CHECK_EQ(ip4_parse_prefix("192.168.1.7/24", &a, &p), ATL_OK);
	CHECK_EQ(a, IP(192, 168, 1, 7));
	CHECK_EQ(p, 24);
	CHECK_EQ(ip4_parse_prefix("10.0.0.1/0", &a, &p), ATL_OK);
	CHECK_EQ(p, 0);
	CHECK_EQ(ip4_parse_prefix("10.0.0.1/32", &a, &p), ATL_OK);
	CHECK_EQ(p, 32);
	CHECK_EQ(ip4_parse_prefix("10.0.0.1/33", &a, &p), ATL_EINVAL);
	CHECK_EQ(ip4_parse_prefix("10.0.0.1/", &a, &p), ATL_EINVAL);
	CHECK_EQ(ip4_parse_prefix("10.0.0.1", &a, &p), ATL_EINVAL);
	CHECK_EQ(ip4_parse_prefix("10.0.0.1/08", &a, &p), ATL_EINVAL);
	CHECK_EQ(ip4_parse_prefix("10.0.0.1/24x", &a, &p), ATL_EINVAL);
	struct ip4_ep ep;
	CHECK_EQ(ip4_parse_ep("127.0.0.1:7007", &ep), ATL_OK);
	CHECK_EQ(ep.addr, IP(127, 0, 0, 1));
	CHECK_EQ(ep.port, 7007);
	CHECK_EQ(ip4_parse_ep("1.2.3.4:65535", &ep), ATL_OK);
	CHECK_EQ(ep.port, 65535);
	CHECK_EQ(ip4_parse_ep("1.2.3.4:0", &ep), ATL_OK);
	CHECK_EQ(ip4_parse_ep("1.2.3.4:65536", &ep), ATL_EINVAL);
	CHECK_EQ(ip4_parse_ep("1.2.3.4", &ep), ATL_EINVAL);
	CHECK_EQ(ip4_parse_ep("1.2.3.4:", &ep), ATL_EINVAL);
	CHECK_EQ(ip4_parse_ep("1.2.3.4:80:1", &ep), ATL_EINVAL);
}

TEST(ip4_fmt_round_trips)
{
	char buf[16];
	CHECK(strcmp(ip4_fmt(IP(10, 0, 0, 2), buf), "10.0.0.2") == 0);
	CHECK(strcmp(ip4_fmt(0xffffffff, buf), "255.255.255.255") == 0);
	CHECK(strcmp(ip4_fmt(0, buf), "0.0.0.0") == 0);
	uint32_t x = 0x12345678, back;
	for (int i = 0; i < 1000; i++) {
		x = x * 1103515245u + 12345u;
		CHECK_EQ(ip4_parse(ip4_fmt(x, buf), &back), ATL_OK);
		CHECK_EQ(back, x);
	}
}

TEST(no_address_says_so)
{
	struct tnet t;
	static const char *const args[] = {"log=info", NULL};
	CHECK_EQ(tnet_open_args(&t, args), ATL_EINVAL);
	CHECK(strstr(fake_console(), "no address: give ipv4=<addr>/<prefix>") != NULL);
	CHECK_EQ(fake_net_sent_count("service"), 0);
}

TEST(bad_arguments_are_refused)
{
	static const char *const cases[][3] = {
	    {"ipv4=10.0.0.2", NULL},
	    {"ipv4=10.0.0.256/24", NULL},
	    {"ipv4=10.0.0.0/24", NULL},	  /* the subnet itself */
	    {"ipv4=10.0.0.255/24", NULL}, /* its broadcast */
	    {"ipv4=224.0.0.1/4", NULL},
	    {"ipv4=127.0.0.1/8", NULL},
	    {"ipv4=0.0.0.0/0", NULL},
	    {"ipv4=10.0.0.2/24", "ipv4-gateway=10.0.1.1"}, /* off the subnet */
	    {"ipv4=10.0.0.2/24", "ipv4-gateway=10.0.0.2"}, /* ourselves */
	    {"ipv4=10.0.0.2/24", "ipv4-gateway=gw"},
	    {"ipv4=10.0.0.2/24", "mac=01:00:00:00:00:01"}, /* group address */
	    {"ipv4=10.0.0.2/24", "mac=00:00:00:00:00:00"},
	    {"ipv4=10.0.0.2/24", "mac=02:00:00:00:00"},
	    {"ipv4=10.0.0.2/24", "mac=02:00:00:00:00:0g"},
	    {"ipv4=10.0.0.2/24", "mac=02:00:00:00:00:001"},
	    {"ipv4=10.0.0.2/24", "net-buffers=3"},
	    {"ipv4=10.0.0.2/24", "net-buffers=lots"},
	    {"ipv4=10.0.0.2/24", "stack=magic"},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		fake_reset();
		struct tnet t;
		int rc = tnet_open_args(&t, cases[i]);
		if (rc != ATL_EINVAL)
			printf("#   case %u (%s %s): %d\n", i, cases[i][0],
			       cases[i][1] ? cases[i][1] : "", rc);
		CHECK_EQ(rc, ATL_EINVAL);
		CHECK(strstr(fake_console(), "error") != NULL);
	}
}

TEST(device_and_stack_choice)
{
	struct tnet t;
	static const char *const args[] = {"ipv4=10.0.0.2/24", NULL};
	memset(&t, 0, sizeof t);
	t.argv[0] = (char *)args[0];
	t.start.argc = 1;
	t.start.argv = t.argv;
	heap_init(&t.heap, tnet_mem, sizeof tnet_mem);
	loop_init(&t.l, &t.heap, &t.start);
	/* No device of that name. */
	CHECK_EQ(stack_open(&t.l, "service", &t.st), ATL_ENOENT);
	/* The socket stack does not exist in unit tests (no hosted platform). */
	fake_reset();
	static const char *const sock[] = {"stack=socket", NULL};
	CHECK_EQ(tnet_open_args(&t, sock), ATL_ENOTSUP);
	fake_reset();
	static const char *const own[] = {"stack=atoll", "ipv4=10.0.0.2/24", NULL};
	CHECK_EQ(tnet_open_args(&t, own), ATL_OK);
	CHECK(strcmp(t.st->ops->name, "atoll") == 0);
	CHECK(t.st->loop == &t.l);
}

TEST(arguments_are_read)
{
	struct tnet t;
	static const char *const args[] = {"ipv4=192.168.7.9/16", "ipv4-gateway=192.168.0.1",
					   "mac=02:AB:cd:00:11:22", "net-buffers=40", NULL};
	CHECK_EQ(tnet_open_args(&t, args), ATL_OK);
	CHECK_EQ(t.n->addr, IP(192, 168, 7, 9));
	CHECK_EQ(t.n->prefix, 16);
	CHECK_EQ(t.n->mask, 0xffff0000);
	CHECK_EQ(t.n->gw, IP(192, 168, 0, 1));
	static const uint8_t mac[6] = {0x02, 0xab, 0xcd, 0x00, 0x11, 0x22};
	CHECK_MEM(t.n->mac, mac, 6);
	CHECK_EQ(t.n->pkts.total, 40);
	CHECK_EQ(t.n->mtu, 1500);
	CHECK_EQ(cnt(&t, "pkt", "total"), 40);
	/* The announcement comes from the configured MAC. */
	uint8_t f[FRAME_MAX];
	CHECK_EQ(tnet_tx(&t, f), 60);
	CHECK_MEM(f + 6, mac, 6);
	CHECK(strstr(fake_console(), "192.168.7.9/16") != NULL);
}

TEST(device_prefixed_arguments_win)
{
	struct tnet t;
	static const char *const args[] = {"ipv4=10.9.9.9/8", "service.ipv4=10.0.0.2/24",
					   "other.ipv4=10.1.1.1/24", NULL};
	CHECK_EQ(tnet_open_args(&t, args), ATL_OK);
	CHECK_EQ(t.n->addr, IP_US);
	CHECK_EQ(t.n->prefix, 24);
}

TEST(other_devices_prefix_their_counters)
{
	struct tnet t;
	memset(&t, 0, sizeof t);
	static const char *const args[] = {"uplink.ipv4=10.0.0.2/24", NULL};
	fake_net_add("uplink", MAC_US, 9000);
	t.argv[0] = (char *)args[0];
	t.start.argc = 1;
	t.start.argv = t.argv;
	heap_init(&t.heap, tnet_mem, sizeof tnet_mem);
	loop_init(&t.l, &t.heap, &t.start);
	CHECK_EQ(stack_open(&t.l, "uplink", &t.st), ATL_OK);
	t.n = net_of(t.st);
	CHECK_EQ(t.n->mtu, NET_MTU_MAX); /* jumbo devices are capped */
	CHECK_EQ(counters_get(&t.l, "uplink.arp", "requests_tx"), 1);
	CHECK_EQ(counters_get(&t.l, "arp", "requests_tx"), 0);
}

TEST(memory_budget)
{
	struct tnet t;
	memset(&t, 0, sizeof t);
	static const char *const args[] = {"ipv4=10.0.0.2/24", NULL};
	fake_net_add("service", MAC_US, 1500);
	t.argv[0] = (char *)args[0];
	t.start.argc = 1;
	t.start.argv = t.argv;
	heap_init(&t.heap, tnet_mem, sizeof tnet_mem);
	loop_init(&t.l, &t.heap, &t.start);
	size_t before = t.heap.used;
	CHECK_EQ(stack_open(&t.l, "service", &t.st), ATL_OK);
	t.n = net_of(t.st);
	size_t used = t.heap.used - before;
	printf("# default stack: %zu heap bytes (%u buffers of %zu bytes, struct net %zu)\n", used,
	       t.n->pkts.total, t.n->pkts.obj_size, sizeof(struct net));
	CHECK_EQ(t.n->pkts.total, NET_BUFFERS_DEFAULT);
	CHECK_EQ(t.n->pkts.obj_size, PKT_SIZE);
	/* The echo app must stay under 1 MiB with a 64 KiB buffer and its
	 * fibers: the stack takes well under half of that. */
	CHECK(used < 300 * 1024);
}

TEST_MAIN(TEST_ENTRY(ip4_parse_accepts_dotted_quads_only),
	  TEST_ENTRY(ip4_parse_prefix_and_endpoint), TEST_ENTRY(ip4_fmt_round_trips),
	  TEST_ENTRY(no_address_says_so), TEST_ENTRY(bad_arguments_are_refused),
	  TEST_ENTRY(device_and_stack_choice), TEST_ENTRY(arguments_are_read),
	  TEST_ENTRY(device_prefixed_arguments_win),
	  TEST_ENTRY(other_devices_prefix_their_counters), TEST_ENTRY(memory_budget))
