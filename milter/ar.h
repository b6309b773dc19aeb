/*
 * ar.h -- Authentication-Results (RFC 8601): the one writer and one parser.
 */
#ifndef AUTHFILTER_AR_H
#define AUTHFILTER_AR_H

#include <stddef.h>

#define AR_MAX_PROPS	8	/* per result; RFC 8601 methods use <= 4 */
#define AR_MAX_RESULTS	32	/* DKIM signatures are capped well below */
#define AR_VALUE_MAX	256

struct ar_prop {
	char	ptype[16];		/* smtp, header, body, policy */
	char	property[32];		/* mailfrom, d, s, a, b, from, ... */
	char	value[AR_VALUE_MAX];
};

struct ar_result {
	char		method[32];	/* spf, dkim, dmarc, ... */
	char		result[32];	/* pass, fail, none, ... */
	char		reason[AR_VALUE_MAX];	/* reason= value, may be "" */
	char		comment[AR_VALUE_MAX];	/* written as "(comment)" */
	struct ar_prop	props[AR_MAX_PROPS];
	size_t		nprops;
};

struct ar_header {
	char		 authserv_id[AR_VALUE_MAX];
	int		 none;		/* "authserv-id; none" */
	struct ar_result res[AR_MAX_RESULTS];
	size_t		 nres;
};

/* Writer: the header value (without "Authentication-Results:"), folded
 * with "\n\t" before each result.  n == 0 writes "ID; none".  Returns the
 * length, or -1 when it does not fit dstsz. */
int	ar_format(char *dst, size_t dstsz, const char *authserv_id,
	    const struct ar_result *res, size_t n);

/* Add a property to a result; values that are not tokens are quoted by
 * ar_format.  Returns -1 when the result is full. */
int	ar_result_prop(struct ar_result *r, const char *ptype,
	    const char *property, const char *value);

/* Parser: a header value of len bytes (NUL bytes allowed and kept as
 * bytes).  Returns 0 when the whole value parses, -1 otherwise; even
 * then out->authserv_id holds the authserv-id if one was read. */
int	ar_parse(const char *value, size_t len, struct ar_header *out);

/* The authserv-id of a header value into buf (unquoted), or -1. */
int	ar_authserv_id(const char *value, size_t len, char *buf, size_t bufsz);

/* 1 when the header's authserv-id is ours (case-insensitive, a trailing
 * dot ignored): such a header is forged or stale and must be removed. */
int	ar_is_ours(const char *value, size_t len, const char *our_id);

#endif
