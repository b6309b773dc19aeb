/*
 * spf_dns.h -- libspf2's DNS layer over our resolver, counting what
 * RFC 7208 4.6.4 limits.  For spf.c only.
 */
#ifndef AUTHFILTER_SPF_DNS_H
#define AUTHFILTER_SPF_DNS_H

#include <stddef.h>

#include <spf2/spf.h>

struct dns;

/* 10 terms x (1 + 10 MX or PTR names) + their records, with room. */
#define SPF_MAX_QUERIES	150
#define SPF_MAX_VOIDS	2
#define SPF_MAX_TERMS	10	/* DNS-querying terms, RFC 7208 4.6.4 */
#define SPF_MAX_NAMES	10	/* MX or PTR names looked at */

/* One check in progress in this thread. */
struct spf_run {
	/* Set before the check. */
	int		 client_ip6;
	unsigned char	 addr[16];	/* the client: 4 or 16 octets */
	SPF_request_t	*hidden;	/* its address not yet set: spf.c */

	/* Counted by the layer. */
	unsigned	 queries;
	unsigned	 voids;
	int		 timed_out;	/* a query failed: the rest fail too */
	int		 too_many;
	char		 void_name[256];	/* the lookup past the limit */
	unsigned	 terms;		/* lookups that stand for a term */
	int		 mx_over;	/* an MX answer with > 10 names */
	char		 bad[256];	/* a record the grammar refused: why */
	/* Names from the last MX or PTR answer: their address lookups
	 * belong to that term, they are not terms of their own. */
	char		 hosts[SPF_MAX_NAMES * 2][256];
	size_t		 nhosts;
	int		 hosts_ptr;	/* those names came from a PTR answer */
};

/* Make layer (the caller's, living as long as the SPF_server_t on it)
 * send every query to d. */
void	spf_dns_layer_init(SPF_dns_server_t *layer, struct dns *d);

/* The check this thread runs from now on; NULL when it is done. */
void	spf_dns_run(struct spf_run *run);

/* A name DNS can carry: labels of 1..63 octets, at most 253 in all. */
int	spf_dns_name_ok(const char *name);

#endif
