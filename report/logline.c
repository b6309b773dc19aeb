/*
 * NAME
 *	logline -- authfilter's per-message log line, read back
 * SYNOPSIS
 *	struct report_rec r;
 *	if (report_parse_line(line, &r) == 0)
 *		count(&r);
 * DESCRIPTION
 *	Reads the lines lib/log.c writes for each message (milter/eom.c
 *	eom_log) in either log_format, as they reach a file:
 *
 *	    Dec  2 13:00:00 mx authfilter[123]: queue_id=... (rsyslog)
 *	    2026-12-02T13:00:00.1+00:00 mx authfilter[123]: {"ts":...}
 *	    Dec 02 13:00:00 mx authfilter[123]: ...	(journalctl)
 *	    2026-12-02 13:00:00 authfilter[123]: info: ...	(authfilter -f)
 *	    queue_id=... / {"ts":...}	(journalctl -o cat, authfilter -f)
 *
 *	Only authfilter's own records count: the tag must be authfilter's,
 *	and the text after it must have the shape of a record, its first
 *	fields in the order eom_log writes them (queue_id, client, action;
 *	in JSON ts, level first).  Another program's line, or text a client
 *	chose inside one of our values (always quoted, lib/log.c), is not
 *	a record.  Key=value values are bare or "..." with \" \\ \xNN;
 *	JSON is parsed strictly with json-c (nothing after the object).
 *
 *	The date is the JSON "ts" field's, else the syslog time stamp's;
 *	a stamp with no year ("Dec  2") gives mon and mday for the caller
 *	to place in a year.
 * SEE ALSO
 *	report.c, lib/log.c
 */
#include "buildconf.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <json-c/json.h>

#include "report/logline.h"

/* The syslog tag (lib/log.c log_init, milter/main.c). */
#define TAG "authfilter"
/* Our JSON records begin with this. */
#define JSON_START "{\"ts\":"

static const char *const kv_first[] = { "queue_id", "client", "action" };
static const char *const json_first[] = { "ts", "level", "queue_id",
	"client", "action" };
#define NFIRST(a) (sizeof(a) / sizeof((a)[0]))

/* The text fields of struct report_rec, by log key. */
static const struct rec_field {
	const char	*key;
	size_t		 off, size;
} rec_fields[] = {
#define RF(key, m) { key, offsetof(struct report_rec, m), \
	sizeof(((struct report_rec *)0)->m) }
	RF("dmarc_from", from), RF("dmarc", dmarc), RF("spf", spf),
	RF("action", action), RF("would_action", would),
	RF("direction", direction), RF("reason", reason),
	RF("sign_domain", sign_domain),
#undef RF
};

/* Copy, cut to fit: values too long for a field are not ours. */
static void
copy_field(char *dst, size_t dstsz, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= dstsz)
		n = dstsz - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
store(struct report_rec *r, const char *key, const char *val)
{
	if (val == NULL)
		val = "";
	if (strcmp(key, "dkim_signed") == 0) {
		r->dkim_signed = *val != '\0';
		return;
	}
	for (size_t i = 0; i < NFIRST(rec_fields); i++)
		if (strcmp(key, rec_fields[i].key) == 0) {
			copy_field((char *)r + rec_fields[i].off,
			    rec_fields[i].size, val);
			return;
		}
}

static int
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
is_iso_date(const char *s)
{
	return digits(s, 4) && s[4] == '-' && digits(s + 5, 2) &&
	    s[7] == '-' && digits(s + 8, 2);
}

static int
is_time(const char *s)
{
	return digits(s, 2) && s[2] == ':' && digits(s + 3, 2) &&
	    s[5] == ':' && digits(s + 6, 2);
}

static const char *
skip_word(const char *p)
{
	while (*p != '\0' && *p != ' ')
		p++;
	return p;
}

/* A syslog stamp without a year: "Dec  2 13:00:00" or "Dec 02 ...". */
static const char *
stamp_rfc3164(const char *p, struct report_rec *r)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *m;
	int day;

	if (strlen(p) < 15 || p[3] != ' ' || p[6] != ' ' || !is_time(p + 7))
		return NULL;
	for (m = months; *m != '\0'; m += 3)
		if (strncmp(p, m, 3) == 0)
			break;
	if (*m == '\0')
		return NULL;
	if (p[4] == ' ' && isdigit((unsigned char)p[5]))
		day = p[5] - '0';
	else if (digits(p + 4, 2))
		day = (p[4] - '0') * 10 + p[5] - '0';
	else
		return NULL;
	if (day < 1 || day > 31)
		return NULL;
	r->mon = (int)((m - months) / 3) + 1;
	r->mday = day;
	return p + 15;
}

