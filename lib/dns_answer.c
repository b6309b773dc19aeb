/*
 * NAME
 *	dns_answer -- DNS answers of our own type, and the cache of them
 * SYNOPSIS
 *	a = dns_answer_from_ub(res); ub_resolve_free(res);
 *	dns_cache_put(cache, key, type, a);
 *	a = dns_cache_get(cache, key, type, &ttl_left);
 *	dns_answer_unref(a);
 * DESCRIPTION
 *	An answer from libunbound is copied at once into struct dns_answer
 *	and libunbound's result freed by libunbound: nothing here depends
 *	on the layout of struct ub_result beyond its documented fields, or
 *	on how ub_resolve_free() frees it.  Answers are immutable and
 *	shared by reference count, so a cache hit costs no copy.
 *
 *	The cache sits in front of libunbound's own: an answer there still
 *	travels through libunbound's thread and two pipes, two thread
 *	switches per query.  Answers (data, NXDOMAIN, no data; never errors
 *	or DNSSEC-bogus ones) are kept for their TTL, capped at
 *	CACHE_MAX_TTL, in a direct-mapped table of CACHE_SLOTS; an answer
 *	with TTL 0 is not kept, as libunbound keeps none.  Each resolver
 *	context (each reload) has its own, starting empty.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "lib/dns_answer.h"
#include "lib/hash.h"

#define CACHE_SLOTS	1024
#define CACHE_MAX_TTL	3600	/* seconds */

struct cache_entry {
	char		 name[256];	/* the key */
	int		 type;
	long long	 expires_ms;	/* CLOCK_MONOTONIC */
	struct dns_answer *ans;		/* NULL: empty slot */
};

struct dns_cache {
	pthread_mutex_t	 lock;
	struct cache_entry slot[CACHE_SLOTS];
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
dup_mem(const void *p, size_t n)
{
	unsigned char *q = malloc(n + 1);

	if (q != NULL) {
		memcpy(q, p, n);
		q[n] = '\0';
	}
	return q;
}

struct dns_answer *
dns_answer_from_ub(const struct ub_result *r)
{
	struct dns_answer *a = calloc(1, sizeof(*a));
	size_t n = 0;

	if (a == NULL)
		return NULL;
	a->refs = 1;
	a->rcode = r->rcode;
	a->havedata = r->havedata;
	a->nxdomain = r->nxdomain;
	a->secure = r->secure;
	a->bogus = r->bogus;
	a->ttl = r->ttl;
	/* A negative answer's TTL comes from the SOA in its authority
	 * section (RFC 2308); without one libunbound reports a made-up
	 * TTL (32768): such an answer is not kept. */
	if ((r->nxdomain || !r->havedata) && (r->answer_packet == NULL ||
	    r->answer_len < 12 || (((const unsigned char *)
	    r->answer_packet)[8] == 0 && ((const unsigned char *)
	    r->answer_packet)[9] == 0)))
		a->ttl = 0;
	while (r->havedata && r->data != NULL && r->data[n] != NULL)
		n++;
	if ((a->data = calloc(n + 1, sizeof(*a->data))) == NULL ||
	    (a->len = calloc(n + 1, sizeof(*a->len))) == NULL)
		goto fail;
	for (; a->n < n; a->n++) {
		size_t len = r->len[a->n] > 0 ? (size_t)r->len[a->n] : 0;
		if ((a->data[a->n] = dup_mem(r->data[a->n], len)) == NULL)
			goto fail;
		a->len[a->n] = len;
	}
	if (r->answer_packet != NULL && r->answer_len > 0) {
		if ((a->packet = dup_mem(r->answer_packet,
		    (size_t)r->answer_len)) == NULL)
			goto fail;
		a->packet_len = (size_t)r->answer_len;
	}
	if (r->bogus && (a->why_bogus = dup_mem(r->why_bogus != NULL ?
	    r->why_bogus : "bogus", strlen(r->why_bogus != NULL ?
	    r->why_bogus : "bogus"))) == NULL)
		goto fail;
	return a;
fail:
	dns_answer_unref(a);
	return NULL;
}

struct dns_answer *
dns_answer_ref(struct dns_answer *a)
{
	if (a != NULL)
		__atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
	return a;
}

void
dns_answer_unref(struct dns_answer *a)
{
	if (a == NULL || __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; a->data != NULL && i < a->n; i++)
		free(a->data[i]);
	free(a->data);
	free(a->len);
	free(a->packet);
	free(a->why_bogus);
	free(a);
}

int
dns_cache_key(const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= outsz)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[n] = '\0';
	return 0;
}

static struct cache_entry *
slot_of(struct dns_cache *c, const char *key, int type)
{
	uint32_t h = fnv1a(FNV1A_INIT, key, strlen(key));

	h = fnv1a(h, &type, sizeof(type));
	return &c->slot[h % CACHE_SLOTS];
}

struct dns_cache *
dns_cache_new(void)
{
	struct dns_cache *c = calloc(1, sizeof(*c));

	if (c != NULL)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void
dns_cache_free(struct dns_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		dns_answer_unref(c->slot[i].ans);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct dns_answer *
dns_cache_get(struct dns_cache *c, const char *key, int type, int *ttl_left)
{
	struct cache_entry *e;
	struct dns_answer *a = NULL, *expired = NULL;
	long long now = mono_ms();

	if (c == NULL)
		return NULL;
	e = slot_of(c, key, type);
	pthread_mutex_lock(&c->lock);
	if (e->ans != NULL && e->type == type && strcmp(e->name, key) == 0) {
		if (e->expires_ms > now) {
			a = dns_answer_ref(e->ans);
			*ttl_left = (int)((e->expires_ms - now + 999) / 1000);
		} else {
			expired = e->ans;
			e->ans = NULL;
		}
	}
	pthread_mutex_unlock(&c->lock);
	dns_answer_unref(expired);
	return a;
}

void
dns_cache_put(struct dns_cache *c, const char *key, int type,
    struct dns_answer *a)
{
	struct cache_entry *e;
	struct dns_answer *old;
	int ttl = a->ttl < CACHE_MAX_TTL ? a->ttl : CACHE_MAX_TTL;

	/* Answers only: data, NXDOMAIN or no data (NOERROR); never an
	 * error, a bogus answer or one without a TTL. */
	if (c == NULL || ttl <= 0 || a->bogus ||
	    (!a->havedata && !a->nxdomain && a->rcode != 0))
		return;
	e = slot_of(c, key, type);
	pthread_mutex_lock(&c->lock);
	old = e->ans;
	snprintf(e->name, sizeof(e->name), "%s", key);
	e->type = type;
	e->expires_ms = mono_ms() + (long long)ttl * 1000;
	e->ans = dns_answer_ref(a);
	pthread_mutex_unlock(&c->lock);
	dns_answer_unref(old);
}
