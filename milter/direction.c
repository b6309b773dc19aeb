/*
 * NAME
 *	direction -- is a message leaving the organisation or arriving?
 * SYNOPSIS
 *	dir = direction_of(cfg, auth_authen, client_addr, daemon_name, &why);
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

enum direction
direction_of(const struct config *cfg, const char *auth_authen,
    const struct sockaddr *client, const char *daemon_name, const char **why)
{
	if (auth_authen != NULL && auth_authen[0] != '\0') {
		*why = "auth";
		return DIR_OUTBOUND;
	}
	if (client != NULL && netlist_match(cfg->internal_networks, client)) {
		*why = "internal_network";
		return DIR_OUTBOUND;
	}
	if (daemon_name != NULL && daemon_name[0] != '\0')
		for (size_t i = 0; i < cfg->submission_daemons.n; i++)
			if (strcmp(cfg->submission_daemons.w[i],
			    daemon_name) == 0) {
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
