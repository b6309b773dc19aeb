/*
 * NAME
 *	session -- per-connection and per-message context
 * SYNOPSIS
 *	s = session_new();
 *	message_begin(s, state);
 *	message_add_header(&s->msg, name, value, max, maxbytes);
 *	message_end(s);
 *	session_free(s);
 * DESCRIPTION
 *	The milter callbacks store what the MTA hands over here and
 *	nothing else.  A message holds one reference to the settings it
 *	started with, so a reload never changes a message in flight.
 *	Header storage is bounded by max_headers and max_header_bytes; the
 *	body is never stored here.  message_end() is idempotent, so it is
 *	safe to call from end-of-message, abort, the next MAIL FROM and
 *	close alike: each message's memory is freed exactly once.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "milter/check.h"
#include "milter/session.h"
#include "milter/sign.h"
#include "milter/state.h"

static pthread_mutex_t inprogress_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned inprogress;
static int draining;

struct session *
session_new(void)
{
	return calloc(1, sizeof(struct session));
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	message_end(s);
	free(s->client_name);
	free(s->helo);
	free(s->daemon_name);
	free(s);
}

int
session_set_str(char **field, const char *value)
{
	char *copy = strdup(value != NULL ? value : "");

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

int
session_set_client(struct session *s, const char *name,
    const struct sockaddr *addr)
{
	const void *raw = NULL;

	s->client_ip[0] = '\0';
	s->has_addr = 0;
	if (addr != NULL && addr->sa_family == AF_INET) {
		memcpy(&s->client_addr, addr, sizeof(struct sockaddr_in));
		raw = &((const struct sockaddr_in *)(const void *)addr)->sin_addr;
	} else if (addr != NULL && addr->sa_family == AF_INET6) {
		memcpy(&s->client_addr, addr, sizeof(struct sockaddr_in6));
		raw = &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr;
	}
	if (raw != NULL && inet_ntop(addr->sa_family, raw, s->client_ip,
	    sizeof(s->client_ip)) != NULL)
		s->has_addr = 1;
	return session_set_str(&s->client_name, name);
}

void
message_begin(struct session *s, struct af_state *state)
{
	message_end(s);
	s->msg.active = 1;
	s->msg.state = state;
	pthread_mutex_lock(&inprogress_lock);
	inprogress++;
	pthread_mutex_unlock(&inprogress_lock);
}

void
message_end(struct session *s)
{
	struct message *m = &s->msg;

	for (size_t i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	free(m->queue_id);
	free(m->env_from);
	free(m->auth_authen);
	signer_free(m->signer);
	free(m->sign_error);
	checks_end(m);
	for (size_t i = 0; i < m->nrcpts_kept; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	if (m->state != NULL)
		state_release(m->state);
	if (m->active) {
		pthread_mutex_lock(&inprogress_lock);
		inprogress--;
		pthread_mutex_unlock(&inprogress_lock);
	}
	memset(m, 0, sizeof(*m));
}

unsigned
message_in_progress(void)
{
	unsigned n;

	pthread_mutex_lock(&inprogress_lock);
	n = inprogress;
	pthread_mutex_unlock(&inprogress_lock);
	return n;
}

void
session_start_draining(void)
{
	pthread_mutex_lock(&inprogress_lock);
	draining = 1;
	pthread_mutex_unlock(&inprogress_lock);
}

int
session_draining(void)
{
	int d;

	pthread_mutex_lock(&inprogress_lock);
	d = draining;
	pthread_mutex_unlock(&inprogress_lock);
	return d;
}

int
message_add_rcpt(struct message *m, const char *rcpt)
{
	char **grown, *copy;

	m->nrcpts++;
	if (m->nrcpts_kept >= MESSAGE_MAX_RCPTS)
		return 0;
	if ((copy = strdup(rcpt)) == NULL)
		return -1;
	grown = realloc(m->rcpts, (m->nrcpts_kept + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	m->rcpts = grown;
	m->rcpts[m->nrcpts_kept++] = copy;
	return 0;
}

enum hdr_status
message_add_header(struct message *m, const char *name, const char *value,
    size_t max_headers, size_t max_bytes)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	struct header *h;

	if (m->nhdrs >= max_headers)
		return HDR_TOO_MANY;
	if (nlen + vlen > max_bytes || m->hdr_bytes + nlen + vlen > max_bytes)
		return HDR_TOO_BIG;
	if (m->nhdrs == m->cap) {
		size_t cap = m->cap == 0 ? 32 : m->cap * 2;
		struct header *grown = realloc(m->hdrs, cap * sizeof(*grown));
		if (grown == NULL)
			return HDR_NOMEM;
		m->hdrs = grown;
		m->cap = cap;
	}
	h = &m->hdrs[m->nhdrs];
	h->name = strdup(name);
	h->value = strdup(value);
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		return HDR_NOMEM;
	}
	h->vlen = vlen;
	m->nhdrs++;
	m->hdr_bytes += nlen + vlen;
	return HDR_OK;
}
