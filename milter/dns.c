/*
 * NAME
 *	dns -- the one DNS resolver of authfilter (libunbound)
 * SYNOPSIS
 *	d = dns_new(cfg->dns_resolver, err, sizeof(err));
 *	st = dns_txt(d, "s1._domainkey.example.org", &txt, &n, err, sizeof(err));
 * DESCRIPTION
 *	Every DNS query of authfilter and authfilter-keys goes through
 *	here: one cache, one place for timeouts, and one setting
 *	(dns_resolver) that points everything at a test server.  A
 *	forwarder on 127.0.0.1 is allowed (unbound refuses to query
 *	localhost by default).
 *
 *	Bounded time: libunbound alone takes about 17 seconds to give up on
 *	a server that never answers.  Queries are therefore asynchronous
 *	and cancelled at the deadline (dns_timeout).  Threads share one
 *	context (one cache); whichever thread waits runs ub_process(),
 *	which may deliver another thread's answer: the callback stores it
 *	in that query's waiter and wakes it.
 *
 *	A small answer cache sits in front of libunbound's.  An answer in
 *	libunbound's cache still travels through its background thread and
 *	two pipes, two thread switches per query, four or five queries per
 *	inbound message: most of an inbound check's cost with a warm cache.
 *	Answers (data, NXDOMAIN, no data; never errors or DNSSEC-bogus ones)
 *	are kept here for their TTL, capped at CACHE_MAX_TTL, in a
 *	direct-mapped table of CACHE_SLOTS; an answer with TTL 0 is not
 *	kept, as libunbound keeps none.  Each context (each reload) starts
 *	empty.
 * DIAGNOSTICS
 *	Every failure is a status; err says what happened.  A truncated or
 *	malformed TXT record is DNS_TEMPFAIL, never a partial answer.
 */
#include "buildconf.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "milter/dns.h"

/* DNS types and classes (RFC 1035) */
#define RR_TYPE_TXT	16
#define RR_CLASS_IN	1

#define CACHE_SLOTS	1024
#define CACHE_MAX_TTL	3600	/* seconds */

struct cache_entry {
	char		 name[256];	/* lower case, no trailing dot */
	int		 type;
	long long	 expires_ms;	/* CLOCK_MONOTONIC */
	struct ub_result *res;		/* our copy; NULL: empty slot */
};

struct dns {
	struct ub_ctx	*ctx;
	unsigned	 timeout_ms;
	pthread_mutex_t	 cache_lock;
	struct cache_entry *cache;	/* CACHE_SLOTS of them */
	pthread_mutex_t	 lock;		/* guards every waiter's fields */
	pthread_mutex_t	 process;	/* one thread in ub_process() */
	pthread_cond_t	 done;		/* some query finished */
};

struct waiter {
	struct dns	*d;
	int		 finished;
	int		 abandoned;	/* the asker gave up: callback frees */
	int		 err;
	struct ub_result *res;
};

