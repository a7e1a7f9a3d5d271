/*
 * fuzz_zonefile.c - libFuzzer target for the master-file parser, the zone
 * checks and the store.
 *
 * The input is master-file text for zone "example."; "$INCLUDE self"
 * includes the input again (so the include depth limit is exercised).  A
 * zone that loads is checked: nodes in strict canonical order, the apex
 * first, every RRset's rdata valid for its type, and every node findable;
 * then a few queries are answered from it.  A zone that fails must leave
 * the arena as it was and say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "dns/dns.h"

struct input {
	const char *text;
	size_t len;
};

static int include(void *ctx, const char *file, const char **data, size_t *len)
{
	struct input *in = ctx;
	if (strcmp(file, "self"))
		return ATL_ENOENT;
	*data = in->text;
	*len = in->len;
	return ATL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[4 << 20];
	struct arena a = {mem, sizeof mem, 0, 0, 0};
	struct input in = {(const char *)data, size};
	uint8_t origin[DNS_NAME_MAX];
	dns_name_from_text("example.", 8, NULL, origin);
	struct dns_zone z;
	char err[256] = "";
	int rc = dns_zone_load_text(&a, origin, "fuzz.zone", in.text, in.len, include, &in, &z, err,
				    sizeof err);
	if (rc != ATL_OK) {
		if (a.used != 0 || !err[0])
			abort();
		return 0;
	}
	if (!z.nnodes || !dns_name_equal(z.nodes[0].name, origin))
		abort();
	for (size_t i = 0; i < z.nnodes; i++) {
		const struct dns_node *n = &z.nodes[i];
		if (i + 1 < z.nnodes && dns_name_cmp(n->name, z.nodes[i + 1].name) >= 0)
			abort();
		if (dns_zone_find(&z, n->name) != n)
			abort();
		for (unsigned k = 0; k < n->nrrsets; k++) {
			const struct dns_rrset *s = &n->rrsets[k];
			const uint8_t *p = s->rdata;
			for (unsigned j = 0; j < s->count; j++) {
				size_t len = load_be16(p);
				if (!dns_rdata_valid(s->type, p + 2, len))
					abort();
				p += 2 + len;
			}
		}
	}
	struct dns_zones zs = {1, {&z}};
	static const uint16_t types[] = {DNS_T_A, DNS_T_NS, DNS_T_MX, DNS_T_TXT, DNS_T_ANY};
	for (size_t i = 0; i < z.nnodes && i < 16; i++) {
		uint8_t q[512];
		struct wr w = wr_make(q, sizeof q);
		struct dns_hdr h = {1, 0, 1, 0, 0, 0};
		dns_hdr_write(&w, &h);
		dns_name_write(&w, z.nodes[i].name, NULL);
		wr_be16(&w, types[i % 5]);
		wr_be16(&w, DNS_C_IN);
		static uint8_t out[65536];
		size_t n = dns_answer(&zs, q, w.pos, i & 1 ? DNS_TCP : DNS_UDP, out, sizeof out);
		if (!n || (!(i & 1) && n > 512))
			abort();
	}
	return 0;
}
