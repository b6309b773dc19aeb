/*
 * report.h -- `authfilter report`: what the policy did and would do, per
 * From domain, read back from the log.
 */
#ifndef AUTHFILTER_REPORT_H
#define AUTHFILTER_REPORT_H

#include <stdio.h>

/* argv without "report": [--since YYYY-MM-DD] LOGFILE...; "-" reads
 * standard input.  Prints the table to out; returns the exit status. */
int	report_main(int argc, char **argv, FILE *out);

#endif
