/*
 * zonefile.c - the RFC 1035 section 5 master-file parser.
 *
 * The text is read one logical entry at a time: the tokens up to a newline
 * outside parentheses.  Tokens keep their escapes (names and strings
 * resolve them); quoted strings lose their quotes.  $INCLUDE recurses into
 * text the caller's include callback provides, to a bounded depth.
 */
#include "core/err.h"
#include "core/fmt.h"
#include "dns/dns.h"

#define ZF_INCLUDE_DEPTH 8
#define ZF_TOKENS	 DNS_ZPARSE_TOKENS
#define DNS_RDATA_MAX	 65535

int dns_ttl_from_text(const char *s, size_t n, uint32_t *out);

struct zf_src {
	const char *file;
	const char *text;
	size_t len, pos;
	unsigned line;
};

/* State that carries across included files (RFC 1035 5.1: $INCLUDE does
 * not change the including file's origin; the last owner carries on). */
struct zf {
	struct dns_zparse *p;
	uint8_t origin[DNS_NAME_MAX];
	bool have_origin;
	uint8_t last_owner[DNS_NAME_MAX];
	bool have_owner;
	uint32_t default_ttl, last_ttl;
	bool have_ttl_dir, have_last_ttl;
	unsigned depth;
	/* Shared by every include level (an entry is finished with before
	 * the next is read), from the caller's scratch: small stacks. */
	struct dns_tok *t;
	uint8_t *rdata;
};

static int zf_error(struct zf *z, const struct zf_src *s, unsigned line, const char *why)
{
	fmt_snprintf(z->p->err, sizeof z->p->err, "%s:%u: %s", s->file, line, why);
	return ATL_EINVAL;
}

/*
 * Read the tokens of the next entry.  *nt = 0 at the end of the text.
 * *blank_start tells whether the entry began with blank space (an omitted
 * owner); *line is the line it began on.
 */
static int zf_entry(struct zf *z, struct zf_src *s, struct dns_tok *t, unsigned *nt,
		    bool *blank_start, unsigned *line)
{
	int depth = 0;
	*nt = 0;
	for (;;) {
		/* At the start of a line. */
		if (s->pos >= s->len)
			return depth ? zf_error(z, s, s->line, "unbalanced '('") : ATL_OK;
		*blank_start = s->text[s->pos] == ' ' || s->text[s->pos] == '\t';
		*line = s->line;
		for (;;) {
			if (s->pos >= s->len)
				break;
			char c = s->text[s->pos];
			if (c == '\n') {
				s->pos++;
				s->line++;
				if (depth == 0)
					break;
				continue;
			}
			if (c == ' ' || c == '\t' || c == '\r') {
				s->pos++;
				continue;
			}
			if (c == ';') {
				while (s->pos < s->len && s->text[s->pos] != '\n')
					s->pos++;
				continue;
			}
			if (c == '(') {
				depth++;
				s->pos++;
				continue;
			}
			if (c == ')') {
				if (--depth < 0)
					return zf_error(z, s, s->line, "unbalanced ')'");
				s->pos++;
				continue;
			}
			if (*nt >= ZF_TOKENS)
				return zf_error(z, s, s->line, "too many fields in one entry");
			struct dns_tok *k = &t[(*nt)++];
			size_t start;
			if (c == '"') {
				start = ++s->pos;
				while (s->pos < s->len && s->text[s->pos] != '"') {
					if (s->text[s->pos] == '\\' && s->pos + 1 < s->len)
						s->pos++;
					if (s->text[s->pos] == '\n')
						s->line++;
					s->pos++;
				}
				if (s->pos >= s->len)
					return zf_error(z, s, s->line,
							"unterminated quoted string");
				k->quoted = true;
				k->s = s->text + start;
				k->n = (uint16_t)(s->pos - start);
				s->pos++;
				if (s->pos - start > 65535)
					return zf_error(z, s, s->line, "string too long");
				continue;
			}
			start = s->pos;
			while (s->pos < s->len) {
				c = s->text[s->pos];
				if (c == '\\' && s->pos + 1 < s->len) {
					s->pos += 2;
					continue;
				}
				if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
				    c == '(' || c == ')' || c == '"')
					break;
				s->pos++;
			}
			if (s->pos - start > 65535)
				return zf_error(z, s, s->line, "field too long");
			k->quoted = false;
			k->s = s->text + start;
			k->n = (uint16_t)(s->pos - start);
		}
		if (depth && s->pos >= s->len)
			return zf_error(z, s, s->line, "unbalanced '('");
		if (*nt)
			return ATL_OK;
		/* A blank or comment-only line: keep going. */
	}
}

