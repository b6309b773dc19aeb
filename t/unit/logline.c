/* Unit tests for report/logline.c: which lines are authfilter's own
 * per-message records, and what is read from them. */
#include "buildconf.h"

#include <string.h>

#include "report/logline.h"
#include "t/tap.h"

#define KV "queue_id=4XyZ1 client=mx.example[192.0.2.1] action=reject " \
	"would_action=reject reason=dmarc_reject direction=inbound " \
	"spf=fail dmarc=fail dmarc_from=bad.example"
#define JS "{\"ts\":\"2026-12-02T13:00:00Z\",\"level\":\"info\"," \
	"\"queue_id\":\"4XyZ1\",\"client\":\"mx.example[192.0.2.1]\"," \
	"\"action\":\"accept\",\"dmarc\":\"pass\",\"dmarc_from\":\"ok.example\"," \
	"\"nrcpt\":1}"

int
main(void)
{
	struct report_rec r;
	static const char *const ours[] = {
		"Dec  2 13:00:00 mx authfilter[123]: " KV,
		"Dec 02 13:00:00 mx authfilter[123]: " KV,
		"2026-12-02T13:00:00.123456+00:00 mx authfilter[123]: " KV,
		"2026-12-02 13:00:00 authfilter[123]: info: " KV,
		"mx authfilter: " KV,
		KV,
	};
	static const char *const foreign[] = {
		/* another program's tag */
		"Dec  2 13:00:00 mx postfix/smtpd[9]: " KV,
		"Dec  2 13:00:00 mx authfilterx[9]: " KV,
		/* our tag, not a record: a message, or fields out of order */
		"Dec  2 13:00:00 mx authfilter[123]: reloaded /etc/a.conf",
		"Dec  2 13:00:00 mx authfilter[123]: client=x[192.0.2.1] "
		    "queue_id=1 action=reject",
		"Dec  2 13:00:00 mx authfilter[123]: queue_id=1 client=x "
		    "reason=\"action=reject\"",
		/* our record after another program's words */
		"Dec  2 13:00:00 mx postfix/smtpd[9]: warn: helo=authfilter[1]: "
		    KV,
		/* text a client chose, as our writer quotes it */
		"Dec  2 13:00:00 mx authfilter[123]: queue_id=1 client=x[1.2.3.4] "
		    "helo=\"action=reject\"",
		/* an unterminated quote or a bare quote: not our writer's */
		"Dec  2 13:00:00 mx authfilter[123]: queue_id=1 client=x[1.2.3.4] "
		    "action=accept helo=\"x",
		"Dec  2 13:00:00 mx authfilter[123]: queue_id=1 client=x[1.2.3.4] "
		    "action=accept helo=a\"b",
		/* JSON: lenient, out of order, or something after it */
		"{'ts':'2026-12-02','level':'info','queue_id':'1','client':'x',"
		    "'action':'reject'}",
		"{\"ts\":\"2026-12-02\",\"action\":\"reject\",\"level\":\"info\","
		    "\"queue_id\":\"1\",\"client\":\"x\"}",
		JS " x",
		"Dec  2 13:00:00 mx postfix/smtpd[9]: " JS,
		"",
	};

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		ok(report_parse_line(ours[i], &r) == 0 &&
		    strcmp(r.action, "reject") == 0 &&
		    strcmp(r.from, "bad.example") == 0 &&
		    strcmp(r.would, "reject") == 0, ours[i]);
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		ok(report_parse_line(foreign[i], &r) == -1, foreign[i]);

	report_parse_line(ours[0], &r);
	ok(r.date[0] == '\0' && r.mon == 12 && r.mday == 2,
	    "a syslog stamp without a year: month and day, no date");
	report_parse_line(ours[2], &r);
	is_str(r.date, "2026-12-02", "an RFC 3339 stamp: its date");
	is_str(r.spf, "fail", "spf read");
	is_str(r.direction, "inbound", "direction read");
	is_str(r.reason, "dmarc_reject", "reason read");

	ok(report_parse_line("Dec  2 13:00:00 mx authfilter[1]: " JS, &r) == 0,
	    "JSON after our syslog tag");
	is_str(r.date, "2026-12-02", "JSON: the date of ts");
	ok(r.mon == 0, "JSON: ts wins over the stamp without a year");
	is_str(r.action, "accept", "JSON: action");
	ok(report_parse_line(JS, &r) == 0 && strcmp(r.from, "ok.example") == 0,
	    "JSON alone (authfilter -f, journalctl -o cat)");

	ok(report_parse_line("queue_id=1 client=x[1.2.3.4] action=accept "
	    "direction=outbound sign_domain=ok.example "
	    "dkim_signed=\"ok.example s1 rsa-sha256\" reason=signed", &r) == 0 &&
	    r.dkim_signed && strcmp(r.sign_domain, "ok.example") == 0,
	    "outbound: signing domain and dkim_signed");
	ok(report_parse_line("queue_id=1 client=x[1.2.3.4] action=accept "
	    "helo=\"a \\\"dmarc_from=bank.example\\\"\" dmarc_from=ok.example",
	    &r) == 0 && strcmp(r.from, "ok.example") == 0,
	    "a quoted value with escaped quotes is one value");
	return done_testing();
}
