/*
 * dns_ctx.h -- a libunbound context set up as authfilter wants it.
 */
#ifndef AUTHFILTER_DNS_CTX_H
#define AUTHFILTER_DNS_CTX_H

#include <stddef.h>

struct ub_ctx;

/* spec, retries and trust_anchor as dns_new() takes them; NULL with
 * err (libunbound's own complaint in parentheses) on failure. */
struct ub_ctx	*dns_ctx_new(const char *spec, unsigned retries,
		    const char *trust_anchor, char *err, size_t errsz);
/* Delete, under the lock that setting up contexts takes. */
void		 dns_ctx_delete(struct ub_ctx *);

#endif
