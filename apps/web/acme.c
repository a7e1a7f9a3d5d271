/*
 * acme.c - certificates from an ACME server (RFC 8555) for the web
 * unikernel.  Not written yet: the unikernel serves the credentials of
 * its certs archive; nothing here is configured or answers challenges.
 */
#include "core/err.h"

#include "web.h"

int web_acme_start(struct web *w)
{
	(void)w;
	return ATL_OK;
}

const char *web_acme_challenge(const struct web *w, const char *token, size_t tlen, size_t *len)
{
	(void)w;
	(void)token;
	(void)tlen;
	(void)len;
	return NULL;
}
