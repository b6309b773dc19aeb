/*
 * daemon.h -- process set-up: socket file, privileges, pid file.
 */
#ifndef AUTHFILTER_DAEMON_H
#define AUTHFILTER_DAEMON_H

#include <stddef.h>

/* For unix:/local: sockets: refuse a path in use by a live listener or
 * that is not a socket; *stale is set when an old socket file may be
 * removed.  Other socket kinds: nothing to do. */
int	daemon_check_socket(const char *conn, int *stale, char *err,
	    size_t errsz);
/* Give a unix socket its mode and owner (the daemon's user). */
int	daemon_socket_perms(const char *conn, unsigned mode, const char *user,
	    char *err, size_t errsz);
/* At exit: remove our unix socket file (best effort). */
void	daemon_remove_socket(const char *conn);
/* Refuse root without `user`; switch to `user` when root. */
int	daemon_drop_privileges(const char *user, char *err, size_t errsz);
/* Go to the background: returns in a new process (the grandchild, not a
 * session leader) while the calling one waits for daemon_ready() and
 * exits 0, or exits 1 when the daemon exits first.  Call before any
 * thread or child exists: they do not follow. */
int	daemon_background(char *err, size_t errsz);
/* Up and listening: chdir /, stdio to /dev/null, release the starting
 * process.  Nothing outside the background. */
void	daemon_ready(void);
int	daemon_write_pidfile(const char *path, char *err, size_t errsz);
/* Raise the soft limit of open files to what max_sessions needs, up to
 * the hard limit.  Returns how many sessions may be open at once: fewer
 * than max_sessions (logged) when the limit leaves no reserve for DNS. */
size_t	daemon_session_cap(size_t max_sessions);

#endif
