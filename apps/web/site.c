/*
 * site.c - the site archive, indexed.  See site.h.
 */
#include "site.h"

#include <string.h>

#include "core/err.h"
#include "core/fmt.h"
#include "core/log.h"
#include "dns/tar.h"

#define WEB_CONF       "web.conf"
#define WEB_RULES_MAX  64
#define WEB_EMPTY_SLOT 0xffffffffu

struct web_rule {
	const char *prefix; /* "/assets/" */
	size_t plen;
	const char *value;
};

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"rss", "application/rss+xml"},
    {"atom", "application/atom+xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"bmp", "image/bmp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

const char *web_mime_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');
	if (dot && dot[1]) {
		const char *ext = dot + 1;
		for (size_t i = 0; i < ARRAY_SIZE(mime_types); i++) {
			const char *t = mime_types[i].ext;
			size_t k = 0;
			while (t[k] && ext[k] && lower(ext[k]) == t[k])
				k++;
			if (!t[k] && !ext[k])
				return mime_types[i].type;
		}
	}
	return "application/octet-stream";
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

const struct web_file *web_site_find(const struct web_site *site, const char *path)
{
	if (site->nslots == 0)
		return NULL;
	for (uint32_t i = fnv1a(path) & (site->nslots - 1);; i = (i + 1) & (site->nslots - 1)) {
		unsigned k = site->slots[i];
		if (k == WEB_EMPTY_SLOT)
			return NULL;
		if (!strcmp(site->files[k].path, path))
			return &site->files[k];
	}
}

/* A member name the site can serve: no "./" prefix, no empty, "." or
 * ".." segment, no control characters, no trailing '/'.  NULL if not. */
static const char *served_name(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	if (!*name)
		return NULL;
	const char *seg = name;
	for (const char *p = name;; p++) {
		if ((unsigned char)*p < 0x20 && *p)
			return NULL;
		if (*p == '/' || !*p) {
			size_t n = (size_t)(p - seg);
			if (n == 0 || (n == 1 && seg[0] == '.') ||
			    (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return NULL;
			if (!*p)
				return name;
			seg = p + 1;
		}
	}
}

static char *heap_strndup(struct heap *h, const char *s, size_t n)
{
	char *p = heap_alloc(h, n + 1, 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* web.conf: "cache-control <prefix> <value...>" lines. */
static int conf_parse(struct loop *l, struct heap *h, const uint8_t *data, size_t len,
		      struct web_rule *rules, unsigned *nrules)
{
	const char *s = (const char *)data;
	unsigned lineno = 0;
	while (len > 0) {
		const char *nl = memchr(s, '\n', len);
		size_t ll = nl ? (size_t)(nl - s) : len;
		const char *next = nl ? nl + 1 : s + len;
		len -= (size_t)(next - s);
		lineno++;
		while (ll && (s[ll - 1] == '\r' || s[ll - 1] == ' ' || s[ll - 1] == '\t'))
			ll--;
		size_t i = 0;
		while (i < ll && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == ll || s[i] == '#') {
			s = next;
			continue;
		}
		/* three words: the directive, the prefix, then the value */
		const char *w[2];
		size_t wl[2];
		for (int k = 0; k < 2; k++) {
			w[k] = s + i;
			while (i < ll && s[i] != ' ' && s[i] != '\t')
				i++;
			wl[k] = (size_t)(s + i - w[k]);
			while (i < ll && (s[i] == ' ' || s[i] == '\t'))
				i++;
		}
		const char *v = s + i;
		size_t vl = ll - i;
		bool bad_value = false;
		for (size_t k = 0; k < vl; k++)
			bad_value = bad_value || (unsigned char)v[k] < 0x20;
		if (wl[0] != 13 || memcmp(w[0], "cache-control", 13)) {
			LOG_WARN(l, "web.conf line %u: unknown directive \"%.*s\" (skipped)",
				 lineno, (int)wl[0], w[0]);
		} else if (wl[1] == 0 || w[1][0] != '/' || vl == 0 || bad_value) {
			LOG_WARN(l,
				 "web.conf line %u: expected \"cache-control /<prefix> <value>\" "
				 "(skipped)",
				 lineno);
		} else if (*nrules == WEB_RULES_MAX) {
			LOG_WARN(l, "web.conf line %u: more than %d rules (skipped)", lineno,
				 WEB_RULES_MAX);
		} else {
			struct web_rule *r = &rules[(*nrules)++];
			r->prefix = heap_strndup(h, w[1], wl[1]);
			r->plen = wl[1];
			r->value = heap_strndup(h, v, vl);
			if (!r->prefix || !r->value)
				return ATL_ENOMEM;
		}
		s = next;
	}
	return ATL_OK;
}

/* The Cache-Control of the longest rule whose prefix starts "/" path. */
static const char *cache_for(const struct web_rule *rules, unsigned n, const char *path)
{
	const struct web_rule *best = NULL;
	for (unsigned i = 0; i < n; i++) {
		const struct web_rule *r = &rules[i];
		if (best && r->plen <= best->plen)
			continue;
		if (!strncmp(r->prefix + 1, path, r->plen - 1))
			best = r;
	}
	return best ? best->value : NULL;
}

int web_site_load(struct loop *l, struct heap *h, const uint8_t *ar, size_t len,
		  struct web_site *site)
{
	memset(site, 0, sizeof *site);
	/* Pass 1: count, and find web.conf. */
	struct rd r = rd_make(ar, len);
	struct dns_tar_member m;
	unsigned count = 0;
	int rc;
	struct web_rule rules[WEB_RULES_MAX];
	unsigned nrules = 0;
	while ((rc = dns_tar_next(&r, &m)) == ATL_OK) {
		const char *name = served_name(m.name);
		if (name && !strcmp(name, WEB_CONF)) {
			if (conf_parse(l, h, m.data, m.len, rules, &nrules) != ATL_OK)
				return ATL_ENOMEM;
		} else {
			count++;
		}
	}
	if (rc != ATL_ENOENT) {
		LOG_ERROR(l, "the site archive is malformed after %u files (a bad tar header)",
			  count);
		return ATL_EINVAL;
	}
	site->files = heap_alloc(h, (count ? count : 1) * sizeof *site->files, 16);
	site->nslots = 8;
	while (site->nslots < 2 * count)
		site->nslots *= 2;
	site->slots = heap_alloc(h, site->nslots * sizeof *site->slots, 16);
	if (!site->files || !site->slots)
		return ATL_ENOMEM;
	memset(site->slots, 0xff, site->nslots * sizeof *site->slots);

	/* Pass 2: the files, hashed; a later member replaces an earlier one
	 * of the same name, as tar itself extracts them. */
	r = rd_make(ar, len);
	while (dns_tar_next(&r, &m) == ATL_OK) {
		const char *name = served_name(m.name);
		if (!name) {
			LOG_WARN(l, "site member \"%s\": not a servable name (skipped)", m.name);
			site->skipped++;
			continue;
		}
		if (!strcmp(name, WEB_CONF))
			continue;
		struct web_file *f = (struct web_file *)web_site_find(site, name);
		if (!f) {
			f = &site->files[site->n];
			f->path = heap_strndup(h, name, strlen(name));
			if (!f->path)
				return ATL_ENOMEM;
			uint32_t i = fnv1a(f->path) & (site->nslots - 1);
			while (site->slots[i] != WEB_EMPTY_SLOT)
				i = (i + 1) & (site->nslots - 1);
			site->slots[i] = site->n++;
		}
		f->data = m.data;
		f->len = m.len;
		f->mtime = m.mtime;
		/* nginx's form: "<mtime hex>-<length hex>", strong */
		f->elen =
		    (size_t)fmt_snprintf(f->etag, sizeof f->etag, "\"%llx-%llx\"",
					 (unsigned long long)m.mtime, (unsigned long long)m.len);
		f->type = web_mime_type(f->path);
		f->cache = cache_for(rules, nrules, f->path);
	}
	/* Pass 3: precompressed twins. */
	for (unsigned i = 0; i < site->n; i++) {
		struct web_file *f = &site->files[i];
		size_t pl = strlen(f->path);
		char twin[DNS_TAR_NAME_MAX + 4];
		if (pl + 4 > sizeof twin)
			continue;
		memcpy(twin, f->path, pl);
		memcpy(twin + pl, ".gz", 4);
		f->gz = web_site_find(site, twin);
		memcpy(twin + pl, ".br", 4);
		f->br = web_site_find(site, twin);
		f->has_twin = f->gz || f->br;
	}
	return ATL_OK;
}
