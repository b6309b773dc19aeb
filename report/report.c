/*
 * NAME
 *	report -- per From domain: messages, DMARC results, actions taken
 *	and the actions enforce would take, read back from the log
 * SYNOPSIS
 *	authfilter report [--since YYYY-MM-DD] LOGFILE...
 * DESCRIPTION
 *	The table an admin reads before moving a domain from monitor to
 *	enforce.  Reads authfilter's per-message lines in either format:
 *	log_format = json (one object per line, parsed with json-c, any
 *	prefix before the "{" ignored) or syslog key=value pairs (our own
 *	writer's quoting: bare, or "..." with \" \\ \xNN).  Other lines are
 *	skipped.  --since compares the line's date: the JSON "ts" field or
 *	an ISO 8601 syslog timestamp at the start of the line; lines with
 *	no such date are counted.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "report/report.h"

enum col { C_MSGS, C_PASS, C_FAIL, C_ACCEPT, C_TAG, C_QUAR, C_REJECT,
	C_TEMP, C_W_QUAR, C_W_REJECT, C_W_TEMP, C_N };

static const char *const col_names[C_N] = { "messages", "dmarc_pass",
	"dmarc_fail", "accept", "tag", "quarantine", "reject", "tempfail",
	"would_quarantine", "would_reject", "would_tempfail" };

struct row {
	char		 domain[256];
	unsigned long	 n[C_N];
};

struct table {
	struct row	*r;
	size_t		 n, cap;
};

static struct row *
row_for(struct table *t, const char *domain)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->r[i].domain, domain) == 0)
			return &t->r[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct row *g = realloc(t->r, cap * sizeof(*g));
		if (g == NULL)
			return NULL;
		t->r = g;
		t->cap = cap;
	}
	memset(&t->r[t->n], 0, sizeof(t->r[0]));
	snprintf(t->r[t->n].domain, sizeof(t->r[0].domain), "%s", domain);
	return &t->r[t->n++];
}

/* Copy, cut to fit: values too long for a column are not ours. */
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

/* Our JSON records begin with this; a key=value line never holds it (a
 * value with '"' in it is written with it escaped). */
#define JSON_START "{\"ts\":"

/* One JSON record, parsed strictly (no single quotes, nothing after the
 * object): text that only looks like one is not counted. */
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
parse_json(const char *line, struct report_rec *r)
{
	const char *brace = strstr(line, JSON_START);
	struct json_object *o, *v;

	if (brace == NULL || (o = json_strict(brace)) == NULL)
		return -1;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "action", &v)) {
		json_object_put(o);
		return -1;
	}
	copy_field(r->action, sizeof(r->action), json_object_get_string(v));
	if (json_object_object_get_ex(o, "would_action", &v))
		copy_field(r->would, sizeof(r->would), json_object_get_string(v));
	if (json_object_object_get_ex(o, "dmarc", &v))
		copy_field(r->dmarc, sizeof(r->dmarc), json_object_get_string(v));
	if (json_object_object_get_ex(o, "dmarc_from", &v))
		copy_field(r->from, sizeof(r->from), json_object_get_string(v));
	if (json_object_object_get_ex(o, "ts", &v))
		copy_field(r->date, sizeof(r->date), json_object_get_string(v));
	json_object_put(o);
	return 0;
}

/* key=value pairs as milter/log.c writes them. */
static int
parse_kv(const char *line, struct report_rec *r)
{
	const char *p = line;
	int have_action = 0;

	if (strlen(line) >= 10 && isdigit((unsigned char)line[0]) &&
	    line[4] == '-' && line[7] == '-')
		copy_field(r->date, sizeof(r->date), line);
	while (*p != '\0') {
		char key[32], val[300];
		size_t k = 0, v = 0;

		while (*p == ' ')
			p++;
		while (*p != '\0' && *p != '=' && *p != ' ' && k + 1 <
		    sizeof(key))
			key[k++] = *p++;
		key[k] = '\0';
		if (*p != '=') {	/* a word of the syslog prefix */
			while (*p != '\0' && *p != ' ')
				p++;
			continue;
		}
		p++;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (v + 1 < sizeof(val))
					val[v++] = *p;
			}
			if (*p == '"')
				p++;
		} else
			while (*p != '\0' && *p != ' ') {
				if (v + 1 < sizeof(val))
					val[v++] = *p;
				p++;
			}
		val[v] = '\0';
		if (strcmp(key, "action") == 0) {
			copy_field(r->action, sizeof(r->action), val);
			have_action = 1;
		} else if (strcmp(key, "would_action") == 0)
			copy_field(r->would, sizeof(r->would), val);
		else if (strcmp(key, "dmarc") == 0)
			copy_field(r->dmarc, sizeof(r->dmarc), val);
		else if (strcmp(key, "dmarc_from") == 0)
			copy_field(r->from, sizeof(r->from), val);
	}
	return have_action ? 0 : -1;
}

