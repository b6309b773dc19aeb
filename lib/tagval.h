/*
 * tagval.h -- tag=value lists (RFC 6376 3.2), read strictly.
 */
#ifndef AUTHFILTER_TAGVAL_H
#define AUTHFILTER_TAGVAL_H

#include <stddef.h>

/* A tag-list with more tags than this is refused: the RFC defines 14
 * signature tags and 7 key tags; the rest is room for extensions. */
#define TAGVAL_MAX_TAGS 64

struct tagval_span {
	const char	*p;
	size_t		 n;
};

struct tagval_spec {
	struct tagval_span	 name;
	struct tagval_span	 value;
};

/* Split s into at most max tag-specs.  strict: the first bad spec or one
 * too many fails the list (-1, why); else they are skipped.  Returns the
 * number of specs. */
int	tagval_split(const char *s, size_t len, struct tagval_spec *t,
	    size_t max, int strict, char *why, size_t whysz);
/* 1 when the span is the text s. */
int	tagval_is(const struct tagval_span *, const char *s);
/* Two names equal, or differing in case only: -1 with why; else 0. */
int	tagval_duplicates(const struct tagval_spec *t, size_t n, char *why,
	    size_t whysz);
/* A value without its white space into out; -1 if it does not fit. */
int	tagval_squeeze(const struct tagval_span *, char *out, size_t outsz);

/* 0 when s (len bytes) is a tag-list as RFC 6376 3.2 defines it and no
 * tag occurs twice; else -1 with why ("tag \"p\" occurs twice"). */
int	tagval_check(const char *s, size_t len, char *why, size_t whysz);

/* The value of tag in the tag-list s with its white space removed (as
 * for b=, bh= and p=), into out.  1: found (the last occurrence); 0:
 * absent; -1: found but longer than outsz - 1 (out holds ""). */
int	tagval_get(const char *s, size_t len, const char *tag, char *out,
	    size_t outsz);

#endif
