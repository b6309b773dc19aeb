/* Unit tests for report/tally.c: the counts per domain and per day. */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "report/tally.h"
#include "t/tap.h"

static struct report_rec
rec(const char *date, const char *dir, const char *from, const char *dmarc,
    const char *action, const char *would)
{
	struct report_rec r;

	memset(&r, 0, sizeof(r));
	snprintf(r.date, sizeof(r.date), "%s", date);
	snprintf(r.direction, sizeof(r.direction), "%s", dir);
	snprintf(r.from, sizeof(r.from), "%s", from);
	snprintf(r.dmarc, sizeof(r.dmarc), "%s", dmarc);
	snprintf(r.action, sizeof(r.action), "%s", action);
	snprintf(r.would, sizeof(r.would), "%s", would);
	return r;
}

static const struct tally_row *
find(const struct tally_table *t, const char *key)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (strcmp(t->rows[i].key, key) == 0)
			return &t->rows[i];
	return NULL;
}

int
main(void)
{
	struct tally t = { 0 };
	struct report_rec r;
	const struct tally_row *row;
	unsigned long sum[TI_N];
	char dom[64];
	int fails = 0;

	/* Monitor mode: would_action beside accept. */
	r = rec("2026-12-02", "inbound", "a.example", "fail", "accept", "reject");
	tally_add(&t, &r);
	r = rec("2026-12-01", "inbound", "a.example", "pass", "accept", "accept");
	tally_add(&t, &r);
	/* Enforce: no would_action when it is the action itself. */
	r = rec("2026-12-02", "inbound", "a.example", "fail", "reject", "");
	tally_add(&t, &r);
	r = rec("2026-12-02", "inbound", "b.example", "temperror", "tempfail",
	    "");
	tally_add(&t, &r);
	r = rec("2026-12-02", "inbound", "c.example", "fail", "accept", "tag");
	tally_add(&t, &r);
	r = rec("", "inbound", "", "none", "accept", "");
	tally_add(&t, &r);
	r = rec("2026-12-03", "outbound", "", "", "accept", "");
	snprintf(r.sign_domain, sizeof(r.sign_domain), "a.example");
	r.dkim_signed = 1;
	tally_add(&t, &r);
	r = rec("2026-12-03", "outbound", "", "", "tempfail", "");
	snprintf(r.reason, sizeof(r.reason), "sign_failed");
	tally_add(&t, &r);

	/* 20,000 more domains: the table grows and finds every one again. */
	for (int i = 0; i < 20000; i++) {
		snprintf(dom, sizeof(dom), "d%d.example", i);
		r = rec("2026-12-02", "inbound", dom, "pass", "accept", "");
		tally_add(&t, &r);
		if (i % 2 == 0)
			tally_add(&t, &r);
	}
	is_int((long)t.in.nrows, 20004, "one row per From domain (and none)");
	tally_sort(&t.in);
	tally_sort(&t.out);
	for (int i = 0; i < 20000; i++) {
		snprintf(dom, sizeof(dom), "d%d.example", i);
		row = find(&t.in, dom);
		fails += row == NULL || row->n[TI_MSGS] != (i % 2 ? 1u : 2u);
	}
	is_int(fails, 0, "every domain counted once per record");

	row = find(&t.in, "a.example");
	ok(row != NULL && row->n[TI_MSGS] == 3 && row->n[TI_FAIL] == 2 &&
	    row->n[TI_PASS] == 1 && row->n[TI_ACCEPT] == 2 &&
	    row->n[TI_REJECT] == 1, "a.example: messages, verdicts, actions");
	ok(row != NULL && row->n[TI_W_REJECT] == 2,
	    "would_reject: would_action, or the action when it has none");
	row = find(&t.in, "b.example");
	ok(row != NULL && row->n[TI_TEMPERROR] == 1 && row->n[TI_TEMPFAIL] == 1 &&
	    row->n[TI_W_TEMPFAIL] == 1, "b.example: temperror, tempfail");
	row = find(&t.in, "c.example");
	ok(row != NULL && row->n[TI_W_TAG] == 1, "c.example: would_tag");
	row = find(&t.in, TALLY_NONE);
	ok(row != NULL && row->n[TI_MSGS] == 1, "no From domain: its own row");
	is_str(t.in.rows[0].key, "a.example", "most messages first");

	row = find(&t.out, "a.example");
	ok(row != NULL && row->n[TO_MSGS] == 1 && row->n[TO_SIGNED] == 1,
	    "outbound a.example: signed");
	row = find(&t.out, TALLY_NONE);
	ok(row != NULL && row->n[TO_SIGN_FAILED] == 1 && row->n[TO_TEMPFAIL] == 1,
	    "outbound without a signing domain: sign_failed, tempfail");

	tally_sum(&t.in, sum, TI_N);
	is_int((long)sum[TI_MSGS], 6 + 30000, "totals: every inbound record");
	is_int((long)t.ndays, 3, "three days");
	ok(strcmp(t.days[0].date, "2026-12-01") == 0 &&
	    strcmp(t.days[2].date, "2026-12-03") == 0, "days in date order");
	ok(t.days[1].in[TI_MSGS] == 4 + 30000 && t.days[1].in[TI_W_REJECT] == 2 &&
	    t.days[2].out[TO_MSGS] == 2, "counts per day");
	is_int((long)t.undated, 1, "a record without a date: undated");
	tally_free(&t);
	return done_testing();
}
