/*
 * spf_record.h -- an SPF record against the RFC 7208 grammar, and the
 * same policy in the form libspf2 evaluates correctly.
 */
#ifndef AUTHFILTER_SPF_RECORD_H
#define AUTHFILTER_SPF_RECORD_H

#include <stddef.h>

/* The longest record evaluated; longer is permerror.  RFC 7208 3.4 asks
 * for records that fit a 512-octet UDP answer; real ones stay under 1 KiB,
 * and this bounds the work of one record. */
#define SPF_RECORD_MAX		4096

/* What spf_record_rewrite() may write for a record of len octets. */
#define SPF_RECORD_OUTSZ(len)	((len) * 6 + 64)

/* The label spf_record_rewrite() appends to the domain of an "a" or "mx"
 * with prefix length 0: see spf_record.c. */
#define SPF_RECORD_ANY		"~spf-any"

/* 1 if the TXT string is an SPF record (RFC 7208 4.5: "v=spf1", any
 * case, then a space or the end). */
int	spf_record_is_spf(const char *buf, size_t len);

/* 0 if buf is an SPF record by the grammar of RFC 7208, else -1 with
 * err saying which term and what is wrong. */
int	spf_record_check(const char *buf, size_t len, char *err, size_t errsz);

/* spf_record_check(), then the record for libspf2, for a client of the
 * given family (client_ip6: 0 for IPv4), NUL-terminated into out.
 * outsz must be at least SPF_RECORD_OUTSZ(len). */
int	spf_record_rewrite(const char *buf, size_t len, int client_ip6,
	    char *out, size_t outsz, char *err, size_t errsz);

#endif
