/*
 * reports_cli.h -- the subcommands of authfilter-reports(8).
 */
#ifndef AUTHFILTER_RUA_REPORTS_CLI_H
#define AUTHFILTER_RUA_REPORTS_CLI_H

/* Each takes the arguments after its name (argv[0] is the subcommand)
 * and the config file (-c, or the default); returns the exit status. */
int	reports_send_main(int argc, char **argv, const char *conf);
int	reports_import_main(int argc, char **argv, const char *conf);

#endif
