/*
 * header.h -- a message header field as the MTA gave it, and its name.
 */
#ifndef AUTHFILTER_HEADER_H
#define AUTHFILTER_HEADER_H

#include <stddef.h>

struct header {
	char	*name;
	char	*value;		/* as received, NUL-terminated */
	size_t	 vlen;
};

/* 1 when a header name as the MTA gave it is `want` (case-insensitive;
 * white space before the colon ignored, as MTAs and DKIM treat it). */
int	header_name_is(const char *name, const char *want);

#endif
