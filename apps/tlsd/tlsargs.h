/*
 * tlsargs.h - what tlsd, tlsc and web share: the boot arguments that shape a
 * struct tls_config (tls-min=, tls-max=, ems=, out-buf=, hs-buf=, suites=, groups=, alpn=), the
 * certs archive on a block device, and the byte pattern both use so that
 * a large transfer can be checked without keeping what was sent.
 *
 * Included by apps/tlsd/tlsd.c, apps/tlsc/tlsc.c and apps/web (an app is
 * the files of its folder; this is the one piece they have in common).
 */
#ifndef ATOLL_APPS_TLSD_TLSARGS_H
#define ATOLL_APPS_TLSD_TLSARGS_H

#include <string.h>

#include "core/args.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "dns/tar.h"
#include "tls/tls.h"

#define TLSARGS_MAX_SUITES  16
#define TLSARGS_MAX_GROUPS  8
#define TLSARGS_ALPN_BYTES  256
#define TLSARGS_ARCHIVE_MAX (4u << 20) /* bytes of certs archive read */

/* clang-format off */
#define TLSARGS_DECLS                                                                      \
	{"tls-min", "lowest TLS version: 1.2 (default) or 1.3"},                           \
	{"tls-max", "highest TLS version: 1.2 or 1.3 (default)"},                          \
	{"ems", "1: TLS 1.2 needs extended master secret (default, RFC 7627); 0: optional"}, \
	{"out-buf", "bytes of the send record buffer, 2048-16709 (default 16709): it "    \
		    "must hold our whole handshake flight"},                               \
	{"hs-buf", "bytes for the largest handshake message taken, 2048-65536 "            \
		   "(default 16384)"},                                                      \
	{"suites", "cipher suites in preference order: IANA names, OpenSSL names or hex "  \
		   "(0x1301), comma-separated (default: the library's)"},                  \
	{"groups", "key exchange groups in preference order: x25519, p256, p384 "         \
		   "(default: the library's)"},                                            \
	{"alpn", "ALPN protocol names in preference order, comma-separated (e.g. "         \
		 "h2,http/1.1; default: no ALPN)"}
/* clang-format on */

/* Storage the config's lists point into; lives as long as the config. */
struct tlsargs {
	uint16_t suites[TLSARGS_MAX_SUITES + 1];
	uint16_t groups[TLSARGS_MAX_GROUPS + 1];
	char alpn[TLSARGS_ALPN_BYTES];
};

/* The pattern byte at offset i of a transfer: not periodic at any record
 * or segment size, so a lost, repeated or reordered chunk shows. */
static inline uint8_t tlsargs_pattern(uint64_t i)
{
	return (uint8_t)(i + i / 4093);
}

/* n pattern bytes from offset off into p: one division per 4093-byte
 * run instead of one per byte, so that making the bytes costs less than
 * encrypting them (bench/tls.sh downloads through it). */
static inline void tlsargs_fill(uint8_t *p, uint64_t off, size_t n)
{
	while (n > 0) {
		uint64_t q = off / 4093;
		size_t run = (size_t)(4093 - off % 4093);
		if (run > n)
			run = n;
		uint8_t b = (uint8_t)(off + q);
		for (size_t i = 0; i < run; i++)
			p[i] = (uint8_t)(b + i);
		p += run;
		off += run;
		n -= run;
	}
}

static inline char tlsargs_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The n bytes at s equal the string t, ignoring ASCII case. */
static inline bool tlsargs_ieq(const char *s, size_t n, const char *t)
{
	size_t i = 0;
	for (; i < n && t[i]; i++)
		if (tlsargs_lower(s[i]) != tlsargs_lower(t[i]))
			return false;
	return i == n && t[i] == '\0';
}

static inline bool tlsargs_hex(const char *s, size_t n, uint16_t *out)
{
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n > 4)
		return false;
	uint16_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = tlsargs_lower(s[i]);
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		v = (uint16_t)(v << 4 | d);
	}
	*out = v;
	return true;
}

/* One suite by its IANA name, its OpenSSL name, the library's short name
 * or its number in hex. */
