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
 *    and again as its issuer, against the fuzz.test certificate as the
 *    trust anchor (br_x509_minimal then parses hostile certificates).
 * Invariants: no crash or sanitizer report; a refused load says so with
 * ATL_EINVAL or ATL_ENOMEM; a loaded trust store has at least one anchor
 * and each anchor's DN and key lie inside the memory it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "tls/tls_int.h"

static const char *const names[] = {
    "a.test", "x.w.test", "192.0.2.7", "A.TEST.", "*.test", "", "localhost", "x..test",
};

/* The fuzz.test credential: its key for tls_cred_load (an input is a
 * certificate it rarely matches, so a load fails at the key check at the
 * latest, past every parser), its certificate as the one trust anchor. */
#include "tls_fixture.h"

static struct tls_trust *anchor(void)
{
	static uint8_t mem[16 << 10] __attribute__((aligned(16)));
	static struct heap h;
	static struct tls_trust *t;
	if (t)
		return t;
	heap_init(&h, mem, sizeof mem);
	if (tls_trust_load(NULL, &h, fuzz_cert_der, sizeof fuzz_cert_der, &t, NULL) != ATL_OK)
		abort();
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
	int rc = tls_cred_load(NULL, &h, data, size, fuzz_key_der, sizeof fuzz_key_der, &cr);
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
