/*
 * NAME
 *	rua_writer -- DMARC evaluations to the report store, off the mail path
 * SYNOPSIS
 *	rua_writer_start(cfg->report_db, cfg->report_queue, err, errsz);
 *	rua_writer_submit(&ev);		(end of message, any thread)
 *	rua_writer_configure(url, n);	(SIGHUP)
 *	rua_writer_stop(5000);		(exit)
 * DESCRIPTION
 *	A message thread only copies its evaluation into a queue of at
 *	most report_queue rows and goes on: it never waits for the store.
 *	When the queue is full the row is dropped, counted in
 *	authfilter_report_rows_dropped_total{reason="queue_full"} and
 *	logged (at most once a minute, with the number dropped).
 *
 *	One thread owns the store (rua/store.h): it gathers rows for up to
 *	WRITER_GATHER_MS, takes up to WRITER_BATCH of them and writes them
 *	in one transaction.
 *	The store is opened by that thread, as the daemon's user; when it
 *	cannot be opened or a write fails, the rows are dropped (reason
 *	"store") and it is tried again WRITER_RETRY seconds later, so a
 *	database that is down costs the mail nothing.
 *
 *	Between batches the same thread counts the imported reports for
 *	/metrics (outbound_gauges.c): at start, at each reload and every
 *	GAUGES_EVERY seconds.
 * DIAGNOSTICS
 *	"report_db URL: ..." when the store fails; "N DMARC evaluation(s)
 *	not recorded: ..." when rows are dropped.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/metrics.h"
#include "milter/outbound_gauges.h"
#include "milter/rua_writer.h"
#include "rua/store.h"

/* Rows per transaction: a busy MX records a few hundred a second, and
 * one commit each would cost a disk sync each (WAL, synchronous=NORMAL
 * syncs at checkpoints only, PostgreSQL at every commit). */
#define WRITER_BATCH	256
/* A row waits at most this long for others to share its transaction:
 * without it, a writer that keeps up would commit every row alone. */
#define WRITER_GATHER_MS 1000
/* Seconds between attempts to open a store that failed. */
#define WRITER_RETRY	30
/* Seconds past rua_writer_stop()'s deadline that it waits for the
 * writer still inside a store call. */
#define WRITER_JOIN_GRACE 5
/* Seconds between two counts of the imported reports for /metrics. */
#define GAUGES_EVERY	300
/* Seconds between two log lines about dropped rows. */
#define DROP_LOG_EVERY	60

struct node {
	struct node	*next;
	struct rua_eval	 ev;
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct node	*head, *tail;
	size_t		 n, max;
	char		*url;		/* wanted; "" = record nothing */
	int		 running, stopping;
	int		 refresh;	/* count the gauges again now */
	struct timespec	 deadline;	/* stopping: write until then */
	pthread_t	 tid;
	/* dropped rows not yet logged, and when we last logged */
	unsigned long	 dropped_full, dropped_store;
	time_t		 drop_logged;
} w = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* Log the rows dropped since the last such line; under w.lock. */
static void
drop_log_locked(int force)
{
	time_t now = time(NULL);

	if (w.dropped_full + w.dropped_store == 0 ||
	    (!force && now - w.drop_logged < DROP_LOG_EVERY))
		return;
	log_msg(LOG_WARNING, "%lu DMARC evaluation(s) not recorded for "
	    "aggregate reports: %lu with the writer's queue full "
	    "(report_queue = %zu), %lu with report_db failing",
	    w.dropped_full + w.dropped_store, w.dropped_full, w.max,
	    w.dropped_store);
	w.dropped_full = w.dropped_store = 0;
	w.drop_logged = now;
}

static void
drop(size_t n, int store)
{
	metrics_count("authfilter_report_rows_dropped_total", (double)n,
	    "reason", store ? "store" : "queue_full", NULL);
	pthread_mutex_lock(&w.lock);
	if (store)
		w.dropped_store += n;
	else
		w.dropped_full += n;
	drop_log_locked(0);
	pthread_mutex_unlock(&w.lock);
}

static struct node *
node_of(struct rua_eval *ev)
{
	return (struct node *)(void *)((char *)ev - offsetof(struct node, ev));
}

struct rua_eval *
rua_writer_slot(void)
{
	struct node *nd;
	int on;

	pthread_mutex_lock(&w.lock);
	on = w.running && !w.stopping && w.url != NULL && *w.url != '\0';
	pthread_mutex_unlock(&w.lock);
	if (!on || (nd = malloc(sizeof(*nd))) == NULL)
		return NULL;
	return &nd->ev;
}