static inline bool tlsargs_suite(const char *s, size_t n, uint16_t *out)
{
	static const struct {
		uint16_t id;
		const char *iana, *openssl;
	} names[] = {
	    {TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
	    {TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
	    {TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256",
	     "TLS_CHACHA20_POLY1305_SHA256"},
	    {TLS_ECDHE_ECDSA_AES128_GCM, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	     "ECDHE-ECDSA-AES128-GCM-SHA256"},
	    {TLS_ECDHE_ECDSA_AES256_GCM, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	     "ECDHE-ECDSA-AES256-GCM-SHA384"},
	    {TLS_ECDHE_RSA_AES128_GCM, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	     "ECDHE-RSA-AES128-GCM-SHA256"},
	    {TLS_ECDHE_RSA_AES256_GCM, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	     "ECDHE-RSA-AES256-GCM-SHA384"},
	    {TLS_ECDHE_RSA_CHACHA20, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	     "ECDHE-RSA-CHACHA20-POLY1305"},
	    {TLS_ECDHE_ECDSA_CHACHA20, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	     "ECDHE-ECDSA-CHACHA20-POLY1305"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *lib = tls_suite_name(names[i].id);
		if (tlsargs_ieq(s, n, names[i].iana) || tlsargs_ieq(s, n, names[i].openssl) ||
		    (lib && tlsargs_ieq(s, n, lib))) {
			*out = names[i].id;
			return true;
		}
	}
	return tlsargs_hex(s, n, out);
}

static inline bool tlsargs_group(const char *s, size_t n, uint16_t *out)
{
	if (tlsargs_ieq(s, n, "x25519"))
		*out = TLS_GROUP_X25519;
	else if (tlsargs_ieq(s, n, "p256") || tlsargs_ieq(s, n, "p-256") ||
		 tlsargs_ieq(s, n, "secp256r1"))
		*out = TLS_GROUP_P256;
	else if (tlsargs_ieq(s, n, "p384") || tlsargs_ieq(s, n, "p-384") ||
		 tlsargs_ieq(s, n, "secp384r1"))
		*out = TLS_GROUP_P384;
	else
		return false;
	return true;
}

/* A comma list into list (0-terminated, at most max entries). */
static inline int tlsargs_list(struct loop *l, const char *key, const char *v, uint16_t *list,
			       unsigned max, bool (*one)(const char *, size_t, uint16_t *))
{
	unsigned n = 0;
	while (*v) {
		size_t len = strcspn(v, ",");
		if (len > 0) {
			if (n == max) {
				LOG_ERROR(l, "%s=: more than %u entries", key, max);
				return ATL_EINVAL;
			}
			if (!one(v, len, &list[n])) {
				LOG_ERROR(l, "%s=: unknown entry \"%.*s\"", key, (int)len, v);
				return ATL_EINVAL;
			}
			n++;
		}
		v += len;
		if (*v == ',')
			v++;
	}
	if (n == 0) {
		LOG_ERROR(l, "%s=: an empty list", key);
		return ATL_EINVAL;
	}
	list[n] = 0;
	return ATL_OK;
}

static inline int tlsargs_version(struct loop *l, const char *key, uint16_t *out)
{
	const char *v = args_get(l->start, key);
	if (!v)
		return ATL_OK;
	if (!strcmp(v, "1.2"))
		*out = TLS_V12;
	else if (!strcmp(v, "1.3"))
		*out = TLS_V13;
	else {
		LOG_ERROR(l, "%s=%s: give 1.2 or 1.3", key, v);
		return ATL_EINVAL;
	}
	return ATL_OK;
}

/* tls-min, tls-max, ems, suites, groups and alpn from the boot arguments into
 * cfg (already through tls_config_init); the lists live in a. */
static inline int tlsargs_apply(struct loop *l, struct tls_config *cfg, struct tlsargs *a)
{
	if (tlsargs_version(l, "tls-min", &cfg->min_version) != ATL_OK ||
	    tlsargs_version(l, "tls-max", &cfg->max_version) != ATL_OK)
		return ATL_EINVAL;
	if (cfg->min_version > cfg->max_version) {
		LOG_ERROR(l, "tls-min= is above tls-max=");
		return ATL_EINVAL;
	}
	uint64_t ems;
	if (args_get_u64(l, "ems", 1, 1, &ems) != ATL_OK)
		return ATL_EINVAL;
	cfg->require_ems = ems != 0;
	/* A record in (always the largest legal one: the peer chooses),
	 * a record out and the largest handshake message taken. */
	uint64_t ob, hb;
	if (args_get_u64(l, "out-buf", cfg->out_buf, 16709, &ob) != ATL_OK ||
	    args_get_u64(l, "hs-buf", cfg->hs_buf, 65536, &hb) != ATL_OK)
		return ATL_EINVAL;
	if (ob < 2048 || hb < 2048) {
		LOG_ERROR(l, "out-buf= and hs-buf= take at least 2048 bytes");
		return ATL_EINVAL;
	}
	cfg->out_buf = (size_t)ob;
	cfg->hs_buf = (size_t)hb;

	const char *v = args_get(l->start, "suites");
	if (v) {
		if (tlsargs_list(l, "suites", v, a->suites, TLSARGS_MAX_SUITES, tlsargs_suite) !=
		    ATL_OK)
			return ATL_EINVAL;
		cfg->suites = a->suites;
	}
	v = args_get(l->start, "groups");
	if (v) {
		if (tlsargs_list(l, "groups", v, a->groups, TLSARGS_MAX_GROUPS, tlsargs_group) !=
		    ATL_OK)
			return ATL_EINVAL;
		cfg->groups = a->groups;
	}
	v = args_get(l->start, "alpn");
	if (v && *v) {
		size_t len = strlen(v);
		if (len >= sizeof a->alpn) {
			LOG_ERROR(l, "alpn=: longer than %zu bytes", sizeof a->alpn - 1);
			return ATL_EINVAL;
		}
		memcpy(a->alpn, v, len + 1);
		cfg->nalpn = 0;
		for (char *p = a->alpn; *p;) {
			size_t n = strcspn(p, ",");
			if (n > 0) {
				if (cfg->nalpn == TLS_MAX_ALPN) {
					LOG_ERROR(l, "alpn=: more than %d names", TLS_MAX_ALPN);
					return ATL_EINVAL;
				}
				cfg->alpn[cfg->nalpn++] = p;
			}
			p += n;
			if (*p == ',')
				*p++ = '\0';
		}
	}
	return ATL_OK;
}

/* A block device called name, read whole into the heap (at most max
 * bytes).  ATL_ENOENT when the app was given none. */
static inline int tlsargs_read_device(struct loop *l, const char *name, uint64_t max,
				      struct rd *out)
{
	plat_handle_t bh;
	struct plat_block_info info;
	if (plat_block_acquire(name, &bh, &info) != PLAT_OK)
		return ATL_ENOENT;
	if (info.capacity > max) {
		LOG_ERROR(l, "the %s device is larger than %llu bytes", name,
			  (unsigned long long)max);
		return ATL_EINVAL;
	}
	size_t cap = (size_t)info.capacity;
	uint8_t *buf = heap_alloc(l->heap, cap ? cap : 1, 16);
	if (!buf) {
		LOG_ERROR(l, "heap too small for the %zu-byte %s device", cap, name);
		return ATL_ENOMEM;
	}
	size_t chunk = (size_t)info.block_size * 64u;
	for (size_t off = 0; off < cap; off += chunk) {
		size_t n = cap - off < chunk ? cap - off : chunk;
		if (plat_block_read(bh, off, buf + off, n) != PLAT_OK) {
			LOG_ERROR(l, "cannot read the %s device", name);
			return ATL_EIO;
		}
	}
	*out = rd_make(buf, cap);
	return ATL_OK;
}

/* The certs archive: the whole "certs" block device, read into the heap.
 * ATL_ENOENT when the app was given none. */
static inline int tlsargs_archive(struct loop *l, struct rd *out)
{
	return tlsargs_read_device(l, "certs", TLSARGS_ARCHIVE_MAX, out);
}

/* The archive member called name (or "./name"); false if none. */
static inline bool tlsargs_member(const struct rd *archive, const char *name,
				  struct dns_tar_member *m)
{
	struct rd r = rd_make(archive->data, archive->len);
	while (dns_tar_next(&r, m) == ATL_OK)
		if (!strcmp(m->name, name) ||
		    (m->name[0] == '.' && m->name[1] == '/' && !strcmp(m->name + 2, name)))
			return true;
	return false;
}

/* A PEM member of the archive; NULL if there is none. */
static inline const uint8_t *tlsargs_member_data(const struct rd *ar, const char *name, size_t *len)
{
	struct dns_tar_member m;
	if (!tlsargs_member(ar, name, &m))
		return NULL;
	*len = m.len;
	return m.data;
}

static inline int tlsargs_add_cred(struct loop *l, struct tls_config *cfg, const void *cert,
				   size_t cert_len, const void *key, size_t key_len,
				   const char *what)
{
	if (cfg->ncreds == TLS_MAX_CREDS) {
		LOG_ERROR(l, "%s: more than %d credentials", what, TLS_MAX_CREDS);
		return ATL_EINVAL;
	}
	struct tls_cred *cr;
	int rc = tls_cred_load(l, l->heap, cert, cert_len, key, key_len, &cr);
	if (rc != ATL_OK) {
		LOG_ERROR(l, "%s: not loaded: %s", what, atl_strerror(rc));
		return rc;
	}
	cfg->creds[cfg->ncreds++] = cr;
	LOG_INFO(l, "credential %s loaded", what);
	return ATL_OK;
}

/*
 * A server's credentials from the certs archive into cfg: cert.pem +
 * key.pem, then every <name>.cert.pem + <name>.key.pem (the server picks
 * among them by SNI), then ca.pem (trust anchors for client
 * certificates, into cfg->trust).  Without the device: the built-in
 * credential given (PEM); with builtin_ok also when the archive has no
 * credential (its other members are for something else: ACME's).
 */
static inline int tlsargs_load_creds(struct loop *l, struct tls_config *cfg, const char *def_cert,
				     size_t def_cert_len, const char *def_key, size_t def_key_len,
				     bool builtin_ok)
{
	struct rd ar;
	int rc = tlsargs_archive(l, &ar);
	if (rc == ATL_ENOENT) {
		LOG_INFO(l, "no certs archive: serving the built-in self-signed localhost "
			    "credential");
		return tlsargs_add_cred(l, cfg, def_cert, def_cert_len, def_key, def_key_len,
					"built-in");
	}
	if (rc != ATL_OK)
		return rc;
	size_t cl = 0, kl = 0;
	const uint8_t *cert = tlsargs_member_data(&ar, "cert.pem", &cl);
	const uint8_t *key = tlsargs_member_data(&ar, "key.pem", &kl);
	if (cert && key) {
		rc = tlsargs_add_cred(l, cfg, cert, cl, key, kl, "cert.pem");
		if (rc != ATL_OK)
			return rc;
	} else if (cert || key) {
		LOG_ERROR(l, "the certs archive has %s without %s", cert ? "cert.pem" : "key.pem",
			  cert ? "key.pem" : "cert.pem");
		return ATL_EINVAL;
	}
	struct rd r = rd_make(ar.data, ar.len);
	struct dns_tar_member m;
	while ((rc = dns_tar_next(&r, &m)) == ATL_OK) {
		const char *base = m.name;
		if (base[0] == '.' && base[1] == '/')
			base += 2;
		size_t bl = strlen(base);
		static const char suffix[] = ".cert.pem";
		size_t sl = sizeof suffix - 1;
		if (bl <= sl || strcmp(base + bl - sl, suffix))
			continue;
		char keyname[DNS_TAR_NAME_MAX + 1];
		if (bl - sl + sizeof ".key.pem" > sizeof keyname)
			continue;
		memcpy(keyname, base, bl - sl);
		memcpy(keyname + bl - sl, ".key.pem", sizeof ".key.pem");
		key = tlsargs_member_data(&ar, keyname, &kl);
		if (!key) {
			LOG_ERROR(l, "%s has no %s beside it", base, keyname);
			return ATL_EINVAL;
		}
		rc = tlsargs_add_cred(l, cfg, m.data, m.len, key, kl, base);
		if (rc != ATL_OK)
			return rc;
	}
	if (rc != ATL_ENOENT) {
		LOG_ERROR(l, "the certs archive is malformed");
		return ATL_EINVAL;
	}
	if (cfg->ncreds == 0 && builtin_ok) {
		LOG_INFO(l, "the certs archive holds no credential: the built-in one until ACME "
			    "brings one");
		rc = tlsargs_add_cred(l, cfg, def_cert, def_cert_len, def_key, def_key_len,
				      "built-in");
		if (rc != ATL_OK)
			return rc;
	}
	if (cfg->ncreds == 0) {
		LOG_ERROR(l, "the certs archive holds no cert.pem/key.pem (nor <name>.cert.pem)");
		return ATL_EINVAL;
	}
	size_t cal;
	const uint8_t *ca = tlsargs_member_data(&ar, "ca.pem", &cal);
	if (ca) {
		struct tls_trust *t;
		unsigned skipped = 0;
		rc = tls_trust_load(l, l->heap, ca, cal, &t, &skipped);
		if (rc != ATL_OK) {
			LOG_ERROR(l, "ca.pem: no usable trust anchor");
			return rc;
		}
		cfg->trust = t;
		LOG_INFO(l, "ca.pem: trust anchors for client certificates (%u skipped)", skipped);
	}
	return ATL_OK;
}

#endif
