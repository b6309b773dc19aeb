/*
 * listen.h -- open the milter socket named by milter_socket.
 */
#ifndef AUTHFILTER_LISTEN_H
#define AUTHFILTER_LISTEN_H

#include <stddef.h>

/* inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH.  A unix
 * socket file is removed first when `stale` (daemon_check_socket() found
 * nobody listening).  Returns the listening fd, or -1 with err. */
int	listen_open(const char *spec, int stale, char *err, size_t errsz);
/* 1 when spec is an inet or inet6 socket. */
int	listen_is_inet(const char *spec);

#endif
