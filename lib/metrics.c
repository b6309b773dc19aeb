/*
 * NAME
 *	metrics -- counters and histograms for Prometheus
 * SYNOPSIS
 *	metrics_count("authfilter_messages_total", 1, "direction", "inbound",
 *	    "action", "accept", NULL);
 *	metrics_observe("authfilter_dns_query_duration_seconds", 0.004, NULL);
 *	metrics_write(fp);
 * DESCRIPTION
 *	Every metric authfilter counts is listed in `defs` with its type and
 *	help text; a series (a name with its labels) is made the first time
 *	it is counted and kept in one hash table under one lock: a message
 *	counts a handful of series, and nothing here waits for I/O.  The
 *	labels are few and bounded (actions, results, the key store's
 *	domains); past SERIES_MAX series new ones are dropped and counted.
 *	The HTTP side (milter/metrics_http.c) only reads.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/metrics.h"

#define SERIES_MAX	5000
#define TABLE_SIZE	1024		/* buckets, a power of two */
#define LABELS_MAX	512

static const double le[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10 };
#define NLE (sizeof(le) / sizeof(le[0]))

enum kind { COUNTER, HISTOGRAM };

static const struct def {
	const char	*name;
	enum kind	 kind;
	int		 zero;		/* shown as 0 before it is counted */
	const char	*help;
} defs[] = {
	{ "authfilter_messages_total", COUNTER, 0,
	    "Messages by direction and the action taken." },
	{ "authfilter_monitor_would_action_total", COUNTER, 0,
	    "Monitor mode: messages by the action enforce mode would take." },
	{ "authfilter_spf_results_total", COUNTER, 0,
	    "SPF verdicts of inbound mail, of the identity that counts." },
	{ "authfilter_dkim_results_total", COUNTER, 0,
	    "DKIM verdicts of inbound mail, one per signature." },
	{ "authfilter_dmarc_results_total", COUNTER, 0,
	    "DMARC verdicts of inbound mail." },
	{ "authfilter_signatures_total", COUNTER, 0,
	    "DKIM signatures made, by algorithm and signing domain." },
	{ "authfilter_sign_failures_total", COUNTER, 1,
	    "Outbound messages that could not be signed." },
	{ "authfilter_policy_overrides_applied_total", COUNTER, 1,
	    "Messages whose action a policy_overrides line decided." },
	{ "authfilter_dns_queries_total", COUNTER, 0,
	    "DNS queries sent, by how they ended." },
	{ "authfilter_dns_cache_hits_total", COUNTER, 1,
	    "DNS lookups answered from authfilter's own cache." },
	{ "authfilter_dns_query_duration_seconds", HISTOGRAM, 0,
	    "Time from a DNS query to its answer." },
	{ "authfilter_sessions_total", COUNTER, 1,
	    "Milter connections served." },
	{ "authfilter_protocol_errors_total", COUNTER, 1,
	    "Milter connections closed on an error (protocol, timeout, I/O)." },
	{ "authfilter_reloads_total", COUNTER, 0,
	    "SIGHUP reloads, by result." },
	{ "authfilter_report_rows_total", COUNTER, 1,
	    "DMARC evaluations written to the report store (report_db)." },
	{ "authfilter_report_rows_dropped_total", COUNTER, 0,
	    "DMARC evaluations not recorded: the writer's queue was full, or "
	    "the report store failed." },
	{ "authfilter_metrics_series_dropped_total", COUNTER, 1,
	    "Series not kept: more than 5000 exist." },
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

struct series {
	struct series	*next;		/* in its bucket */
	const struct def *def;
	char		*labels;	/* "k=\"v\",k2=\"v2\"" or "" */
	double		 value;		/* counter; histogram: the sum */
	unsigned long	 count;		/* histogram */
	unsigned long	 bucket[NLE];	/* histogram, not cumulative */
};

static struct {
	pthread_mutex_t	 lock;
	struct series	*table[TABLE_SIZE];
	size_t		 n;
	unsigned long	 dropped;
} m = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const struct def *
def_of(const char *name)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (strcmp(defs[i].name, name) == 0)
			return &defs[i];
	return NULL;
}

