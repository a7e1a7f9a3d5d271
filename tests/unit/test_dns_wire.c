/*
 * test_dns_wire.c - unit tests of lib/dns names, messages and rdata:
 * text and wire names, strict decompression, compression on output,
 * query parsing with EDNS, and every record type's text <-> wire.
 */
#include "core/err.h"
#include "dns/dns.h"
#include "test.h"

static void name(const char *s, uint8_t *out)
{
	CHECK_EQ(dns_name_from_text(s, strlen(s), NULL, out), ATL_OK);
}

TEST(name_text_to_wire_and_back)
{
	uint8_t n[DNS_NAME_MAX], o[DNS_NAME_MAX];
	char t[1024];
	name("www.Example.TEST.", n);
	CHECK_MEM(n, "\3www\7Example\4TEST", 18);
	CHECK_EQ(dns_name_len(n), 18);
	CHECK_EQ(dns_name_labels(n), 3);
	CHECK_EQ(dns_name_to_text(n, t, sizeof t), 17);
	CHECK(strcmp(t, "www.Example.TEST.") == 0);
	name("example.test.", o);
	CHECK_EQ(dns_name_from_text("a\\.b\\032c", 9, o, n), ATL_OK);
	CHECK_MEM(n, "\5a.b c\7example\4test", 20);
	dns_name_to_text(n, t, sizeof t);
	CHECK(strcmp(t, "a\\.b\\032c.example.test.") == 0);
	CHECK_EQ(dns_name_from_text("@", 1, o, n), ATL_OK);
	CHECK(dns_name_equal(n, o));
	CHECK_EQ(dns_name_from_text(".", 1, NULL, n), ATL_OK);
	CHECK_EQ(n[0], 0);
	CHECK_EQ(dns_name_from_text("rel", 3, NULL, n), ATL_EINVAL); /* no origin */
	CHECK_EQ(dns_name_from_text("a..b.", 5, NULL, n), ATL_EINVAL);
	CHECK_EQ(dns_name_from_text("\\256.", 5, NULL, n), ATL_EINVAL);
	/* Label of 63 is fine, 64 is not; the name is at most 255 bytes. */
	char l[200];
	memset(l, 'a', 64);
	l[63] = '.';
	CHECK_EQ(dns_name_from_text(l, 64, NULL, n), ATL_OK);
	l[63] = 'a';
	l[64] = '.';
	CHECK_EQ(dns_name_from_text(l, 65, NULL, n), ATL_EINVAL);
	char big[300];
	size_t k = 0;
	for (int i = 0; i < 4; i++) {
		memset(big + k, 'b', 62);
		k += 62;
		big[k++] = '.';
	}
	CHECK_EQ(dns_name_from_text(big, k, NULL, n), ATL_OK); /* 4*63+1 = 253 */
	big[k - 1] = 'c';
	big[k++] = 'c';
	big[k++] = '.';
	CHECK_EQ(dns_name_from_text(big, k, NULL, n), ATL_EINVAL); /* 256 */
}

TEST(name_compare_is_canonical_and_case_blind)
{
	uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];
	/* RFC 4034 6.1's example order. */
	const char *order[] = {"example.",	   "a.example.",      "yljkjljk.a.example.",
			       "Z.a.example.",	   "zABC.a.EXAMPLE.", "z.example.",
			       "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
	for (unsigned i = 0; i + 1 < ARRAY_SIZE(order); i++) {
		name(order[i], a);
		name(order[i + 1], b);
		CHECK(dns_name_cmp(a, b) < 0);
		CHECK(dns_name_cmp(b, a) > 0);
	}
	name("WWW.example.", a);
	name("www.EXAMPLE.", b);
	CHECK(dns_name_equal(a, b));
	CHECK_EQ(dns_name_cmp(a, b), 0);
	name("example.", b);
	CHECK(dns_name_is_sub(a, b));
	CHECK(!dns_name_is_sub(b, a));
	name("xample.", b);
	CHECK(!dns_name_is_sub(a, b));
}

