/*
 * cert.c - credentials, trust anchors, signatures and chain validation.
 *
 * Everything cryptographic is BearSSL's: the PEM decoder, the private key
 * decoder, the X.509 decoder (to read a certificate's key), the "minimal"
 * X.509 engine (path validation), ECDSA and RSA PKCS#1 v1.5.  What is
 * written here is the plumbing between them and the one thing BearSSL
 * leaves to its caller: reading a certificate's names (subjectAltName and
 * the subject's CN) for RFC 6125 host-name checks, done by a small DER
 * walker over struct rd, so that a server's SNI choice and a client's
 * check of its peer use the same rules:
 *
 *   - a dNSName matches case-insensitively, a trailing dot ignored;
 *   - "*" is honoured only as the whole left-most label, matches exactly
 *     one non-empty label, and never when fewer than two labels follow
 *     ("*.com" matches nothing);
 *   - the subject's CN is used only when there is no dNSName at all;
 *   - an IPv4 literal matches only an iPAddress entry (never a dNSName
 *     or the CN).
 *
 * Loading copies what must stay (the DER chain, the key's integers) onto
 * the heap, which never frees; so nothing is decoded into scratch memory
 * there: PEM is streamed straight into BearSSL's decoders, and a trust
 * bundle is walked twice (once to count, once to fill one block).
 */
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "tls/tls_int.h"

/* ---- PEM ------------------------------------------------------------------------ */

/*
 * Streams every PEM object of buf through a sink: begin() with the
 * object's name says whether its bytes are wanted, data() receives them
 * as they are decoded, end() (if any) closes the object.  Returns ATL_EINVAL for
 * a malformed PEM stream.
 */
struct pem_sink {
	bool (*begin)(void *ctx, const char *name);
	void (*data)(void *ctx, const void *p, size_t n);
	void (*end)(void *ctx);
	void *ctx;
	bool want;
};

static void pem_data(void *ctx, const void *p, size_t n)
{
	struct pem_sink *s = ctx;
	if (s->want)
		s->data(s->ctx, p, n);
}

static int pem_walk(const void *buf, size_t len, struct pem_sink *s)
{
	br_pem_decoder_context pc;
	const uint8_t *p = buf;
	bool inside = false, nl_pushed = false;

	br_pem_decoder_init(&pc);
	br_pem_decoder_setdest(&pc, pem_data, s);
	for (;;) {
		if (len == 0) {
			if (nl_pushed)
				break;
			/* The decoder ends an object only on a newline
			 * after its END line; a file may lack one. */
			p = (const uint8_t *)"\n";
			len = 1;
			nl_pushed = true;
		}
		size_t n = br_pem_decoder_push(&pc, p, len);
		p += n;
		len -= n;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			s->want = s->begin(s->ctx, br_pem_decoder_name(&pc));
			inside = true;
			break;
		case BR_PEM_END_OBJ:
			if (s->want && s->end)
				s->end(s->ctx);
			s->want = false;
			inside = false;
			break;
		case BR_PEM_ERROR:
			return ATL_EINVAL;
		default:
			break;
		}
	}
	return inside ? ATL_EINVAL : ATL_OK;
}

static bool looks_pem(const void *buf, size_t len)
{
	static const char tag[] = "-----BEGIN ";
	const char *p = buf;
	for (size_t i = 0; i + sizeof tag - 1 <= len; i++)
		if (memcmp(p + i, tag, sizeof tag - 1) == 0)
			return true;
	return false;
}

/* ---- DER: names in a certificate ------------------------------------------------- */

/* One DER element: its tag and a reader over its contents.  Definite
 * lengths of up to 3 length bytes (16 MiB) only, single-byte tags. */
static bool der_next(struct rd *r, uint8_t *tag, struct rd *body)
{
	*tag = rd_u8(r);
	size_t n = rd_u8(r);
	if (n & 0x80) {
		unsigned k = n & 0x7f;
		if (k == 0 || k > 3)
			return false;
		n = 0;
		while (k--)
			n = n << 8 | rd_u8(r);
	}
	const uint8_t *p = rd_take(r, n);
	if (!rd_ok(r) || (*tag & 0x1f) == 0x1f)
		return false;
	*body = rd_make(p, n);
	return true;
}

enum cert_name { NAME_DNS, NAME_IP, NAME_CN };

typedef bool (*name_fn)(void *ctx, enum cert_name kind, const uint8_t *v, size_t n);

static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};
static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};

static bool is_oid(struct rd *v, const uint8_t *oid, size_t n)
{
	return rd_left(v) == n && memcmp(v->data + v->pos, oid, n) == 0;
}

/* The subject's CN attributes (UTF8String, PrintableString, IA5String,
 * TeletexString read as bytes). */
