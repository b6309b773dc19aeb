/*
 * NAME
 *	check_dkim -- DKIM verification (RFC 6376) as a check
 * DESCRIPTION
 *	At end of headers the verifier (verify.c, libopendkim) starts and
 *	the key record of every signature (up to dkim_max_signatures) is
 *	fetched at once, so that end of message rarely waits for DNS.  The
 *	body streams into the verifier.  At end of message there is one
 *	result per DKIM-Signature header; Authentication-Results gets one
 *	dkim= entry for each of the first `cap` (RFC 8601 2.7.1) and one
 *	that counts the rest, or dkim=none (temperror when the verifier
 *	could not run).
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/ar.h"
#include "milter/check.h"
#include "lib/dns.h"
#include "lib/log.h"
#include "milter/session.h"
#include "milter/state.h"
#include "lib/tagval.h"
#include "milter/verify.h"

#define RR_TYPE_TXT	16

struct dkim_state {
	struct verifier	*v;
	int		 unverified;
	struct dkim_result *res;
};

/* Start the key lookups: <s>._domainkey.<d> of each signature. */
static void
prefetch_keys(const struct check_in *in)
{
	const struct message *m = in->m;
	size_t nsig = 0, max = in->st->cfg->dkim_max_signatures;
	char d[256], sel[64], name[340];

	for (size_t i = 0; i < m->nhdrs && nsig < max; i++) {
		const struct header *h = &m->hdrs[i];
		if (!header_name_is(h->name, "DKIM-Signature"))
			continue;
		nsig++;
		if (tagval_get(h->value, h->vlen, "d", d, sizeof(d)) == 1 &&
		    tagval_get(h->value, h->vlen, "s", sel, sizeof(sel)) == 1 &&
		    d[0] != '\0' && sel[0] != '\0') {
			snprintf(name, sizeof(name), "%s._domainkey.%s", sel, d);
			dns_prefetch(in->st->dns, name, RR_TYPE_TXT);
		}
	}
}

static void
dkim_eoh(void *cs, const struct check_in *in)
{
	struct dkim_state *ds = cs;
	const struct message *m = in->m;
	char err[512];

	prefetch_keys(in);
	ds->v = verifier_new(in->st->verify, m->queue_id != NULL ? m->queue_id :
	    "NOQUEUE", m, err, sizeof(err));
	if (ds->v == NULL) {
		log_msg(LOG_ERR, "DKIM verification unavailable: %s", err);
		ds->unverified = 1;
	}
}

static void
dkim_body(void *cs, const unsigned char *chunk, size_t len)
{
	struct dkim_state *ds = cs;

	if (ds->v != NULL)
		verifier_body(ds->v, chunk, len);
}

static int
dkim_finish(void *cs, const struct check_in *in, struct check_results *r)
{
	struct dkim_state *ds = cs;
	const struct message *m = in->m;
	size_t max = 0;

	r->dkim_unverified = ds->unverified || ds->v == NULL;
	if (ds->v == NULL)
		return 0;
	for (size_t i = 0; i < m->nhdrs; i++)
		max += header_name_is(m->hdrs[i].name, "DKIM-Signature");
	if (max > 0 && (ds->res = calloc(max, sizeof(*ds->res))) == NULL)
		return -1;
	r->ndkim = verifier_finish(ds->v, ds->res, max);
	r->dkim = ds->res;
	r->dkim_unverified = 0;
	return 0;
}

static void
one_result(const struct dkim_result *d, struct ar_result *r)
{
	snprintf(r->method, sizeof(r->method), "dkim");
	snprintf(r->result, sizeof(r->result), "%s", d->result);
	/* DNSSEC status of the key record (dns_trust_anchor). */
	snprintf(r->comment, sizeof(r->comment), "%s%s%s", d->reason,
	    d->dnssec && d->reason[0] ? "; " : "",
	    d->dnssec ? "key DNSSEC-validated" : "");
	if (d->domain[0] != '\0')
		ar_result_prop(r, "header", "d", d->domain);
	if (d->selector[0] != '\0')
		ar_result_prop(r, "header", "s", d->selector);
	if (d->alg[0] != '\0')
		ar_result_prop(r, "header", "a", d->alg);
	if (d->b[0] != '\0')
		ar_result_prop(r, "header", "b", d->b);
}

static size_t
dkim_ar(const void *cs, const struct check_results *res, size_t cap,
    struct ar_result *out, size_t room)
{
	size_t shown = res->ndkim < cap ? res->ndkim : cap, n = 0;

	(void)cs;
	if (room == 0)
		return 0;
	if (shown > room - 1)
		shown = room - 1;
	for (size_t i = 0; i < shown; i++)
		one_result(&res->dkim[i], &out[n++]);
	if (res->ndkim > shown) {
		struct ar_result *r = &out[n++];
		snprintf(r->method, sizeof(r->method), "dkim");
		snprintf(r->result, sizeof(r->result), "policy");
		snprintf(r->comment, sizeof(r->comment), "%zu more signatures "
		    "not listed", res->ndkim - shown);
	}
	if (res->ndkim == 0) {
		struct ar_result *r = &out[n++];
		snprintf(r->method, sizeof(r->method), "dkim");
		snprintf(r->result, sizeof(r->result), "%s",
		    res->dkim_unverified ? "temperror" : "none");
	}
	return n;
}

static void
dkim_free(void *cs)
{
	struct dkim_state *ds = cs;

	verifier_free(ds->v);
	free(ds->res);
}

const struct check check_dkim = {
	.name = "dkim",
	.state_size = sizeof(struct dkim_state),
	.eoh = dkim_eoh,
	.body = dkim_body,
	.finish = dkim_finish,
	.ar = dkim_ar,
	.free = dkim_free,
};
