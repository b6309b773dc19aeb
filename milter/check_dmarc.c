/*
 * NAME
 *	check_dmarc -- DMARC (RFC 9989) as a check, over SPF's and DKIM's
 * DESCRIPTION
 *	At end of headers every query of the Author Domains' tree walks is
 *	started at once (at most 8 each, RFC 9989 4.10).  At end of
 *	message DMARC is evaluated (dmarc.c) on the From header fields, the
 *	SPF verdict of the identity that counts and the DKIM results, all
 *	given as inputs, within the message's DNS budget.  The AR comment
 *	and the log say where the record was and how it was found.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "milter/ar.h"
#include "milter/check.h"
#include "lib/from.h"
#include "lib/header.h"
#include "lib/log.h"
#include "lib/tagval.h"
#include "milter/session.h"
#include "milter/state.h"

/* dkim_max_signatures' own bound (lib/config.c): 50. */
#define DMARC_PREFETCH_SIGS	50

/* The identifiers that may align, as known at end of headers: the
 * MAIL FROM domain (HELO's for the null sender) and each signature's
 * d=, as many as DKIM will verify. */
static void
dmarc_eoh(void *cs, const struct check_in *in)
{
	const struct message *m = in->m;
	size_t nid = 0, max = (size_t)in->st->cfg->dkim_max_signatures;
	char ids[1 + DMARC_PREFETCH_SIGS][256];
	const char *ptr[1 + DMARC_PREFETCH_SIGS];

	(void)cs;
	envelope_domain(m->env_from, ids[0], sizeof(ids[0]));
	if (ids[0][0] == '\0' && in->s->helo != NULL)
		snprintf(ids[0], sizeof(ids[0]), "%s", in->s->helo);
	ptr[nid] = ids[nid];
	nid++;
	for (size_t i = 0; i < m->nhdrs && nid <= max &&
	    nid < sizeof(ids) / sizeof(ids[0]); i++) {
		const struct header *h = &m->hdrs[i];
		if (!header_name_is(h->name, "DKIM-Signature") ||
		    tagval_get(h->value, h->vlen, "d", ids[nid],
		    sizeof(ids[nid])) != 1)
			continue;
		ptr[nid] = ids[nid];
		nid++;
	}
	dmarc_prefetch(in->st->dmarc, m->hdrs, m->nhdrs, ptr, nid);
}

static int
dmarc_finish(void *cs, const struct check_in *in, struct check_results *r)
{
	struct dmarc_inputs di = {
		.hdrs = in->m->hdrs,
		.nhdrs = in->m->nhdrs,
		.spf = check_spf_counting(r),
		.dkim = r->dkim,
		.ndkim = r->ndkim,
		.allow_partial = in->st->cfg->dmarc_allow_partial_body,
	};

	(void)cs;
	dmarc_check(in->st->dmarc, &di, &r->dmarc);
	return 0;
}

/* dmarc= with header.from and, where a record applied, policy.dmarc
 * (the published p, sp or np) for readers and the policy engine. */
static size_t
dmarc_ar(const void *cs, const struct check_results *res, size_t cap,
    struct ar_result *out, size_t room)
{
	const struct dmarc_verdict *v = &res->dmarc;

	(void)cs;
	(void)cap;
	if (!v->evaluated || room == 0)
		return 0;
	snprintf(out->method, sizeof(out->method), "dmarc");
	snprintf(out->result, sizeof(out->result), "%s",
	    dmarc_result_name(v->result));
	snprintf(out->comment, sizeof(out->comment), "%s", v->reason);
	if (v->from_domain[0] != '\0')
		ar_result_prop(out, "header", "from", v->from_domain);
	if (dmarc_policy_name(v->policy) != NULL)
		ar_result_prop(out, "policy", "dmarc",
		    dmarc_policy_name(v->policy));
	return 1;
}

static size_t
dmarc_log(const void *cs, const struct check_results *r,
    struct log_field *out, size_t room)
{
	const struct dmarc_verdict *v = &r->dmarc;
	struct log_field f[] = {
		{ "dmarc", v->evaluated ? dmarc_result_name(v->result) : NULL },
		{ "dmarc_from", v->from_domain[0] ? v->from_domain : NULL },
		{ "dmarc_policy", dmarc_policy_name(v->policy) },
		/* where the record was (at _dmarc.<this>), and how found */
		{ "dmarc_policy_domain", v->policy_domain[0] ?
		    v->policy_domain : NULL },
		{ "dmarc_discovery", v->evaluated ? v->discovery : NULL },
		{ "dmarc_disposition", v->result == DMARC_R_FAIL ?
		    dmarc_policy_name(v->disposition) : NULL },
	};

	(void)cs;
	if (room < sizeof(f) / sizeof(f[0]))
		return 0;
	memcpy(out, f, sizeof(f));
	return sizeof(f) / sizeof(f[0]);
}

const struct check check_dmarc = {
	.name = "dmarc",
	.eoh = dmarc_eoh,
	.finish = dmarc_finish,
	.ar = dmarc_ar,
	.log = dmarc_log,
};