static bool subject_cns(struct rd subj, name_fn fn, void *ctx, bool *stop)
{
	while (rd_left(&subj)) {
		uint8_t t;
		struct rd set, atv;
		if (!der_next(&subj, &t, &set) || t != 0x31)
			return false;
		while (rd_left(&set)) {
			struct rd oid, val;
			uint8_t vt;
			if (!der_next(&set, &t, &atv) || t != 0x30 || !der_next(&atv, &t, &oid) ||
			    t != 0x06 || !der_next(&atv, &vt, &val))
				return false;
			if (!is_oid(&oid, oid_cn, sizeof oid_cn))
				continue;
			if (vt == 0x0c || vt == 0x13 || vt == 0x16 || vt == 0x14)
				if (fn(ctx, NAME_CN, val.data, rd_left(&val))) {
					*stop = true;
					return true;
				}
		}
	}
	return true;
}

/*
 * Calls fn for each dNSName and iPAddress of the subjectAltName, then,
 * only when there was no dNSName, for the subject's CNs, until fn says
 * stop (returns true).  Returns whether fn stopped; a certificate that
 * does not parse names nothing.
 */
static bool cert_names(const uint8_t *der, size_t len, name_fn fn, void *ctx)
{
	struct rd r = rd_make(der, len), cert, tbs, el, subject = rd_make(NULL, 0);
	uint8_t t;
	bool any_dns = false, stop = false;

	if (!der_next(&r, &t, &cert) || t != 0x30 || !der_next(&cert, &t, &tbs) || t != 0x30)
		return false;
	/* [0] version?, serial, signature, issuer, validity, subject, spki */
	for (int i = 0; i < 6; i++) {
		if (!der_next(&tbs, &t, &el))
			return false;
		if (i == 0 && t == 0xa0 && !der_next(&tbs, &t, &el))
			return false;
		if (i == 4)
			subject = el;
	}
	while (rd_left(&tbs)) {
		if (!der_next(&tbs, &t, &el))
			return false;
		if (t != 0xa3) /* issuer/subject unique IDs */
			continue;
		struct rd exts, ext, oid, val, names;
		if (!der_next(&el, &t, &exts) || t != 0x30)
			return false;
		while (rd_left(&exts)) {
			if (!der_next(&exts, &t, &ext) || t != 0x30 || !der_next(&ext, &t, &oid) ||
			    t != 0x06 || !der_next(&ext, &t, &val))
				return false;
			if (t == 0x01 && !der_next(&ext, &t, &val)) /* critical */
				return false;
			if (t != 0x04 || !is_oid(&oid, oid_san, sizeof oid_san))
				continue;
			if (!der_next(&val, &t, &names) || t != 0x30)
				return false;
			while (rd_left(&names)) {
				struct rd gn;
				if (!der_next(&names, &t, &gn))
					return false;
				if (t != 0x82 && t != 0x87)
					continue;
				any_dns |= t == 0x82;
				if (fn(ctx, t == 0x82 ? NAME_DNS : NAME_IP, gn.data, rd_left(&gn)))
					return true;
			}
		}
	}
	if (!any_dns && subject.data && subject_cns(subject, fn, ctx, &stop))
		return stop;
	return false;
}

/* ---- RFC 6125 matching ------------------------------------------------------------- */

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool eq_nocase(const uint8_t *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower((uint8_t)b[i]))
			return false;
	return true;
}

/* Dotted-quad IPv4 literal into out; false for anything else. */
static bool parse_ipv4(const char *s, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		out[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return false;
	}
	return *s == 0;
}

struct host {
	const char *name;
	size_t len; /* without a trailing dot */
	bool is_ip;
	uint8_t ip[4];
};

static bool host_make(struct host *h, const char *name)
{
	h->name = name;
	h->len = strlen(name);
	if (h->len && name[h->len - 1] == '.')
		h->len--;
	h->is_ip = parse_ipv4(name, h->ip);
	return h->len > 0 && h->len < 254;
}

static bool name_match(void *ctx, enum cert_name kind, const uint8_t *v, size_t n)
{
	const struct host *h = ctx;

	if (kind == NAME_IP)
		return h->is_ip && n == 4 && memcmp(v, h->ip, 4) == 0;
	if (h->is_ip || n == 0 || memchr(v, 0, n))
		return false;
	if (n && v[n - 1] == '.')
		n--;
	if (n >= 2 && v[0] == '*' && v[1] == '.') {
		/* "*.rest": rest has at least two labels, host is one
		 * non-empty label followed by ".rest" */
		const uint8_t *rest = v + 1; /* ".rest" */
		size_t rl = n - 1;
		if (!memchr(rest + 1, '.', rl - 1) || memchr(rest, '*', rl))
			return false;
		const char *dot = memchr(h->name, '.', h->len);
		if (!dot || dot == h->name)
			return false;
		size_t tail = h->len - (size_t)(dot - h->name);
		return tail == rl && eq_nocase(rest, dot, rl);
	}
	if (memchr(v, '*', n))
		return false;
	return n == h->len && eq_nocase(v, h->name, n);
}

