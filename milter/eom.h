/*
 * eom.h -- what to do with a message at its end, decided without I/O.
 */
#ifndef AUTHFILTER_EOM_H
#define AUTHFILTER_EOM_H

#include <stddef.h>
#include <time.h>

#include "lib/config.h"
#include "milter/direction.h"
#include "milter/session.h"
#include "policy/policy.h"

/* Room for our header value; with results folded one per line this fits
 * the DKIM results of every signature we verify. */
#define EOM_AR_MAX 8192

struct eom_plan {
	enum direction	 dir;
	const char	*dir_why;
	/* 1-based occurrence numbers (among Authentication-Results
	 * headers) to delete, highest first so earlier deletions cannot
	 * shift later ones. */
	size_t		*ar_delete;
	size_t		 n_ar_delete;
	size_t		 n_ar_kept;
	int		 insert_ar;	/* inbound mail gets our header */
	char		 ar_value[EOM_AR_MAX];
	char		 signed_by[512];	/* "domain/selector,..." */
	struct policy_out policy;	/* action, reply, reason */
	const char	*action;	/* its name, for the log */
	const char	*reason;
	const char	*would_action;	/* monitor mode: what enforce does */
	char		 override[300];	/* the policy_overrides line used */
	char		 detail[400];	/* a refusal explained, for the log */
};

/* A refusal that needs no check (a header limit, sender_login_map): 1
 * with the plan made, as soon as it is known; else 0.  eom_plan_build()
 * makes the same one at end of message. */
/* Does the message carry an Authentication-Results header of ours? */
int	eom_has_our_ar(const struct message *, const char *authserv_id);
int	eom_plan_refusal(const struct session *, const struct config *,
	    struct eom_plan *);
/* now: the clock, for overrides with a date. */
int	eom_plan_build(const struct session *, const struct config *,
	    time_t now, struct eom_plan *);
void	eom_plan_free(struct eom_plan *);
void	eom_log(const struct session *, const struct eom_plan *);

#endif
