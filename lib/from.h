/*
 * from.h -- the author domains of a From header field (RFC 5322).
 */
#ifndef AUTHFILTER_FROM_H
#define AUTHFILTER_FROM_H

#include <stddef.h>

#define FROM_MAX_ADDRS	16	/* more addresses than this: FROM_SYNTAX */
#define FROM_DOMAIN_MAX	254	/* RFC 1035 name length, as text */

enum from_status {
	FROM_OK,		/* n >= 1 domains filled */
	FROM_EMPTY,		/* no address at all (empty group, blank) */
	FROM_SYNTAX		/* unparseable, or an address without a usable
				 * domain (IP literal, no "@", bad label) */
};

#define FROM_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */

struct from_result {
	size_t	n;
	char	domain[FROM_MAX_ADDRS][FROM_DOMAIN_MAX + 1];	/* normalised */
	/* The local part when it is a plain dot-atom ("alice",
	 * "a.b+tag"), else "" (quoted, commented): what signing_table's
	 * address patterns can match. */
	char	local[FROM_MAX_ADDRS][FROM_LOCAL_MAX + 1];
};

/* Parse a From value of len bytes (NUL bytes are a syntax error).
 * Domains are the addr-spec's only: display names and comments never
 * count, so "a@bank.example" <x@evil.test> gives evil.test.  Domains are
 * lowercased with a trailing dot removed. */
enum from_status from_parse(const char *value, size_t len,
		    struct from_result *out);

/* Lowercase, drop one trailing dot, check LDH labels; a name with
 * U-labels (SMTPUTF8 mail) is first turned into its A-labels
 * ("xn--..."), as RFC 8616 asks.  0 on success. */
int	domain_normalise(const char *in, size_t len, char *out, size_t outsz);

/* in[0, len) into out as ASCII: copied when it is, else its A-label
 * form (IDNA2008, non-transitional, libidn2).  0, or -1 (not a valid
 * IDN, a NUL byte, no room). */
int	domain_to_ascii(const char *in, size_t len, char *out, size_t outsz);

/* The domain of a MAIL FROM address ("<a@example.org>") into out, or ""
 * (the null sender, an address literal, no room, an invalid IDN); a
 * U-label domain comes out as its A-label. */
void	envelope_domain(const char *sender, char *out, size_t outsz);

/* 1 when domain is parent or a name below it ("a.b.example" is below
 * "b.example", "xb.example" is not); case-insensitive. */
int	domain_at_or_below(const char *domain, const char *parent);

#endif