void
rua_writer_discard(struct rua_eval *ev)
{
	if (ev != NULL)
		free(node_of(ev));
}

void
rua_writer_submit(struct rua_eval *ev)
{
	struct node *nd = node_of(ev);

	pthread_mutex_lock(&w.lock);
	if (!w.running || w.stopping || w.url == NULL || *w.url == '\0') {
		pthread_mutex_unlock(&w.lock);
		free(nd);
		return;
	}
	if (w.n >= w.max) {
		pthread_mutex_unlock(&w.lock);
		free(nd);
		drop(1, 0);
		return;
	}
	nd->next = NULL;
	if (w.tail != NULL)
		w.tail->next = nd;
	else
		w.head = nd;
	w.tail = nd;
	/* Woken for the first row (it starts gathering) and for a full
	 * batch; not for each message. */
	if (++w.n == 1 || w.n == WRITER_BATCH)
		pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
}

/* A time WRITER_GATHER_MS from now, for pthread_cond_timedwait. */
static struct timespec
gather_deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WRITER_GATHER_MS / 1000;
	ts.tv_nsec += (long)(WRITER_GATHER_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Up to WRITER_BATCH rows into batch, the store's URL into url, and
 * whether the gauges are asked for again; waits for rows until wake_at
 * (seconds since 1970) at most.  -1: stop. */
static long
take(struct rua_eval *batch, char *url, size_t urlsz, time_t wake_at,
    int *refresh)
{
	struct timespec ts = { .tv_sec = wake_at };
	size_t k = 0;

	pthread_mutex_lock(&w.lock);
	while (w.n == 0 && !w.stopping && !w.refresh &&
	    pthread_cond_timedwait(&w.cond, &w.lock, &ts) == 0)
		;
	if (w.n > 0 && !w.stopping) {
		ts = gather_deadline();
		while (w.n < WRITER_BATCH && !w.stopping &&
		    pthread_cond_timedwait(&w.cond, &w.lock, &ts) == 0)
			;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (w.stopping && (w.n == 0 || ts.tv_sec > w.deadline.tv_sec ||
	    (ts.tv_sec == w.deadline.tv_sec &&
	    ts.tv_nsec >= w.deadline.tv_nsec))) {
		pthread_mutex_unlock(&w.lock);
		return -1;
	}
	while (k < WRITER_BATCH && w.head != NULL) {
		struct node *nd = w.head;
		w.head = nd->next;
		batch[k++] = nd->ev;
		free(nd);
		w.n--;
	}
	if (w.head == NULL)
		w.tail = NULL;
	snprintf(url, urlsz, "%s", w.url != NULL ? w.url : "");
	*refresh = w.refresh;
	w.refresh = 0;
	pthread_mutex_unlock(&w.lock);
	return (long)k;
}

struct writer {
	struct rua_store *store;
	char		 url[1024];	/* of store, or the one that failed */
	time_t		 retry_at;	/* when the failed one is tried again */
	int		 failing;	/* logged, until it works again */
};

static void
fail(struct writer *wr, const char *err)
{
	if (!wr->failing)
		log_msg(LOG_ERR, "%s; DMARC evaluations are not recorded "
		    "until it works (tried again every %d s)", err,
		    WRITER_RETRY);
	wr->failing = 1;
	wr->retry_at = time(NULL) + WRITER_RETRY;
	rua_store_close(wr->store);
	wr->store = NULL;
}

/* The store for url, opened if need be; NULL while it fails. */
static struct rua_store *
store_for(struct writer *wr, const char *url)
{
	char err[600];

	if (strcmp(url, wr->url) != 0) {
		rua_store_close(wr->store);
		wr->store = NULL;
		wr->failing = 0;
		wr->retry_at = 0;
		snprintf(wr->url, sizeof(wr->url), "%s", url);
	}
	if (wr->store != NULL || *url == '\0' || time(NULL) < wr->retry_at)
		return wr->store;
	if ((wr->store = rua_store_open(url, err, sizeof(err))) == NULL) {
		fail(wr, err);
		return NULL;
	}
	if (wr->failing)
		log_msg(LOG_INFO, "report_db %s works again", url);
	wr->failing = 0;
	return wr->store;
}

/* A batch into the store; a failed write is tried once more on a new
 * handle (another program held the SQLite lock past its busy timeout,
 * or the PostgreSQL connection broke) before its rows are dropped. */
static int
write_batch(struct writer *wr, const char *url, const struct rua_eval *batch,
    size_t k, char *err, size_t errsz)
{
	if (rua_store_add_evals(wr->store, batch, k, err, errsz) == 0)
		return 0;
	rua_store_close(wr->store);
	if ((wr->store = rua_store_open(url, err, errsz)) == NULL)
		return -1;
	return rua_store_add_evals(wr->store, batch, k, err, errsz);
}

static void *
writer_main(void *arg)
{
	struct writer wr = { 0 };
	struct rua_eval *batch = arg;
	char url[sizeof(wr.url)], err[600];
	time_t gauges_at = 0;	/* when the gauges are counted again */
	int refresh;
	long k;

	while ((k = take(batch, url, sizeof(url), gauges_at, &refresh)) >= 0) {
		if (store_for(&wr, url) == NULL) {
			if (k > 0)
				drop((size_t)k, 1);
		} else if (k > 0 && write_batch(&wr, url, batch, (size_t)k,
		    err, sizeof(err)) != 0) {
			fail(&wr, err);
			drop((size_t)k, 1);
		} else if (k > 0)
			metrics_count("authfilter_report_rows_total",
			    (double)k, NULL);
		if (wr.store != NULL && (refresh || time(NULL) >= gauges_at)) {
			outbound_gauges_refresh(wr.store);
			gauges_at = time(NULL) + GAUGES_EVERY;
		} else if (wr.store == NULL)
			gauges_at = time(NULL) + WRITER_RETRY;
	}
	rua_store_close(wr.store);
	free(batch);
	return NULL;
}

int
rua_writer_start(const char *url, size_t queue_max, char *err, size_t errsz)
{
	struct rua_eval *batch = malloc(WRITER_BATCH * sizeof(*batch));

	rua_writer_configure(url, queue_max);
	if (batch == NULL || pthread_create(&w.tid, NULL, writer_main,
	    batch) != 0) {
		free(batch);
		snprintf(err, errsz, "cannot start the report writer thread");
		return -1;
	}
	pthread_mutex_lock(&w.lock);
	w.running = 1;
	pthread_mutex_unlock(&w.lock);
	return 0;
}

void
rua_writer_configure(const char *url, size_t queue_max)
{
	char *copy = strdup(url);

	pthread_mutex_lock(&w.lock);
	if (copy != NULL) {
		free(w.url);
		w.url = copy;
	}
	w.max = queue_max;
	w.refresh = 1;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
}

void
rua_writer_stop(unsigned timeout_ms)
{
	struct timespec join_by;
	size_t left;

	pthread_mutex_lock(&w.lock);
	if (!w.running) {
		pthread_mutex_unlock(&w.lock);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &w.deadline);
	w.deadline.tv_sec += timeout_ms / 1000;
	w.deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (w.deadline.tv_nsec >= 1000000000L) {
		w.deadline.tv_sec++;
		w.deadline.tv_nsec -= 1000000000L;
	}
	w.stopping = 1;
	/* A store that hangs (a PostgreSQL server gone silent) must not
	 * keep the daemon from exiting: a little past the deadline, go. */
	join_by = w.deadline;
	join_by.tv_sec += WRITER_JOIN_GRACE;
	pthread_cond_broadcast(&w.cond);
	pthread_mutex_unlock(&w.lock);
	if (pthread_timedjoin_np(w.tid, NULL, &join_by) != 0) {
		pthread_mutex_lock(&w.lock);
		left = w.n;
		pthread_mutex_unlock(&w.lock);
		log_msg(LOG_WARNING, "the report writer is stuck in report_db "
		    "(%zu evaluation(s) queued): not waiting for it", left);
		return;
	}

	pthread_mutex_lock(&w.lock);
	left = w.n;
	while (w.head != NULL) {
		struct node *nd = w.head;
		w.head = nd->next;
		free(nd);
	}
	w.tail = NULL;
	w.n = 0;
	w.running = 0;
	drop_log_locked(1);
	if (left > 0)
		log_msg(LOG_WARNING, "%zu DMARC evaluation(s) not recorded: "
		    "still queued at exit", left);
	free(w.url);
	w.url = NULL;
	pthread_mutex_unlock(&w.lock);
}
