/*
 * dkimhdr.h -- hand a message's header fields to a libopendkim verify
 * handle.
 */
#ifndef AUTHFILTER_DKIMHDR_H
#define AUTHFILTER_DKIMHDR_H

#include <opendkim/dkim.h>

#include "milter/session.h"

/* Feed every stored header to h, then dkim_eoh(); returns dkim_eoh()'s
 * status, or DKIM_STAT_NORESOURCE when out of memory.  A header that
 * libopendkim finds malformed, or one too long for it, is left out. */
DKIM_STAT	dkimhdr_feed(DKIM *h, const struct message *m);

#endif