TEST(decompression_follows_backward_pointers)
{
	/* "\3foo\3bar\0" at 12, "\3www" + pointer to 12 at 21. */
	uint8_t msg[64] = {0};
	memcpy(msg + 12, "\3foo\3bar\0", 9);
	memcpy(msg + 21, "\3www\xc0\x0c", 6);
	memcpy(msg + 27, "\xc0\x15", 2); /* a pointer to a pointer */
	struct rd r = rd_make(msg, 29);
	uint8_t n[DNS_NAME_MAX];
	r.pos = 21;
	CHECK_EQ(dns_name_read(&r, n), ATL_OK);
	CHECK_MEM(n, "\3www\3foo\3bar", 13);
	CHECK_EQ(r.pos, 27);
	CHECK_EQ(dns_name_read(&r, n), ATL_OK);
	CHECK_MEM(n, "\3www\3foo\3bar", 13);
	CHECK_EQ(r.pos, 29);
}

TEST(decompression_rejects_loops_forward_pointers_and_bad_labels)
{
	uint8_t n[DNS_NAME_MAX];
	struct rd r;
	/* A pointer to itself. */
	uint8_t self[] = {0xc0, 0x00};
	r = rd_make(self, 2);
	CHECK_EQ(dns_name_read(&r, n), ATL_EINVAL);
	CHECK(!rd_ok(&r));
	/* Two pointers to each other. */
	uint8_t loop[] = {0xc0, 0x02, 0xc0, 0x00};
	r = rd_make(loop, 4);
	r.pos = 2;
	CHECK_EQ(dns_name_read(&r, n), ATL_EINVAL);
	/* A forward pointer. */
	uint8_t fwd[] = {0xc0, 0x02, 0x01, 'a', 0x00};
	r = rd_make(fwd, 5);
	CHECK_EQ(dns_name_read(&r, n), ATL_EINVAL);
	/* A label into its own prefix: "\1a" then a pointer to offset 0. */
	uint8_t pre[] = {0x01, 'a', 0xc0, 0x00};
	r = rd_make(pre, 4);
	CHECK_EQ(dns_name_read(&r, n), ATL_EINVAL);
	/* 0x40 and 0x80 label types. */
	uint8_t ext[] = {0x41, 0x00};
	r = rd_make(ext, 2);
	CHECK_EQ(dns_name_read(&r, n), ATL_EINVAL);
	uint8_t ext2[] = {0x81, 0x00};
	r = rd_make(ext2, 2);
	CHECK_EQ(dns_name_read(&r, n), ATL_EINVAL);
	/* Truncated label and a missing root. */
	uint8_t tr[] = {0x05, 'a', 'b'};
	r = rd_make(tr, 3);
	CHECK_EQ(dns_name_read(&r, n), ATL_EINVAL);
	/* Longer than 255 bytes through a chain of pointers: 5 copies of
	 * a 63-byte label, each pointing back at the previous one. */
	uint8_t big[400] = {0};
	size_t off = 0, prev = 0;
	for (int i = 0; i < 5; i++) {
		size_t start = off;
		big[off++] = 63;
		memset(big + off, 'x', 63);
		off += 63;
		if (i == 0) {
			big[off++] = 0;
		} else {
			big[off++] = (uint8_t)(0xc0 | prev >> 8);
			big[off++] = (uint8_t)prev;
		}
		prev = start;
	}
	r = rd_make(big, off);
	r.pos = prev;
	CHECK_EQ(dns_name_read(&r, n), ATL_EINVAL);
}

TEST(compression_reuses_suffixes_case_blind)
{
	uint8_t msg[128];
	struct wr w = wr_make(msg, sizeof msg);
	struct dns_cmp c = {0};
	uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX], x[DNS_NAME_MAX];
	name("www.example.test.", a);
	name("MAIL.EXAMPLE.test.", b);
	wr_zero(&w, 12);
	dns_name_write(&w, a, &c);
	size_t p = w.pos;
	dns_name_write(&w, b, &c);
	CHECK_EQ(w.pos - p, 7); /* "\4MAIL" + pointer */
	CHECK_EQ(msg[p + 5], 0xc0);
	CHECK_EQ(msg[p + 6], 16); /* "example.test." in the first name */
	p = w.pos;
	dns_name_write(&w, a, &c);
	CHECK_EQ(w.pos - p, 2);
	struct rd r = rd_make(msg, w.pos);
	r.pos = 12;
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(dns_name_read(&r, x), ATL_OK);
		CHECK(dns_name_equal(x, i == 1 ? b : a));
	}
	CHECK_EQ(r.pos, w.pos);
}

