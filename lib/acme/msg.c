/*
 * msg.c - the ACME core's messages: the request bodies a client sends
 * (RFC 8555 7.3, 7.4), and the reading of what comes back: HTTP response
 * heads (Location, Replay-Nonce, Retry-After), the directory, orders,
 * authorizations with their http-01 and dns-01 challenges, problem
 * documents.  (The issued chain is read by lib/tls: tls_cred_load,
 * tls_cred_validity.)
 */
#include <string.h>

#include "bearssl/bearssl.h"

#include "acme/acme.h"
#include "core/buf.h"
#include "core/err.h"

static void put(struct wr *w, const char *s)
{
	wr_bytes(w, s, strlen(s));
}

/* A JSON string of s; names and addresses need no escapes, so refuse
 * what would (the caller's configuration is wrong then). */
static void put_plain_string(struct wr *w, const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			w->err = true;
	wr_u8(w, '"');
	put(w, s);
	wr_u8(w, '"');
}

static int finish(struct wr *w, size_t *len)
{
	wr_u8(w, 0);
	if (!wr_ok(w))
		return ATL_EMSGSIZE;
	*len = w->pos - 1;
	return ATL_OK;
}

/* ---- request bodies ---- */

int acme_body_new_account(const char *email, char *out, size_t cap, size_t *len)
{
	struct wr w = wr_make(out, cap);
	put(&w, "{\"termsOfServiceAgreed\":true");
	if (email && *email) {
		char mailto[ACME_NAME_MAX + 8];
		if (strlen(email) > ACME_NAME_MAX)
			return ATL_EINVAL;
		memcpy(mailto, "mailto:", 7);
		memcpy(mailto + 7, email, strlen(email) + 1);
		put(&w, ",\"contact\":[");
		put_plain_string(&w, mailto);
		put(&w, "]");
	}
	put(&w, "}");
	return finish(&w, len);
}

int acme_body_new_order(const char *const *names, unsigned n, char *out, size_t cap, size_t *len)
{
	if (n == 0 || n > ACME_NAMES_MAX)
		return ATL_EINVAL;
	struct wr w = wr_make(out, cap);
	put(&w, "{\"identifiers\":[");
	for (unsigned i = 0; i < n; i++) {
		put(&w, i ? ",{\"type\":\"dns\",\"value\":" : "{\"type\":\"dns\",\"value\":");
		put_plain_string(&w, names[i]);
		put(&w, "}");
	}
	put(&w, "]}");
	return finish(&w, len);
}

int acme_body_finalize(const uint8_t *der, size_t der_len, char *out, size_t cap, size_t *len)
{
	struct wr w = wr_make(out, cap);
	put(&w, "{\"csr\":\"");
	size_t need = acme_b64url_len(der_len);
	uint8_t *dst = wr_take(&w, need + 1);
	if (dst) {
		acme_b64url_encode(der, der_len, (char *)dst, need + 1, NULL);
		w.pos--;
	}
	put(&w, "\"}");
	return finish(&w, len);
}

