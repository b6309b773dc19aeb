/* Unit tests for lib/log.c: escaping for text and JSON lines. */
#include "buildconf.h"

#include <string.h>

#include "lib/log.h"
#include "t/tap.h"

/* Strip the variable "ts" member so the rest can be compared. */
static const char *
after_ts(const char *json)
{
	const char *p = strstr(json, "\"level\"");
	return p != NULL ? p : json;
}

int
main(void)
{
	char buf[512];
	struct log_field f[] = {
		{ "queue_id", "4XyZ1" },
		{ "subject", "a \"b\"\r\nfake=line" },
		{ "skip", NULL },
		{ "from", "J\xc3\xa9r\xc3\xb4me \xff\xfe" },
		{ "empty", "" },
	};

	log_format_text(buf, sizeof(buf), f, 5);
	is_str(buf, "queue_id=4XyZ1 subject=\"a \\\"b\\\"\\x0d\\x0afake=line\" "
	    "from=\"J\\xc3\\xa9r\\xc3\\xb4me \\xff\\xfe\" empty=\"\"",
	    "text: quotes, CR/LF and 8-bit escaped; NULL fields skipped");
	ok(strchr(buf, '\n') == NULL, "text: no line break can be injected");

	log_format_json(buf, sizeof(buf), "info", f, 5);
	ok(strncmp(buf, "{\"ts\":\"", 7) == 0, "json: starts with ts");
	is_str(after_ts(buf), "\"level\":\"info\",\"queue_id\":\"4XyZ1\","
	    "\"subject\":\"a \\\"b\\\"\\u000d\\u000afake=line\","
	    "\"from\":\"J\xc3\xa9r\xc3\xb4me \\\\xff\\\\xfe\",\"empty\":\"\"}",
	    "json: valid UTF-8 kept, invalid bytes escaped as text");

	/* Overlong encoding and surrogates are not valid UTF-8. */
	struct log_field bad[] = { { "v", "\xc0\xaf\xed\xa0\x80" } };
	log_format_json(buf, sizeof(buf), "info", bad, 1);
	is_str(after_ts(buf), "\"level\":\"info\",\"v\":\"\\\\xc0\\\\xaf"
	    "\\\\xed\\\\xa0\\\\x80\"}", "json: overlong and surrogate escaped");

	/* Counts are JSON numbers; a count that is not digits stays text. */
	struct log_field counts[] = { { "nrcpt", "3" }, { "ar_removed", "0" },
	    { "nrcpt", "07" }, { "queue_id", "123" } };
	log_format_json(buf, sizeof(buf), "info", counts, 4);
	is_str(after_ts(buf), "\"level\":\"info\",\"nrcpt\":3,\"ar_removed\":0,"
	    "\"nrcpt\":\"07\",\"queue_id\":\"123\"}",
	    "json: nrcpt and ar_removed as numbers, other fields as text");

	/* Truncation keeps the object closed. */
	struct log_field big[] = { { "v", "0123456789012345678901234567890123"
	    "456789012345678901234567890123456789" } };
	log_format_json(buf, 48, "info", big, 1);
	ok(strlen(buf) <= 47 && buf[strlen(buf) - 1] == '}',
	    "json: a tiny buffer still gives a closed object");

	/* A field that does not fit is left out whole, later ones stay, and
	 * the line says so: never a value cut in the middle. */
	char longv[300];
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	struct log_field cut[] = { { "action", "reject" }, { "helo", longv },
	    { "reason", "dmarc" } };
	log_format_json(buf, 200, "info", cut, 3);
	is_str(after_ts(buf), "\"level\":\"info\",\"action\":\"reject\","
	    "\"reason\":\"dmarc\",\"truncated\":\"yes\"}",
	    "json: the field too long is left out whole, marked truncated");
	ok(strlen(buf) < 200, "json: within the buffer");
	log_format_text(buf, 200, cut, 3);
	is_str(buf, "action=reject reason=dmarc truncated=yes",
	    "text: the same");
	return done_testing();
}
