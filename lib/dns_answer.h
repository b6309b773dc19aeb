/*
 * dns_answer.h -- DNS answers of our own type, and the cache of them.
 */
#ifndef AUTHFILTER_DNS_ANSWER_H
#define AUTHFILTER_DNS_ANSWER_H

#include <pthread.h>
#include <stddef.h>

struct ub_result;

/* One answer, immutable once made; shared by the cache and its readers
 * through a reference count. */
struct dns_answer {
	int		 rcode;
	int		 havedata, nxdomain, secure, bogus;
	char		*why_bogus;	/* NULL unless bogus */
	int		 ttl;		/* seconds, as received */
	size_t		 n;		/* records */
	unsigned char	**data;		/* rdata, each NUL-terminated */
	size_t		*len;
	unsigned char	*packet;	/* the reply as received */
	size_t		 packet_len;
	unsigned	 refs;
};

/* A copy of libunbound's result in our type (the caller still frees
 * res with ub_resolve_free()); NULL when out of memory. */
struct dns_answer *dns_answer_from_ub(const struct ub_result *res);
struct dns_answer *dns_answer_ref(struct dns_answer *);
void		 dns_answer_unref(struct dns_answer *);

struct dns_cache;

struct dns_cache *dns_cache_new(void);
void		 dns_cache_free(struct dns_cache *);
/* The cached answer of (key, type) with its remaining TTL, a reference
 * for the caller; NULL when there is none or it expired. */
struct dns_answer *dns_cache_get(struct dns_cache *, const char *key,
		    int type, int *ttl_left);
/* Keep an answer for its TTL (capped); errors, bogus answers and
 * answers without TTL are not kept. */
void		 dns_cache_put(struct dns_cache *, const char *key, int type,
		    struct dns_answer *);
/* The cache key of a name: lower case, no trailing dot; -1 if empty or
 * too long for outsz. */
int		 dns_cache_key(const char *name, char *out, size_t outsz);

#endif