static void
answered(void *arg, int err, struct ub_result *res)
{
	struct waiter *w = arg;
	int abandoned;

	pthread_mutex_lock(&w->d->lock);
	abandoned = w->abandoned;
	w->err = err;
	w->res = res;
	w->finished = 1;
	pthread_cond_broadcast(&w->d->done);
	pthread_mutex_unlock(&w->d->lock);
	if (abandoned) {
		ub_resolve_free(res);
		free(w);
	}
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
finished(struct waiter *w)
{
	int f;

	pthread_mutex_lock(&w->d->lock);
	f = w->finished;
	pthread_mutex_unlock(&w->d->lock);
	return f;
}

/* ub_resolve() with a deadline: 0 and *res filled, or an ub error code,
 * or UB_NOERROR with *res NULL on timeout. */
static int
resolve_network(struct dns *d, const char *name, int type,
    struct ub_result **res)
{
	struct waiter *w = calloc(1, sizeof(*w));
	long long deadline = now_ms() + d->timeout_ms;
	int id, rc, cancel_failed = 0;

	*res = NULL;
	if (w == NULL)
		return UB_NOMEM;
	w->d = d;
	rc = ub_resolve_async(d->ctx, name, type, 1, w, answered, &id);
	if (rc != 0) {
		free(w);
		return rc;
	}
	while (!finished(w)) {
		long long left = deadline - now_ms();
		if (left <= 0 && !cancel_failed) {
			if (ub_cancel(d->ctx, id) == 0) {
				free(w);	/* no callback will come */
				return 0;
			}
			/* The answer is on its way: a second more for it. */
			cancel_failed = 1;
			deadline = now_ms() + 1000;
			continue;
		}
		if (left <= 0) {
			int late;
			pthread_mutex_lock(&d->lock);
			late = !w->finished;
			w->abandoned = late;
			pthread_mutex_unlock(&d->lock);
			if (late)
				return 0;	/* answered() frees w */
			break;
		}
		if (pthread_mutex_trylock(&d->process) == 0) {
			struct pollfd pfd = { ub_fd(d->ctx), POLLIN, 0 };
			if (poll(&pfd, 1, left > 50 ? 50 : (int)left) > 0)
				ub_process(d->ctx);
			pthread_mutex_unlock(&d->process);
		} else {
			/* Another thread processes; it wakes us. */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 50 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_mutex_lock(&d->lock);
			if (!w->finished)
				pthread_cond_timedwait(&d->done, &d->lock, &ts);
			pthread_mutex_unlock(&d->lock);
		}
	}
	*res = w->res;
	rc = w->err;
	free(w);
	return rc;
}

static char *
dup_mem(const void *p, size_t n)
{
	char *q = malloc(n + 1);

	if (q != NULL) {
		memcpy(q, p, n);
		q[n] = '\0';
	}
	return q;
}

/* A deep copy that ub_resolve_free() frees like one of libunbound's. */
static struct ub_result *
result_copy(const struct ub_result *r, int ttl)
{
	struct ub_result *c = calloc(1, sizeof(*c));
	size_t n = 0;

	if (c == NULL)
		return NULL;
	*c = *r;
	c->qname = c->canonname = NULL;
	c->data = NULL;
	c->len = NULL;
	c->answer_packet = NULL;
	c->why_bogus = NULL;
	c->ttl = ttl;
	while (r->data != NULL && r->data[n] != NULL)
		n++;
	if ((c->qname = dup_mem(r->qname, strlen(r->qname))) == NULL ||
	    (c->data = calloc(n + 1, sizeof(char *))) == NULL ||
	    (c->len = calloc(n + 1, sizeof(int))) == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		c->len[i] = r->len[i];
		if ((c->data[i] = dup_mem(r->data[i], (size_t)r->len[i])) ==
		    NULL)
			goto fail;
	}
	c->canonname = r->canonname == NULL ? NULL :
	    r->canonname == r->qname ? c->qname :
	    dup_mem(r->canonname, strlen(r->canonname));
	if (r->answer_packet != NULL && r->answer_len > 0 &&
	    (c->answer_packet = dup_mem(r->answer_packet,
	    (size_t)r->answer_len)) == NULL)
		goto fail;
	if (r->why_bogus != NULL &&
	    (c->why_bogus = dup_mem(r->why_bogus, strlen(r->why_bogus))) ==
	    NULL)
		goto fail;
	return c;
fail:
	ub_resolve_free(c);
	return NULL;
}

/* The cache key: the name in lower case without a trailing dot. */
static int
cache_key(const char *name, char *out, size_t outsz)
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

static size_t
cache_slot(const char *key, int type)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ (uint32_t)type) * 16777619u;
	return h % CACHE_SLOTS;
}

/* A copy of the cached answer, or NULL. */
static struct ub_result *
cache_get(struct dns *d, const char *key, int type)
{
	struct cache_entry *e = &d->cache[cache_slot(key, type)];
	struct ub_result *copy = NULL;
	long long now = now_ms();

	pthread_mutex_lock(&d->cache_lock);
	if (e->res != NULL && e->type == type && strcmp(e->name, key) == 0) {
		if (e->expires_ms > now)
			copy = result_copy(e->res,
			    (int)((e->expires_ms - now + 999) / 1000));
		else {
			ub_resolve_free(e->res);
			e->res = NULL;
		}
	}
	pthread_mutex_unlock(&d->cache_lock);
	return copy;
}

static void
cache_put(struct dns *d, const char *key, int type,
    const struct ub_result *res)
{
	struct cache_entry *e = &d->cache[cache_slot(key, type)];
	int ttl = res->ttl < CACHE_MAX_TTL ? res->ttl : CACHE_MAX_TTL;
	struct ub_result *copy;

	/* Answers only: data, NXDOMAIN or no data (NOERROR); never an
	 * error, a bogus answer or one without a TTL. */
	if (ttl <= 0 || res->bogus || (!res->havedata && !res->nxdomain &&
	    res->rcode != 0) || (copy = result_copy(res, ttl)) == NULL)
		return;
	pthread_mutex_lock(&d->cache_lock);
	ub_resolve_free(e->res);
	snprintf(e->name, sizeof(e->name), "%s", key);
	e->type = type;
	e->expires_ms = now_ms() + (long long)ttl * 1000;
	e->res = copy;
	pthread_mutex_unlock(&d->cache_lock);
}

