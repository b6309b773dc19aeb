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
/* Why this process cannot create `file` (a socket or pid file): its
 * directory is missing, not a directory, read-only or not writable by
 * us.  0 when it can, else -1 with the reason in why ("directory /x does
 * not exist"). */
int	listen_dir_problem(const char *file, char *why, size_t whysz);
/* 1 when spec is an inet or inet6 socket. */
int	listen_is_inet(const char *spec);

#endif