bool tls_cert_names_host(const uint8_t *der, size_t len, const char *name)
{
	struct host h;
	return host_make(&h, name) && cert_names(der, len, name_match, &h);
}

bool tls_cred_matches(const struct tls_cred *cr, const char *name)
{
	return cr->nchain && tls_cert_names_host(cr->chain[0].data, cr->chain[0].data_len, name);
}

/* BearSSL counts days from 1 January of year 0 (proleptic Gregorian);
 * 719528 of them lie before 1970. */
static uint64_t unix_time(uint32_t days, uint32_t secs)
{
	return days < 719528 ? 0 : ((uint64_t)days - 719528) * 86400 + secs;
}

int tls_cred_validity(const struct tls_cred *cr, uint64_t *not_before, uint64_t *not_after)
{
	if (cr->nchain == 0)
		return ATL_EINVAL;
	br_x509_decoder_context d;
	br_x509_decoder_init(&d, NULL, NULL);
	br_x509_decoder_push(&d, cr->chain[0].data, cr->chain[0].data_len);
	if (br_x509_decoder_last_error(&d) != 0 || !d.decoded)
		return ATL_EINVAL;
	*not_before = unix_time(d.notbefore_days, d.notbefore_seconds);
	*not_after = unix_time(d.notafter_days, d.notafter_seconds);
	return ATL_OK;
}

/* ---- public keys --------------------------------------------------------------------- */

static bool curve_ok(int curve)
{
	return curve == BR_EC_secp256r1 || curve == BR_EC_secp384r1;
}

/* A certificate's key into out: 0, or the alert. */
static int pkey_from_x509(const br_x509_pkey *pk, struct tls_pubkey *out)
{
	memset(out, 0, sizeof *out);
	if (pk->key_type == BR_KEYTYPE_EC) {
		if (!curve_ok(pk->key.ec.curve) && pk->key.ec.curve != BR_EC_secp521r1)
			return TLS_ALERT_UNSUPPORTED_CERTIFICATE;
		if (pk->key.ec.qlen > sizeof out->q)
			return TLS_ALERT_BAD_CERTIFICATE;
		out->type = TLS_KEY_EC;
		out->curve = pk->key.ec.curve;
		memcpy(out->q, pk->key.ec.q, pk->key.ec.qlen);
		out->q_len = pk->key.ec.qlen;
		return 0;
	}
	if (pk->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_public_key *k = &pk->key.rsa;
		/* BearSSL's numbers come without leading zeros */
		if (k->nlen > sizeof out->n || k->elen > sizeof out->e)
			return TLS_ALERT_UNSUPPORTED_CERTIFICATE;
		out->type = TLS_KEY_RSA;
		memcpy(out->n, k->n, k->nlen);
		out->n_len = k->nlen;
		memcpy(out->e, k->e, k->elen);
		out->e_len = k->elen;
		return 0;
	}
	return TLS_ALERT_UNSUPPORTED_CERTIFICATE;
}

/* An end-entity certificate's key: 0 or the alert. */
static int decode_ee(const uint8_t *der, size_t len, struct tls_pubkey *out)
{
	br_x509_decoder_context d;
	br_x509_decoder_init(&d, NULL, NULL);
	br_x509_decoder_push(&d, der, len);
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&d);
	if (!pk || br_x509_decoder_last_error(&d) != 0)
		return br_x509_decoder_last_error(&d) == BR_ERR_X509_UNSUPPORTED
			   ? TLS_ALERT_UNSUPPORTED_CERTIFICATE
			   : TLS_ALERT_BAD_CERTIFICATE;
	return pkey_from_x509(pk, out);
}

/* ---- credentials ---------------------------------------------------------------------- */

struct chain_sink {
	struct tls_cred *cr;
	uint8_t *buf; /* chain_len bytes: DER is shorter than its PEM */
	size_t used, start;
	bool too_many;
};

/* Is a PEM object's name label (RFC 7468 2)?  BearSSL strips the CR of
 * a CR LF line end only after it has looked for the closing dashes, so
 * "-----" stays on the name in a file with CR LF lines. */
static bool pem_label_is(const char *name, const char *label)
{
	size_t n = strlen(name), l = strlen(label);
	if (n == l + 5 && !strcmp(name + l, "-----"))
		n = l;
	return n == l && !memcmp(name, label, l);
}

static bool pem_is_cert(const char *name)
{
	return pem_label_is(name, "CERTIFICATE") || pem_label_is(name, "X509 CERTIFICATE");
}