/* resolve_network() behind the answer cache. */
static int
resolve_bounded(struct dns *d, const char *name, int type,
    struct ub_result **res)
{
	char key[256];
	int rc, cacheable = d->cache != NULL &&
	    cache_key(name, key, sizeof(key)) == 0;

	if (cacheable && (*res = cache_get(d, key, type)) != NULL)
		return 0;
	rc = resolve_network(d, name, type, res);
	if (cacheable && rc == 0 && *res != NULL)
		cache_put(d, key, type, *res);
	return rc;
}

/*
 * libunbound keeps some state for all contexts in globals: the locks
 * that finishing a context's setup creates (listen_setup_locks()) are
 * destroyed by deleting any context.  A reload deletes the old context
 * in whichever thread releases it last, while the new one may be set up
 * by its first query in another (ThreadSanitizer: data race in
 * pthread_mutex_init/destroy).  So creating, finishing and deleting a
 * context happen under one lock, and a context is finished here, at
 * once, rather than by its first query.
 */
static pthread_mutex_t ub_global = PTHREAD_MUTEX_INITIALIZER;

/* Reverse zones of the documentation prefixes (RFC 5737, RFC 3849)
 * that libunbound answers itself. */
static const char *const doc_reverse[] = {
	"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
	"113.0.203.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
};

struct dns *
dns_new(const char *spec, unsigned timeout_ms, unsigned retries,
    const char *trust_anchor, char *err, size_t errsz)
{
	struct dns *d;
	pthread_condattr_t ca;
	char num[16];
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsz, "cannot create a DNS resolver");
		return NULL;
	}
	pthread_mutex_lock(&ub_global);
	d->ctx = ub_ctx_create();
	pthread_mutex_unlock(&ub_global);
	if (d->ctx == NULL) {
		snprintf(err, errsz, "cannot create a DNS resolver");
		free(d);
		return NULL;
	}
	d->timeout_ms = timeout_ms;
	pthread_mutex_init(&d->cache_lock, NULL);
	d->cache = calloc(CACHE_SLOTS, sizeof(*d->cache));	/* or none */
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->process, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->done, &ca);
	pthread_condattr_destroy(&ca);
	/* Answers arrive through ub_process() in whichever thread waits. */
	if ((rc = ub_ctx_async(d->ctx, 1)) != 0) {
		snprintf(err, errsz, "DNS resolver: %s", ub_strerror(rc));
		dns_free(d);
		return NULL;
	}
	if (*spec != '\0') {
		if ((rc = ub_ctx_set_option(d->ctx, "do-not-query-localhost:",
		    "no")) != 0 || (rc = ub_ctx_set_fwd(d->ctx, spec)) != 0) {
			snprintf(err, errsz, "dns_resolver %s: %s", spec,
			    ub_strerror(rc));
			dns_free(d);
			return NULL;
		}
	} else if ((rc = ub_ctx_resolvconf(d->ctx, NULL)) != 0 ||
	    (rc = ub_ctx_hosts(d->ctx, NULL)) != 0) {
		snprintf(err, errsz, "system resolver: %s", ub_strerror(rc));
		dns_free(d);
		return NULL;
	}
	/* Private address space (RFC 1918, ULA, link-local): its reverse
	 * zones are the forwarder's to answer, not libunbound's (it would
	 * say NXDOMAIN itself, RFC 6303), so a site's own PTR records, as
	 * SPF's ptr and %{p} ask for, are seen. */
	if ((rc = ub_ctx_set_option(d->ctx, "unblock-lan-zones:", "yes")) != 0 ||
	    (rc = ub_ctx_set_option(d->ctx, "insecure-lan-zones:", "yes")) != 0) {
		snprintf(err, errsz, "DNS resolver: %s", ub_strerror(rc));
		dns_free(d);
		return NULL;
	}
	/* Resends of a query that got no answer (unbound's
	 * outbound-msg-retry); dns_timeout still bounds the whole query. */
	snprintf(num, sizeof(num), "%u", retries);
	if ((rc = ub_ctx_set_option(d->ctx, "outbound-msg-retry:", num)) != 0) {
		snprintf(err, errsz, "dns_retries: %s", ub_strerror(rc));
		dns_free(d);
		return NULL;
	}
	if (trust_anchor != NULL && *trust_anchor != '\0' &&
	    (rc = ub_ctx_add_ta_file(d->ctx, trust_anchor)) != 0) {
		snprintf(err, errsz, "dns_trust_anchor %s: %s", trust_anchor,
		    ub_strerror(rc));
		dns_free(d);
		return NULL;
	}
	/* Finish the setup now (any data call does; this name is none of
	 * ours), under the lock: see ub_global. */
	pthread_mutex_lock(&ub_global);
	rc = ub_ctx_data_remove(d->ctx, "authfilter.invalid.");
	/* The documentation prefixes' reverse zones likewise (no
	 * unblock-lan-zones for them): a test server may serve them. */
	for (size_t i = 0; rc == 0 && i < sizeof(doc_reverse) /
	    sizeof(doc_reverse[0]); i++)
		rc = ub_ctx_zone_remove(d->ctx, doc_reverse[i]);
	pthread_mutex_unlock(&ub_global);
	if (rc != 0) {
		snprintf(err, errsz, "DNS resolver setup%s%s: %s",
		    trust_anchor != NULL && *trust_anchor != '\0' ?
		    " with dns_trust_anchor " : "", trust_anchor != NULL ?
		    trust_anchor : "", ub_strerror(rc));
		dns_free(d);
		return NULL;
	}
	return d;
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->ctx != NULL) {
		pthread_mutex_lock(&ub_global);
		ub_ctx_delete(d->ctx);
		pthread_mutex_unlock(&ub_global);
	}
	for (size_t i = 0; d->cache != NULL && i < CACHE_SLOTS; i++)
		ub_resolve_free(d->cache[i].res);
	free(d->cache);
	pthread_mutex_destroy(&d->cache_lock);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->process);
	pthread_cond_destroy(&d->done);
	free(d);
}