void
metrics_label(char *buf, size_t bufsz, const char *key, const char *value)
{
	size_t o = strlen(buf);

	if (o > 0 && o + 1 < bufsz)
		buf[o++] = ',';
	o += (size_t)snprintf(buf + o, o < bufsz ? bufsz - o : 0, "%s=\"",
	    key);
	for (const char *p = value; *p != '\0' && o + 3 < bufsz; p++) {
		if (*p == '\\' || *p == '"') {
			buf[o++] = '\\';
			buf[o++] = *p;
		} else if (*p == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else
			buf[o++] = *p;
	}
	if (o + 1 < bufsz)
		buf[o++] = '"';
	buf[o < bufsz ? o : bufsz - 1] = '\0';
}

static void
labels_of(char *buf, size_t bufsz, va_list ap)
{
	const char *k, *v;

	buf[0] = '\0';
	while ((k = va_arg(ap, const char *)) != NULL &&
	    (v = va_arg(ap, const char *)) != NULL)
		metrics_label(buf, bufsz, k, v);
}

/* The series, made when new; under the lock.  NULL when dropped. */
static struct series *
series_of(const struct def *d, const char *labels, int make)
{
	uint32_t h = fnv1a(fnv1a(FNV1A_INIT, d->name, strlen(d->name)),
	    labels, strlen(labels)) & (TABLE_SIZE - 1);
	struct series *s;

	for (s = m.table[h]; s != NULL; s = s->next)
		if (s->def == d && strcmp(s->labels, labels) == 0)
			return s;
	if (!make)
		return NULL;
	if (m.n >= SERIES_MAX || (s = calloc(1, sizeof(*s))) == NULL ||
	    (s->labels = strdup(labels)) == NULL) {
		free(s);
		m.dropped++;
		return NULL;
	}
	s->def = d;
	s->next = m.table[h];
	m.table[h] = s;
	m.n++;
	return s;
}

void
metrics_count(const char *name, double v, ...)
{
	const struct def *d = def_of(name);
	char labels[LABELS_MAX];
	struct series *s;
	va_list ap;

	if (d == NULL || d->kind != COUNTER)
		return;
	va_start(ap, v);
	labels_of(labels, sizeof(labels), ap);
	va_end(ap);
	pthread_mutex_lock(&m.lock);
	if ((s = series_of(d, labels, 1)) != NULL)
		s->value += v;
	pthread_mutex_unlock(&m.lock);
}

void
metrics_observe(const char *name, double v, ...)
{
	const struct def *d = def_of(name);
	char labels[LABELS_MAX];
	struct series *s;
	va_list ap;
	size_t i = 0;

	if (d == NULL || d->kind != HISTOGRAM)
		return;
	va_start(ap, v);
	labels_of(labels, sizeof(labels), ap);
	va_end(ap);
	while (i < NLE && v > le[i])
		i++;
	pthread_mutex_lock(&m.lock);
	if ((s = series_of(d, labels, 1)) != NULL) {
		s->value += v;
		s->count++;
		if (i < NLE)
			s->bucket[i]++;
	}
	pthread_mutex_unlock(&m.lock);
}

double
metrics_value(const char *name, ...)
{
	const struct def *d = def_of(name);
	char labels[LABELS_MAX];
	struct series *s;
	double v = 0;
	va_list ap;

	if (d == NULL)
		return 0;
	va_start(ap, name);
	labels_of(labels, sizeof(labels), ap);
	va_end(ap);
	pthread_mutex_lock(&m.lock);
	if ((s = series_of(d, labels, 0)) != NULL)
		v = d->kind == COUNTER ? s->value : (double)s->count;
	pthread_mutex_unlock(&m.lock);
	return v;
}

static int
by_labels(const void *a, const void *b)
{
	return strcmp((*(struct series *const *)a)->labels,
	    (*(struct series *const *)b)->labels);
}

/* The series of d into all, sorted by labels; under the lock. */
static size_t
series_of_def(const struct def *d, struct series **all)
{
	size_t n = 0;

	for (size_t b = 0; b < TABLE_SIZE; b++)
		for (struct series *s = m.table[b]; s != NULL; s = s->next)
			if (s->def == d)
				all[n++] = s;
	qsort(all, n, sizeof(*all), by_labels);
	return n;
}

static void
write_series(FILE *fp, const struct series *s)
{
	const char *name = s->def->name, *sep = *s->labels ? "," : "";
	unsigned long cum = 0;

	if (s->def->kind == COUNTER) {
		fprintf(fp, "%s%s%s%s %.17g\n", name, *s->labels ? "{" : "",
		    s->labels, *s->labels ? "}" : "", s->value);
		return;
	}
	for (size_t i = 0; i < NLE; i++) {
		cum += s->bucket[i];
		fprintf(fp, "%s_bucket{%s%sle=\"%g\"} %lu\n", name, s->labels,
		    sep, le[i], cum);
	}
	fprintf(fp, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", name, s->labels, sep,
	    s->count);
	fprintf(fp, "%s_sum%s%s%s %.17g\n%s_count%s%s%s %lu\n", name,
	    *s->labels ? "{" : "", s->labels, *s->labels ? "}" : "", s->value,
	    name, *s->labels ? "{" : "", s->labels, *s->labels ? "}" : "",
	    s->count);
}

void
metrics_write(FILE *fp)
{
	struct series **all;

	pthread_mutex_lock(&m.lock);
	if ((all = calloc(m.n + 1, sizeof(*all))) == NULL) {
		pthread_mutex_unlock(&m.lock);
		return;
	}
	for (size_t k = 0; k < NDEFS; k++) {
		const struct def *d = &defs[k];
		size_t n = series_of_def(d, all);

		fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help,
		    d->name, d->kind == COUNTER ? "counter" : "histogram");
		if (d == def_of("authfilter_metrics_series_dropped_total")) {
			fprintf(fp, "%s %lu\n", d->name, m.dropped);
			continue;
		}
		if (n == 0 && d->zero)
			fprintf(fp, "%s 0\n", d->name);
		for (size_t i = 0; i < n; i++)
			write_series(fp, all[i]);
	}
	pthread_mutex_unlock(&m.lock);
	free(all);
}

void
metrics_each(void (*fn)(void *, const char *, const char *, double),
    void *arg)
{
	struct series **all;
	size_t n;

	pthread_mutex_lock(&m.lock);
	if ((all = calloc(m.n + 1, sizeof(*all))) == NULL) {
		pthread_mutex_unlock(&m.lock);
		return;
	}
	for (size_t k = 0; k < NDEFS; k++) {
		if (defs[k].kind != COUNTER)
			continue;
		n = series_of_def(&defs[k], all);
		for (size_t i = 0; i < n; i++)
			fn(arg, all[i]->def->name, all[i]->labels,
			    all[i]->value);
	}
	pthread_mutex_unlock(&m.lock);
	free(all);
}

void
metrics_gauge(FILE *fp, const char *name, const char *help,
    const char *labels, double v)
{
	if (help != NULL)
		fprintf(fp, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	fprintf(fp, "%s%s%s%s %.17g\n", name, labels != NULL ? "{" : "",
	    labels != NULL ? labels : "", labels != NULL ? "}" : "", v);
}