int
report_parse_line(const char *line, struct report_rec *r)
{
	memset(r, 0, sizeof(*r));
	return strstr(line, JSON_START) != NULL ? parse_json(line, r) :
	    parse_kv(line, r);
}

static void
count(struct table *t, const struct report_rec *r)
{
	static const char *const acts[] = { "accept", "tag", "quarantine",
	    "reject", "tempfail" };
	struct row *row;

	if (r->from[0] == '\0')
		return;			/* outbound, or no usable From */
	if ((row = row_for(t, r->from)) == NULL)
		return;
	row->n[C_MSGS]++;
	row->n[C_PASS] += strcmp(r->dmarc, "pass") == 0;
	row->n[C_FAIL] += strcmp(r->dmarc, "fail") == 0;
	for (size_t i = 0; i < 5; i++)
		row->n[C_ACCEPT + i] += strcmp(r->action, acts[i]) == 0;
	row->n[C_W_QUAR] += strcmp(r->would, "quarantine") == 0;
	row->n[C_W_REJECT] += strcmp(r->would, "reject") == 0;
	row->n[C_W_TEMP] += strcmp(r->would, "tempfail") == 0;
}

static int
read_log(FILE *fp, const char *since, struct table *t)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, fp)) != -1) {
		struct report_rec r;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (report_parse_line(line, &r) != 0)
			continue;
		if (since != NULL && r.date[0] != '\0' &&
		    strncmp(r.date, since, 10) < 0)
			continue;
		count(t, &r);
	}
	free(line);
	return ferror(fp) ? -1 : 0;
}

static int
by_messages(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->n[C_MSGS] != y->n[C_MSGS])
		return x->n[C_MSGS] < y->n[C_MSGS] ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

int
report_main(int argc, char **argv, FILE *out)
{
	struct table t = { NULL, 0, 0 };
	const char *since = NULL;
	int i = 0, rc = 0;

	if (argc >= 2 && strcmp(argv[0], "--since") == 0) {
		since = argv[1];
		if (strlen(since) != 10 || since[4] != '-' || since[7] != '-') {
			fprintf(stderr, "authfilter report: --since wants "
			    "YYYY-MM-DD, not \"%s\"\n", since);
			return 2;
		}
		i = 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: authfilter report [--since YYYY-MM-DD] "
		    "LOGFILE...\n");
		return 2;
	}
	for (; i < argc; i++) {
		FILE *fp = strcmp(argv[i], "-") == 0 ? stdin :
		    fopen(argv[i], "r");
		if (fp == NULL) {
			fprintf(stderr, "authfilter report: %s: cannot open\n",
			    argv[i]);
			rc = 1;
			continue;
		}
		if (read_log(fp, since, &t) != 0) {
			fprintf(stderr, "authfilter report: %s: read error\n",
			    argv[i]);
			rc = 1;
		}
		if (fp != stdin)
			fclose(fp);
	}
	qsort(t.r, t.n, sizeof(t.r[0]), by_messages);
	fprintf(out, "%-32s", "from_domain");
	for (size_t c = 0; c < C_N; c++)
		fprintf(out, " %s", col_names[c]);
	fputc('\n', out);
	for (size_t r = 0; r < t.n; r++) {
		fprintf(out, "%-32s", t.r[r].domain);
		for (size_t c = 0; c < C_N; c++)
			fprintf(out, " %*lu", (int)strlen(col_names[c]),
			    t.r[r].n[c]);
		fputc('\n', out);
	}
	free(t.r);
	return rc;
}
