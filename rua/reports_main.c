/*
 * NAME
 *	authfilter-reports -- DMARC aggregate reports out and in
 * SYNOPSIS
 *	authfilter-reports [-c FILE] send [--dry-run DIR] [--domain D] ...
 *	authfilter-reports [-c FILE] import [FILE | MAILDIR | -] ...
 * DESCRIPTION
 *	send makes the RFC 9990 aggregate reports of the daemon's DMARC
 *	evaluations (report_db) and mails them through the local MTA;
 *	import reads the reports receivers sent about our domains into the
 *	same store, for `authfilter report --outbound`.  See
 *	authfilter-reports(8).
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on an error (said on stderr), 2 on a usage
 *	error.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "rua/reports_cli.h"

static int
usage(void)
{
	fprintf(stderr, "usage: authfilter-reports [-c FILE] send "
	    "[--dry-run DIR] [--domain DOMAIN] [--period BEGIN,END]\n"
	    "       authfilter-reports [-c FILE] import "
	    "[FILE | MAILDIR | -] ...\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *conf = AF_CONFDIR "/authfilter.conf";
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		conf = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	if (strcmp(argv[i], "send") == 0)
		return reports_send_main(argc - i, argv + i, conf);
	if (strcmp(argv[i], "import") == 0)
		return reports_import_main(argc - i, argv + i, conf);
	return usage();
}
