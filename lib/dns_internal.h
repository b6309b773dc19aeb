/*
 * dns_internal.h -- between the resolver (dns.c) and its readers (dns_read.c).
 */
#ifndef AUTHFILTER_DNS_INTERNAL_H
#define AUTHFILTER_DNS_INTERNAL_H

#include "lib/dns.h"

struct dns_answer;

/* The answer of (name, type): cached, joined in flight, or asked; waits
 * until dns_timeout after the query started and the thread's budget.
 * 0 with *a (a reference) and its TTL left, an ub error code, or -1
 * for no answer in time. */
int		 dns_resolve(struct dns *, const char *name, int type,
		    struct dns_answer **a, int *ttl);
/* What an answer, or its absence (err as dns_resolve() gave it),
 * means; errbuf filled for every status but DNS_OK. */
enum dns_status	 dns_classify(const struct dns_answer *, int err,
		    const char *name, int type, char *errbuf, size_t errsz);

/* "TXT", "A", ... for log lines and errors. */
const char	*dns_type_name(int type);

#endif
