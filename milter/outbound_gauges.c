/*
 * NAME
 *	outbound_gauges -- imported DMARC reports as metrics
 * SYNOPSIS
 *	outbound_gauges_refresh(store);		(report writer thread)
 *	outbound_gauges_write(fp);		(/metrics)
 * DESCRIPTION
 *	The figures of `authfilter report --outbound` (report/outbound.c)
 *	per reporting organisation, over every imported report the store
 *	keeps (report_keep bounds them): messages, and how many passed
 *	DMARC, DKIM aligned and SPF aligned, as receivers saw them:
 *
 *	authfilter_reported_messages{reporter}
 *	authfilter_reported_pass_messages{reporter,check="dmarc|dkim|spf"}
 *
 *	The report writer's thread counts them again every few minutes,
 *	with its own store handle; /metrics prints the last snapshot.  At
 *	most GAUGE_REPORTERS reporters, those with the most messages.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/metrics.h"
#include "milter/outbound_gauges.h"
#include "report/outbound.h"
#include "rua/store.h"

/* Series per gauge: every large receiver, with room to spare. */
#define GAUGE_REPORTERS 200

struct reporter {
	char	 name[256];
	double	 msgs, dmarc, dkim, spf;
};

static struct {
	pthread_mutex_t	 lock;
	struct reporter	*r;
	size_t		 n;
	int		 ready;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int
by_messages(const void *a, const void *b)
{
	const struct ob_row *x = a, *y = b;

	return x->n[OB_MSGS] < y->n[OB_MSGS] ? 1 :
	    x->n[OB_MSGS] > y->n[OB_MSGS] ? -1 : strcmp(x->key, y->key);
}

void
outbound_gauges_refresh(struct rua_store *st)
{
	struct outbound ob;
	struct reporter *r;
	size_t n;
	char err[600];

	memset(&ob, 0, sizeof(ob));
	if (rua_store_received(st, NULL, 0, outbound_add, &ob, err,
	    sizeof(err)) != 0 || ob.nomem) {
		if (!ob.nomem)
			log_msg(LOG_WARNING, "imported DMARC reports not "
			    "counted for /metrics: %s", err);
		outbound_free(&ob);
		return;
	}
	if (ob.org.nrows > 1)
		qsort(ob.org.rows, ob.org.nrows, sizeof(*ob.org.rows),
		    by_messages);
	n = ob.org.nrows < GAUGE_REPORTERS ? ob.org.nrows : GAUGE_REPORTERS;
	if ((r = calloc(n + 1, sizeof(*r))) == NULL) {
		outbound_free(&ob);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ob_row *row = &ob.org.rows[i];
		snprintf(r[i].name, sizeof(r[i].name), "%s", row->key);
		r[i].msgs = (double)row->n[OB_MSGS];
		r[i].dmarc = (double)row->n[OB_DMARC];
		r[i].dkim = (double)row->n[OB_DKIM];
		r[i].spf = (double)row->n[OB_SPF];
	}
	outbound_free(&ob);
	pthread_mutex_lock(&g.lock);
	free(g.r);
	g.r = r;
	g.n = n;
	g.ready = 1;
	pthread_mutex_unlock(&g.lock);
}

void
outbound_gauges_write(FILE *fp)
{
	static const char *const check[] = { "dmarc", "dkim", "spf" };
	char labels[600];

	pthread_mutex_lock(&g.lock);
	for (size_t i = 0; g.ready && i < g.n; i++) {
		labels[0] = '\0';
		metrics_label(labels, sizeof(labels), "reporter", g.r[i].name);
		metrics_gauge(fp, "authfilter_reported_messages", i == 0 ?
		    "Our messages in the DMARC aggregate reports receivers "
		    "sent (imported), per reporting organisation." : NULL,
		    labels, g.r[i].msgs);
	}
	for (size_t c = 0; g.ready && c < 3; c++)
		for (size_t i = 0; i < g.n; i++) {
			const double v[3] = { g.r[i].dmarc, g.r[i].dkim,
				g.r[i].spf };
			labels[0] = '\0';
			metrics_label(labels, sizeof(labels), "reporter",
			    g.r[i].name);
			metrics_label(labels, sizeof(labels), "check",
			    check[c]);
			metrics_gauge(fp, "authfilter_reported_pass_messages",
			    c == 0 && i == 0 ? "Of those, the messages that "
			    "passed DMARC, aligned DKIM or aligned SPF, as "
			    "receivers saw them." : NULL, labels, v[c]);
		}
	pthread_mutex_unlock(&g.lock);
}
