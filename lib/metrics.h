/*
 * metrics.h -- counters and histograms for Prometheus (metrics_http.c).
 */
#ifndef AUTHFILTER_METRICS_H
#define AUTHFILTER_METRICS_H

#include <stdio.h>

/* Add v to the counter `name` with labels given as key, value pairs,
 * NULL-terminated: metrics_count("authfilter_messages_total", 1,
 * "direction", "inbound", "action", "accept", NULL).  Unknown names are
 * ignored; label values are escaped here. */
void	metrics_count(const char *name, double v, ...)
	    __attribute__((sentinel));
/* One observation of the histogram `name` (seconds). */
void	metrics_observe(const char *name, double v, ...)
	    __attribute__((sentinel));
/* Every metric in the text exposition format 0.0.4: HELP, TYPE and the
 * series counted so far (counters without labels read 0 until counted).
 * Gauges come from the caller, after these. */
void	metrics_write(FILE *);
/* The value of one counter series (for `authfilter status` and tests);
 * labels as metrics_count takes them. */
double	metrics_value(const char *name, ...) __attribute__((sentinel));
/* fn for every counter series, in the order of metrics_write(); labels
 * as written there ("" when none). */
void	metrics_each(void (*fn)(void *arg, const char *name,
	    const char *labels, double v), void *arg);
/* One gauge line with HELP and TYPE, for the caller's gauges.  labels
 * may be NULL; several lines of one gauge: help only on the first
 * (help NULL on the others). */
void	metrics_gauge(FILE *, const char *name, const char *help,
	    const char *labels, double v);
/* `key="value"` with the value escaped, appended to buf (", " between). */
void	metrics_label(char *buf, size_t bufsz, const char *key,
	    const char *value);

#endif