static bool tok_is(const struct dns_tok *t, const char *lit)
{
	size_t n = strlen(lit);
	if (t->quoted || t->n != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t->s[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c != lit[i])
			return false;
	}
	return true;
}

static bool tok_is_class(const struct dns_tok *t, uint16_t *class)
{
	if (tok_is(t, "IN")) {
		*class = DNS_C_IN;
		return true;
	}
	/* Other classes are recognised so the error can name them. */
	if (tok_is(t, "CH") || tok_is(t, "HS") || tok_is(t, "CS")) {
		*class = 0;
		return true;
	}
	if (t->n > 5 && !t->quoted && (t->s[0] | 0x20) == 'c' && (t->s[1] | 0x20) == 'l' &&
	    (t->s[2] | 0x20) == 'a' && (t->s[3] | 0x20) == 's' && (t->s[4] | 0x20) == 's') {
		*class = 0;
		return true;
	}
	return false;
}

static int zf_parse_src(struct zf *z, struct zf_src *s);

static int zf_include(struct zf *z, const struct zf_src *s, unsigned line, const struct dns_tok *t,
		      unsigned nt)
{
	if (nt < 2 || nt > 3)
		return zf_error(z, s, line, "$INCLUDE takes a file name and an optional origin");
	if (!z->p->include)
		return zf_error(z, s, line, "$INCLUDE is not available here");
	if (z->depth >= ZF_INCLUDE_DEPTH)
		return zf_error(z, s, line, "$INCLUDE nested too deeply");
	char file[256];
	if (t[1].n >= sizeof file)
		return zf_error(z, s, line, "$INCLUDE file name too long");
	memcpy(file, t[1].s, t[1].n);
	file[t[1].n] = 0;
	uint8_t saved[DNS_NAME_MAX];
	bool saved_have = z->have_origin;
	memcpy(saved, z->origin, sizeof saved);
	if (nt == 3) {
		uint8_t o[DNS_NAME_MAX];
		if (dns_name_from_text(t[2].s, t[2].n, z->have_origin ? z->origin : NULL, o) !=
		    ATL_OK)
			return zf_error(z, s, line, "bad $INCLUDE origin");
		memcpy(z->origin, o, sizeof o);
		z->have_origin = true;
	}
	const char *text;
	size_t len;
	if (z->p->include(z->p->include_ctx, file, &text, &len) != ATL_OK)
		return zf_error(z, s, line, "$INCLUDE file not found");
	/* The included file's name must outlive the error message only. */
	struct zf_src inc = {file, text, len, 0, 1};
	z->depth++;
	int rc = zf_parse_src(z, &inc);
	z->depth--;
	/* RFC 1035 5.1: the origin returns to what it was. */
	memcpy(z->origin, saved, sizeof saved);
	z->have_origin = saved_have;
	return rc;
}

