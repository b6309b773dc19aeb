/*
 * notify.h -- tell the service manager what the daemon is doing.
 */
#ifndef AUTHFILTER_NOTIFY_H
#define AUTHFILTER_NOTIFY_H

#include <stddef.h>

/* Listening and serving with config generation `gen`. */
void	notify_ready(size_t sessions, unsigned long gen);
/* A SIGHUP reload starts; notify_ready() ends it, whatever its outcome. */
void	notify_reloading(void);
/* What "systemctl status" shows between the events above. */
void	notify_status(size_t sessions, unsigned long gen);
void	notify_stopping(unsigned messages);
/* "libsystemd 252 (sd_notify)", or that it is not built in. */
const char *notify_library(void);

#endif
