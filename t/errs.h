/*
 * errs.h -- test helper: does a config_errors list hold a message?
 *
 *	ok(errs_has(&errs, "file:3: unknown setting \"x\"", 1), "name");
 *
 * exact = 0 matches a substring.  On a miss it prints what the list held
 * as TAP diagnostics.
 */
#ifndef AUTHFILTER_T_ERRS_H
#define AUTHFILTER_T_ERRS_H

#include <stdio.h>
#include <string.h>

#include "lib/config.h"

static inline int
errs_has(const struct config_errors *e, const char *want, int exact)
{
	for (size_t i = 0; i < e->n; i++)
		if (exact ? strcmp(e->msg[i], want) == 0 :
		    strstr(e->msg[i], want) != NULL)
			return 1;
	for (size_t i = 0; i < e->n; i++)
		printf("#   have: %s\n", e->msg[i]);
	printf("#   want: %s\n", want);
	return 0;
}

#endif