static int zf_record(struct zf *z, struct zf_src *s, unsigned line, struct dns_tok *t, unsigned nt,
		     bool blank_start)
{
	unsigned k = 0;
	uint8_t owner[DNS_NAME_MAX];
	const uint8_t *origin = z->have_origin ? z->origin : NULL;
	if (blank_start) {
		if (!z->have_owner)
			return zf_error(z, s, line, "no owner name for the first record");
		memcpy(owner, z->last_owner, sizeof owner);
	} else {
		if (t[0].quoted || dns_name_from_text(t[0].s, t[0].n, origin, owner) != ATL_OK)
			return zf_error(z, s, line,
					origin ? "bad owner name" : "bad owner name (no $ORIGIN)");
		k = 1;
		memcpy(z->last_owner, owner, sizeof owner);
		z->have_owner = true;
	}
	/* [<TTL>] [<class>] <type> or [<class>] [<TTL>] <type> (RFC 1035 5.1). */
	uint32_t ttl = 0;
	bool have_ttl = false, have_class = false;
	uint16_t class = DNS_C_IN;
	for (int i = 0; i < 2 && k < nt; i++) {
		if (!have_ttl && !t[k].quoted && t[k].n && t[k].s[0] >= '0' && t[k].s[0] <= '9') {
			if (dns_ttl_from_text(t[k].s, t[k].n, &ttl) != ATL_OK)
				return zf_error(z, s, line, "bad TTL");
			have_ttl = true;
			k++;
		} else if (!have_class && tok_is_class(&t[k], &class)) {
			have_class = true;
			k++;
		}
	}
	if (class != DNS_C_IN)
		return zf_error(z, s, line, "only class IN is served");
	if (k >= nt)
		return zf_error(z, s, line, "no record type");
	int type = t[k].quoted ? ATL_EINVAL : dns_type_from_text(t[k].s, t[k].n);
	if (type < 0)
		return zf_error(z, s, line, "unknown record type");
	if (type == DNS_T_OPT || type == DNS_T_TSIG || type == DNS_T_ANY || type == DNS_T_AXFR ||
	    type == DNS_T_IXFR || type == 0)
		return zf_error(z, s, line, "this type cannot appear in a zone");
	k++;
	const char *why;
	int rdlen = dns_rdata_from_text((uint16_t)type, t + k, nt - k, origin, z->rdata,
					DNS_RDATA_MAX, &why);
	if (rdlen < 0)
		return zf_error(z, s, line, why);
	/* RFC 2308 4: $TTL, else the last explicit TTL (RFC 1035 5.1),
	 * else a SOA's minimum (the pre-$TTL convention), else a default. */
	if (have_ttl) {
		z->last_ttl = ttl;
		z->have_last_ttl = true;
	} else if (z->have_ttl_dir) {
		ttl = z->default_ttl;
	} else if (z->have_last_ttl) {
		ttl = z->last_ttl;
	} else if (type == DNS_T_SOA && rdlen >= 4) {
		ttl = load_be32(z->rdata + rdlen - 4);
	} else {
		ttl = z->default_ttl;
	}
	struct dns_zrec rec = {owner, (uint16_t)type, DNS_C_IN, ttl, (uint16_t)rdlen, z->rdata};
	int rc = z->p->record(z->p->ctx, &rec);
	if (rc != ATL_OK && !z->p->err[0])
		zf_error(z, s, line,
			 z->p->record_err && z->p->record_err[0] ? z->p->record_err
								 : "record refused");
	return rc;
}

static int zf_parse_src(struct zf *z, struct zf_src *s)
{
	struct dns_tok *t = z->t;
	for (;;) {
		unsigned nt, line;
		bool blank;
		int rc = zf_entry(z, s, t, &nt, &blank, &line);
		if (rc != ATL_OK)
			return rc;
		if (!nt)
			return ATL_OK;
		if (!blank && tok_is(&t[0], "$ORIGIN")) {
			uint8_t o[DNS_NAME_MAX];
			if (nt != 2 ||
			    dns_name_from_text(t[1].s, t[1].n, z->have_origin ? z->origin : NULL,
					       o) != ATL_OK)
				return zf_error(z, s, line, "bad $ORIGIN");
			memcpy(z->origin, o, sizeof o);
			z->have_origin = true;
		} else if (!blank && tok_is(&t[0], "$TTL")) {
			if (nt != 2 || dns_ttl_from_text(t[1].s, t[1].n, &z->default_ttl) != ATL_OK)
				return zf_error(z, s, line, "bad $TTL");
			z->have_ttl_dir = true;
		} else if (!blank && tok_is(&t[0], "$INCLUDE")) {
			rc = zf_include(z, s, line, t, nt);
		} else if (!blank && t[0].n && t[0].s[0] == '$' && !t[0].quoted) {
			return zf_error(z, s, line, "unknown directive");
		} else {
			rc = zf_record(z, s, line, t, nt, blank);
		}
		if (rc != ATL_OK)
			return rc;
	}
}

int dns_zonefile_parse(struct dns_zparse *p, const char *file, const char *text, size_t len,
		       const uint8_t *origin)
{
	struct zf z;
	memset(&z, 0, sizeof z);
	z.p = p;
	z.t = (struct dns_tok *)p->scratch;
	z.rdata = p->scratch + ZF_TOKENS * sizeof(struct dns_tok);
	z.default_ttl = p->default_ttl ? p->default_ttl : 3600;
	p->err[0] = 0;
	if (origin) {
		memcpy(z.origin, origin, dns_name_len(origin));
		z.have_origin = true;
	}
	struct zf_src s = {file, text, len, 0, 1};
	return zf_parse_src(&z, &s);
}
