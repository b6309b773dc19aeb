/*
 * NAME
 *	tally -- the counts of `authfilter report`
 * SYNOPSIS
 *	struct tally t = { 0 };
 *	tally_add(&t, &rec);
 *	tally_sort(&t.in);
 *	tally_free(&t);
 * DESCRIPTION
 *	Inbound records are counted per From domain (dmarc_from): DMARC
 *	pass, fail and temperror, the action taken and the action enforce
 *	would take (would_action, or the action itself when the line has
 *	none: enforce logs would_action only where it differs).  Outbound
 *	records are counted per signing domain: signed (dkim_signed),
 *	not_signed, sign_failed (the reason) and tempfail (the action).
 *	Both are also counted per day.
 *
 *	The domains are keys of a hash table that doubles when half full:
 *	a log of 200,000 From domains costs one lookup per line, not a
 *	search of every domain seen.
 * SEE ALSO
 *	report.c, logline.c, lib/hash.h
 */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "report/tally.h"

const char *const tally_in_names[TI_N] = { "messages", "dmarc_pass",
	"dmarc_fail", "dmarc_temperror", "accept", "tag", "quarantine",
	"reject", "tempfail", "would_tag", "would_quarantine",
	"would_reject", "would_tempfail" };
const char *const tally_out_names[TO_N] = { "messages", "signed",
	"not_signed", "sign_failed", "tempfail" };

/* The first table size; it doubles from there. */
#define TALLY_SLOTS_MIN 1024

/* The array p of *cap elements (n in use) with room for one more: p, a
 * larger copy, or NULL (p unchanged). */
static void *
make_room(void *p, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t c = *cap ? *cap * 2 : first;
	void *g;

	if (n < *cap)
		return p;
	if ((g = realloc(p, c * size)) == NULL)
		return NULL;
	*cap = c;
	return g;
}

static size_t
slot_of(const struct tally_table *t, const char *key)
{
	size_t mask = t->nslots - 1;
	size_t i = fnv1a(FNV1A_INIT, key, strlen(key)) & mask;

	while (t->slots[i] != 0 &&
	    strcmp(t->rows[t->slots[i] - 1].key, key) != 0)
		i = (i + 1) & mask;
	return i;
}

static int
grow_slots(struct tally_table *t)
{
	size_t n = t->nslots ? t->nslots * 2 : TALLY_SLOTS_MIN;
	size_t *old = t->slots;

	if ((t->slots = calloc(n, sizeof(*t->slots))) == NULL) {
		t->slots = old;
		return -1;
	}
	t->nslots = n;
	for (size_t r = 0; r < t->nrows; r++)
		t->slots[slot_of(t, t->rows[r].key)] = r + 1;
	free(old);
	return 0;
}

struct tally_row *
tally_row(struct tally_table *t, const char *key)
{
	struct tally_row *row, *rows;
	size_t i;

	if ((t->nrows + 1) * 2 > t->nslots && grow_slots(t) != 0)
		return NULL;
	i = slot_of(t, key);
	if (t->slots[i] != 0)
		return &t->rows[t->slots[i] - 1];
	if ((rows = make_room(t->rows, &t->caprows, t->nrows, sizeof(*rows),
	    256)) == NULL)
		return NULL;
	t->rows = rows;
	row = &t->rows[t->nrows];
	memset(row, 0, sizeof(*row));
	if ((row->key = strdup(key)) == NULL)
		return NULL;
	t->slots[i] = ++t->nrows;
	return row;
}

/* The day's counts; days stay in date order (a log has few of them, and
 * its lines mostly come in order: the last day is looked at first). */