static bool chain_begin(void *ctx, const char *name)
{
	struct chain_sink *s = ctx;
	if (!pem_is_cert(name))
		return false;
	s->start = s->used;
	return true;
}

static void chain_data(void *ctx, const void *p, size_t n)
{
	struct chain_sink *s = ctx;
	memcpy(s->buf + s->used, p, n);
	s->used += n;
}

static void chain_end(void *ctx)
{
	struct chain_sink *s = ctx;
	if (s->cr->nchain == TLS_CRED_MAX_CERTS) {
		s->too_many = true;
		return;
	}
	br_x509_certificate *c = &s->cr->chain[s->cr->nchain++];
	c->data = s->buf + s->start;
	c->data_len = s->used - s->start;
}

struct key_sink {
	br_skey_decoder_context *dc;
	unsigned found;
	bool encrypted;
};

static bool key_begin(void *ctx, const char *name)
{
	struct key_sink *s = ctx;
	if (pem_label_is(name, "ENCRYPTED PRIVATE KEY"))
		s->encrypted = true;
	if (!pem_label_is(name, "EC PRIVATE KEY") && !pem_label_is(name, "PRIVATE KEY") &&
	    !pem_label_is(name, "RSA PRIVATE KEY"))
		return false;
	return s->found++ == 0;
}

static void key_data(void *ctx, const void *p, size_t n)
{
	struct key_sink *s = ctx;
	if (s->dc->err || s->dc->key_type) /* stopped: see trust_data */
		return;
	br_skey_decoder_push(s->dc, p, n);
}

/* Copies the decoded key's integers into heap memory of the cred. */
static int keep_key(struct tls_cred *cr, struct heap *h, const br_skey_decoder_context *dc)
{
	const br_ec_private_key *ec = br_skey_decoder_get_ec(dc);
	const br_rsa_private_key *rsa = br_skey_decoder_get_rsa(dc);
	if (ec) {
		cr->key_mem_len = ec->xlen;
		cr->key_mem = heap_alloc(h, ec->xlen, 8);
		if (!cr->key_mem)
			return ATL_ENOMEM;
		memcpy(cr->key_mem, ec->x, ec->xlen);
		cr->ec = (br_ec_private_key){ec->curve, cr->key_mem, ec->xlen};
		cr->key_type = TLS_KEY_EC;
		return ATL_OK;
	}
	size_t n = rsa->plen + rsa->qlen + rsa->dplen + rsa->dqlen + rsa->iqlen;
	uint8_t *m = heap_alloc(h, n, 8);
	if (!m)
		return ATL_ENOMEM;
	cr->key_mem = m;
	cr->key_mem_len = n;
	cr->rsa.n_bitlen = rsa->n_bitlen;
	memcpy(m, rsa->p, rsa->plen);
	cr->rsa.p = m, cr->rsa.plen = rsa->plen, m += rsa->plen;
	memcpy(m, rsa->q, rsa->qlen);
	cr->rsa.q = m, cr->rsa.qlen = rsa->qlen, m += rsa->qlen;
	memcpy(m, rsa->dp, rsa->dplen);
	cr->rsa.dp = m, cr->rsa.dplen = rsa->dplen, m += rsa->dplen;
	memcpy(m, rsa->dq, rsa->dqlen);
	cr->rsa.dq = m, cr->rsa.dqlen = rsa->dqlen, m += rsa->dqlen;
	memcpy(m, rsa->iq, rsa->iqlen);
	cr->rsa.iq = m, cr->rsa.iqlen = rsa->iqlen;
	cr->key_type = TLS_KEY_RSA;
	return ATL_OK;
}

/* Does the private key belong to the certificate's public key? */
static bool key_matches_cert(const struct tls_cred *cr)
{
	const struct tls_pubkey *pub = &cr->pub;
	if (cr->key_type == TLS_KEY_EC) {
		uint8_t q[BR_EC_KBUF_PUB_MAX_SIZE];
		size_t n = br_ec_compute_pub(br_ec_get_default(), NULL, q, &cr->ec);
		return pub->type == TLS_KEY_EC && pub->curve == cr->ec.curve && n == pub->q_len &&
		       memcmp(q, pub->q, n) == 0;
	}
	/* RSA: a signature made with the private key must verify under the
	 * certificate's (n, e).  BearSSL 0.6's default compute_modulus and
	 * compute_pubexp cannot serve here: the first returns 0 for 4096-bit
	 * keys (its scratch is too small), the second 0 for common keys. */
	if (pub->type != TLS_KEY_RSA || (cr->rsa.n_bitlen + 7) / 8 != pub->n_len)
		return false;
	static const char probe[] = "atoll key check";
	uint8_t sig[512];
	size_t sl = sizeof sig;
	return tls_cred_sign(cr, TLS_SIG_RSA_PKCS1_SHA256, probe, sizeof probe, sig, &sl) ==
		   ATL_OK &&
	       tls_pubkey_verify(pub, TLS_SIG_RSA_PKCS1_SHA256, probe, sizeof probe, sig, sl) == 0;
}