/* ---- HTTP response heads ---- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool name_is(const char *p, size_t n, const char *name)
{
	if (strlen(name) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != name[i])
			return false;
	return true;
}

static int copy_value(const char *p, size_t n, char *out, size_t cap)
{
	if (n >= cap)
		return ATL_EMSGSIZE;
	memcpy(out, p, n);
	out[n] = '\0';
	return ATL_OK;
}

static bool parse_u64(const char *p, size_t n, uint64_t *v)
{
	if (n == 0 || n > 19)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	*v = x;
	return true;
}

int acme_http_head(const uint8_t *buf, size_t len, struct acme_http_resp *r)
{
	const char *s = (const char *)buf;
	size_t end = 0;
	for (size_t i = 0; i + 3 < len; i++) {
		if (!memcmp(s + i, "\r\n\r\n", 4)) {
			end = i + 4;
			break;
		}
	}
	if (end == 0)
		return ATL_EAGAIN;
	memset(r, 0, sizeof *r);
	r->content_length = UINT64_MAX;
	r->head_len = end;
	/* RFC 9112 4: HTTP/1.x SP 3DIGIT SP reason */
	if (end < 14 || memcmp(s, "HTTP/1.", 7) || s[7] < '0' || s[7] > '9' || s[8] != ' ')
		return ATL_EINVAL;
	uint64_t st;
	if (!parse_u64(s + 9, 3, &st) || st < 100 || (s[12] != ' ' && s[12] != '\r'))
		return ATL_EINVAL;
	r->status = (int)st;
	size_t p = 0;
	while (p < end && s[p] != '\n')
		p++;
	p++;
	while (p + 2 <= end) {
		size_t e = p;
		while (e < end && s[e] != '\r')
			e++;
		if (e == p)
			break; /* the blank line */
		if (e + 1 >= end || s[e + 1] != '\n')
			return ATL_EINVAL;
		size_t c = p;
		while (c < e && s[c] != ':')
			c++;
		if (c == e || c == p)
			return ATL_EINVAL;
		size_t vs = c + 1, ve = e;
		while (vs < ve && (s[vs] == ' ' || s[vs] == '\t'))
			vs++;
		while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
			ve--;
		const char *name = s + p, *val = s + vs;
		size_t nl = c - p, vl = ve - vs;
		int rc = ATL_OK;
		if (name_is(name, nl, "location")) {
			rc = copy_value(val, vl, r->location, sizeof r->location);
		} else if (name_is(name, nl, "replay-nonce")) {
			rc = copy_value(val, vl, r->nonce, sizeof r->nonce);
		} else if (name_is(name, nl, "content-type")) {
			size_t k =
			    vl < sizeof r->content_type - 1 ? vl : sizeof r->content_type - 1;
			rc = copy_value(val, k, r->content_type, sizeof r->content_type);
		} else if (name_is(name, nl, "content-length")) {
			/* RFC 9112 6.3: lengths that differ leave no framing */
			uint64_t cl;
			if (!parse_u64(val, vl, &cl) ||
			    (r->content_length != UINT64_MAX && r->content_length != cl))
				return ATL_EINVAL;
			r->content_length = cl;
		} else if (name_is(name, nl, "transfer-encoding")) {
			/* chunked alone: a coding under it (", chunked" after
			 * gzip) would have to be undone, and is not understood */
			r->chunked = name_is(val, vl, "chunked");
			if (!r->chunked)
				return ATL_EINVAL;
		} else if (name_is(name, nl, "retry-after")) {
			if (!parse_u64(val, vl, &r->retry_after))
				r->retry_after = 0; /* an HTTP-date: not used */
		}
		if (rc != ATL_OK)
			return rc;
		p = e + 2;
	}
	return ATL_OK;
}

/* ---- objects ---- */

static const char *const status_names[] = {
    "unknown", "pending",     "ready",	 "processing", "valid",
    "invalid", "deactivated", "expired", "revoked",
};

enum acme_status acme_status_parse(const char *s)
{
	for (size_t i = 1; i < sizeof status_names / sizeof status_names[0]; i++)
		if (!strcmp(s, status_names[i]))
			return (enum acme_status)i;
	return ACME_ST_UNKNOWN;
}

const char *acme_status_name(enum acme_status st)
{
	return (size_t)st < sizeof status_names / sizeof status_names[0] ? status_names[st]
									 : "unknown";
}

static int get_status(struct acme_span obj, enum acme_status *st)
{
	char s[32];
	int rc = acme_json_get_string(obj, "status", s, sizeof s);
	if (rc != ATL_OK)
		return rc == ATL_EMSGSIZE ? ATL_EINVAL : rc;
	*st = acme_status_parse(s);
	return ATL_OK;
}

int acme_directory_parse(const char *json, size_t n, struct acme_directory *d)
{
	struct acme_span v;
	int rc = acme_json_parse(json, n, &v);
	if (rc != ATL_OK)
		return rc;
	memset(d, 0, sizeof *d);
	if ((rc = acme_json_get_string(v, "newNonce", d->new_nonce, sizeof d->new_nonce)) ||
	    (rc = acme_json_get_string(v, "newAccount", d->new_account, sizeof d->new_account)) ||
	    (rc = acme_json_get_string(v, "newOrder", d->new_order, sizeof d->new_order)))
		return rc;
	return ATL_OK;
}

int acme_order_parse(const char *json, size_t n, struct acme_order *o)
{
	struct acme_span v, arr, e;
	int rc = acme_json_parse(json, n, &v);
	if (rc != ATL_OK)
		return rc;
	memset(o, 0, sizeof *o);
	if ((rc = get_status(v, &o->status)) != ATL_OK)
		return rc;
	if ((rc = acme_json_get_string(v, "finalize", o->finalize, sizeof o->finalize)) != ATL_OK)
		return rc;
	rc = acme_json_get_string(v, "certificate", o->certificate, sizeof o->certificate);
	if (rc != ATL_OK && rc != ATL_ENOENT)
		return rc;
	if ((rc = acme_json_member(v, "authorizations", &arr)) != ATL_OK)
		return rc;
	for (unsigned i = 0;; i++) {
		rc = acme_json_index(arr, i, &e);
		if (rc == ATL_ENOENT)
			break;
		if (rc != ATL_OK)
			return rc;
		if (i == ACME_NAMES_MAX)
			return ATL_EMSGSIZE;
		if ((rc = acme_json_string(e, o->authz[i], ACME_URL_MAX)) != ATL_OK)
			return rc;
		o->nauthz = i + 1;
	}
	return ATL_OK;
}

