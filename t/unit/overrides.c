/* Unit tests for policy/overrides.c: the policy_overrides file. */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy/overrides.h"
#include "t/tap.h"

static struct config_errors errs;

static const char *
first_error(const char *text)
{
	static char buf[300];
	struct overrides *o;

	config_errors_clear(&errs);
	o = overrides_parse("ovr", text, &errs);
	overrides_free(o);
	snprintf(buf, sizeof(buf), "%s", errs.n > 0 ? errs.msg[0] : "OK");
	return buf;
}

int
main(void)
{
	struct overrides *o;
	const struct override *e;
	/* 2027-01-31 00:00:00 UTC and the first second of 2027-02-01 */
	time_t jan31 = 1801353600, feb1 = 1801440000;
	char out[1024];
	FILE *fp;

	o = overrides_parse("ovr",
	    "# domain what until why\n"
	    "\n"
	    "partner.example  monitor until=2027-01-31 DMARC being fixed\n"
	    "Bank.Example. reject always enforce\n"
	    "mail.bank.example accept\n"
	    "old.example quarantine until=2020-01-01\n", &errs);
	ok(o != NULL && errs.n == 0, "a file with comments and blank lines");
	e = overrides_find(o, "partner.example", jan31);
	ok(e != NULL && e->kind == OVR_MONITOR && e->line == 3 &&
	    strcmp(e->reason, "DMARC being fixed") == 0 &&
	    strcmp(e->date, "2027-01-31") == 0, "found, with line and reason");
	ok(overrides_find(o, "partner.example", feb1 - 1) != NULL,
	    "applies through the last second of its day");
	ok(overrides_find(o, "partner.example", feb1) == NULL,
	    "stops applying the day after");
	e = overrides_find(o, "x.bank.example", jan31);
	ok(e != NULL && e->kind == OVR_REJECT &&
	    strcmp(e->reason, "always enforce") == 0,
	    "subdomains match; domain normalised; reason of two words");
	e = overrides_find(o, "mail.bank.example", jan31);
	ok(e != NULL && e->kind == OVR_ACCEPT, "the most specific line wins");
	ok(overrides_find(o, "notbank.example", jan31) == NULL,
	    "a suffix that is not a parent does not match");
	ok(overrides_find(o, "old.example", jan31) == NULL, "expired: ignored");
	fp = fmemopen(out, sizeof(out), "w");
	is_int(overrides_report_expired(o, jan31, fp), 1, "one expired line");
	fclose(fp);
	is_str(out, "ovr:6: override for old.example expired on 2020-01-01 "
	    "(no longer applies)\n", "reported with file and line");
	is_int((long)overrides_count(o), 4, "four lines");
	ok(overrides_at(o, 0) != NULL &&
	    strcmp(overrides_at(o, 0)->domain, "partner.example") == 0 &&
	    overrides_at(o, 3) != NULL && overrides_at(o, 3)->line == 6 &&
	    overrides_at(o, 4) == NULL, "listed in file order, expired too");
	is_int((long)overrides_count(NULL), 0, "no file: no lines");
	overrides_free(o);

	is_str(first_error("bad..domain reject\n"),
	    "ovr:1: \"bad..domain\" is not a domain name", "bad domain");
	is_str(first_error("a.example\n"), "ovr:1: a.example: expected "
	    "monitor, enforce, accept, quarantine or reject", "no action");
	is_str(first_error("a.example destroy\n"), "ovr:1: \"destroy\": "
	    "expected monitor, enforce, accept, quarantine or reject",
	    "unknown action");
	is_str(first_error("a.example reject until=2027-13-01\n"),
	    "ovr:1: \"until=2027-13-01\": expected until=YYYY-MM-DD",
	    "bad date");
	is_str(first_error("a.example reject until=tomorrow\n"),
	    "ovr:1: \"until=tomorrow\": expected until=YYYY-MM-DD",
	    "not a date");
	is_str(first_error("a.example reject\nA.example. monitor\n"),
	    "ovr:2: a.example is already on line 1", "a domain twice");
	config_errors_clear(&errs);
	return done_testing();
}
