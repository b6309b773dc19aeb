/*
 * compose.h -- one aggregate report for one destination, as the e-mails
 * that carry it: split across several reports when one mail would be
 * larger than the limit.
 */
#ifndef AUTHFILTER_RUA_COMPOSE_H
#define AUTHFILTER_RUA_COMPOSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rua/feedback.h"

/* One report (its own report_id) and the mail that carries it. */
struct rua_part {
	char		 report_id[256];	/* as fb->report_id */
	char		 name[700];	/* file name: NAME.xml.gz attached */
	size_t		 first, nrec;	/* its records in fb->rec */
	uint64_t	 messages;	/* the sum of their counts */
	char		*xml;
	size_t		 xmllen;
	unsigned char	*gz;
	size_t		 gzlen;
	char		*msg;
	size_t		 msglen;
};

struct rua_compose {
	struct rua_part	*part;
	size_t		 npart;
};

struct rua_compose_opts {
	const char	*receiver;	/* our domain: Submitter, file name */
	const char	*from;		/* report_email */
	const char	*to;		/* the destination's address */
	size_t		 max_size;	/* bytes of one mail, 0: no limit */
	time_t		 now;
};

/* The reports of fb (its metadata but report_id filled in, which is
 * set for each part; fb->begin and fb->end as <date_range> says them)
 * for one destination: 0, or -1 + err (also when a single record makes
 * a mail over the limit). */
int	rua_compose(struct rua_feedback *fb, const struct rua_compose_opts *,
	    struct rua_compose *out, char *err, size_t errsz);
void	rua_compose_free(struct rua_compose *);

/* t as "2026-12-01T00:00:00Z" (the number if it cannot be). */
void	rua_compose_utc(int64_t t, char *out, size_t outsz);

/* A part's files in dir: NAME.xml, NAME.xml.gz and NAME.eml (the
 * mail), replacing files of these names: 0, or -1 + err. */
int	rua_compose_save(const struct rua_part *, const char *dir, char *err,
	    size_t errsz);

#endif
