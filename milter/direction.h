/*
 * direction.h -- is a message leaving the organisation or arriving?
 */
#ifndef AUTHFILTER_DIRECTION_H
#define AUTHFILTER_DIRECTION_H

#include "lib/config.h"

struct session;

enum direction { DIR_INBOUND, DIR_OUTBOUND };

/* Decide from what the MTA told us; *why names the rule that applied:
 * "auth", "internal_network", "submission_daemon" or "external". */
enum direction	direction_of(const struct config *, const struct session *,
		    const char **why);
const char	*direction_name(enum direction);

#endif
