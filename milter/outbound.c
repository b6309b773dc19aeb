/*
 * NAME
 *	outbound -- which keys sign an outgoing message, or why none do
 * DESCRIPTION
 *	The signing domain is the domain of the one address in the one
 *	From header.  No From, several From headers, a From with several
 *	addresses or one we cannot parse: not signed, and the reason is
 *	logged; the message is still accepted (signing is a courtesy to
 *	receivers, not a gate).  Keys of example.org sign mail from
 *	example.org; with sign_subdomains they also sign for its
 *	subdomains when those have no keys of their own.
 *
 *	With signing_table (signtable.c), the table says which key domain
 *	(d=) signs for the From address or domain, and with which
 *	selectors; a From it has no entry for is not signed.
 *
 *	With sender_login_map, SASL-authenticated mail is signed only when
 *	the login may use the From domain (loginmap.c); otherwise
 *	sender_mismatch is set and nothing signs, whatever the action.
 */
#include "buildconf.h"

#include <string.h>

#include "lib/header.h"
#include "milter/loginmap.h"
#include "milter/outbound.h"
#include "milter/signtable.h"

/* signing_table: the entry's key domain signs, with its selectors. */
static void
from_table(const struct keystore *ks, const struct signtable *table,
    const char *local, struct outbound_plan *p)
{
	const struct signtable_entry *e = signtable_lookup(table, local,
	    p->domain);
	const struct key *all[SIGN_MAX_KEYS];
	size_t n;

	if (e == NULL) {
		p->skip = "not_in_signing_table";
		return;
	}
	n = keystore_signers(ks, e->key_domain, 0, all, SIGN_MAX_KEYS);
	for (size_t i = 0; i < n; i++)
		if (signtable_selects(e, all[i]->selector))
			p->keys[p->nkeys++] = all[i];
	if (p->nkeys == 0)
		p->skip = "no_active_key";
}

void
outbound_plan(const struct message *m, const struct keystore *ks,
    int sign_subdomains, const struct loginmap *logins,
    const struct signtable *table, struct outbound_plan *p)
{
	const struct header *from = NULL;
	struct from_result fr;
	size_t nfrom = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < m->nhdrs; i++)
		if (header_name_is(m->hdrs[i].name, "From")) {
			from = &m->hdrs[i];
			nfrom++;
		}
	if (nfrom == 0) {
		p->skip = "no_from";
		return;
	}
	if (nfrom > 1) {
		p->skip = "several_from_headers";
		return;
	}
	switch (from_parse(from->value, from->vlen, &fr)) {
	case FROM_EMPTY:
		p->skip = "from_without_address";
		return;
	case FROM_SYNTAX:
		p->skip = "from_unparseable";
		return;
	case FROM_OK:
		break;
	}
	if (fr.n > 1) {
		p->skip = "several_from_addresses";
		return;
	}
	memcpy(p->domain, fr.domain[0], sizeof(p->domain));
	if (logins != NULL && m->auth_authen != NULL &&
	    m->auth_authen[0] != '\0' &&
	    !loginmap_allows(logins, m->auth_authen, p->domain)) {
		p->sender_mismatch = 1;
		p->skip = "sender_not_allowed";
		return;
	}
	if (table != NULL) {
		from_table(ks, table, fr.local[0], p);
		return;
	}
	p->nkeys = keystore_signers(ks, p->domain, sign_subdomains, p->keys,
	    SIGN_MAX_KEYS);
	if (p->nkeys == 0)
		p->skip = "no_active_key";
}