static int cred_fail(struct loop *l, br_skey_decoder_context *dc, const char *why)
{
	tls_wipe(dc, sizeof *dc);
	LOG_ERROR(l, "credential refused: %s", why);
	return ATL_EINVAL;
}

int tls_cred_load(struct loop *l, struct heap *h, const void *chain, size_t chain_len,
		  const void *key, size_t key_len, struct tls_cred **out)
{
	br_skey_decoder_context dc;
	struct tls_cred *cr = heap_alloc(h, sizeof *cr, 8);
	uint8_t *buf = heap_alloc(h, chain_len ? chain_len : 1, 8);

	br_skey_decoder_init(&dc);
	if (!cr || !buf)
		return ATL_ENOMEM;
	memset(cr, 0, sizeof *cr);

	/* The chain */
	if (looks_pem(chain, chain_len)) {
		struct chain_sink cs = {.cr = cr, .buf = buf};
		struct pem_sink ps = {chain_begin, chain_data, chain_end, &cs, false};
		if (pem_walk(chain, chain_len, &ps) != ATL_OK)
			return cred_fail(l, &dc, "the certificate file is not well-formed PEM");
		if (cs.too_many)
			return cred_fail(l, &dc, "more than 8 certificates in the chain");
	} else if (chain_len) {
		memcpy(buf, chain, chain_len);
		cr->chain[0] = (br_x509_certificate){buf, chain_len};
		cr->nchain = 1;
	}
	if (cr->nchain == 0)
		return cred_fail(l, &dc, "no CERTIFICATE in the certificate file");
	int a = decode_ee(cr->chain[0].data, cr->chain[0].data_len, &cr->pub);
	if (a)
		return cred_fail(l, &dc,
				 a == TLS_ALERT_UNSUPPORTED_CERTIFICATE
				     ? "the certificate's key type is not supported"
				     : "the first certificate does not decode as X.509");
	for (size_t i = 1; i < cr->nchain; i++) {
		br_x509_decoder_context d;
		br_x509_decoder_init(&d, NULL, NULL);
		br_x509_decoder_push(&d, cr->chain[i].data, cr->chain[i].data_len);
		if (br_x509_decoder_last_error(&d) != 0 || !br_x509_decoder_get_pkey(&d))
			return cred_fail(l, &dc, "a chain certificate does not decode as X.509");
	}

	/* The key */
	if (looks_pem(key, key_len)) {
		struct key_sink ks = {.dc = &dc};
		struct pem_sink ps = {key_begin, key_data, NULL, &ks, false};
		if (pem_walk(key, key_len, &ps) != ATL_OK)
			return cred_fail(l, &dc, "the key file is not well-formed PEM");
		if (ks.found == 0)
			return cred_fail(
			    l, &dc,
			    ks.encrypted ? "the key is encrypted (give it decrypted: openssl pkey)"
					 : "no PRIVATE KEY in the key file");
	} else {
		br_skey_decoder_push(&dc, key, key_len);
	}
	int err = br_skey_decoder_last_error(&dc);
	int kt = br_skey_decoder_key_type(&dc);
	if (err != 0 || kt == 0)
		return cred_fail(l, &dc,
				 err == BR_ERR_X509_UNSUPPORTED ? "the key type is not supported"
								: "the key does not decode");
	if (kt == BR_KEYTYPE_EC && !curve_ok(br_skey_decoder_get_ec(&dc)->curve))
		return cred_fail(l, &dc, "EC keys must be on P-256 or P-384");
	if (kt == BR_KEYTYPE_RSA) {
		uint32_t bits = br_skey_decoder_get_rsa(&dc)->n_bitlen;
		if (bits < 2048 || bits > 4096)
			return cred_fail(l, &dc, "RSA keys must have 2048 to 4096 bits");
	}
	int rc = keep_key(cr, h, &dc);
	tls_wipe(&dc, sizeof dc);
	if (rc != ATL_OK)
		return rc;
	if (!key_matches_cert(cr)) {
		tls_cred_wipe(cr);
		LOG_ERROR(l, "credential refused: the key does not belong to the certificate");
		return ATL_EINVAL;
	}
	*out = cr;
	return ATL_OK;
}

void tls_cred_wipe(struct tls_cred *cr)
{
	if (cr->key_mem)
		tls_wipe(cr->key_mem, cr->key_mem_len);
	tls_wipe(&cr->ec, sizeof cr->ec);
	tls_wipe(&cr->rsa, sizeof cr->rsa);
	cr->key_mem = NULL;
	cr->key_mem_len = 0;
	cr->key_type = 0;
}

/* ---- trust anchors --------------------------------------------------------------------- */

