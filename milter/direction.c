/*
 * NAME
 *	direction -- is a message leaving the organisation or arriving?
 * SYNOPSIS
 *	dir = direction_of(cfg, session, &why);
 * DESCRIPTION
 *	Outbound means one of: the client authenticated with SASL (the
 *	{auth_authen} macro is set and not empty), the client address is
 *	inside internal_networks, or the MTA's {daemon_name} is listed in
 *	submission_daemons.  Everything else is inbound.  A missing macro
 *	or an unknown client address never makes a message outbound: when
 *	in doubt we verify, we do not sign.
 */
#include "buildconf.h"

#include <string.h>

#include "milter/direction.h"
#include "lib/netlist.h"
#include "milter/session.h"

enum direction
direction_of(const struct config *cfg, const struct session *s,
    const char **why)
{
	if (s->msg.auth_authen != NULL && s->msg.auth_authen[0] != '\0') {
		*why = "auth";
		return DIR_OUTBOUND;
	}
	if (s->has_addr && netlist_match(cfg->internal_networks,
	    (const struct sockaddr *)&s->client_addr)) {
		*why = "internal_network";
		return DIR_OUTBOUND;
	}
	if (s->daemon_name != NULL && s->daemon_name[0] != '\0')
		for (size_t i = 0; i < cfg->submission_daemons.n; i++)
			if (strcmp(cfg->submission_daemons.w[i],
			    s->daemon_name) == 0) {
				*why = "submission_daemon";
				return DIR_OUTBOUND;
			}
	*why = "external";
	return DIR_INBOUND;
}

const char *
direction_name(enum direction d)
{
	return d == DIR_OUTBOUND ? "outbound" : "inbound";
}
