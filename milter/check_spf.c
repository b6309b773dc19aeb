/*
 * NAME
 *	check_spf -- SPF (RFC 7208) as a check: both identities
 * DESCRIPTION
 *	At MAIL FROM the lookups of both identities start (spf_prefetch.c):
 *	the MAIL FROM domain and the HELO name.  At end of message both are
 *	evaluated (spf.c, libspf2): RFC 7208 2.3 recommends the HELO check
 *	too, and for the null sender it is the one that counts.  The
 *	Authentication-Results entry is that of the identity that counts
 *	(smtp.mailfrom, or smtp.helo for the null sender); the log has both.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "milter/ar.h"
#include "milter/check.h"
#include "lib/from.h"
#include "lib/log.h"
#include "milter/session.h"
#include "milter/spf_prefetch.h"
#include "milter/state.h"

const struct spf_verdict *
check_spf_counting(const struct check_results *r)
{
	return r->spf_mailfrom.checked ? &r->spf_mailfrom : &r->spf_helo;
}

static void
spf_mail(void *cs, const struct check_in *in)
{
	const char *ip = in->s->client_ip;
	char dom[256];
	int v6;

	(void)cs;
	if (ip[0] == '\0')
		return;
	v6 = strchr(ip, ':') != NULL && !(strncasecmp(ip, "::ffff:", 7) == 0 &&
	    strchr(ip + 7, '.') != NULL);
	envelope_domain(in->m->env_from, dom, sizeof(dom));
	if (dom[0] != '\0')
		spf_prefetch(in->st->dns, dom, v6);
	if (in->s->helo != NULL && in->s->helo[0] != '\0' &&
	    in->s->helo[0] != '[' && strcasecmp(in->s->helo, dom) != 0)
		spf_prefetch(in->st->dns, in->s->helo, v6);
}

static int
spf_finish(void *cs, const struct check_in *in, struct check_results *r)
{
	const struct message *m = in->m;

	(void)cs;
	spf_check_helo(in->st->spf, in->s->client_ip, in->s->helo,
	    &r->spf_helo);
	spf_check_mailfrom(in->st->spf, in->s->client_ip, in->s->helo,
	    m->env_from != NULL ? m->env_from : "<>", &r->spf_mailfrom);
	return 0;
}

static size_t
spf_ar(const void *cs, const struct check_results *res, size_t cap,
    struct ar_result *out, size_t room)
{
	const struct spf_verdict *v = check_spf_counting(res);

	(void)cs;
	(void)cap;
	if (!v->checked || room == 0)
		return 0;
	snprintf(out->method, sizeof(out->method), "spf");
	snprintf(out->result, sizeof(out->result), "%s",
	    spf_result_name(v->result));
	snprintf(out->comment, sizeof(out->comment), "%s", v->reason);
	if (v->domain[0] != '\0')
		ar_result_prop(out, "smtp", v == &res->spf_mailfrom ?
		    "mailfrom" : "helo", v->domain);
	return 1;
}

static size_t
spf_log(const void *cs, const struct check_results *r, struct log_field *out,
    size_t room)
{
	(void)cs;
	if (room < 2)
		return 0;
	out[0].key = "spf";
	out[0].val = r->spf_mailfrom.checked ?
	    spf_result_name(r->spf_mailfrom.result) : NULL;
	out[1].key = "spf_helo";
	out[1].val = r->spf_helo.checked ?
	    spf_result_name(r->spf_helo.result) : NULL;
	return 2;
}

const struct check check_spf = {
	.name = "spf",
	.mail = spf_mail,
	.finish = spf_finish,
	.ar = spf_ar,
	.log = spf_log,
};
