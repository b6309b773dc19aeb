/*
 * NAME
 *	dns -- the one DNS resolver of authfilter (libunbound)
 * SYNOPSIS
 *	d = dns_new(cfg->dns_resolver, timeout_ms, retries, anchor, err,
 *	    sizeof(err));
 *	dns_prefetch(d, "_dmarc.example.org", 16);
 *	dns_budget_begin(budget_ms, progress, arg);
 *	... dns_txt(d, ...) and the other readers (dns_read.c) ...
 *	dns_budget_end();
 * DESCRIPTION
 *	Every DNS query of authfilter and authfilter-keys goes through
 *	here: one cache, one place for timeouts, and one setting
 *	(dns_resolver) that points everything at a test server.  A
 *	forwarder on 127.0.0.1 is allowed (unbound refuses to query
 *	localhost by default).
 *
 *	Bounded time: libunbound alone takes about 17 seconds to give up on
 *	a server that never answers.  Queries are therefore asynchronous:
 *	a thread that needs an answer waits for it at most until dns_timeout
 *	after the query started, and no longer than its message's budget
 *	(dns_budget_begin(): dns_message_budget).  One pump thread per
 *	resolver runs ub_process() and delivers every answer; it cancels
 *	queries that nobody waited for once their dns_timeout has passed.
 *
 *	Lookups start early: dns_prefetch() starts a query and returns at
 *	once.  A later question for the same name and type joins the query
 *	in flight (one query on the network per name, however many threads
 *	ask) or finds its answer in the cache (dns_answer.c).
 *	dns_prefetch_then() also runs a continuation with the answer, in
 *	the pump thread: it must not block (it may start more prefetches,
 *	as SPF's follow include: and redirect=).
 *
 *	While a message waits, its MTA hears from us: the budget's progress
 *	function is called about every PROGRESS_MS (SMFIR_PROGRESS), so an
 *	MTA's own milter timeout does not fire first.
 * SEE ALSO
 *	dns_read.c (answers as TXT strings, records, packets),
 *	dns_answer.c (our answer type and the cache).
 */
#include "buildconf.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <unistd.h>

#include <unbound.h>

#include "lib/dns.h"
#include "lib/metrics.h"
#include "lib/dns_answer.h"
#include "lib/dns_ctx.h"
#include "lib/dns_internal.h"
#include "lib/hash.h"
#include "lib/log.h"

/* DNS types and classes (RFC 1035) */
#define RR_CLASS_IN	1

#define FLIGHT_SLOTS	256
#define PUMP_TICK_MS	250	/* how late an unwatched query is cancelled */
#define PROGRESS_MS	1000	/* a waiting message tells its MTA this often */

/* A continuation of a prefetch: runs once, with the answer. */
struct cont {
	struct cont	*next;
	dns_then_fn	 fn;
	void		*arg;
};

/* One query on the network.  Lives while it is in the table, while a
 * thread waits for it, or while libunbound may still call back. */
struct flight {
	struct flight	*next;		/* in its table slot */
	struct dns	*d;
	char		 key[256];
	int		 type;
	int		 id;		/* libunbound's, once started */
	long long	 deadline_ms;	/* dns_timeout after the start */
	int		 in_table, ub_pending, started;
	unsigned	 waiters;
	int		 done;		/* answered, failed or timed out */
	int		 err;		/* ub error code; -1: timed out */
	struct dns_answer *ans;
	struct cont	*conts;
};

struct dns {
	struct ub_ctx	*ctx;
	unsigned	 timeout_ms;
	struct dns_cache *cache;
	pthread_mutex_t	 lock;		/* the flights and their fields */
	pthread_cond_t	 done;		/* some flight finished */
	struct flight	*table[FLIGHT_SLOTS];
	struct flight	*orphans;	/* out of the table, awaited by ub */
	pthread_t	 pump;
	int		 pump_running;
	int		 wake[2];	/* stop the pump */
	unsigned long	 queries;	/* sent to libunbound */
	int		 trace;		/* log_dns: log each of them */
};

/* The queries a message started (dns_prefetch() while it was entered):
 * their outcome, answer or failure, stays the message's to use even
 * when the cache keeps nothing (TTL 0, errors, a timeout). */
#define HOLD_MAX	64
struct dns_hold {
	struct dns	*d;
	size_t		 n;
	struct flight	*f[HOLD_MAX];
};

