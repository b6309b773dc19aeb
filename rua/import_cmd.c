/*
 * NAME
 *	import_cmd -- authfilter-reports import (not yet written)
 */
#include "buildconf.h"

#include <stdio.h>

#include "rua/reports_cli.h"

int
reports_import_main(int argc, char **argv, const char *conf)
{
	(void)argc;
	(void)argv;
	(void)conf;
	fprintf(stderr, "authfilter-reports import: not yet written\n");
	return 1;
}
