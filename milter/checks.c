/*
 * NAME
 *	checks -- the list of checks of incoming mail, and their drivers
 * SYNOPSIS
 *	checks_begin(m);		(MAIL FROM of an inbound message)
 *	checks_mail(m, &in);
 *	checks_eoh(m, &in);
 *	checks_body(m, chunk, len);
 *	checks_finish(m, &in);		(end of message)
 *	n = checks_ar(m, cap, entries, room);
 *	n = checks_log(m, fields, room);
 *	checks_end(m);
 * DESCRIPTION
 *	Every check has the shape of struct check (check.h).  A new check
 *	is one file with its struct check, and one line in the list below;
 *	its place in the list is the order in which it runs, writes its
 *	Authentication-Results entries and its log fields.  A check reads
 *	the results of the checks before it: DMARC follows SPF and DKIM.
 *
 *	The lookups a message's checks start are held for it (dns_hold):
 *	at end of message each name is asked at most once per message,
 *	whatever the cache keeps.
 */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "milter/ar.h"
#include "milter/check.h"
#include "lib/dns.h"
#include "lib/log.h"
#include "milter/session.h"

extern const struct check check_spf, check_dkim, check_dmarc;

const struct check *const checks[] = {
	&check_spf,
	&check_dkim,
	&check_dmarc,
};
const size_t checks_count = sizeof(checks) / sizeof(checks[0]);

_Static_assert(sizeof(checks) / sizeof(checks[0]) <= CHECKS_MAX,
    "raise CHECKS_MAX");

int
checks_begin(struct message *m)
{
	checks_end(m);
	for (size_t i = 0; i < checks_count; i++)
		if ((m->cstate[i] = calloc(1, checks[i]->state_size > 0 ?
		    checks[i]->state_size : 1)) == NULL) {
			checks_end(m);
			return -1;
		}
	m->dnshold = dns_hold_new();	/* or none: only more queries */
	m->checked = 1;
	return 0;
}

void
checks_mail(struct message *m, const struct check_in *in)
{
	dns_hold_enter(m->dnshold);
	for (size_t i = 0; m->checked && i < checks_count; i++)
		if (checks[i]->mail != NULL)
			checks[i]->mail(m->cstate[i], in);
	dns_hold_leave();
}

void
checks_eoh(struct message *m, const struct check_in *in)
{
	dns_hold_enter(m->dnshold);
	for (size_t i = 0; m->checked && i < checks_count; i++)
		if (checks[i]->eoh != NULL)
			checks[i]->eoh(m->cstate[i], in);
	dns_hold_leave();
}

void
checks_body(struct message *m, const unsigned char *chunk, size_t len)
{
	for (size_t i = 0; m->checked && i < checks_count; i++)
		if (checks[i]->body != NULL)
			checks[i]->body(m->cstate[i], chunk, len);
}

int
checks_finish(struct message *m, const struct check_in *in)
{
	int rc = 0;

	dns_hold_enter(m->dnshold);
	for (size_t i = 0; m->checked && rc == 0 && i < checks_count; i++)
		if (checks[i]->finish != NULL &&
		    checks[i]->finish(m->cstate[i], in, &m->res) != 0)
			rc = -1;
	dns_hold_leave();
	return rc;
}

size_t
checks_ar(const struct message *m, size_t cap, struct ar_result *out,
    size_t room)
{
	size_t n = 0;

	for (size_t i = 0; i < checks_count && n < room; i++)
		if (checks[i]->ar != NULL)
			n += checks[i]->ar(m->cstate[i], &m->res, cap, out + n,
			    room - n);
	return n;
}

size_t
checks_log(const struct message *m, struct log_field *out, size_t room)
{
	size_t n = 0;

	for (size_t i = 0; i < checks_count && n < room; i++)
		if (checks[i]->log != NULL)
			n += checks[i]->log(m->cstate[i], &m->res, out + n,
			    room - n);
	return n;
}

void
checks_end(struct message *m)
{
	for (size_t i = 0; i < checks_count; i++) {
		if (m->cstate[i] != NULL && checks[i]->free != NULL)
			checks[i]->free(m->cstate[i]);
		free(m->cstate[i]);
		m->cstate[i] = NULL;
	}
	dns_hold_free(m->dnshold);
	m->dnshold = NULL;
	memset(&m->res, 0, sizeof(m->res));
	m->checked = 0;
}
