/*
 * dest.h -- where a policy domain's aggregate reports go: the mailto:
 * URIs of its rua= tag, and whether an external one agreed to take them
 * (RFC 7489 7.1, RFC 9990 3.3 "Verifying External Destinations").
 * Shared by authfilter-reports send and authfilter doctor.
 */
#ifndef AUTHFILTER_RUA_DEST_H
#define AUTHFILTER_RUA_DEST_H

#include <stddef.h>
#include <stdint.h>

struct dmarc_lib;
struct dns;

#define RUA_DEST_MAX	8	/* mailto: URIs used from one rua= */

struct rua_dest {
	char	 addr[320];	/* the mailbox, %-decoded */
	char	 host[256];	/* its domain, lower case */
	uint64_t max_size;	/* "!10m" (RFC 7489 6.2) in bytes, 0: none */
};

/* The mailto: URIs of a rua= value (comma-separated; other schemes and
 * malformed URIs are skipped), at most max into out: how many. */
size_t	rua_dest_parse(const char *rua, struct rua_dest *out, size_t max);

enum rua_verify {
	RUA_VERIFY_SAME_ORG,	/* same organizational domain: no check */
	RUA_VERIFY_OK,		/* <domain>._report._dmarc.<host> says v=DMARC1 */
	RUA_VERIFY_MISSING,	/* no such record: send nothing there */
	RUA_VERIFY_TEMPFAIL	/* the DNS failed: ask again later */
};

/* Whether reports about policy_domain may go to host.  name (at least
 * RUA_VERIFY_NAME_MAX bytes) gets the name queried, "" when none was;
 * why a sentence for MISSING and TEMPFAIL. */
#define RUA_VERIFY_NAME_MAX	530
enum rua_verify	rua_dest_verify(struct dns *, struct dmarc_lib *,
		    const char *policy_domain, const char *host, char *name,
		    char *why, size_t whysz);

#endif
