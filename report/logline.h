/*
 * logline.h -- one per-message log line of authfilter, read back for
 * `authfilter report`.
 */
#ifndef AUTHFILTER_LOGLINE_H
#define AUTHFILTER_LOGLINE_H

/* The fields of one per-message log line that the report counts; "" for
 * a field the line does not have. */
struct report_rec {
	char	date[11];	/* YYYY-MM-DD, or "" (see mon, mday) */
	int	mon, mday;	/* a syslog stamp without a year ("Dec  2"):
				 * 1-12 and 1-31, date ""; else 0 */
	char	from[256];	/* dmarc_from */
	char	dmarc[16];
	char	spf[16];
	char	action[16];
	char	would[16];	/* would_action */
	char	direction[16];
	char	reason[32];
	char	sign_domain[256];
	int	dkim_signed;	/* the line names keys that signed */
};

/* One log line (without its newline) into r: 0 for authfilter's own
 * per-message record, -1 for any other line.  Ours is a line of
 * authfilter's syslog or journal tag ("authfilter[PID]: ", after an
 * optional time stamp and host name), or a line with no prefix at all
 * (journalctl -o cat, authfilter -f), whose text is either key=value
 * pairs starting queue_id=, client=, action=, or one JSON object whose
 * first members are ts, level, queue_id, client, action. */
int	report_parse_line(const char *line, struct report_rec *r);

#endif
