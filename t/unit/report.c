/* Unit tests for report/report.c: --since and dates without a year. */
#include "buildconf.h"

#include <string.h>

#include "report/report.h"
#include "t/tap.h"

int
main(void)
{
	struct tm today = { 0 };
	struct report_rec r;
	char d[11];

	today.tm_year = 2026 - 1900;
	today.tm_mon = 0;		/* 2026-01-03 */
	today.tm_mday = 3;
	today.tm_hour = 12;
	today.tm_isdst = -1;

	ok(report_since("2025-12-31", &today, d) == 0 &&
	    strcmp(d, "2025-12-31") == 0, "YYYY-MM-DD");
	ok(report_since("today", &today, d) == 0 && strcmp(d, "2026-01-03") == 0,
	    "today");
	ok(report_since("yesterday", &today, d) == 0 &&
	    strcmp(d, "2026-01-02") == 0, "yesterday");
	ok(report_since("7d", &today, d) == 0 && strcmp(d, "2025-12-27") == 0,
	    "7d: seven days before today, across the year");
	ok(report_since("0d", &today, d) == 0 && strcmp(d, "2026-01-03") == 0,
	    "0d: today");
	ok(report_since("soon", &today, d) == -1, "a word: refused");
	ok(report_since("7", &today, d) == -1, "a number without d: refused");
	ok(report_since("-1d", &today, d) == -1, "negative: refused");
	ok(report_since("7dd", &today, d) == -1, "7dd: refused");
	ok(report_since("2026-02-30", &today, d) == -1, "no such day: refused");
	ok(report_since("99999999d", &today, d) == -1, "beyond a century: refused");

	memset(&r, 0, sizeof(r));
	r.mon = 12;
	r.mday = 30;
	report_date_complete(&r, &today);
	is_str(r.date, "2025-12-30", "Dec 30 read on Jan 3: last year");
	memset(&r, 0, sizeof(r));
	r.mon = 1;
	r.mday = 3;
	report_date_complete(&r, &today);
	is_str(r.date, "2026-01-03", "Jan 3 read on Jan 3: this year");
	memset(&r, 0, sizeof(r));
	report_date_complete(&r, &today);
	is_str(r.date, "", "no stamp: no date");
	return done_testing();
}
