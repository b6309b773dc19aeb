/*
 * check.h -- the one shape of every check of incoming mail.
 */
#ifndef AUTHFILTER_CHECK_H
#define AUTHFILTER_CHECK_H

#include <stddef.h>

#include "milter/dmarc.h"
#include "milter/spf.h"

struct af_state;
struct ar_result;
struct dkim_result;
struct log_field;
struct message;
struct session;

/* What the checks found.  A check reads the results of the checks
 * listed before it (DMARC reads SPF's and DKIM's), never the message's
 * internals. */
struct check_results {
	struct spf_verdict spf_mailfrom;	/* MAIL FROM identity */
	struct spf_verdict spf_helo;		/* HELO identity */
	const struct dkim_result *dkim;		/* one per signature */
	size_t		 ndkim;
	int		 dkim_unverified;	/* the verifier could not run */
	struct dmarc_verdict dmarc;
};

/* What the MTA told us so far, read-only, and the settings. */
struct check_in {
	const struct session *s;	/* client address, HELO */
	const struct message *m;	/* envelope, headers */
	const struct af_state *st;	/* settings, resolver, libraries */
};

/*
 * A check.  Each hook may be NULL.  mail (at MAIL FROM) and eoh (at end
 * of headers) start DNS lookups and return at once; body sees the body
 * as it streams; finish (end of message) gives the verdict, waiting for
 * DNS at most as long as the message's budget; ar and log describe it.
 * cs is the check's own state: state_size bytes, zeroed, freed after
 * free(cs) (NULL in ar and log when the check never ran).
 */
struct check {
	const char	*name;
	size_t		 state_size;
	void		(*mail)(void *cs, const struct check_in *);
	void		(*eoh)(void *cs, const struct check_in *);
	void		(*body)(void *cs, const unsigned char *, size_t);
	/* 0, or -1 when a local failure (memory) must tempfail. */
	int		(*finish)(void *cs, const struct check_in *,
			    struct check_results *);
	/* Its Authentication-Results entries into out (room of them);
	 * lists at most cap items of a kind that repeats (signatures),
	 * counting the rest in one entry. */
	size_t		(*ar)(const void *cs, const struct check_results *,
			    size_t cap, struct ar_result *out, size_t room);
	/* Its fields of the message's log line. */
	size_t		(*log)(const void *cs, const struct check_results *,
			    struct log_field *out, size_t room);
	void		(*free)(void *cs);
};

/* SPF: the verdict of the identity that counts, MAIL FROM or (for the
 * null sender) HELO (RFC 7208 2.4). */
const struct spf_verdict *check_spf_counting(const struct check_results *);

/* The checks, in the order they run (checks.c). */
extern const struct check *const checks[];
extern const size_t checks_count;
#define CHECKS_MAX	8

/* Drivers: every check, in order.  checks_begin allocates the states
 * (-1: out of memory); checks_end frees them and the results. */
int	checks_begin(struct message *);
void	checks_mail(struct message *, const struct check_in *);
void	checks_eoh(struct message *, const struct check_in *);
void	checks_body(struct message *, const unsigned char *, size_t);
int	checks_finish(struct message *, const struct check_in *);
size_t	checks_ar(const struct message *, size_t cap, struct ar_result *out,
	    size_t room);
size_t	checks_log(const struct message *, struct log_field *out, size_t room);
void	checks_end(struct message *);

#endif