static _Thread_local struct dns_hold *cur_hold;

/* The waiting budget of the message this thread works on. */
static _Thread_local struct {
	long long	 deadline_ms;	/* 0: none */
	void		(*progress)(void *);
	void		*arg;
	long long	 next_progress;
} budget;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
dns_budget_begin(unsigned budget_ms, void (*progress)(void *), void *arg)
{
	budget.deadline_ms = now_ms() + (budget_ms > 0 ? budget_ms : 1);
	budget.progress = progress;
	budget.arg = arg;
	budget.next_progress = now_ms() + PROGRESS_MS;
}

void
dns_budget_end(void)
{
	memset(&budget, 0, sizeof(budget));
}

int
dns_budget_spent(void)
{
	return budget.deadline_ms != 0 && now_ms() >= budget.deadline_ms;
}

static void flight_maybe_free(struct flight *);

struct dns_hold *
dns_hold_new(void)
{
	return calloc(1, sizeof(struct dns_hold));
}

void
dns_hold_free(struct dns_hold *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL) {
		pthread_mutex_lock(&h->d->lock);
		for (size_t i = 0; i < h->n; i++) {
			h->f[i]->waiters--;
			flight_maybe_free(h->f[i]);
		}
		pthread_mutex_unlock(&h->d->lock);
	}
	free(h);
}

void
dns_hold_enter(struct dns_hold *h)
{
	cur_hold = h;
}

void
dns_hold_leave(void)
{
	cur_hold = NULL;
}

/* Under d->lock: keep f for the current message. */
static void
hold_add(struct dns *d, struct flight *f)
{
	struct dns_hold *h = cur_hold;

	if (h == NULL || h->n >= HOLD_MAX || (h->d != NULL && h->d != d))
		return;
	for (size_t i = 0; i < h->n; i++)
		if (h->f[i] == f)
			return;
	h->d = d;
	f->waiters++;		/* held: freed by dns_hold_free() */
	h->f[h->n++] = f;
}

/* Under d->lock: the current message's flight for (key, type). */
static struct flight *
hold_find(struct dns *d, const char *key, int type)
{
	struct dns_hold *h = cur_hold;

	for (size_t i = 0; h != NULL && h->d == d && i < h->n; i++)
		if (h->f[i]->type == type && strcmp(h->f[i]->key, key) == 0)
			return h->f[i];
	return NULL;
}

static struct flight **
slot_of(struct dns *d, const char *key, int type)
{
	uint32_t h = fnv1a(FNV1A_INIT, key, strlen(key));

	h = fnv1a(h, &type, sizeof(type));
	return &d->table[h % FLIGHT_SLOTS];
}

