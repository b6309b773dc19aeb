/*
 * NAME
 *	feedback -- one DMARC aggregate report in memory
 * SYNOPSIS
 *	struct rua_feedback fb = { 0 };
 *	struct rua_record *r = rua_feedback_add(&fb);
 *	rua_feedback_free(&fb);
 * DESCRIPTION
 *	rua_feedback_add() appends a zeroed record to fb->rec.  The array
 *	has no capacity field: its capacity follows from nrec (8, then
 *	doubled each time nrec reaches a power of two), so fb->rec must
 *	only be grown here and nrec only lowered by rua_feedback_free().
 *	rua_feedback_free() frees the records (not fb itself) and leaves
 *	fb with none.
 * DIAGNOSTICS
 *	rua_feedback_add() returns NULL when out of memory (or when the
 *	array would outgrow size_t); fb is then unchanged.
 * SEE ALSO
 *	rua/feedback.h, rua/store.h
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rua/feedback.h"

#define FEEDBACK_FIRST	8	/* records in a report's first array */

void
rua_feedback_free(struct rua_feedback *fb)
{
	free(fb->rec);
	fb->rec = NULL;
	fb->nrec = 0;
}

/* Is the array full at n records?  Capacity 0, 8, 16, 32, ... */
static int
feedback_full(size_t n)
{
	return n == 0 || (n >= FEEDBACK_FIRST && (n & (n - 1)) == 0);
}

struct rua_record *
rua_feedback_add(struct rua_feedback *fb)
{
	struct rua_record *r;

	if (feedback_full(fb->nrec)) {
		size_t cap = fb->nrec == 0 ? FEEDBACK_FIRST : fb->nrec * 2;

		if (cap < fb->nrec || cap > SIZE_MAX / sizeof(*r))
			return NULL;
		if ((r = realloc(fb->rec, cap * sizeof(*r))) == NULL)
			return NULL;
		fb->rec = r;
	}
	r = &fb->rec[fb->nrec++];
	memset(r, 0, sizeof(*r));
	return r;
}

_Thread_local int rua_nomem;