static size_t query(uint8_t *m, size_t cap, const char *qn, uint16_t qtype, int edns)
{
	struct wr w = wr_make(m, cap);
	struct dns_hdr h = {0x1234, DNS_F_RD, 1, 0, 0, edns >= 0};
	dns_hdr_write(&w, &h);
	uint8_t n[DNS_NAME_MAX];
	name(qn, n);
	dns_name_write(&w, n, NULL);
	wr_be16(&w, qtype);
	wr_be16(&w, DNS_C_IN);
	if (edns >= 0) {
		wr_u8(&w, 0);
		wr_be16(&w, DNS_T_OPT);
		wr_be16(&w, 4096);
		wr_be32(&w, (uint32_t)edns << 16 | DNS_EDNS_DO);
		wr_be16(&w, 0);
	}
	return w.pos;
}

TEST(query_parse_reads_question_and_edns)
{
	uint8_t m[512];
	struct dns_query q;
	size_t n = query(m, sizeof m, "a.example.", DNS_T_AAAA, 0);
	CHECK_EQ(dns_query_parse(m, n, &q), DNS_R_NOERROR);
	CHECK_EQ(q.h.id, 0x1234);
	CHECK_EQ(q.qtype, DNS_T_AAAA);
	CHECK(q.edns);
	CHECK_EQ(q.udp_size, 4096);
	CHECK_EQ(q.edns_flags, DNS_EDNS_DO);
	n = query(m, sizeof m, "a.example.", DNS_T_A, 1);
	CHECK_EQ(dns_query_parse(m, n, &q), DNS_R_BADVERS);
	n = query(m, sizeof m, "a.example.", DNS_T_A, -1);
	CHECK_EQ(dns_query_parse(m, n, &q), DNS_R_NOERROR);
	CHECK(!q.edns);
	CHECK_EQ(q.udp_size, 512);
	/* Truncated question: FORMERR; a response: never answered. */
	CHECK_EQ(dns_query_parse(m, n - 1, &q), DNS_R_FORMERR);
	CHECK_EQ(dns_query_parse(m, 11, &q), ATL_EINVAL);
	m[2] |= 0x80;
	CHECK_EQ(dns_query_parse(m, n, &q), ATL_EINVAL);
	m[2] &= 0x7f;
	m[2] |= 5 << 3; /* UPDATE */
	CHECK_EQ(dns_query_parse(m, n, &q), DNS_R_NOTIMP);
	m[2] &= 0x87;
	m[5] = 2; /* two questions */
	CHECK_EQ(dns_query_parse(m, n, &q), DNS_R_FORMERR);
	/* Two OPT records. */
	n = query(m, sizeof m, "a.example.", DNS_T_A, 0);
	memcpy(m + n, m + n - 11, 11);
	m[11] = 2;
	CHECK_EQ(dns_query_parse(m, n + 11, &q), DNS_R_FORMERR);
}

/* Text -> wire -> text -> wire must reach a fixed point, and the wire
 * form must match what the RFC says. */