static struct flight *
table_find(struct dns *d, const char *key, int type)
{
	for (struct flight *f = *slot_of(d, key, type); f != NULL; f = f->next)
		if (f->type == type && strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static void
table_remove(struct dns *d, struct flight *f)
{
	struct flight **pp = slot_of(d, f->key, f->type);

	while (*pp != NULL && *pp != f)
		pp = &(*pp)->next;
	if (*pp == f)
		*pp = f->next;
	f->next = NULL;
	f->in_table = 0;
}

static void
orphan_remove(struct dns *d, struct flight *f)
{
	struct flight **pp = &d->orphans;

	while (*pp != NULL && *pp != f)
		pp = &(*pp)->next;
	if (*pp == f)
		*pp = f->next;
	f->next = NULL;
}

/* Under d->lock: free f once nobody holds it. */
static void
flight_maybe_free(struct flight *f)
{
	if (f->in_table || f->waiters > 0 || f->ub_pending)
		return;
	dns_answer_unref(f->ans);
	free(f);
}

/* Under d->lock: the flight is over; its continuations are handed to
 * the caller, to run without the lock. */
static struct cont *
flight_finish(struct dns *d, struct flight *f, int err, struct dns_answer *a)
{
	struct cont *c = f->conts;

	f->conts = NULL;
	f->done = 1;
	f->err = err;
	f->ans = a;
	if (f->in_table)
		table_remove(d, f);
	pthread_cond_broadcast(&d->done);
	return c;
}

/* One continuation, with the answer (or err) as its status and data. */
static void
call_then(struct dns *d, dns_then_fn fn, void *arg, const char *name,
    int type, int err, struct dns_answer *a)
{
	char why[300];
	enum dns_status st = dns_classify(a, err, name, type, why, sizeof(why));

	fn(d, arg, st, st == DNS_OK ? a->n : 0, st == DNS_OK ? a->data : NULL,
	    st == DNS_OK ? a->len : NULL);
}

static void
run_conts(struct dns *d, struct cont *c, const char *name, int type, int err,
    struct dns_answer *a)
{
	while (c != NULL) {
		struct cont *next = c->next;
		call_then(d, c->fn, c->arg, name, type, err, a);
		free(c);
		c = next;
	}
}

/* How a query ended, for authfilter_dns_queries_total. */
static void
count_answer(const struct flight *f, int err, const struct dns_answer *a)
{
	const char *how = err != 0 || a == NULL ? "error" :
	    a->bogus ? "bogus" : a->nxdomain ? "nxdomain" :
	    a->rcode == 2 ? "servfail" : a->rcode != 0 ? "error" :
	    a->havedata ? "answer" : "nodata";

	metrics_count("authfilter_dns_queries_total", 1, "result", how, NULL);
	if (err == 0 && a != NULL)
		metrics_observe("authfilter_dns_query_duration_seconds",
		    (double)(now_ms() - (f->deadline_ms -
		    (long long)f->d->timeout_ms)) / 1000.0, NULL);
}

/* libunbound's callback, in the pump thread. */
static void
answered(void *arg, int err, struct ub_result *res)
{
	struct flight *f = arg;
	struct dns *d = f->d;
	struct dns_answer *a = NULL;
	struct cont *c = NULL;

	if (err == 0 && res != NULL && (a = dns_answer_from_ub(res)) == NULL)
		err = UB_NOMEM;
	ub_resolve_free(res);
	if (a != NULL)
		dns_cache_put(d->cache, f->key, f->type, a);
	pthread_mutex_lock(&d->lock);
	if (!f->done) {
		count_answer(f, err, a);	/* a timeout was counted */
		c = flight_finish(d, f, a == NULL && err == 0 ? UB_NOMEM : err,
		    dns_answer_ref(a));
	} else
		orphan_remove(d, f);	/* timed out before: only cached */
	pthread_mutex_unlock(&d->lock);
	run_conts(d, c, f->key, f->type, err, a);
	dns_answer_unref(a);
	pthread_mutex_lock(&d->lock);
	f->ub_pending = 0;	/* held until here: f->key is still read */
	flight_maybe_free(f);
	pthread_mutex_unlock(&d->lock);
}

/* Under d->lock: a new flight in the table, not yet started. */
static struct flight *
flight_new(struct dns *d, const char *key, int type)
{
	struct flight *f = calloc(1, sizeof(*f)), **slot;

	if (f == NULL)
		return NULL;
	f->d = d;
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->type = type;
	f->deadline_ms = now_ms() + d->timeout_ms;
	slot = slot_of(d, key, type);
	f->next = *slot;
	*slot = f;
	f->in_table = 1;
	f->ub_pending = 1;	/* until started or failed to start */
	return f;
}

/* Without d->lock: hand the flight to libunbound.  The answer may be
 * delivered (and the flight finished) before ub_resolve_async()
 * returns: the flight is held as a waiter meanwhile. */
static void
flight_start(struct dns *d, struct flight *f)
{
	struct cont *c = NULL;
	int id = 0, rc;

	pthread_mutex_lock(&d->lock);
	f->waiters++;
	pthread_mutex_unlock(&d->lock);
	if (d->trace)
		log_msg(LOG_INFO, "DNS query %s %s", f->key,
		    dns_type_name(f->type));
	rc = ub_resolve_async(d->ctx, f->key, f->type, RR_CLASS_IN, f,
	    answered, &id);
	pthread_mutex_lock(&d->lock);
	d->queries++;
	if (rc != 0) {
		f->ub_pending = 0;
		c = flight_finish(d, f, rc, NULL);
		metrics_count("authfilter_dns_queries_total", 1, "result",
		    "error", NULL);
	} else {
		f->id = id;
		f->started = 1;
	}
	pthread_mutex_unlock(&d->lock);
	run_conts(d, c, f->key, f->type, rc, NULL);
	pthread_mutex_lock(&d->lock);
	f->waiters--;
	flight_maybe_free(f);
	pthread_mutex_unlock(&d->lock);
}

/* The pump: libunbound's answers are delivered here, and queries past
 * their deadline that nobody waits for are cancelled. */
static void
sweep(struct dns *d)
{
	long long now = now_ms();
	struct flight *expired = NULL;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < FLIGHT_SLOTS; i++) {
		struct flight *f = d->table[i], *next;
		for (; f != NULL; f = next) {
			next = f->next;
			if (!f->started || f->deadline_ms > now)
				continue;
			struct cont *c = flight_finish(d, f, -1, NULL);
			metrics_count("authfilter_dns_queries_total", 1,
			    "result", "timeout", NULL);
			pthread_mutex_unlock(&d->lock);
			run_conts(d, c, f->key, f->type, -1, NULL);
			pthread_mutex_lock(&d->lock);
			f->next = expired;	/* to cancel below */
			expired = f;
			f->waiters++;		/* held while cancelling */
			next = d->table[i];	/* the slot may have changed */
		}
	}
	pthread_mutex_unlock(&d->lock);
	while (expired != NULL) {
		struct flight *f = expired;
		int cancelled = ub_cancel(d->ctx, f->id) == 0;
		expired = f->next;
		pthread_mutex_lock(&d->lock);
		f->waiters--;
		f->next = NULL;
		if (cancelled)
			f->ub_pending = 0;	/* no callback will come */
		else if (f->ub_pending) {
			f->next = d->orphans;	/* the answer is on its way */
			d->orphans = f;
		}
		flight_maybe_free(f);
		pthread_mutex_unlock(&d->lock);
	}
}

static void *
pump(void *arg)
{
	struct dns *d = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ ub_fd(d->ctx), POLLIN, 0 },
			{ d->wake[0], POLLIN, 0 },
		};
		int n = poll(pfd, 2, PUMP_TICK_MS);
		if (n > 0 && (pfd[1].revents & POLLIN))
			break;
		if (n > 0 && (pfd[0].revents & POLLIN))
			ub_process(d->ctx);
		sweep(d);
	}
	return NULL;
}

