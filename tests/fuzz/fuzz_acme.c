/*
 * fuzz_acme.c - libFuzzer target for lib/acme's parsers of what an ACME
 * server (or a network between) sends, and lib/dns's check of the answer
 * to the dns-01 UPDATE.
 *
 * Byte 0 picks the parser (its value modulo the count below); the last
 * choice runs every parser over the same bytes.  The rest is the input:
 *  - JSON: acme_json_parse, then a walk of the value: arrays by index,
 *    objects by the member names ACME uses, every string unescaped, every
 *    bool read;
 *  - an HTTP response head (acme_http_head);
 *  - a directory, an order, an authorization, a problem document;
 *  - a URL (acme_url_split, over a NUL-terminated copy);
 *  - base64url (acme_b64url_decode);
 *  - a DNS message answering our UPDATE (dns_update_response_parse).
 * Invariants: no crash or sanitizer report; only the documented error
 * values; every span lies inside the input; every output string is
 * NUL-terminated inside its buffer; a head shorter than the one accepted
 * is ATL_EAGAIN; base64url that decodes encodes back to itself (the
 * decoder takes only the canonical form); a token is base64url; an rcode
 * fits in four bits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme.h"
#include "core/err.h"
#include "dns/dns.h"
#include "dns/xfr.h"

#define FAIL(what)                                                                                 \
	do {                                                                                       \
		fprintf(stderr, "fuzz_acme: %s (line %d)\n", what, __LINE__);                      \
		abort();                                                                           \
	} while (0)

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static const char *in_p;
static size_t in_n;

static void check_span(struct acme_span v)
{
	if (v.p < in_p || v.n > in_n || (size_t)(v.p - in_p) > in_n - v.n)
		FAIL("span outside the input");
}

static void check_rc(int rc)
{
	if (rc != ATL_OK && rc != ATL_EINVAL && rc != ATL_ENOENT && rc != ATL_EMSGSIZE)
		FAIL("undocumented error");
}

static void check_string(struct acme_span v)
{
	char small[8], big[4096];
	int rs = acme_json_string(v, small, sizeof small);
	int rb = acme_json_string(v, big, sizeof big);
	check_rc(rs);
	check_rc(rb);
	if (rb == ATL_OK && strlen(big) >= sizeof big)
		FAIL("string not terminated");
	if (rs == ATL_OK && (rb != ATL_OK || strcmp(small, big)))
		FAIL("string differs with the buffer size");
	if (rb == ATL_EINVAL && rs == ATL_OK)
		FAIL("a small buffer took what a big one refused");
	/* unescaping never grows the text */
	if (rb == ATL_OK && strlen(big) > v.n)
		FAIL("string longer than its text");
}

static const char *const keys[] = {
    "status",	  "type",	    "detail",	"url",
    "token",	  "identifier",	    "value",	"wildcard",
    "challenges", "authorizations", "finalize", "certificate",
    "newNonce",	  "newAccount",	    "newOrder", "a",
    "",		  "subproblems",
};

static void walk(struct acme_span v, unsigned depth)
{
	check_span(v);
	if (depth > ACME_JSON_DEPTH + 1)
		FAIL("walked deeper than the reader allows");
	if (v.n == 0)
		FAIL("empty value");
	bool b;
	int rc = acme_json_bool(v, &b);
	if (rc != ATL_OK && rc != ATL_EINVAL)
		FAIL("bool");
	struct acme_span e;
	switch (v.p[0]) {
	case '"':
		check_string(v);
		break;
	case '[':
		for (unsigned i = 0; i < 64; i++) {
			rc = acme_json_index(v, i, &e);
			check_rc(rc);
			if (rc != ATL_OK)
				break;
			walk(e, depth + 1);
		}
		if (acme_json_member(v, "a", &e) != ATL_EINVAL)
			FAIL("an array has members");
		break;
	case '{':
		for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			rc = acme_json_member(v, keys[i], &e);
			check_rc(rc);
			if (rc == ATL_OK)
				walk(e, depth + 1);
			char s[64];
			rc = acme_json_get_string(v, keys[i], s, sizeof s);
			check_rc(rc);
			if (rc == ATL_OK && !TERMINATED(s))
				FAIL("member string not terminated");
		}
		if (acme_json_index(v, 0, &e) != ATL_EINVAL)
			FAIL("an object has elements");
		break;
	default:
		if (acme_json_member(v, "a", &e) != ATL_EINVAL)
			FAIL("a scalar has members");
		break;
	}
}

static void fuzz_json(const char *p, size_t n)
{
	struct acme_span v;
	int rc = acme_json_parse(p, n, &v);
	if (rc != ATL_OK && rc != ATL_EINVAL)
		FAIL("parse error value");
	if (rc != ATL_OK)
		return;
	walk(v, 0);
	struct acme_span w;
	if (acme_json_parse(v.p, v.n, &w) != ATL_OK || w.p != v.p || w.n != v.n)
		FAIL("a value does not parse as itself");
}

static struct acme_http_resp hr, hr2;

static void fuzz_head(const uint8_t *p, size_t n)
{
	int rc = acme_http_head(p, n, &hr);
	if (rc != ATL_OK && rc != ATL_EAGAIN && rc != ATL_EINVAL && rc != ATL_EMSGSIZE)
		FAIL("head error value");
	if (rc == ATL_EAGAIN)
		return;
	if (hr.head_len < 4 || hr.head_len > n || memcmp(p + hr.head_len - 4, "\r\n\r\n", 4))
		FAIL("head length");
	/* the head ends at the first blank line: any shorter prefix is
	 * incomplete, and the bytes after it change nothing */
	if (acme_http_head(p, hr.head_len - 1, &hr2) != ATL_EAGAIN)
		FAIL("a shorter head is not EAGAIN");
	if (acme_http_head(p, hr.head_len, &hr2) != rc)
		FAIL("the body changed the head");
	if (rc != ATL_OK)
		return;
	if (hr.status < 100 || hr.status > 999)
		FAIL("status");
	if (!TERMINATED(hr.location) || !TERMINATED(hr.nonce) || !TERMINATED(hr.content_type))
		FAIL("head string not terminated");
	if (memcmp(&hr, &hr2, sizeof hr))
		FAIL("the same head parsed twice differs");
}