static struct tally_day *
day_for(struct tally *t, const char *date)
{
	struct tally_day *days;
	size_t lo = 0, hi = t->ndays;

	if (t->ndays > 0 && strcmp(t->days[t->last].date, date) == 0)
		return &t->days[t->last];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(t->days[mid].date, date);
		if (c == 0)
			return &t->days[t->last = mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((days = make_room(t->days, &t->capdays, t->ndays, sizeof(*days),
	    32)) == NULL)
		return NULL;
	t->days = days;
	memmove(&t->days[lo + 1], &t->days[lo],
	    (t->ndays - lo) * sizeof(t->days[0]));
	memset(&t->days[lo], 0, sizeof(t->days[0]));
	memcpy(t->days[lo].date, date, sizeof(t->days[lo].date));
	t->ndays++;
	return &t->days[t->last = lo];
}

static int
is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static void
count_in(unsigned long *n, const struct report_rec *r)
{
	static const char *const acts[] = { "accept", "tag", "quarantine",
	    "reject", "tempfail" };
	const char *would = r->would[0] != '\0' ? r->would : r->action;

	n[TI_MSGS]++;
	n[TI_PASS] += is(r->dmarc, "pass");
	n[TI_FAIL] += is(r->dmarc, "fail");
	n[TI_TEMPERROR] += is(r->dmarc, "temperror");
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		n[TI_ACCEPT + i] += is(r->action, acts[i]);
	n[TI_W_TAG] += is(would, "tag");
	n[TI_W_QUAR] += is(would, "quarantine");
	n[TI_W_REJECT] += is(would, "reject");
	n[TI_W_TEMPFAIL] += is(would, "tempfail");
}

static void
count_out(unsigned long *n, const struct report_rec *r)
{
	n[TO_MSGS]++;
	n[TO_SIGNED] += r->dkim_signed;
	n[TO_NOT_SIGNED] += is(r->reason, "not_signed");
	n[TO_SIGN_FAILED] += is(r->reason, "sign_failed");
	n[TO_TEMPFAIL] += is(r->action, "tempfail");
}

/* A line without direction (an older log): outbound when it names a
 * signing domain and no From domain. */
static int
is_outbound(const struct report_rec *r)
{
	if (r->direction[0] != '\0')
		return is(r->direction, "outbound");
	return r->from[0] == '\0' && (r->sign_domain[0] != '\0' ||
	    r->dkim_signed);
}

int
tally_add(struct tally *t, const struct report_rec *r)
{
	int out = is_outbound(r);
	const char *key = out ? r->sign_domain : r->from;
	struct tally_row *row = tally_row(out ? &t->out : &t->in,
	    key[0] != '\0' ? key : TALLY_NONE);
	struct tally_day *day = NULL;

	if (row == NULL)
		return -1;
	if (r->date[0] != '\0' && (day = day_for(t, r->date)) == NULL)
		return -1;
	t->undated += r->date[0] == '\0';
	if (out) {
		count_out(row->n, r);
		if (day != NULL)
			count_out(day->out, r);
	} else {
		count_in(row->n, r);
		if (day != NULL)
			count_in(day->in, r);
	}
	return 0;
}

static int
by_messages(const void *a, const void *b)
{
	const struct tally_row *x = a, *y = b;

	if (x->n[0] != y->n[0])
		return x->n[0] < y->n[0] ? 1 : -1;
	return strcmp(x->key, y->key);
}

void
tally_sort(struct tally_table *t)
{
	if (t->nrows > 0)
		qsort(t->rows, t->nrows, sizeof(t->rows[0]), by_messages);
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}

void
tally_sum(const struct tally_table *t, unsigned long *sum, size_t ncols)
{
	memset(sum, 0, ncols * sizeof(*sum));
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < ncols; c++)
			sum[c] += t->rows[r].n[c];
}

void
tally_table_free(struct tally_table *t)
{
	for (size_t r = 0; r < t->nrows; r++)
		free(t->rows[r].key);
	free(t->rows);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void
tally_free(struct tally *t)
{
	tally_table_free(&t->in);
	tally_table_free(&t->out);
	free(t->days);
	memset(t, 0, sizeof(*t));
}