/*
 * Each certificate is streamed into an X.509 decoder whose DN callback
 * appends to out (or only counts, out NULL).  Pass one sizes; pass two
 * fills one block with the anchors and their bytes.
 */
struct trust_sink {
	br_x509_decoder_context d;
	uint8_t *out, *end; /* pass two: where the next bytes go */
	size_t bytes;	    /* DN and key bytes of all anchors */
	size_t dn_start, dn_len;
	bool trailing;		  /* bytes after the certificate's end */
	br_x509_trust_anchor *ta; /* pass two: the array */
	size_t n;
	unsigned skipped;
};

static void trust_dn(void *ctx, const void *p, size_t n)
{
	struct trust_sink *s = ctx;
	if (s->out && s->out + s->dn_len + n <= s->end)
		memcpy(s->out + s->dn_len, p, n);
	s->dn_len += n;
}

static bool trust_begin(void *ctx, const char *name)
{
	struct trust_sink *s = ctx;
	if (!pem_is_cert(name) && !pem_label_is(name, "TRUSTED CERTIFICATE")) {
		s->skipped++; /* a key, a CRL, parameters ... */
		return false;
	}
	s->dn_len = 0;
	s->trailing = false;
	br_x509_decoder_init(&s->d, trust_dn, s);
	return true;
}

/* BearSSL's decoders must not be pushed bytes once they have stopped
 * (done or failed): their interpreter has no next instruction then.
 * Bytes after the end of a certificate make it malformed. */
static void trust_data(void *ctx, const void *p, size_t n)
{
	struct trust_sink *s = ctx;
	if (s->d.decoded || s->d.err) {
		s->trailing = true;
		return;
	}
	br_x509_decoder_push(&s->d, p, n);
}

static void trust_end(void *ctx)
{
	struct trust_sink *s = ctx;
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&s->d);
	if (!pk || br_x509_decoder_last_error(&s->d) != 0 || s->trailing ||
	    (pk->key_type != BR_KEYTYPE_EC && pk->key_type != BR_KEYTYPE_RSA)) {
		s->skipped++;
		return;
	}
	size_t kl =
	    pk->key_type == BR_KEYTYPE_EC ? pk->key.ec.qlen : pk->key.rsa.nlen + pk->key.rsa.elen;
	if (s->ta) {
		br_x509_trust_anchor *ta = &s->ta[s->n];
		uint8_t *dn = s->out, *k = dn + s->dn_len;
		ta->dn = (br_x500_name){dn, s->dn_len};
		ta->flags = br_x509_decoder_isCA(&s->d) ? BR_X509_TA_CA : 0;
		ta->pkey.key_type = pk->key_type;
		if (pk->key_type == BR_KEYTYPE_EC) {
			memcpy(k, pk->key.ec.q, pk->key.ec.qlen);
			ta->pkey.key.ec = (br_ec_public_key){pk->key.ec.curve, k, pk->key.ec.qlen};
		} else {
			memcpy(k, pk->key.rsa.n, pk->key.rsa.nlen);
			memcpy(k + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
			ta->pkey.key.rsa = (br_rsa_public_key){
			    k, pk->key.rsa.nlen, k + pk->key.rsa.nlen, pk->key.rsa.elen};
		}
		s->out += s->dn_len + kl;
	}
	s->bytes += s->dn_len + kl;
	s->n++;
}

static int trust_pass(const void *buf, size_t len, struct trust_sink *s)
{
	if (looks_pem(buf, len)) {
		struct pem_sink ps = {trust_begin, trust_data, trust_end, s, false};
		return pem_walk(buf, len, &ps);
	}
	trust_begin(s, "CERTIFICATE");
	trust_data(s, buf, len);
	trust_end(s);
	return ATL_OK;
}

int tls_trust_load(struct loop *l, struct heap *h, const void *pem, size_t len,
		   struct tls_trust **out, unsigned *skipped)
{
	struct trust_sink s;

	memset(&s, 0, sizeof s);
	if (trust_pass(pem, len, &s) != ATL_OK) {
		LOG_ERROR(l, "trust anchors refused: not well-formed PEM");
		return ATL_EINVAL;
	}
	if (s.n == 0) {
		LOG_ERROR(l, "trust anchors refused: no usable certificate (%u skipped)",
			  s.skipped);
		return ATL_EINVAL;
	}
	size_t n = s.n, bytes = s.bytes;
	struct tls_trust *t = heap_alloc(h, sizeof *t, 8);
	br_x509_trust_anchor *ta = heap_alloc(h, n * sizeof *ta, 8);
	uint8_t *mem = heap_alloc(h, bytes, 8);
	if (!t || !ta || !mem)
		return ATL_ENOMEM;
	memset(&s, 0, sizeof s);
	s.ta = ta;
	s.out = mem;
	s.end = mem + bytes;
	if (trust_pass(pem, len, &s) != ATL_OK || s.n != n || s.bytes != bytes)
		return ATL_EINVAL; /* the input changed under us */
	t->anchors = ta;
	t->n = n;
	*out = t;
	if (skipped)
		*skipped = s.skipped;
	return ATL_OK;
}

