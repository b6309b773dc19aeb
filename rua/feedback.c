/*
 * NAME
 *	feedback -- one DMARC aggregate report in memory
 * SYNOPSIS
 *	#include "rua/feedback.h"
 *
 *	struct rua_record *rua_feedback_add(struct rua_feedback *fb);
 *	void rua_feedback_free(struct rua_feedback *fb);
 * DESCRIPTION
 *	rua_feedback_add() appends a zeroed record to fb->rec.  The array
 *	has no capacity field, so its capacity is implied by nrec: 8, then
 *	doubled each time nrec reaches a power of two.  rua_feedback_free()
 *	frees the records (the report itself is the caller's).
 * DIAGNOSTICS
 *	rua_feedback_add() returns NULL when out of memory; fb is unchanged.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rua/feedback.h"

#define FEEDBACK_FIRST_CAP 8

struct rua_record *
rua_feedback_add(struct rua_feedback *fb)
{
	size_t n = fb->nrec, cap = 0;

	if (n == 0)
		cap = FEEDBACK_FIRST_CAP;
	else if (n >= FEEDBACK_FIRST_CAP && (n & (n - 1)) == 0)
		cap = n * 2;
	if (cap != 0) {
		struct rua_record *r;
		if (cap > SIZE_MAX / sizeof(*r))
			return NULL;
		if ((r = realloc(fb->rec, cap * sizeof(*r))) == NULL)
			return NULL;
		fb->rec = r;
	}
	memset(&fb->rec[n], 0, sizeof(fb->rec[n]));
	fb->nrec = n + 1;
	return &fb->rec[n];
}

void
rua_feedback_free(struct rua_feedback *fb)
{
	if (fb == NULL)
		return;
	free(fb->rec);
	fb->rec = NULL;
	fb->nrec = 0;
}
