/*
 * report.h -- `authfilter report`: what the policy did and would do, per
 * From domain, read back from the log.
 */
#ifndef AUTHFILTER_REPORT_H
#define AUTHFILTER_REPORT_H

#include <stdio.h>

/* The fields of one per-message log line that the report counts. */
struct report_rec {
	char	date[11];	/* YYYY-MM-DD or "" */
	char	from[256];	/* dmarc_from, "" if none */
	char	dmarc[16];
	char	action[16];
	char	would[16];
};

/* One log line (without its newline), JSON or key=value, into r: 0, or
 * -1 for a line that is not a per-message line. */
int	report_parse_line(const char *line, struct report_rec *r);

/* argv without "report": [--since YYYY-MM-DD] LOGFILE...; "-" reads
 * standard input.  Prints the table to out; returns the exit status. */
int	report_main(int argc, char **argv, FILE *out);

#endif