/* ---- signatures ---------------------------------------------------------------------- */

struct scheme_hash {
	const br_hash_class *cls;
	const uint8_t *oid; /* for PKCS#1 v1.5 */
	size_t len;
};

/* The hash of an ECDSA or PKCS#1 v1.5 scheme; false for any other. */
static bool scheme_hash(uint16_t scheme, struct scheme_hash *sh)
{
	switch (scheme & 0xff00) {
	case 0x0400:
		*sh = (struct scheme_hash){&br_sha256_vtable, BR_HASH_OID_SHA256, 32};
		break;
	case 0x0500:
		*sh = (struct scheme_hash){&br_sha384_vtable, BR_HASH_OID_SHA384, 48};
		break;
	case 0x0600:
		*sh = (struct scheme_hash){&br_sha512_vtable, BR_HASH_OID_SHA512, 64};
		break;
	default:
		return false;
	}
	return (scheme & 0xff) == 0x01 || (scheme & 0xff) == 0x03;
}

static bool scheme_is_ecdsa(uint16_t scheme)
{
	return (scheme & 0xff) == 0x03;
}

static void hash_msg(const struct scheme_hash *sh, const void *msg, size_t len, uint8_t *out)
{
	br_hash_compat_context hc;
	sh->cls->init(&hc.vtable);
	sh->cls->update(&hc.vtable, msg, len);
	sh->cls->out(&hc.vtable, out);
}

size_t tls_cred_schemes(const struct tls_cred *cr, uint16_t version, uint16_t *out, size_t cap)
{
	uint16_t list[3];
	size_t n = 0;

	if (cr->key_type == TLS_KEY_EC) {
		uint16_t mine = cr->ec.curve == BR_EC_secp384r1 ? TLS_SIG_ECDSA_P384_SHA384
								: TLS_SIG_ECDSA_P256_SHA256;
		list[n++] = mine;
		/* TLS 1.2 does not bind the hash to the curve */
		if (version == TLS_V12) {
			list[n++] = mine == TLS_SIG_ECDSA_P256_SHA256 ? TLS_SIG_ECDSA_P384_SHA384
								      : TLS_SIG_ECDSA_P256_SHA256;
			list[n++] = 0x0603;
		}
	} else if (cr->key_type == TLS_KEY_RSA && version == TLS_V12) {
		list[n++] = TLS_SIG_RSA_PKCS1_SHA256;
		list[n++] = TLS_SIG_RSA_PKCS1_SHA384;
		list[n++] = TLS_SIG_RSA_PKCS1_SHA512;
	}
	if (n > cap)
		n = cap;
	memcpy(out, list, n * sizeof *out);
	return n;
}

int tls_cred_sign(const struct tls_cred *cr, uint16_t scheme, const void *msg, size_t msg_len,
		  uint8_t *sig, size_t *sig_len)
{
	struct scheme_hash sh;
	uint8_t hv[64];

	if (!scheme_hash(scheme, &sh))
		return ATL_EINVAL;
	hash_msg(&sh, msg, msg_len, hv);
	if (scheme_is_ecdsa(scheme)) {
		/* an ASN.1 signature is at most 2 * (qlen + 3) + 3 bytes */
		if (cr->key_type != TLS_KEY_EC || *sig_len < 2 * (cr->ec.xlen + 3) + 3)
			return ATL_EINVAL;
		size_t n =
		    br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), sh.cls, hv, &cr->ec, sig);
		tls_wipe(hv, sizeof hv);
		if (n == 0)
			return ATL_EINVAL;
		*sig_len = n;
		return ATL_OK;
	}
	size_t nl = (cr->rsa.n_bitlen + 7) / 8;
	if (cr->key_type != TLS_KEY_RSA || *sig_len < nl)
		return ATL_EINVAL;
	if (!br_rsa_pkcs1_sign_get_default()(sh.oid, hv, sh.len, &cr->rsa, sig))
		return ATL_EINVAL;
	*sig_len = nl;
	return ATL_OK;
}

