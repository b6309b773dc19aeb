/*
 * report.h -- `authfilter report`: what the policy did and would do, per
 * From domain and per day, read back from the log.
 */
#ifndef AUTHFILTER_REPORT_H
#define AUTHFILTER_REPORT_H

#include <stdio.h>
#include <time.h>

#include "report/logline.h"

/* argv without "report": [-c CONFIG] [--since WHEN] [--html FILE]
 * LOGFILE...; "-" reads standard input.  Prints the tables to out;
 * returns the exit status. */
int	report_main(int argc, char **argv, FILE *out);

/* --since WHEN as a date: YYYY-MM-DD, "today", "yesterday" or "Nd" (the
 * day N days before today: 1d is yesterday).  0 and the date in
 * out, or -1. */
int	report_since(const char *when, const struct tm *today, char out[11]);

/* A record's date when its stamp had no year (mon, mday): the latest
 * such day not after today; r->date is filled in. */
void	report_date_complete(struct report_rec *r, const struct tm *today);

#endif
