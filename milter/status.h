/*
 * status.h -- what the daemon says about itself (/status, the gauges).
 */
#ifndef AUTHFILTER_STATUS_H
#define AUTHFILTER_STATUS_H

#include <stdio.h>

#include "lib/config.h"

void	 status_started(const char *config_path);
/* After a SIGHUP reload: ok, or the problems that kept the old state. */
void	 status_reloaded(int ok, const struct config_errors *errs);
/* The gauges of /metrics (sessions, configuration, keys). */
void	 status_gauges(FILE *);
/* /status: a JSON object, malloc'd. */
char	*status_json(void);

/* `authfilter status [-c FILE] [--json]` (status_cmd.c). */
int	 status_main(int argc, char **argv, const char *default_config);

#endif
