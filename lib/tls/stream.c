/*
 * stream.c - an engine over a stack.h TCP connection, in the calling
 * fiber: the engine's bytes out go to tcp_write, TCP's bytes in go
 * straight into the engine's record buffer (no copy in between).
 */
#include "core/err.h"
#include "net/stack.h"
#include "tls/tls_int.h"

struct tls_stream {
	struct tcp_conn *tcp;
	struct tls_conn *c;
	bool tcp_eof;
};

#define STREAM_HDR ((sizeof(struct tls_stream) + 15) & ~(size_t)15)

size_t tls_stream_size(const struct tls_config *cfg)
{
	return STREAM_HDR + tls_conn_size(cfg);
}

struct tls_conn *tls_stream_conn(struct tls_stream *s)
{
	return s->c;
}

/* Everything the engine has queued, to TCP. */
static int flush(struct tls_stream *s, uint64_t deadline)
{
	for (;;) {
		size_t len, done = 0;
		const uint8_t *p = tls_conn_send_buf(s->c, &len);
		if (!p)
			return ATL_OK;
		int rc = tcp_write(s->tcp, p, len, &done, deadline);
		tls_conn_send_done(s->c, done);
		if (rc != ATL_OK)
			return rc;
	}
}

/* One TCP read into the engine. */
static int fill(struct tls_stream *s, uint64_t deadline)
{
	size_t cap, n;
	uint8_t *buf = tls_conn_recv_buf(s->c, &cap);
	if (cap == 0)
		return ATL_EINVAL; /* cannot happen: the caller reads first */
	int rc = tcp_read(s->tcp, buf, cap, &n, deadline);
	if (rc != ATL_OK)
		return rc;
	if (n == 0) {
		s->tcp_eof = true;
		return ATL_ECONNRESET;
	}
	return tls_conn_recv_done(s->c, n);
}

static int handshake(struct tls_stream *s, uint64_t deadline)
{
	for (;;) {
		int rc = flush(s, deadline);
		unsigned st = tls_conn_state(s->c);
		if (st & TLS_ST_FAILED)
			return ATL_EINVAL;
		if (rc != ATL_OK)
			return rc;
		if (st & TLS_ST_ESTABLISHED)
			return ATL_OK;
		rc = fill(s, deadline);
		if (rc != ATL_OK) {
			flush(s, deadline); /* the alert, if one was queued */
			return (tls_conn_state(s->c) & TLS_ST_FAILED) ? ATL_EINVAL : rc;
		}
	}
}

static struct tls_stream *stream_init(void *mem, size_t mem_len, const struct tls_config *cfg,
				      struct tcp_conn *tcp, const char *server_name,
				      const struct tls_session *session)
{
	uint8_t seed[32];
	if (mem_len < tls_stream_size(cfg) || ((uintptr_t)mem & 15))
		return NULL;
	struct tls_stream *s = mem;
	s->tcp = tcp;
	s->tcp_eof = false;
	plat_entropy(seed, sizeof seed);
	s->c = tls_conn_init((uint8_t *)mem + STREAM_HDR, mem_len - STREAM_HDR, cfg, seed,
			     sizeof seed, server_name, session);
	tls_wipe(seed, sizeof seed);
	if (s->c)
		tls_conn_set_time(s->c, plat_clock_wall() / 1000000u);
	return s->c ? s : NULL;
}

int tls_stream_accept(void *mem, size_t mem_len, const struct tls_config *cfg, struct tcp_conn *tcp,
		      uint64_t deadline, struct tls_stream **out)
{
	struct tls_stream *s = stream_init(mem, mem_len, cfg, tcp, NULL, NULL);
	*out = s;
	return s ? handshake(s, deadline) : ATL_EINVAL;
}

int tls_stream_connect(void *mem, size_t mem_len, const struct tls_config *cfg,
		       struct tcp_conn *tcp, const char *server_name,
		       const struct tls_session *session, uint64_t deadline,
		       struct tls_stream **out)
{
	struct tls_stream *s = stream_init(mem, mem_len, cfg, tcp, server_name, session);
	*out = s;
	return s ? handshake(s, deadline) : ATL_EINVAL;
}

int tls_read(struct tls_stream *s, void *buf, size_t cap, size_t *len, uint64_t deadline)
{
	for (;;) {
		int rc = tls_conn_read(s->c, buf, cap, len);
		/* A KeyUpdate answer or an alert may be waiting to go. */
		int frc = flush(s, deadline);
		if (rc != ATL_EAGAIN)
			return rc;
		if (frc != ATL_OK)
			return frc;
		rc = fill(s, deadline);
		if (rc != ATL_OK) {
			flush(s, deadline);
			/* A TCP close without close_notify is a truncation. */
			return rc;
		}
	}
}

int tls_write(struct tls_stream *s, const void *data, size_t len, uint64_t deadline)
{
	const uint8_t *p = data;
	while (len > 0) {
		size_t done;
		int rc = tls_conn_write(s->c, p, len, &done);
		if (rc != ATL_OK && rc != ATL_EAGAIN)
			return rc;
		p += done;
		len -= done;
		rc = flush(s, deadline);
		if (rc != ATL_OK)
			return rc;
	}
	return ATL_OK;
}

/* bytes a closing connection reads and drops at most */
#define TLS_LINGER_MAX (1u << 20)

int tls_close(struct tls_stream *s, uint64_t deadline)
{
	int rc = tls_conn_close(s->c);
	int frc = flush(s, deadline);
	if (rc == ATL_OK)
		rc = frc;
	/* RFC 8446 6.1: the peer's close_notify need not be waited for;
	 * our FIN follows ours.  But bytes of the peer's that we never read
	 * make the stack answer our close with a reset, which can destroy
	 * what we sent last (an alert, an HTTP/2 GOAWAY) before the peer
	 * reads it: until deadline, read and drop what still comes, up to
	 * its FIN (RFC 9112 9.6's lingering close, for TLS). */
	tcp_shutdown(s->tcp);
	uint8_t drop[512];
	for (size_t total = 0; deadline != TCP_NOWAIT && total < TLS_LINGER_MAX;) {
		size_t n;
		if (tcp_read(s->tcp, drop, sizeof drop, &n, deadline) != ATL_OK || n == 0)
			break;
		total += n;
	}
	tcp_close(s->tcp);
	tls_conn_wipe(s->c);
	return rc;
}