static bool is_b64url(const char *s)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	return s[0] && s[strspn(s, a)] == '\0';
}

static void check_chall(const struct acme_chall *c)
{
	if (!c->present)
		return;
	if (!TERMINATED(c->url) || !TERMINATED(c->token))
		FAIL("challenge string not terminated");
	if (!is_b64url(c->token))
		FAIL("token is not base64url");
}

static void fuzz_objects(const char *p, size_t n, int which)
{
	static struct acme_directory d;
	static struct acme_order o;
	static struct acme_authz a;
	int rc;
	if (which < 0 || which == 0) {
		rc = acme_directory_parse(p, n, &d);
		check_rc(rc);
		if (rc == ATL_OK && (!TERMINATED(d.new_nonce) || !TERMINATED(d.new_account) ||
				     !TERMINATED(d.new_order)))
			FAIL("directory string not terminated");
	}
	if (which < 0 || which == 1) {
		rc = acme_order_parse(p, n, &o);
		check_rc(rc);
		if (rc == ATL_OK) {
			if (o.nauthz > ACME_NAMES_MAX || !TERMINATED(o.finalize) ||
			    !TERMINATED(o.certificate))
				FAIL("order");
			for (unsigned i = 0; i < o.nauthz; i++)
				if (!TERMINATED(o.authz[i]))
					FAIL("order authz not terminated");
			if (acme_status_name(o.status) == NULL)
				FAIL("status name");
		}
	}
	if (which < 0 || which == 2) {
		rc = acme_authz_parse(p, n, &a);
		check_rc(rc);
		if (rc == ATL_OK) {
			if (!TERMINATED(a.name))
				FAIL("authz name not terminated");
			check_chall(&a.http01);
			check_chall(&a.dns01);
		}
	}
	if (which < 0 || which == 3) {
		char type[32], detail[256];
		rc = acme_problem_parse(p, n, type, sizeof type, detail, sizeof detail);
		if (rc != ATL_OK && rc != ATL_EINVAL)
			FAIL("problem error value");
		if (!TERMINATED(type) || !TERMINATED(detail))
			FAIL("problem string not terminated");
	}
}

static void fuzz_url(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		return;
	memcpy(s, p, n);
	s[n] = '\0';
	char host[64], path[ACME_URL_MAX];
	int rc = acme_url_split(s, host, sizeof host, path, sizeof path);
	check_rc(rc);
	if (rc == ATL_OK) {
		if (!TERMINATED(host) || !TERMINATED(path) || host[0] == '\0' || path[0] != '/')
			FAIL("url parts");
		for (const char *c = host; *c; c++)
			if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f || *c == '@' ||
			    *c == '/')
				FAIL("host character");
		for (const char *c = path; *c; c++)
			if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f || *c == '#')
				FAIL("path character");
	}
	free(s);
}

static void fuzz_b64(const char *p, size_t n)
{
	static uint8_t out[4096];
	static char back[8192];
	size_t len = 0;
	if (n > 4096)
		n = 4096;
	int rc = acme_b64url_decode(p, n, out, sizeof out, &len);
	if (rc != ATL_OK && rc != ATL_EINVAL && rc != ATL_EMSGSIZE)
		FAIL("b64 error value");
	if (rc != ATL_OK)
		return;
	if (len > sizeof out || acme_b64url_len(len) != n)
		FAIL("b64 length");
	size_t bl;
	if (acme_b64url_encode(out, len, back, sizeof back, &bl) != ATL_OK || bl != n ||
	    memcmp(back, p, n))
		FAIL("b64 does not encode back to itself");
	/* one byte less room is too little */
	if (len > 0 && acme_b64url_decode(p, n, out, len - 1, &bl) != ATL_EMSGSIZE)
		FAIL("b64 wrote past its room");
}

static void fuzz_dns(const uint8_t *p, size_t n)
{
	static uint8_t origin[DNS_NAME_MAX];
	if (!origin[0] &&
	    dns_name_from_text("example.test.", 13, (const uint8_t *)"", origin) != ATL_OK)
		abort();
	uint16_t id = n >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 0;
	int rc = dns_update_response_parse(p, n, id, origin);
	if (rc != ATL_EINVAL && (rc < 0 || rc > 15))
		FAIL("rcode");
	if (rc >= 0 && dns_update_response_parse(p, n, (uint16_t)(id + 1), origin) != ATL_EINVAL)
		FAIL("another id accepted");
}

#define CHOICES 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0] % CHOICES;
	/* a copy of its own size, so ASan sees any read past the end */
	size_t n = size - 1;
	char *p = malloc(n ? n : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, n);
	in_p = p;
	in_n = n;
	bool all = sel == CHOICES - 1;
	if (all || sel == 0)
		fuzz_json(p, n);
	if (all || sel == 1)
		fuzz_head((const uint8_t *)p, n);
	if (all)
		fuzz_objects(p, n, -1);
	else if (sel >= 2 && sel <= 5)
		fuzz_objects(p, n, (int)sel - 2);
	if (all || sel == 6)
		fuzz_url(p, n);
	if (all || sel == 7)
		fuzz_b64(p, n);
	if (all || sel == 8)
		fuzz_dns((const uint8_t *)p, n);
	free(p);
	return 0;
}
