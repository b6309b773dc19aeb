/*
 * selfcheck.h -- what start-up and "authfilter -t" check beyond the file.
 */
#ifndef AUTHFILTER_SELFCHECK_H
#define AUTHFILTER_SELFCHECK_H

#include "lib/config.h"

/* authfilter -t after the file parsed: as root with `user`, a child
 * switches to that user and builds the state as a reload would.  Prints
 * problems ("as user X: ...") and warnings on stderr; 0 or 1 (a problem). */
int	selfcheck_test(const char *path, const struct config *cfg);
/* At start, after switching to `user`: the same, logged; 0 or -1. */
int	selfcheck_start(const char *path, const struct config *cfg);

#endif
