/*
 * loginmap.h -- which From domains each SASL login may sign for.
 */
#ifndef AUTHFILTER_LOGINMAP_H
#define AUTHFILTER_LOGINMAP_H

#include "lib/config.h"

struct loginmap;

/* Lines "LOGIN DOMAIN[, DOMAIN...]"; "#" comments; DOMAIN "*" allows
 * every domain.  NULL + "FILE:LINE: problem" messages in errs. */
struct loginmap	*loginmap_load(const char *path, struct config_errors *errs);
struct loginmap	*loginmap_parse(const char *src, const char *text,
		    struct config_errors *errs);
void		 loginmap_free(struct loginmap *);
/* 1 when login may use domain (compared without regard to case). */
int		 loginmap_allows(const struct loginmap *, const char *login,
		    const char *domain);

#endif
