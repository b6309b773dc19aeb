/*
 * dkimhdr.h -- hand a message's header fields to libopendkim handles.
 */
#ifndef AUTHFILTER_DKIMHDR_H
#define AUTHFILTER_DKIMHDR_H

#include <stddef.h>

#include <opendkim/dkim.h>

#include "milter/session.h"

/* Feed every stored header to each of the n handles, then dkim_eoh().
 * Returns the first status that is not DKIM_STAT_OK from dkim_header
 * (when strict) or from dkim_eoh, DKIM_STAT_OK otherwise; *failed names
 * the handle it came from. */
DKIM_STAT	dkimhdr_feed(DKIM **h, size_t n, const struct message *m,
		    int strict, size_t *failed);

#endif