/* The answer of (name, type): from the cache, from a query in flight,
 * or from a new query; waits at most until the query's deadline
 * (dns_timeout after it started) and the thread's budget.  0 with *a
 * set (a reference), or an ub error code, or -1 for no answer in time;
 * *ttl is the answer's TTL left. */
int
dns_resolve(struct dns *d, const char *name, int type, struct dns_answer **a,
    int *ttl)
{
	struct flight *f;
	char key[256];
	int started_here = 0, rc;

	*a = NULL;
	if (dns_cache_key(name, key, sizeof(key)) != 0)
		return UB_SYNTAX;
	if ((*a = dns_cache_get(d->cache, key, type, ttl)) != NULL) {
		metrics_count("authfilter_dns_cache_hits_total", 1, NULL);
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if ((f = hold_find(d, key, type)) == NULL &&
	    (f = table_find(d, key, type)) == NULL) {
		if (dns_budget_spent()) {
			pthread_mutex_unlock(&d->lock);
			return -1;
		}
		if ((f = flight_new(d, key, type)) == NULL) {
			pthread_mutex_unlock(&d->lock);
			return UB_NOMEM;
		}
		started_here = 1;
	}
	f->waiters++;
	pthread_mutex_unlock(&d->lock);
	if (started_here)
		flight_start(d, f);

	pthread_mutex_lock(&d->lock);
	while (!f->done) {
		long long now = now_ms(), until = f->deadline_ms;
		if (budget.deadline_ms != 0 && budget.deadline_ms < until)
			until = budget.deadline_ms;
		if (now >= until)
			break;
		if (budget.progress != NULL && now >= budget.next_progress) {
			pthread_mutex_unlock(&d->lock);
			budget.progress(budget.arg);
			budget.next_progress = now + PROGRESS_MS;
			pthread_mutex_lock(&d->lock);
			continue;
		}
		if (budget.progress != NULL && budget.next_progress < until)
			until = budget.next_progress;
		struct timespec ts = {
			.tv_sec = (time_t)(until / 1000),
			.tv_nsec = (long)(until % 1000) * 1000000L,
		};
		pthread_cond_timedwait(&d->done, &d->lock, &ts);
	}
	if (f->done && f->ans != NULL) {
		*a = dns_answer_ref(f->ans);
		*ttl = f->ans->ttl;
		rc = 0;
	} else
		rc = f->done ? f->err : -1;
	f->waiters--;
	flight_maybe_free(f);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void
dns_prefetch_then(struct dns *d, const char *name, int type, dns_then_fn fn,
    void *arg)
{
	struct dns_answer *a;
	struct flight *f;
	struct cont *c = NULL;
	char key[256];
	int ttl, started_here = 0;

	if (dns_cache_key(name, key, sizeof(key)) != 0)
		goto fail;
	if ((a = dns_cache_get(d->cache, key, type, &ttl)) != NULL) {
		metrics_count("authfilter_dns_cache_hits_total", 1, NULL);
		if (fn != NULL)
			call_then(d, fn, arg, key, type, 0, a);
		dns_answer_unref(a);
		return;
	}
	if (fn != NULL && (c = malloc(sizeof(*c))) == NULL)
		goto fail;
	pthread_mutex_lock(&d->lock);
	if ((f = table_find(d, key, type)) == NULL) {
		if ((f = flight_new(d, key, type)) == NULL) {
			pthread_mutex_unlock(&d->lock);
			free(c);
			goto fail;
		}
		started_here = 1;
	}
	if (c != NULL) {
		c->fn = fn;
		c->arg = arg;
		c->next = f->conts;
		f->conts = c;
	}
	hold_add(d, f);
	pthread_mutex_unlock(&d->lock);
	if (started_here)
		flight_start(d, f);
	return;
fail:
	if (fn != NULL)
		fn(d, arg, DNS_TEMPFAIL, 0, NULL, NULL);
}

void
dns_prefetch(struct dns *d, const char *name, int type)
{
	dns_prefetch_then(d, name, type, NULL, NULL);
}

void
dns_set_trace(struct dns *d, int on)
{
	d->trace = on;		/* before the state serves: no lock */
}

unsigned long
dns_queries(struct dns *d)
{
	unsigned long n;

	pthread_mutex_lock(&d->lock);
	n = d->queries;
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* The pump takes no signal: they belong to the main thread (runloop.c),
 * and a SIGHUP taken here would end the process.  libunbound's own
 * thread, started from the pump or a worker, inherits the same mask. */
static int
start_pump(struct dns *d)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&d->pump, NULL, pump, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

struct dns *
dns_new(const char *spec, unsigned timeout_ms, unsigned retries,
    const char *trust_anchor, char *err, size_t errsz)
{
	struct dns *d;
	pthread_condattr_t ca;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsz, "cannot create a DNS resolver");
		return NULL;
	}
	d->timeout_ms = timeout_ms;
	d->cache = dns_cache_new();		/* or none */
	d->wake[0] = d->wake[1] = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->done, &ca);
	pthread_condattr_destroy(&ca);
	if ((d->ctx = dns_ctx_new(spec, retries, trust_anchor, err, errsz)) ==
	    NULL) {
		dns_free(d);
		return NULL;
	}
	if (pipe2(d->wake, O_CLOEXEC) != 0 || start_pump(d) != 0) {
		snprintf(err, errsz, "DNS resolver: cannot start its thread");
		dns_free(d);
		return NULL;
	}
	d->pump_running = 1;
	return d;
}

static void
free_flights(struct flight *f)
{
	while (f != NULL) {
		struct flight *next = f->next;
		for (struct cont *c = f->conts, *cn; c != NULL; c = cn) {
			cn = c->next;
			c->fn(NULL, c->arg, DNS_TEMPFAIL, 0, NULL, NULL);
			free(c);
		}
		dns_answer_unref(f->ans);
		free(f);
		f = next;
	}
}

/* Called when no thread uses d any more (the state's last reference). */
void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->pump_running) {
		(void)!write(d->wake[1], "x", 1);
		pthread_join(d->pump, NULL);
	}
	dns_ctx_delete(d->ctx);		/* no callback comes after this */
	for (size_t i = 0; i < FLIGHT_SLOTS; i++)
		free_flights(d->table[i]);
	free_flights(d->orphans);
	dns_cache_free(d->cache);
	for (int i = 0; i < 2; i++)
		if (d->wake[i] >= 0)
			close(d->wake[i]);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->done);
	free(d);
}
