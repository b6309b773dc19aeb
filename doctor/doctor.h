/*
 * doctor.h -- authfilter doctor: what makes a site's own mail land in
 * spam, checked against live DNS.  Shared by the files of doctor/.
 */
#ifndef AUTHFILTER_DOCTOR_H
#define AUTHFILTER_DOCTOR_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct config;
struct dmarc_lib;
struct dns;
struct keystore;
struct spf_lib;

/* Worst last: a run's status is the worst of its checks, except that
 * a failure found outweighs a check that could not be made. */
enum doctor_status { DOC_OK, DOC_WARN, DOC_UNKNOWN, DOC_FAIL };

#define DOCTOR_DETAIL_MAX	1536
#define DOCTOR_ADVICE_MAX	1536
/* Outbound addresses looked at: a mail host has a handful. */
#define DOCTOR_MAX_IPS		16

struct doctor_check {
	char		 area[8];	/* spf, dkim, dmarc, host */
	char		 check[80];	/* "record", "key s1", "fcrdns ADDR" */
	enum doctor_status status;
	char		 detail[DOCTOR_DETAIL_MAX];	/* what was found */
	char		 advice[DOCTOR_ADVICE_MAX];	/* "" when OK */
};

struct doctor_checks {
	struct doctor_check *c;
	size_t		 n;
};

/* One domain signed for: the From domain and the key domain (d=). */
struct doctor_domain {
	char		 from[256];
	char		 key_domain[256];
	struct doctor_checks checks;
	/* What the requirement lines are derived from. */
	int		 spf_pass;	/* SPF passes every outbound address */
	int		 dkim_pass;	/* every signing key is published */
	int		 dmarc_found;	/* a usable DMARC record */
};

/* What every check reads. */
struct doctor_env {
	const struct config *cfg;
	struct dns	*dns;
	struct spf_lib	*spf;
	struct dmarc_lib *dmarc;
	const struct keystore *ks;	/* NULL: the store did not load */
	char		 ips[DOCTOR_MAX_IPS][46];	/* outbound addresses */
	size_t		 nips;
	char		 helo[256];
	time_t		 now;
};

/* doctor.c */
void	doctor_add(struct doctor_checks *, const char *area,
	    const char *check, enum doctor_status, const char *advice,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void	doctor_checks_free(struct doctor_checks *);
const char *doctor_status_name(enum doctor_status);

/* doctor_spf.c, doctor_dkim.c, doctor_dmarc.c: one domain's checks. */
void	doctor_spf(const struct doctor_env *, struct doctor_domain *);
void	doctor_dkim(const struct doctor_env *, struct doctor_domain *);
void	doctor_dmarc(const struct doctor_env *, struct doctor_domain *);

/* doctor_host.c: the outbound addresses and HELO name into env (from
 * the settings, else from myhostname), with a check line when they
 * cannot be found; then forward-confirmed reverse DNS and HELO. */
void	doctor_host_identity(struct doctor_env *, struct doctor_checks *);
void	doctor_host(const struct doctor_env *, struct doctor_checks *);

/* doctor_dns.c: small synchronous lookups over lib/dns. */
/* The A and AAAA addresses of name as text into out; how many were
 * put there.  *st: DNS_OK if any, else the worse of the two answers. */
size_t	doctor_addresses(struct dns *, const char *name, char (*out)[46],
	    size_t max, int *st);
/* The PTR names of an address; how many; *st as above. */
size_t	doctor_ptr(struct dns *, const char *ip, char (*out)[256],
	    size_t max, int *st);
/* 1 if a lookup of (name, type) answers nothing (NXDOMAIN or no
 * record), 0 if it answers, -1 if it failed. */
int	doctor_void(struct dns *, const char *name, int type);

/* doctor_req.c: the mailbox providers' sender requirements. */
struct doctor_requirement {
	const char	*name;
	int		 pass;
	char		 detail[DOCTOR_DETAIL_MAX];
};
#define DOCTOR_NREQ	5
void	doctor_requirements(const struct doctor_env *,
	    const struct doctor_domain *, size_t n,
	    const struct doctor_checks *host,
	    struct doctor_requirement out[DOCTOR_NREQ]);

/* doctor_out.c: the report as text or as one JSON object. */
struct doctor_report {
	const struct doctor_env *env;
	const struct doctor_domain *dom;
	size_t		 ndom;
	const struct doctor_checks *host;
	const struct doctor_requirement *req;
	enum doctor_status status;
	int		 exit_code;
};
void	doctor_print_text(const struct doctor_report *, FILE *);
int	doctor_print_json(const struct doctor_report *, FILE *);

int	doctor_main(int argc, char **argv, const char *default_config);

#endif
