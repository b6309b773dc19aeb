/*
 * NAME
 *	html -- `authfilter report --html FILE`: one self-contained page
 * SYNOPSIS
 *	html_write(fp, &tally, &ctx);
 * DESCRIPTION
 *	What an admin looks at before moving a domain from monitor to
 *	enforce: messages per day by DMARC verdict, by action taken beside
 *	the action enforce would take, the same per From domain (most mail
 *	first, HTML_DOMAINS_MAX of them), outbound mail per signing domain,
 *	and the policy overrides in force (read from -c CONFIG).
 *
 *	The page stands alone: inline SVG and CSS, no script, no image,
 *	font or style sheet fetched from anywhere; its Content-Security-
 *	Policy says so to the browser as well.  Every figure of a chart is
 *	also in a table (and in the title of its bar), so the page reads
 *	without the pictures.  Domains come from the network: every string
 *	is escaped.
 * SEE ALSO
 *	report.c, tally.c
 */
#include "buildconf.h"

#include <string.h>

#include "report/html.h"

/* Rows of the per-domain table: the page stays small for a log of
 * 200,000 domains; the rest are summed in one line. */
#define HTML_DOMAINS_MAX 200
/* Chart geometry, in SVG user units. */
#define CHART_H		160	/* plot height */
#define CHART_TOP	10
#define CHART_LEFT	40
#define BAR_W		12
#define DOMAIN_BAR_W	240	/* the per-domain bars, at 100% */

struct series {
	const char	*name;
	const char	*color;
};

/* The actions, taken and would-be, in the same colours. */
static const struct series actions[] = {
	{ "accept", "#4c9a2a" }, { "tag", "#c7b42c" },
	{ "quarantine", "#e08a1e" }, { "reject", "#c0392b" },
	{ "tempfail", "#7f8c8d" },
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))
static const struct series verdicts[] = {
	{ "pass", "#4c9a2a" }, { "fail", "#c0392b" },
	{ "temperror", "#7f8c8d" }, { "other", "#bdc3c7" },
};
#define NVERDICTS (sizeof(verdicts) / sizeof(verdicts[0]))

static void
esc(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default: fputc(*s, fp);
		}
}

/* The actions taken, from a row of enum tally_in. */
static void
taken(const unsigned long *n, unsigned long *v)
{
	for (size_t a = 0; a < NACTIONS; a++)
		v[a] = n[TI_ACCEPT + a];
}

/* The actions enforce would take: what is not tag, quarantine, reject
 * or tempfail is accept. */
static void
would(const unsigned long *n, unsigned long *v)
{
	v[1] = n[TI_W_TAG];
	v[2] = n[TI_W_QUAR];
	v[3] = n[TI_W_REJECT];
	v[4] = n[TI_W_TEMPFAIL];
	v[0] = n[TI_MSGS] - v[1] - v[2] - v[3] - v[4];
}

static void
verdict(const unsigned long *n, unsigned long *v)
{
	v[0] = n[TI_PASS];
	v[1] = n[TI_FAIL];
	v[2] = n[TI_TEMPERROR];
	v[3] = n[TI_MSGS] - v[0] - v[1] - v[2];
}

static void
legend(FILE *fp, const struct series *s, size_t n)
{
	fputs("<p class=\"legend\">", fp);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "<span style=\"background:%s\"></span>%s ",
		    s[i].color, s[i].name);
	fputs("</p>\n", fp);
}

/* One vertical stacked bar at x; label names it in each title. */
static void
vbar(FILE *fp, unsigned x, const char *label, const struct series *s,
    const unsigned long *v, size_t n, unsigned long max)
{
	double y = CHART_TOP + CHART_H;

	for (size_t i = 0; i < n; i++) {
		double h = max ? (double)v[i] * CHART_H / (double)max : 0;
		if (v[i] == 0)
			continue;
		y -= h;
		fprintf(fp, "<rect x=\"%u\" y=\"%.2f\" width=\"%u\" "
		    "height=\"%.2f\" fill=\"%s\"><title>", x, y, BAR_W, h,
		    s[i].color);
		esc(fp, label);
		fprintf(fp, " %s: %lu</title></rect>\n", s[i].name, v[i]);
	}
}

/* Messages per day: by DMARC verdict (one bar a day), or by action
 * (two bars a day: taken, then what enforce would take). */
