/*
 * tagval.h -- one tag of a tag=value list (RFC 6376 3.2).
 */
#ifndef AUTHFILTER_TAGVAL_H
#define AUTHFILTER_TAGVAL_H

#include <stddef.h>

/* The value of the first `tag` in list (len bytes; tag names compared
 * case-sensitively, as RFC 6376 says), with folding white space
 * removed, into out.  0, or -1 when absent or longer than outsz - 1. */
int	tagval_get(const char *list, size_t len, const char *tag, char *out,
	    size_t outsz);

#endif