/* The time stamp at the start of line: its date into r, and the text
 * after it; line itself when there is none, NULL for a malformed one. */
static const char *
stamp(const char *line, struct report_rec *r)
{
	const char *p = line;

	if (is_iso_date(p)) {
		copy_field(r->date, sizeof(r->date), p);
		p += 10;
		if (*p == 'T')				/* RFC 3339 */
			return skip_word(p);
		if (*p == ' ' && is_time(p + 1))	/* authfilter -f */
			return skip_word(p + 1);
		return NULL;
	}
	if (isupper((unsigned char)p[0]))
		return stamp_rfc3164(p, r);
	return line;
}

/* authfilter's tag at p ("authfilter[PID]: " or "authfilter: "): the
 * text after it, or NULL. */
static const char *
after_tag(const char *p)
{
	size_t n = strlen(TAG);

	if (strncmp(p, TAG, n) != 0)
		return NULL;
	p += n;
	if (*p == '[') {
		if (!isdigit((unsigned char)*++p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p++ != ']')
			return NULL;
	}
	if (p[0] != ':' || p[1] != ' ')
		return NULL;
	p += 2;
	/* authfilter -f writing to a terminal or a file names the level. */
	if (strncmp(p, "info: ", 6) == 0)
		p += 6;
	return p;
}

/* The text of the record: after the prefix, which must be ours. */
static const char *
record_text(const char *line, struct report_rec *r)
{
	const char *p, *text;

	if (strncmp(line, "queue_id=", 9) == 0 ||
	    strncmp(line, JSON_START, strlen(JSON_START)) == 0)
		return line;
	if ((p = stamp(line, r)) == NULL)
		return NULL;
	while (*p == ' ')
		p++;
	if ((text = after_tag(p)) != NULL)
		return text;
	p = skip_word(p);			/* the host name */
	while (*p == ' ')
		p++;
	return after_tag(p);
}

/* key=value pairs as lib/log.c log_format_text writes them. */
static int
parse_kv(const char *p, struct report_rec *r)
{
	size_t nth = 0;

	while (*p != '\0') {
		char key[32], val[300];
		size_t k = 0, v = 0;

		while (*p != '\0' && *p != '=' && *p != ' ' && *p != '"') {
			if (k + 1 >= sizeof(key))
				return -1;
			key[k++] = *p++;
		}
		key[k] = '\0';
		if (k == 0 || *p++ != '=')
			return -1;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					return -1;	/* unterminated */
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				if (v + 1 < sizeof(val))
					val[v++] = *p;
			}
			p++;
		} else
			for (; *p != '\0' && *p != ' '; p++) {
				if (*p == '"')
					return -1;	/* we quote those */
				if (v + 1 < sizeof(val))
					val[v++] = *p;
			}
		val[v] = '\0';
		if (*p != '\0' && *p++ != ' ')
			return -1;
		if (nth < NFIRST(kv_first) && strcmp(key, kv_first[nth]) != 0)
			return -1;
		nth++;
		store(r, key, val);
	}
	return nth >= NFIRST(kv_first) ? 0 : -1;
}

/* One JSON object, parsed strictly (no single quotes, nothing after
 * it): text that only looks like one is not a record. */
static struct json_object *
json_strict(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = strlen(text);

	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static int
parse_json(const char *text, struct report_rec *r)
{
	struct json_object *o = json_strict(text);
	size_t nth = 0;
	int ok = 1;

	if (o == NULL)
		return -1;
	if (!json_object_is_type(o, json_type_object))
		ok = 0;
	else {
		/* json-c keeps the members in the order they came in. */
		json_object_object_foreach(o, key, val) {
			if (nth < NFIRST(json_first) &&
			    strcmp(key, json_first[nth]) != 0) {
				ok = 0;
				break;
			}
			nth++;
			if (strcmp(key, "ts") == 0) {
				const char *ts = json_object_get_string(val);
				if (ts != NULL && strlen(ts) >= 10 &&
				    is_iso_date(ts)) {
					copy_field(r->date, sizeof(r->date), ts);
					r->mon = r->mday = 0;
				}
			} else
				store(r, key, json_object_get_string(val));
		}
	}
	json_object_put(o);
	return ok && nth >= NFIRST(json_first) ? 0 : -1;
}

int
report_parse_line(const char *line, struct report_rec *r)
{
	const char *text;

	memset(r, 0, sizeof(*r));
	if ((text = record_text(line, r)) == NULL)
		return -1;
	if (strncmp(text, JSON_START, strlen(JSON_START)) == 0)
		return parse_json(text, r);
	return parse_kv(text, r);
}