static void
chart_days(FILE *fp, const struct tally *t, int by_action)
{
	unsigned group = by_action ? 2 * BAR_W + 10 : BAR_W + 6;
	unsigned width = CHART_LEFT + (unsigned)t->ndays * group + 10;
	unsigned long max = 0;

	for (size_t d = 0; d < t->ndays; d++)
		if (t->days[d].in[TI_MSGS] > max)
			max = t->days[d].in[TI_MSGS];
	fprintf(fp, "<svg "
	    "id=\"chart-%s\" width=\"%u\" height=\"%u\" role=\"img\">\n",
	    by_action ? "actions" : "verdicts", width, CHART_H + 50);
	fprintf(fp, "<text x=\"0\" y=\"%u\">%lu</text>\n"
	    "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#555\"/>\n",
	    CHART_TOP + 10, max, CHART_LEFT - 4, CHART_TOP + CHART_H,
	    width, CHART_TOP + CHART_H);
	for (size_t d = 0; d < t->ndays; d++) {
		const struct tally_day *day = &t->days[d];
		unsigned x = CHART_LEFT + (unsigned)d * group;
		unsigned long v[NACTIONS];
		char label[40];

		if (by_action) {
			taken(day->in, v);
			snprintf(label, sizeof(label), "%s taken", day->date);
			vbar(fp, x, label, actions, v, NACTIONS, max);
			would(day->in, v);
			snprintf(label, sizeof(label), "%s would", day->date);
			vbar(fp, x + BAR_W + 1, label, actions, v, NACTIONS,
			    max);
		} else {
			verdict(day->in, v);
			vbar(fp, x, day->date, verdicts, v, NVERDICTS, max);
		}
		fprintf(fp, "<text x=\"%u\" y=\"%u\" font-size=\"9\" "
		    "transform=\"rotate(60 %u %u)\">%s</text>\n", x,
		    CHART_TOP + CHART_H + 10, x, CHART_TOP + CHART_H + 10,
		    day->date + 5);
	}
	fputs("</svg>\n", fp);
}

/* Two horizontal bars for a domain: taken and would-be, at 100% of its
 * messages. */
static void
domain_bars(FILE *fp, const struct tally_row *row)
{
	unsigned long v[NACTIONS];

	fprintf(fp, "<svg width=\"%u\" "
	    "height=\"22\">", DOMAIN_BAR_W);
	for (int w = 0; w < 2; w++) {
		double x = 0;
		if (w)
			would(row->n, v);
		else
			taken(row->n, v);
		for (size_t a = 0; a < NACTIONS; a++) {
			double len = row->n[TI_MSGS] ? (double)v[a] *
			    DOMAIN_BAR_W / (double)row->n[TI_MSGS] : 0;
			if (v[a] == 0)
				continue;
			fprintf(fp, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
			    "height=\"10\" fill=\"%s\"><title>%s %s: %lu"
			    "</title></rect>", x, w * 11, len, actions[a].color,
			    w ? "would" : "taken", actions[a].name, v[a]);
			x += len;
		}
	}
	fputs("</svg>", fp);
}

/* The header row: first, names, then nmore more names. */
static void
table_head(FILE *fp, const char *id, const char *first,
    const char *const *names, size_t n, const char *const *more,
    size_t nmore)
{
	fprintf(fp, "<table id=\"%s\">\n<tr><th>%s</th>", id, first);
	for (size_t c = 0; c < n; c++)
		fprintf(fp, "<th>%s</th>", names[c]);
	for (size_t c = 0; c < nmore; c++)
		fprintf(fp, "<th>%s</th>", more[c]);
	fputs("</tr>\n", fp);
}

static void
table_row(FILE *fp, const char *key, const unsigned long *v, size_t n)
{
	fputs("<tr><td>", fp);
	esc(fp, key);
	fputs("</td>", fp);
	for (size_t c = 0; c < n; c++)
		fprintf(fp, "<td>%lu</td>", v[c]);
}

static void
section_days(FILE *fp, const struct tally *t)
{
	static const char *const out_names[] = { "outbound", "signed" };

	fputs("<h2>Messages per day</h2>\n<h3>Inbound, by DMARC verdict</h3>\n",
	    fp);
	legend(fp, verdicts, NVERDICTS);
	chart_days(fp, t, 0);
	fputs("<h3>Inbound, by action: taken (left) and what enforce would "
	    "take (right)</h3>\n", fp);
	legend(fp, actions, NACTIONS);
	chart_days(fp, t, 1);
	table_head(fp, "days", "date", tally_in_names, TI_N, out_names, 2);
	for (size_t d = 0; d < t->ndays; d++) {
		table_row(fp, t->days[d].date, t->days[d].in, TI_N);
		fprintf(fp, "<td>%lu</td><td>%lu</td></tr>\n",
		    t->days[d].out[TO_MSGS], t->days[d].out[TO_SIGNED]);
	}
	fputs("</table>\n", fp);
	if (t->undated > 0)
		fprintf(fp, "<p id=\"undated\">%lu record(s) without a date "
		    "are in the totals and the domains, not in the days.</p>\n",
		    t->undated);
}

