/*
 * overrides.h -- per-domain policy overrides with an expiry date.
 */
#ifndef AUTHFILTER_OVERRIDES_H
#define AUTHFILTER_OVERRIDES_H

#include <stdio.h>
#include <time.h>

#include "lib/config.h"

enum override_kind {
	OVR_MONITOR,		/* record only, whatever policy_mode says */
	OVR_ENFORCE,		/* enforce, whatever policy_mode says */
	OVR_ACCEPT,		/* DMARC fail: accept */
	OVR_QUARANTINE,		/* DMARC fail: quarantine */
	OVR_REJECT		/* DMARC fail: reject */
};

struct override {
	char		 domain[256];	/* normalised; matches subdomains */
	enum override_kind kind;
	time_t		 until;		/* 0: no end; else first second after */
	char		 date[11];	/* YYYY-MM-DD as written, "" if none */
	char		 reason[200];
	unsigned	 line;
};

struct overrides;

/* Lines "DOMAIN monitor|enforce|accept|quarantine|reject [until=YYYY-MM-DD]
 * [reason...]"; "#" comments.  NULL + "FILE:LINE: problem" in errs. */
struct overrides *overrides_parse(const char *src, const char *text,
		    struct config_errors *errs);
struct overrides *overrides_load(const char *path, struct config_errors *errs);
void		 overrides_free(struct overrides *);

/* The override for domain (the most specific one: sub.example.com before
 * example.com) that has not expired at now; NULL if none. */
const struct override *overrides_find(const struct overrides *,
		    const char *domain, time_t now);
/* Print "FILE:LINE: override for DOMAIN expired on DATE" for each expired
 * line; returns how many. */
size_t		 overrides_report_expired(const struct overrides *, time_t now,
		    FILE *);
const char	*override_kind_name(enum override_kind);
/* The lines in file order, expired ones too: i < overrides_count(). */
size_t		 overrides_count(const struct overrides *);
const struct override *overrides_at(const struct overrides *, size_t i);

#endif