static void roundtrip(const char *type, const char *text, const char *hex)
{
	int ty = dns_type_from_text(type, strlen(type));
	CHECK(ty > 0);
	uint8_t origin[DNS_NAME_MAX];
	name("example.", origin);
	struct dns_tok t[64];
	unsigned nt = 0;
	char copy[1024];
	strcpy(copy, text);
	for (char *p = copy; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			char *e = ++p;
			while (*e && *e != '"') {
				if (*e == '\\')
					e++;
				e++;
			}
			t[nt++] = (struct dns_tok){p, (uint16_t)(e - p), true};
			p = *e ? e + 1 : e;
			continue;
		}
		char *e = p;
		while (*e && *e != ' ')
			e++;
		t[nt++] = (struct dns_tok){p, (uint16_t)(e - p), false};
		p = e;
	}
	uint8_t w[2048];
	const char *why = "";
	int n = dns_rdata_from_text((uint16_t)ty, t, nt, origin, w, sizeof w, &why);
	if (n < 0) {
		printf("#   %s %s: %s\n", type, text, why);
		CHECK(n >= 0);
		return;
	}
	if (hex) {
		char hx[4096];
		for (int i = 0; i < n; i++)
			snprintf(hx + 2 * i, 3, "%02x", w[i]);
		hx[2 * n] = 0;
		if (strcmp(hx, hex))
			printf("#   %s %s: wire %s, expected %s\n", type, text, hx, hex);
		CHECK(strcmp(hx, hex) == 0);
	}
	char out[4096];
	CHECK(dns_rdata_to_text((uint16_t)ty, w, (size_t)n, out, sizeof out) > 0);
	/* Re-parse the printed form (a quick tokenizer as above). */
	uint8_t w2[2048];
	nt = 0;
	for (char *p = out; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			char *e = ++p;
			while (*e && *e != '"') {
				if (*e == '\\')
					e++;
				e++;
			}
			t[nt++] = (struct dns_tok){p, (uint16_t)(e - p), true};
			p = *e ? e + 1 : e;
			continue;
		}
		char *e = p;
		while (*e && *e != ' ')
			e++;
		t[nt++] = (struct dns_tok){p, (uint16_t)(e - p), false};
		p = e;
	}
	int n2 = dns_rdata_from_text((uint16_t)ty, t, nt, origin, w2, sizeof w2, &why);
	if (n2 != n || memcmp(w, w2, (size_t)n))
		printf("#   %s %s: printed as %s, which reads back differently\n", type, text, out);
	CHECK(n2 == n && memcmp(w, w2, (size_t)n) == 0);
}