static int chall_parse(struct acme_span ch, struct acme_chall *c)
{
	int rc;
	if ((rc = get_status(ch, &c->status)) != ATL_OK ||
	    (rc = acme_json_get_string(ch, "url", c->url, sizeof c->url)) != ATL_OK ||
	    (rc = acme_json_get_string(ch, "token", c->token, sizeof c->token)) != ATL_OK)
		return rc;
	/* RFC 8555 8.3, 8.4: the token holds base64url characters and no
	 * padding; nothing else may go into a path, a key authorization or
	 * a TXT record.  It need not be the encoding of whole bytes, so only
	 * the alphabet is checked (a decode would refuse lengths 4k+1 and
	 * non-zero trailing bits a server is free to send). */
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789-_";
	if (c->token[0] == '\0' || c->token[strspn(c->token, alphabet)] != '\0')
		return ATL_EINVAL;
	c->present = true;
	return ATL_OK;
}

int acme_authz_parse(const char *json, size_t n, struct acme_authz *a)
{
	struct acme_span v, id, arr, ch, wc;
	int rc = acme_json_parse(json, n, &v);
	if (rc != ATL_OK)
		return rc;
	memset(a, 0, sizeof *a);
	if ((rc = get_status(v, &a->status)) != ATL_OK)
		return rc;
	if ((rc = acme_json_member(v, "identifier", &id)) != ATL_OK ||
	    (rc = acme_json_get_string(id, "value", a->name, sizeof a->name)) != ATL_OK)
		return rc;
	if (acme_json_member(v, "wildcard", &wc) == ATL_OK &&
	    acme_json_bool(wc, &a->wildcard) != ATL_OK)
		return ATL_EINVAL;
	if ((rc = acme_json_member(v, "challenges", &arr)) != ATL_OK)
		return rc;
	for (unsigned i = 0;; i++) {
		rc = acme_json_index(arr, i, &ch);
		if (rc == ATL_ENOENT)
			return ATL_OK;
		if (rc != ATL_OK)
			return rc;
		char type[32];
		rc = acme_json_get_string(ch, "type", type, sizeof type);
		if (rc == ATL_EMSGSIZE)
			continue; /* a type we do not know */
		if (rc != ATL_OK)
			return rc;
		struct acme_chall *c = !strcmp(type, "http-01")	 ? &a->http01
				       : !strcmp(type, "dns-01") ? &a->dns01
								 : NULL;
		if (c && !c->present && (rc = chall_parse(ch, c)) != ATL_OK)
			return rc;
	}
}

int acme_problem_parse(const char *json, size_t n, char *type, size_t tcap, char *detail,
		       size_t dcap)
{
	struct acme_span v;
	type[0] = detail[0] = '\0';
	int rc = acme_json_parse(json, n, &v);
	if (rc != ATL_OK || v.p[0] != '{')
		return ATL_EINVAL;
	if (acme_json_get_string(v, "type", type, tcap) != ATL_OK)
		type[0] = '\0';
	if (acme_json_get_string(v, "detail", detail, dcap) != ATL_OK)
		detail[0] = '\0';
	return ATL_OK;
}

static bool url_char(char c)
{
	return (unsigned char)c > ' ' && (unsigned char)c < 0x7f;
}

int acme_url_split(const char *url, char *host, size_t hcap, char *path, size_t pcap)
{
	static const char scheme[] = "https://";
	if (strncmp(url, scheme, sizeof scheme - 1))
		return ATL_EINVAL;
	const char *h = url + sizeof scheme - 1;
	size_t hl = strcspn(h, "/?#");
	if (hl == 0 || hl >= hcap)
		return hl == 0 ? ATL_EINVAL : ATL_EMSGSIZE;
	/* RFC 3986 2: a URI is printable ASCII; a space, CR or LF would split
	 * the request line or the Host field it goes into */
	for (size_t i = 0; i < hl; i++)
		if (h[i] == '@' || !url_char(h[i]))
			return ATL_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	const char *p = h + hl;
	if (*p == '#')
		p = "";
	size_t pl = strcspn(p, "#");
	bool slash = *p != '/';
	if (pl + slash >= pcap)
		return ATL_EMSGSIZE;
	for (size_t i = 0; i < pl; i++)
		if (!url_char(p[i]))
			return ATL_EINVAL;
	if (slash)
		path[0] = '/';
	memcpy(path + slash, p, pl);
	path[pl + slash] = '\0';
	return ATL_OK;
}
