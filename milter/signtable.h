/*
 * signtable.h -- which key domain (d=) signs for which From (signing_table).
 */
#ifndef AUTHFILTER_SIGNTABLE_H
#define AUTHFILTER_SIGNTABLE_H

#include <stddef.h>

#include "keys/keystore.h"
#include "lib/config.h"
#include "lib/from.h"

#define SIGNTABLE_MAX_SELECTORS 8

enum st_kind { ST_ADDRESS, ST_DOMAIN, ST_BELOW, ST_ANY };

struct signtable_entry {
	enum st_kind	 kind;
	char		 local[FROM_LOCAL_MAX + 1];	/* ST_ADDRESS */
	char		 domain[FROM_DOMAIN_MAX + 1];	/* not ST_ANY */
	char		 key_domain[KEY_DOMAIN_MAX + 1];
	char		 selector[SIGNTABLE_MAX_SELECTORS][KEY_SELECTOR_MAX + 1];
	size_t		 nsel;		/* 0: every active key */
	unsigned	 line;
};

struct signtable;

struct signtable *signtable_load(const char *path, struct config_errors *);
struct signtable *signtable_parse(const char *src, const char *text,
		    struct config_errors *);
void		 signtable_free(struct signtable *);
/* The entry for a From address (local may be "": no address pattern
 * matches), or NULL when none does. */
const struct signtable_entry *signtable_lookup(const struct signtable *,
		    const char *local, const char *domain);
size_t		 signtable_count(const struct signtable *);
const struct signtable_entry *signtable_entry(const struct signtable *,
		    size_t i);
/* 1 when the entry lets `selector` sign. */
int		 signtable_selects(const struct signtable_entry *,
		    const char *selector);

#endif
