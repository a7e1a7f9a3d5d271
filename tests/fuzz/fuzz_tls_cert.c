/*
 * fuzz_tls_cert.c - libFuzzer target for lib/tls/cert.c's parsers of
 * outside input: certificates as a peer sends them and as files give them.
 *
 * Byte 0 picks a host name to check; the rest is, at once:
 *  - a peer's end-entity certificate (DER): tls_chain_verify with no trust
 *    decodes its key, and the RFC 6125 name walker reads its SAN and CN;
 *  - a certificate file (PEM or DER) with a fixed key: tls_cred_load;
 *  - a trust bundle: tls_trust_load, twice over the same bytes (its two
 *    passes must agree).
 *  - a peer's chain for path validation: the input as the end entity
 *    and again as its issuer, against tests/unit/tls_certs/root-ec.der as
 *    the trust anchor (br_x509_minimal then parses hostile certificates).
 * Invariants: no crash or sanitizer report; a refused load says so with
 * ATL_EINVAL or ATL_ENOMEM; a loaded trust store has at least one anchor
 * and each anchor's DN and key lie inside the memory it was given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "tls/tls_int.h"

static const char *const names[] = {
    "a.test", "x.w.test", "192.0.2.7", "A.TEST.", "*.test", "", "localhost", "x..test",
};

/* A P-256 key (SEC1 DER) for tls_cred_load: the input never matches it,
 * so a load fails at the key check at the latest, past every parser. */
static const uint8_t key_der[] = {
    0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20, 0x3c, 0x1a, 0x3e, 0x0f, 0x41, 0x76, 0x2e, 0x71, 0x92,
    0x6b, 0x3f, 0x9c, 0x55, 0x07, 0x81, 0x4e, 0x2a, 0xc1, 0x5d, 0x09, 0x6e, 0x33, 0x2b, 0x18, 0x71,
    0x64, 0x0d, 0x5a, 0x29, 0x44, 0x13, 0x08, 0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x03, 0x01, 0x07, 0xa1, 0x44, 0x03, 0x42, 0x00, 0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42,
    0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33,
    0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f,
    0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e,
    0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5};

/* The anchor, read once (the fuzzers run from the repository's root). */
static struct tls_trust *anchor(void)
{
	static uint8_t mem[16 << 10] __attribute__((aligned(16)));
	static struct heap h;
	static struct tls_trust *t;
	static uint8_t der[4096];
	if (t)
		return t;
	FILE *f = fopen("tests/unit/tls_certs/root-ec.der", "rb");
	size_t n = f ? fread(der, 1, sizeof der, f) : 0;
	if (f)
		fclose(f);
	heap_init(&h, mem, sizeof mem);
	if (n == 0 || tls_trust_load(NULL, &h, der, n, &t, NULL) != ATL_OK) {
		fprintf(stderr, "fuzz_tls_cert: run from the repository root\n");
		abort();
	}
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[1 << 20] __attribute__((aligned(16)));
	struct heap h;
	if (size < 1)
		return 0;
	const char *name = names[data[0] % (sizeof names / sizeof names[0])];
	data++;
	size--;

	struct tls_pubkey pk;
	const char *why = NULL;
	const uint8_t *certs[1] = {data};
	size_t lens[1] = {size};
	int a = tls_chain_verify(NULL, certs, lens, 1, name, 0, &pk, &why);
	if (a == 0 && pk.type != TLS_KEY_EC && pk.type != TLS_KEY_RSA)
		abort();
	if (a != 0 && !why)
		abort();
	(void)tls_cert_names_host(data, size, name);
	const uint8_t *chain[2] = {data, data};
	size_t chain_lens[2] = {size, size};
	a = tls_chain_verify(anchor(), chain, chain_lens, 2, name, 1796600000000ull, &pk, &why);
	if (a != 0 && !why)
		abort();

	heap_init(&h, mem, sizeof mem);
	struct tls_cred *cr = NULL;
	int rc = tls_cred_load(NULL, &h, data, size, key_der, sizeof key_der, &cr);
	if (rc == ATL_OK) {
		(void)tls_cred_matches(cr, name);
		tls_cred_wipe(cr);
	} else if (rc != ATL_EINVAL && rc != ATL_ENOMEM) {
		abort();
	}

	heap_init(&h, mem, sizeof mem);
	struct tls_trust *t = NULL;
	unsigned skipped = 0;
	rc = tls_trust_load(NULL, &h, data, size, &t, &skipped);
	if (rc == ATL_OK) {
		if (t->n == 0)
			abort();
		for (size_t i = 0; i < t->n; i++) {
			const br_x509_trust_anchor *ta = &t->anchors[i];
			const uint8_t *lo = mem, *hi = mem + sizeof mem;
			if (ta->dn.len && (ta->dn.data < lo || ta->dn.data + ta->dn.len > hi))
				abort();
		}
	} else if (rc != ATL_EINVAL && rc != ATL_ENOMEM) {
		abort();
	}
	return 0;
}
