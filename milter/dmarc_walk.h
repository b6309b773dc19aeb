/*
 * dmarc_walk.h -- the DNS Tree Walk of RFC 9989 section 4.10: DMARC
 * policy discovery and organizational domains without a suffix list.
 */
#ifndef AUTHFILTER_DMARC_WALK_H
#define AUTHFILTER_DMARC_WALK_H

#include <stddef.h>

#include "milter/dmarc.h"

struct dns;

/* RFC 9989 4.10: a walk makes at most 8 queries; after the first, a
 * name of 8 labels or more is cut to its last 7. */
#define DMARC_WALK_MAX		8
#define DMARC_WALK_LABELS	7
#define DMARC_NAME_MAX		256

enum dmarc_step {
	DMARC_STEP_NONE,	/* no DMARC record, or several (discarded) */
	DMARC_STEP_RECORD,	/* exactly one record starting v=DMARC1 */
	DMARC_STEP_TEMP		/* the query failed (SERVFAIL, timeout) */
};

struct dmarc_walk_step {
	char		 name[DMARC_NAME_MAX];	/* queried at _dmarc.<name> */
	enum dmarc_step	 state;
	enum dmarc_parse parse;		/* RECORD: OK or INVALID */
	struct dmarc_record rec;	/* RECORD: as parsed */
	size_t		 ndiscarded;	/* NONE: DMARC records dropped */
	char		 txt[1024];	/* RECORD: its text */
};

struct dmarc_walk {
	size_t		 n;		/* steps made, in order */
	struct dmarc_walk_step step[DMARC_WALK_MAX];
};

/* The names a walk from domain (lower case, no trailing dot) queries,
 * in order, into names; how many (at most max).  Pure. */
size_t		 dmarc_walk_names(const char *domain,
		    char names[][DMARC_NAME_MAX], size_t max);

/* One query: the DMARC records at _dmarc.<domain> into s; for
 * DMARC_STEP_TEMP why says what failed. */
void		 dmarc_walk_fetch(struct dns *, const char *domain,
		    struct dmarc_walk_step *s, char *why, size_t whysz);

/* Walk from domain: one query per name until a record says psd=y or
 * psd=n (steps 2 and 6), or the names run out.  DMARC_TEMP (why says
 * where) when a query failed: the walk stops there; else DMARC_FOUND
 * when some step has a record, DMARC_NOTHING when none has. */
enum dmarc_found dmarc_walk_run(struct dns *, const char *domain,
		    struct dmarc_walk *, char *why, size_t whysz);

/* The organizational domain the walk yields (4.10.2): the first record
 * with psd=n; else the name one label below a psd=y record that is not
 * the walk's start; else the record with the fewest labels; else the
 * start.  A pointer into the walk.  Pure. */
const char	*dmarc_walk_org(const struct dmarc_walk *);

/* The step whose record applies to mail from the walk's start (4.10.1):
 * the start's own; else the organizational domain's; else that of the
 * public suffix domain (psd=y) above it.  -1: none applies.  Pure. */
int		 dmarc_walk_policy(const struct dmarc_walk *);

#endif