static void
section_domains(FILE *fp, const struct tally *t)
{
	static const char *const bars[] = { "taken / would" };
	unsigned long rest = 0;
	size_t shown = t->in.nrows < HTML_DOMAINS_MAX ? t->in.nrows :
	    HTML_DOMAINS_MAX;

	fputs("<h2>Inbound, per From domain</h2>\n", fp);
	legend(fp, actions, NACTIONS);
	table_head(fp, "domains", "from_domain", tally_in_names, TI_N,
	    bars, 1);
	for (size_t r = 0; r < shown; r++) {
		table_row(fp, t->in.rows[r].key, t->in.rows[r].n, TI_N);
		fputs("<td>", fp);
		domain_bars(fp, &t->in.rows[r]);
		fputs("</td></tr>\n", fp);
	}
	fputs("</table>\n", fp);
	for (size_t r = shown; r < t->in.nrows; r++)
		rest += t->in.rows[r].n[TI_MSGS];
	if (shown < t->in.nrows)
		fprintf(fp, "<p id=\"domains-rest\">%zu more domain(s), %lu "
		    "message(s), not shown (the text report has them all).</p>\n",
		    t->in.nrows - shown, rest);
}

static void
section_outbound(FILE *fp, const struct tally *t)
{
	fputs("<h2>Outbound, per signing domain</h2>\n", fp);
	table_head(fp, "outbound", "sign_domain", tally_out_names, TO_N, NULL,
	    0);
	for (size_t r = 0; r < t->out.nrows && r < HTML_DOMAINS_MAX; r++) {
		table_row(fp, t->out.rows[r].key, t->out.rows[r].n, TO_N);
		fputs("</tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

static void
section_overrides(FILE *fp, const struct html_context *ctx)
{
	size_t n = overrides_count(ctx->overrides), shown = 0;

	fputs("<h2>Policy overrides in force</h2>\n", fp);
	if (ctx->config == NULL) {
		fputs("<p id=\"overrides-none\">No configuration given "
		    "(authfilter report -c FILE): overrides not shown.</p>\n",
		    fp);
		return;
	}
	fputs("<table id=\"overrides\">\n<tr><th>domain</th><th>override"
	    "</th><th>until</th><th>reason</th><th>line</th></tr>\n", fp);
	for (size_t i = 0; i < n; i++) {
		const struct override *o = overrides_at(ctx->overrides, i);
		if (o->until != 0 && ctx->now >= o->until)
			continue;		/* expired */
		fputs("<tr><td>", fp);
		esc(fp, o->domain);
		fprintf(fp, "</td><td>%s</td><td>%s</td><td>",
		    override_kind_name(o->kind), o->date[0] ? o->date : "-");
		esc(fp, o->reason);
		fprintf(fp, "</td><td>%u</td></tr>\n", o->line);
		shown++;
	}
	fputs("</table>\n", fp);
	fprintf(fp, "<p>%zu override(s) in force, %zu expired.</p>\n", shown,
	    n - shown);
}

static void
section_totals(FILE *fp, const struct tally *t)
{
	unsigned long sum[TI_N];

	fputs("<h2>Totals</h2>\n", fp);
	table_head(fp, "totals-in", "inbound", tally_in_names, TI_N, NULL, 0);
	tally_sum(&t->in, sum, TI_N);
	table_row(fp, TALLY_TOTAL, sum, TI_N);
	fputs("</tr>\n</table>\n", fp);
	table_head(fp, "totals-out", "outbound", tally_out_names, TO_N, NULL,
	    0);
	tally_sum(&t->out, sum, TO_N);
	table_row(fp, TALLY_TOTAL, sum, TO_N);
	fputs("</tr>\n</table>\n", fp);
}

int
html_write(FILE *fp, const struct tally *t, const struct html_context *ctx)
{
	char when[32];
	struct tm tm;

	gmtime_r(&ctx->now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "\n<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<title>authfilter report</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:1em 2em}\n"
	    "table{border-collapse:collapse;margin:.5em 0}\n"
	    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}\n"
	    "td:first-child,th:first-child{text-align:left}\n"
	    ".legend span{display:inline-block;width:1em;height:1em;"
	    "margin:0 .3em 0 1em;vertical-align:middle}\n"
	    "</style></head><body>\n<h1>authfilter report</h1>\n", fp);
	fprintf(fp, "<p id=\"about\">Made %s", when);
	if (ctx->since != NULL)
		fprintf(fp, "; records since %s", ctx->since);
	if (ctx->config != NULL) {
		fputs("; configuration ", fp);
		esc(fp, ctx->config);
	}
	if (ctx->policy_mode != NULL)
		fprintf(fp, ", policy_mode = %s", ctx->policy_mode);
	fputs(".</p>\n", fp);
	section_totals(fp, t);
	section_days(fp, t);
	section_domains(fp, t);
	section_outbound(fp, t);
	section_overrides(fp, ctx);
	fputs("</body></html>\n", fp);
	return ferror(fp) ? -1 : 0;
}