void
dns_txt_free(char **txt)
{
	if (txt == NULL)
		return;
	for (size_t i = 0; txt[i] != NULL; i++)
		free(txt[i]);
	free(txt);
}

enum dns_status
dns_query_raw(struct dns *d, const char *name, int type, unsigned char *buf,
    size_t bufsz, size_t *len, int *secure)
{
	struct ub_result *res = NULL;
	enum dns_status st;

	*len = 0;
	*secure = 0;
	if (resolve_bounded(d, name, type, &res) != 0 || res == NULL) {
		ub_resolve_free(res);
		return DNS_TEMPFAIL;
	}
	if (res->bogus || res->answer_packet == NULL || res->answer_len <= 0 ||
	    (size_t)res->answer_len > bufsz ||
	    (res->rcode != 0 && !res->nxdomain))
		st = DNS_TEMPFAIL;	/* SERVFAIL, REFUSED, timeout, too big */
	else {
		memcpy(buf, res->answer_packet, (size_t)res->answer_len);
		*len = (size_t)res->answer_len;
		*secure = res->secure;
		st = res->nxdomain ? DNS_NXDOMAIN : res->havedata ? DNS_OK :
		    DNS_NODATA;
	}
	ub_resolve_free(res);
	return st;
}

/* Join the <length><bytes> strings of one TXT rdata; NULL if malformed. */
static char *
txt_join(const unsigned char *rd, size_t len)
{
	char *out = malloc(len + 1);
	size_t i = 0, o = 0;

	if (out == NULL)
		return NULL;
	while (i < len) {
		size_t n = rd[i++];
		if (n > len - i) {
			free(out);
			return NULL;
		}
		memcpy(out + o, rd + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	if (strlen(out) != o) {		/* a NUL byte inside: refuse */
		free(out);
		return NULL;
	}
	return out;
}

static const char *
type_name(int type)
{
	switch (type) {
	case 1:		return "A";
	case 12:	return "PTR";
	case 15:	return "MX";
	case 16:	return "TXT";
	case 28:	return "AAAA";
	default:	return "such";
	}
}

/* Resolve and sort the answer: DNS_OK with *res holding data, else the
 * status with err filled (and *res freed). */
static enum dns_status
resolve_classified(struct dns *d, const char *name, int type,
    struct ub_result **res, char *err, size_t errsz)
{
	int rc = resolve_bounded(d, name, type, res);
	enum dns_status st = DNS_OK;

	if (rc != 0 || *res == NULL) {
		snprintf(err, errsz, "%s: %s", name, rc != 0 ? ub_strerror(rc) :
		    "no answer within dns_timeout");
		st = DNS_TEMPFAIL;
	} else if ((*res)->bogus) {
		snprintf(err, errsz, "%s: DNSSEC validation failed: %s", name,
		    (*res)->why_bogus != NULL ? (*res)->why_bogus : "bogus");
		st = DNS_TEMPFAIL;
	} else if ((*res)->nxdomain) {
		snprintf(err, errsz, "%s: no such name", name);
		st = DNS_NXDOMAIN;
	} else if ((*res)->rcode != 0) {
		snprintf(err, errsz, "%s: DNS rcode %d", name, (*res)->rcode);
		st = DNS_TEMPFAIL;
	} else if (!(*res)->havedata) {
		snprintf(err, errsz, "%s: no %s record", name, type_name(type));
		st = DNS_NODATA;
	}
	if (st != DNS_OK) {
		ub_resolve_free(*res);
		*res = NULL;
	}
	return st;
}

enum dns_status
dns_txt(struct dns *d, const char *name, char ***txt, size_t *n,
    char *err, size_t errsz)
{
	unsigned ttl;

	return dns_txt_ttl(d, name, txt, n, &ttl, err, errsz);
}

enum dns_status
dns_txt_ttl(struct dns *d, const char *name, char ***txt, size_t *n,
    unsigned *ttl, char *err, size_t errsz)
{
	struct ub_result *res = NULL;
	enum dns_status st;
	size_t count = 0;

	*txt = NULL;
	*n = 0;
	*ttl = 0;
	if ((st = resolve_classified(d, name, RR_TYPE_TXT, &res, err, errsz))
	    != DNS_OK)
		goto out;
	*ttl = res->ttl > 0 ? (unsigned)res->ttl : 0;
	while (res->data[count] != NULL)
		count++;
	if ((*txt = calloc(count + 1, sizeof(char *))) == NULL) {
		snprintf(err, errsz, "out of memory");
		st = DNS_TEMPFAIL;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		(*txt)[i] = txt_join((unsigned char *)res->data[i],
		    (size_t)res->len[i]);
		if ((*txt)[i] == NULL) {
			snprintf(err, errsz, "%s: malformed TXT record", name);
			dns_txt_free(*txt);
			*txt = NULL;
			st = DNS_TEMPFAIL;
			goto out;
		}
	}
	*n = count;
	st = DNS_OK;
out:
	ub_resolve_free(res);
	return st;
}

void
dns_rrset_free(struct dns_rrset *rs)
{
	if (rs->data != NULL)
		for (size_t i = 0; i < rs->n; i++)
			free(rs->data[i]);
	free(rs->data);
	free(rs->len);
	memset(rs, 0, sizeof(*rs));
}

enum dns_status
dns_rrset(struct dns *d, const char *name, int type, struct dns_rrset *rs,
    char *err, size_t errsz)
{
	struct ub_result *res = NULL;
	enum dns_status st;
	size_t count = 0;

	memset(rs, 0, sizeof(*rs));
	if ((st = resolve_classified(d, name, type, &res, err, errsz)) !=
	    DNS_OK)
		goto out;
	while (res->data[count] != NULL)
		count++;
	if ((rs->data = calloc(count, sizeof(*rs->data))) == NULL ||
	    (rs->len = calloc(count, sizeof(*rs->len))) == NULL) {
		snprintf(err, errsz, "out of memory");
		st = DNS_TEMPFAIL;
		goto out;
	}
	for (; rs->n < count; rs->n++) {
		size_t len = (size_t)res->len[rs->n];
		if ((rs->data[rs->n] = malloc(len + 1)) == NULL) {
			snprintf(err, errsz, "out of memory");
			st = DNS_TEMPFAIL;
			goto out;
		}
		memcpy(rs->data[rs->n], res->data[rs->n], len);
		rs->data[rs->n][len] = '\0';
		rs->len[rs->n] = len;
	}
	rs->ttl = res->ttl > 0 ? (unsigned)res->ttl : 0;
out:
	if (st != DNS_OK)
		dns_rrset_free(rs);
	ub_resolve_free(res);
	return st;
}

int
dns_name_text(const unsigned char *wire, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	if (outsz == 0)
		return -1;
	while (i < len && wire[i] != 0) {
		size_t n = wire[i++];
		if (n > 63 || n > len - i)
			return -1;	/* compressed or truncated: not ours */
		if (o != 0) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
		}
		for (size_t k = 0; k < n; k++, i++) {
			unsigned char c = wire[i];
			if (c <= ' ' || c >= 0x7f || c == '.' || c == '\\')
				return -1;	/* no name we would look up */
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
		}
	}
	if (i >= len)
		return -1;		/* no root label */
	out[o] = '\0';
	return 0;
}
