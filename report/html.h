/*
 * html.h -- `authfilter report --html FILE`: the report as one
 * self-contained page.
 */
#ifndef AUTHFILTER_HTML_H
#define AUTHFILTER_HTML_H

#include <stdio.h>
#include <time.h>

#include "policy/overrides.h"
#include "report/tally.h"

/* What the page says besides the counts. */
struct html_context {
	const char		*config;	/* -c FILE, or NULL */
	const char		*policy_mode;	/* from it, or NULL */
	const struct overrides	*overrides;	/* from it, or NULL */
	const char		*since;		/* YYYY-MM-DD, or NULL */
	time_t			 now;
};

/* The page for t (sorted: tally_sort) to fp: 0, or -1 on a write error. */
int	html_write(FILE *fp, const struct tally *t, const struct html_context *);

#endif