TEST(rdata_every_type_round_trips)
{
	roundtrip("A", "192.0.2.1", "c0000201");
	roundtrip("AAAA", "2001:db8::1", "20010db8000000000000000000000001");
	roundtrip("AAAA", "::ffff:192.0.2.1", "00000000000000000000ffffc0000201");
	roundtrip("AAAA", "::", "00000000000000000000000000000000");
	roundtrip("NS", "ns1", "036e7331076578616d706c6500");
	roundtrip("CNAME", "a.b.", "0161016200");
	roundtrip("PTR", "host.example.", NULL);
	roundtrip("DNAME", "target.",
		  "06746172676574"
		  "00");
	roundtrip("MX", "10 mail", "000a046d61696c076578616d706c6500");
	roundtrip("SOA", "ns hostmaster 2024010101 1h 15m 1w 300",
		  "026e73076578616d706c6500"
		  "0a686f73746d6173746572076578616d706c6500"
		  "78a3f175"
		  "00000e10"
		  "00000384"
		  "00093a80"
		  "0000012c");
	roundtrip("TXT", "\"hello world\" \"a\\\"b\" plain",
		  "0b68656c6c6f20776f726c6403612262"
		  "05706c61696e");
	roundtrip("TXT", "\"\\065\\\\\"", "02415c");
	roundtrip("HINFO", "\"PC\" \"Linux\"", "025043054c696e7578");
	roundtrip("SRV", "0 5 5060 sip.example.", "0000000513c403736970076578616d706c6500");
	roundtrip("NAPTR", "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.", NULL);
	roundtrip("CAA", "0 issue \"ca.example.net\"",
		  "0005697373756563612e6578616d706c652e6e6574");
	roundtrip("SSHFP", "1 1 0123456789abcdef0123456789abcdef01234567", NULL);
	roundtrip("TLSA", "3 1 1 0123456789ABCDEF 0123", "0301010123456789abcdef0123");
	roundtrip("DS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		  "ec4505012bb183af5f22588179a53b0a98631fad1a292118");
	roundtrip("DNSKEY",
		  "256 3 5 AQPSKmynfzW4kyBv015MUG2DeIQ3 Cbl+BBZH4b/0PY1kxkmvHjcZc8no "
		  "kfzj31GajIQKY+5CptLr3buXA10hWqTkF7H6RfoRqXQeogmMHfpftf6z "
		  "Mv1LyBUgia7za6ZEzOJBOztyvhjL742iU/TpPSEDhm2SNKLijfUppn1U aNvv4w==",
		  NULL);
	roundtrip("RRSIG",
		  "A 5 3 86400 20030322173103 20030220173103 2642 example. "
		  "oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+"
		  "v6oB9wfuh3DTJXUAfI/M0zmO/"
		  "zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=",
		  NULL);
	roundtrip("NSEC", "host.example. A MX RRSIG NSEC TYPE1234", NULL);
	roundtrip("NSEC", "host.example. A MX",
		  "04686f7374076578616d706c6500"
		  "00024001");
	roundtrip("NSEC3", "1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG", NULL);
	roundtrip("NSEC3PARAM", "1 0 12 aabbccdd", "0100000c04aabbccdd");
	roundtrip("NSEC3PARAM", "1 0 0 -", "0100000000");
	roundtrip("SVCB", "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1", NULL);
	roundtrip("HTTPS", "1 . port=8443 alpn=h3 ipv6hint=2001:db8::1 no-default-alpn", NULL);
	roundtrip("HTTPS", "0 svc.example.", "000003737663076578616d706c6500");
	roundtrip("SVCB", "16 foo.example.org. key667=hello", NULL);
	roundtrip("TYPE65534", "\\# 3 abcdef", "abcdef");
	roundtrip("A", "\\# 4 c0000201", "c0000201");
	roundtrip("TYPE65534", "\\# 0", "");
}

TEST(rdata_rejects_malformed_text)
{
	uint8_t origin[DNS_NAME_MAX], w[512];
	name("example.", origin);
	struct dns_tok t[4];
	const char *why;
#define BAD(ty, ...)                                                                               \
	do {                                                                                       \
		const char *v[] = {__VA_ARGS__};                                                   \
		for (unsigned i = 0; i < ARRAY_SIZE(v); i++)                                       \
			t[i] = (struct dns_tok){v[i], (uint16_t)strlen(v[i]), false};              \
		CHECK(dns_rdata_from_text(ty, t, ARRAY_SIZE(v), origin, w, sizeof w, &why) < 0);   \
	} while (0)
	BAD(DNS_T_A, "192.0.2");
	BAD(DNS_T_A, "192.0.2.256");
	BAD(DNS_T_A, "192.0.2.1", "extra");
	BAD(DNS_T_AAAA, "1:2:3:4:5:6:7:8:9");
	BAD(DNS_T_AAAA, "1::2::3");
	BAD(DNS_T_MX, "70000", "mx");
	BAD(DNS_T_MX, "10");
	BAD(DNS_T_DS, "1", "2", "3", "abc");
	BAD(DNS_T_DNSKEY, "256", "3", "5", "!!!!");
	BAD(65000, "1");
	BAD(65000, "\\#", "2", "abcdef");
	BAD(DNS_T_SVCB, "1", ".", "port=x");
	BAD(DNS_T_SVCB, "1", ".", "port=1", "port=2");
	BAD(DNS_T_CAA, "0", "is-sue", "x");
	/* A character-string longer than 255 bytes. */
	static char longs[300];
	memset(longs, 'a', 299);
	t[0] = (struct dns_tok){longs, 299, true};
	CHECK(dns_rdata_from_text(DNS_T_TXT, t, 1, origin, w, sizeof w, &why) < 0);
	/* Unknown types print in the generic form. */
	char out[64];
	const uint8_t rd[] = {1, 2};
	dns_rdata_to_text(4321, rd, 2, out, sizeof out);
	CHECK(strcmp(out, "\\# 2 0102") == 0);
	dns_rdata_to_text(DNS_T_A, rd, 2, out, sizeof out); /* malformed A */
	CHECK(strcmp(out, "\\# 2 0102") == 0);
	CHECK(!dns_rdata_valid(DNS_T_NS, (const uint8_t *)"\3ab", 3));
}

TEST_MAIN(TEST_ENTRY(name_text_to_wire_and_back),
	  TEST_ENTRY(name_compare_is_canonical_and_case_blind),
	  TEST_ENTRY(decompression_follows_backward_pointers),
	  TEST_ENTRY(decompression_rejects_loops_forward_pointers_and_bad_labels),
	  TEST_ENTRY(compression_reuses_suffixes_case_blind),
	  TEST_ENTRY(query_parse_reads_question_and_edns), TEST_ENTRY(rdata_every_type_round_trips),
	  TEST_ENTRY(rdata_rejects_malformed_text))
