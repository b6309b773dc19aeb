/*
 * spf_prefetch.h -- start the DNS lookups an SPF check will make.
 */
#ifndef AUTHFILTER_SPF_PREFETCH_H
#define AUTHFILTER_SPF_PREFETCH_H

struct dns;

/* Fetch domain's SPF record now and, as answers arrive, the records
 * and addresses it names; returns at once.  ipv6: the client's family
 * (only A or only AAAA records are wanted). */
void	spf_prefetch(struct dns *, const char *domain, int ipv6);

#endif
