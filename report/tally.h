/*
 * tally.h -- the counts `authfilter report` prints: per From domain
 * (inbound), per signing domain (outbound) and per day.
 */
#ifndef AUTHFILTER_TALLY_H
#define AUTHFILTER_TALLY_H

#include <stddef.h>

#include "report/logline.h"

/* Inbound mail, per From domain (dmarc_from). */
enum tally_in {
	TI_MSGS, TI_PASS, TI_FAIL, TI_TEMPERROR,
	TI_ACCEPT, TI_TAG, TI_QUAR, TI_REJECT, TI_TEMPFAIL,
	TI_W_TAG, TI_W_QUAR, TI_W_REJECT, TI_W_TEMPFAIL,
	TI_N
};
/* Outbound mail, per signing domain (sign_domain). */
enum tally_out {
	TO_MSGS, TO_SIGNED, TO_NOT_SIGNED, TO_SIGN_FAILED, TO_TEMPFAIL,
	TO_N
};
extern const char *const tally_in_names[TI_N];
extern const char *const tally_out_names[TO_N];

/* The row of a line with no From domain (inbound) or no signing
 * domain (outbound), and of the sums. */
#define TALLY_NONE	"(none)"
#define TALLY_TOTAL	"(total)"

struct tally_row {
	char		*key;
	unsigned long	 n[TI_N];	/* enum tally_in or enum tally_out */
};

/* Rows in a hash table (open addressing, FNV-1a): one lookup per line
 * whatever the number of domains. */
struct tally_table {
	struct tally_row *rows;
	size_t		 nrows, caprows;
	size_t		*slots;		/* row index + 1; 0: empty */
	size_t		 nslots;	/* a power of two, or 0 */
};

struct tally_day {
	char		 date[11];	/* YYYY-MM-DD */
	unsigned long	 in[TI_N], out[TO_N];
};

struct tally {
	struct tally_table in, out;
	struct tally_day *days;		/* in date order */
	size_t		 ndays, capdays, last;
	unsigned long	 undated;	/* records without a date */
};

/* Count one record (its date complete, or none): 0, or -1 out of
 * memory. */
int	tally_add(struct tally *, const struct report_rec *);
/* The row of key, zeroed when new (report/outbound.c keeps its own rows
 * and uses this as their index): NULL when out of memory. */
struct tally_row *tally_row(struct tally_table *, const char *key);
void	tally_table_free(struct tally_table *);
/* Most messages first, then by name.  Lookups end here: add nothing
 * after sorting. */
void	tally_sort(struct tally_table *);
/* The sum of every row, ncols columns. */
void	tally_sum(const struct tally_table *, unsigned long *sum, size_t ncols);
void	tally_free(struct tally *);

#endif
