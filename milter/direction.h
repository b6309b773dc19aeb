/*
 * direction.h -- is a message leaving the organisation or arriving?
 */
#ifndef AUTHFILTER_DIRECTION_H
#define AUTHFILTER_DIRECTION_H

#include "lib/config.h"

struct sockaddr;

enum direction { DIR_INBOUND, DIR_OUTBOUND };

/* Decide from what the MTA told us: the SASL login ({auth_authen}), the
 * client's address (NULL if unknown), the MTA's {daemon_name} (NULL if
 * not sent).  *why names the rule that applied: "auth",
 * "internal_network", "submission_daemon" or "external". */
enum direction	direction_of(const struct config *, const char *auth_authen,
		    const struct sockaddr *client, const char *daemon_name,
		    const char **why);
const char	*direction_name(enum direction);

#endif
