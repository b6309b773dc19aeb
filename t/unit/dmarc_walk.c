/* Unit tests for milter/dmarc_walk.c: the names a DNS Tree Walk queries
 * (RFC 9989 4.10), the organizational domain it yields (4.10.2) and the
 * record that applies (4.10.1), over walks written by hand. */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "milter/dmarc_walk.h"
#include "t/tap.h"

/* The walk's names, space separated. */
static const char *
names(const char *domain)
{
	static char buf[DMARC_WALK_MAX * DMARC_NAME_MAX];
	char n[DMARC_WALK_MAX][DMARC_NAME_MAX];
	size_t k = dmarc_walk_names(domain, n, DMARC_WALK_MAX), o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < k; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
		    i ? " " : "", n[i]);
	return buf;
}

/* A walk from the first name: "-" no record, "r" a record, "y" psd=y,
 * "n" psd=n, "x" an unusable record; e.g. walk(&w, "a.b.example.com",
 * "--r-") has a record at example.com only. */
static void
walk(struct dmarc_walk *w, const char *start, const char *steps)
{
	char n[DMARC_WALK_MAX][DMARC_NAME_MAX];
	size_t k = dmarc_walk_names(start, n, DMARC_WALK_MAX);

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < k && steps[i] != '\0'; i++) {
		struct dmarc_walk_step *s = &w->step[w->n++];
		snprintf(s->name, sizeof(s->name), "%.255s", n[i]);
		if (steps[i] == '-')
			continue;
		s->state = DMARC_STEP_RECORD;
		s->parse = steps[i] == 'x' ? DMARC_REC_INVALID : DMARC_REC_OK;
		s->rec.psd = steps[i] == 'y' ? DMARC_PSD_Y : steps[i] == 'n' ?
		    DMARC_PSD_N : DMARC_PSD_U;
	}
}

static const char *
policy_at(const struct dmarc_walk *w)
{
	int i = dmarc_walk_policy(w);

	return i < 0 ? "(none)" : w->step[i].name;
}

int
main(void)
{
	struct dmarc_walk w;
	char one[1][DMARC_NAME_MAX];

	/* 4.10 steps 3-7: the names, and the limit of 8 queries. */
	is_str(names("example.com"), "example.com com", "two labels");
	is_str(names("com"), "com", "a top-level domain: one query");
	is_str(names("a.mail.example.com"),
	    "a.mail.example.com mail.example.com example.com com",
	    "one label off at a time");
	is_str(names("a.b.c.d.e.f.example.com"),
	    "a.b.c.d.e.f.example.com b.c.d.e.f.example.com "
	    "c.d.e.f.example.com d.e.f.example.com e.f.example.com "
	    "f.example.com example.com com", "8 labels: 8 queries");
	is_str(names("x.a.b.c.d.e.f.example.com"),
	    "x.a.b.c.d.e.f.example.com b.c.d.e.f.example.com "
	    "c.d.e.f.example.com d.e.f.example.com e.f.example.com "
	    "f.example.com example.com com",
	    "9 labels: the second query jumps to 7 labels");
	is_str(names("a.b.c.d.e.f.g.h.i.j.mail.example.com"),
	    "a.b.c.d.e.f.g.h.i.j.mail.example.com g.h.i.j.mail.example.com "
	    "h.i.j.mail.example.com i.j.mail.example.com j.mail.example.com "
	    "mail.example.com example.com com",
	    "RFC 9989 4.10's 13-label example, query for query");
	ok(dmarc_walk_names("a.b.example.com", one, 1) == 1 &&
	    strcmp(one[0], "a.b.example.com") == 0,
	    "never more names than room");

	/* 4.10.2: the organizational domain. */
	walk(&w, "a.mail.example.com", "-rr-");
	is_str(dmarc_walk_org(&w), "example.com",
	    "records at mail.example.com and example.com: the fewest labels");
	walk(&w, "a.mail.example.com", "-n");
	is_str(dmarc_walk_org(&w), "mail.example.com", "psd=n: that domain");
	walk(&w, "a.mail.example.com", "---y");
	is_str(dmarc_walk_org(&w), "example.com",
	    "psd=y at com: one label below it");
	walk(&w, "mail.example.com", "-y");
	is_str(dmarc_walk_org(&w), "mail.example.com",
	    "psd=y right above the start: the start");
	walk(&w, "bank.example", "y");
	is_str(dmarc_walk_org(&w), "bank.example",
	    "psd=y at the start itself: the start (rule 2 skips it)");
	walk(&w, "a.mail.example.com", "----");
	is_str(dmarc_walk_org(&w), "a.mail.example.com",
	    "no record anywhere: the start");
	walk(&w, "mail.example.com", "r--");
	is_str(dmarc_walk_org(&w), "mail.example.com",
	    "only the start has a record: the start (no suffix list)");
	walk(&w, "a.b.c.d.e.f.g.h.example.com", "------r-");
	is_str(dmarc_walk_org(&w), "example.com", "a deep name");
	walk(&w, "a.b.c.d.e.f.g.h.example.com", "------xy");
	is_str(dmarc_walk_org(&w), "example.com",
	    "an unusable record still marks a domain");

	/* 4.10.1: the record that applies. */
	walk(&w, "a.mail.example.com", "rrr-");
	is_str(policy_at(&w), "a.mail.example.com", "the Author Domain's own");
	walk(&w, "a.mail.example.com", "-rr-");
	is_str(policy_at(&w), "example.com",
	    "the organizational domain's, not an intermediate one");
	walk(&w, "a.mail.example.com", "-n");
	is_str(policy_at(&w), "mail.example.com", "psd=n ends it");
	walk(&w, "a.mail.example.com", "---y");
	is_str(policy_at(&w), "com",
	    "no record at the organizational domain: the PSD's");
	walk(&w, "a.mail.example.com", "--ry");
	is_str(policy_at(&w), "example.com",
	    "the organizational domain's record before the PSD's");
	walk(&w, "a.mail.example.com", "----");
	is_str(policy_at(&w), "(none)", "no record: none");
	walk(&w, "a.mail.example.com", "--x-");
	is_str(policy_at(&w), "example.com",
	    "an unusable record still applies (then: no DMARC processing)");
	return done_testing();
}
