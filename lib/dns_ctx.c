/*
 * NAME
 *	dns_ctx -- a libunbound context set up as authfilter wants it
 * SYNOPSIS
 *	ctx = dns_ctx_new(cfg->dns_resolver, retries, anchor, err, errsz);
 *	dns_ctx_delete(ctx);
 * DESCRIPTION
 *	Asynchronous (libunbound's own thread resolves; dns.c's pump
 *	delivers), forwarding to dns_resolver (a forwarder on 127.0.0.1
 *	allowed) or the system's resolvers, DNSSEC with dns_trust_anchor,
 *	the reverse zones of private and documentation addresses left to
 *	the forwarder, a silent server probed again, and its setup finished
 *	at once.
 *
 *	What libunbound prints while the context is set up (a trust anchor
 *	file it cannot parse says where) is caught and becomes the error
 *	message, instead of raw lines on standard error beside ours.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "lib/dns_ctx.h"

/*
 * libunbound keeps some state for all contexts in globals: the locks
 * that finishing a context's setup creates (listen_setup_locks()) are
 * destroyed by deleting any context.  A reload deletes the old context
 * in whichever thread releases it last, while the new one may be set up
 * by its first query in another (ThreadSanitizer: data race in
 * pthread_mutex_init/destroy).  So creating, finishing and deleting a
 * context happen under one lock, and a context is finished here, at
 * once, rather than by its first query.
 */
static pthread_mutex_t ub_global = PTHREAD_MUTEX_INITIALIZER;

/* Reverse zones of the documentation prefixes (RFC 5737, RFC 3849)
 * that libunbound answers itself. */
static const char *const doc_reverse[] = {
	"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
	"113.0.203.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
};

/* The first error libunbound printed, without its prefix, or "". */
static void
first_error(const char *log, char *out, size_t outsz)
{
	const char *e = log != NULL ? strstr(log, " error: ") : NULL;
	size_t n;

	out[0] = '\0';
	if (e == NULL)
		return;
	e += 8;
	n = strcspn(e, "\n");
	snprintf(out, outsz, "%.*s", (int)n, e);
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
}

static int
configure(struct ub_ctx *ctx, const char *spec, unsigned retries,
    const char *trust_anchor, char *err, size_t errsz)
{
	char num[16];
	int rc;

	/* libunbound resolves in a thread of its own; answers arrive
	 * through ub_process() in dns.c's pump thread. */
	if ((rc = ub_ctx_async(ctx, 1)) != 0) {
		snprintf(err, errsz, "DNS resolver: %s", ub_strerror(rc));
		return -1;
	}
	if (*spec != '\0') {
		if ((rc = ub_ctx_set_option(ctx, "do-not-query-localhost:",
		    "no")) != 0 || (rc = ub_ctx_set_fwd(ctx, spec)) != 0) {
			snprintf(err, errsz, "dns_resolver %s: %s", spec,
			    ub_strerror(rc));
			return -1;
		}
	} else if ((rc = ub_ctx_resolvconf(ctx, NULL)) != 0 ||
	    /* No /etc/hosts (a bare container) is an empty one. */
	    (access("/etc/hosts", F_OK) == 0 &&
	    (rc = ub_ctx_hosts(ctx, NULL)) != 0)) {
		snprintf(err, errsz, "system resolver: %s", ub_strerror(rc));
		return -1;
	}
	/* Private address space (RFC 1918, ULA, link-local): its reverse
	 * zones are the forwarder's to answer, not libunbound's (it would
	 * say NXDOMAIN itself, RFC 6303), so a site's own PTR records, as
	 * SPF's ptr and %{p} ask for, are seen.  A server that did not
	 * answer is probed again rather than left marked down for
	 * infra-host-ttl (15 minutes): mail gets real verdicts soon after
	 * the resolver is back. */
	if ((rc = ub_ctx_set_option(ctx, "unblock-lan-zones:", "yes")) != 0 ||
	    (rc = ub_ctx_set_option(ctx, "insecure-lan-zones:", "yes")) != 0 ||
	    (rc = ub_ctx_set_option(ctx, "infra-keep-probing:", "yes")) != 0) {
		snprintf(err, errsz, "DNS resolver: %s", ub_strerror(rc));
		return -1;
	}
	/* Resends of a query that got an error answer (unbound's
	 * outbound-msg-retry, at least 1); dns_timeout bounds the rest. */
	snprintf(num, sizeof(num), "%u", retries);
	if ((rc = ub_ctx_set_option(ctx, "outbound-msg-retry:", num)) != 0) {
		snprintf(err, errsz, "dns_retries: %s", ub_strerror(rc));
		return -1;
	}
	if (trust_anchor != NULL && *trust_anchor != '\0' &&
	    (rc = ub_ctx_add_ta_file(ctx, trust_anchor)) != 0) {
		snprintf(err, errsz, "dns_trust_anchor %s: %s", trust_anchor,
		    ub_strerror(rc));
		return -1;
	}
	/* Finish the setup now (any data call does; this name is none of
	 * ours), under the lock: see ub_global. */
	pthread_mutex_lock(&ub_global);
	rc = ub_ctx_data_remove(ctx, "authfilter.invalid.");
	/* The documentation prefixes' reverse zones likewise (no
	 * unblock-lan-zones for them): a test server may serve them. */
	for (size_t i = 0; rc == 0 && i < sizeof(doc_reverse) /
	    sizeof(doc_reverse[0]); i++)
		rc = ub_ctx_zone_remove(ctx, doc_reverse[i]);
	pthread_mutex_unlock(&ub_global);
	if (rc != 0) {
		if (trust_anchor != NULL && *trust_anchor != '\0')
			snprintf(err, errsz, "dns_trust_anchor %s: %s",
			    trust_anchor, ub_strerror(rc));
		else
			snprintf(err, errsz, "DNS resolver setup: %s",
			    ub_strerror(rc));
		return -1;
	}
	return 0;
}

struct ub_ctx *
dns_ctx_new(const char *spec, unsigned retries, const char *trust_anchor,
    char *err, size_t errsz)
{
	struct ub_ctx *ctx;
	char *log = NULL, why[300];
	size_t loglen = 0;
	FILE *cap;
	int rc;

	pthread_mutex_lock(&ub_global);
	ctx = ub_ctx_create();
	pthread_mutex_unlock(&ub_global);
	if (ctx == NULL) {
		snprintf(err, errsz, "cannot create a DNS resolver");
		return NULL;
	}
	/* libunbound's log is one for all contexts: caught only while this
	 * one is set up, then standard error again, as before. */
	if ((cap = open_memstream(&log, &loglen)) != NULL)
		(void)ub_ctx_debugout(ctx, cap);
	rc = configure(ctx, spec, retries, trust_anchor, err, errsz);
	if (cap != NULL) {
		(void)ub_ctx_debugout(ctx, stderr);
		fclose(cap);
	}
	first_error(log, why, sizeof(why));
	free(log);
	if (rc != 0 && why[0] != '\0') {
		size_t n = strlen(err);
		snprintf(err + n, errsz - n, " (%s)", why);
	}
	if (rc != 0) {
		dns_ctx_delete(ctx);
		return NULL;
	}
	return ctx;
}

void
dns_ctx_delete(struct ub_ctx *ctx)
{
	if (ctx == NULL)
		return;
	pthread_mutex_lock(&ub_global);
	ub_ctx_delete(ctx);
	pthread_mutex_unlock(&ub_global);
}
