/*
 * NAME
 *	send_cmd -- authfilter-reports send (not yet written)
 */
#include "buildconf.h"

#include <stdio.h>

#include "rua/reports_cli.h"

int
reports_send_main(int argc, char **argv, const char *conf)
{
	(void)argc;
	(void)argv;
	(void)conf;
	fprintf(stderr, "authfilter-reports send: not yet written\n");
	return 1;
}