int tls_pubkey_verify(const struct tls_pubkey *pk, uint16_t scheme, const void *msg, size_t msg_len,
		      const uint8_t *sig, size_t sig_len)
{
	struct scheme_hash sh;
	uint8_t hv[64], got[64];

	if (!scheme_hash(scheme, &sh))
		return TLS_ALERT_ILLEGAL_PARAMETER;
	hash_msg(&sh, msg, msg_len, hv);
	if (scheme_is_ecdsa(scheme)) {
		if (pk->type != TLS_KEY_EC)
			return TLS_ALERT_ILLEGAL_PARAMETER;
		br_ec_public_key k = {pk->curve, (unsigned char *)pk->q, pk->q_len};
		return br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), hv, sh.len, &k, sig,
							sig_len)
			   ? 0
			   : TLS_ALERT_DECRYPT_ERROR;
	}
	if (pk->type != TLS_KEY_RSA)
		return TLS_ALERT_ILLEGAL_PARAMETER;
	br_rsa_public_key k = {(unsigned char *)pk->n, pk->n_len, (unsigned char *)pk->e,
			       pk->e_len};
	if (sig_len != pk->n_len ||
	    !br_rsa_pkcs1_vrfy_get_default()(sig, sig_len, sh.oid, sh.len, &k, got))
		return TLS_ALERT_DECRYPT_ERROR;
	return tls_ct_eq(got, hv, sh.len) ? 0 : TLS_ALERT_DECRYPT_ERROR;
}

/* ---- chain validation ------------------------------------------------------------------ */

static const char *x509_why(unsigned err)
{
	switch (err) {
	case BR_ERR_X509_EXPIRED:
		return "certificate expired or not yet valid";
	case BR_ERR_X509_NOT_TRUSTED:
		return "certificate chain does not lead to a trust anchor";
	case BR_ERR_X509_BAD_SIGNATURE:
		return "bad signature in the certificate chain";
	case BR_ERR_X509_NOT_CA:
		return "an issuing certificate is not a CA";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return "certificate key usage forbids TLS";
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		return "certificate key too weak";
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return "certificate has an unknown critical extension";
	case BR_ERR_X509_UNSUPPORTED:
		return "certificate uses an unsupported algorithm";
	case BR_ERR_X509_DN_MISMATCH:
		return "certificate chain out of order";
	case BR_ERR_X509_LIMIT_EXCEEDED:
		return "certificate chain too long or too large";
	default:
		return "malformed certificate";
	}
}

static int x509_alert(unsigned err)
{
	switch (err) {
	case BR_ERR_X509_EXPIRED:
		return TLS_ALERT_CERTIFICATE_EXPIRED;
	case BR_ERR_X509_NOT_TRUSTED:
		return TLS_ALERT_UNKNOWN_CA;
	case BR_ERR_X509_UNSUPPORTED:
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return TLS_ALERT_UNSUPPORTED_CERTIFICATE;
	default:
		return TLS_ALERT_BAD_CERTIFICATE;
	}
}

int tls_chain_verify(const struct tls_trust *trust, const uint8_t *const *certs, const size_t *lens,
		     size_t n, const char *name, uint64_t unix_ms, struct tls_pubkey *out,
		     const char **why)
{
	*why = "empty certificate chain";
	if (n == 0)
		return TLS_ALERT_BAD_CERTIFICATE;
	int a = decode_ee(certs[0], lens[0], out);
	if (a) {
		*why = a == TLS_ALERT_UNSUPPORTED_CERTIFICATE ? "unsupported certificate key"
							      : "malformed certificate";
		return a;
	}
	*why = NULL;
	if (!trust)
		return 0;
	if (unix_ms == 0) {
		*why = "no wall clock to check the certificate's validity";
		return TLS_ALERT_BAD_CERTIFICATE;
	}

	br_x509_minimal_context xc;
	br_x509_minimal_init(&xc, &br_sha256_vtable, trust->anchors, trust->n);
	br_x509_minimal_set_hash(&xc, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(&xc, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(&xc, br_sha512_ID, &br_sha512_vtable);
	br_x509_minimal_set_hash(&xc, br_sha224_ID, &br_sha224_vtable);
	br_x509_minimal_set_rsa(&xc, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_ecdsa(&xc, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default());
	br_x509_minimal_set_minrsa(&xc, 256); /* 2048 bits */
	uint64_t secs = unix_ms / 1000;
	br_x509_minimal_set_time(&xc, (uint32_t)(secs / 86400 + 719528), (uint32_t)(secs % 86400));

	const br_x509_class **vt = &xc.vtable;
	(*vt)->start_chain(vt, NULL); /* names are checked below, by our rules */
	for (size_t i = 0; i < n; i++) {
		(*vt)->start_cert(vt, (uint32_t)lens[i]);
		(*vt)->append(vt, certs[i], lens[i]);
		(*vt)->end_cert(vt);
	}
	unsigned err = (*vt)->end_chain(vt);
	if (err != BR_ERR_OK) {
		*why = x509_why(err);
		return x509_alert(err);
	}
	if (name && !tls_cert_names_host(certs[0], lens[0], name)) {
		*why = "certificate does not name the server";
		return TLS_ALERT_BAD_CERTIFICATE;
	}
	return 0;
}
