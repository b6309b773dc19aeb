/*
 * server.h -- the milter sessions: workers that accept, read, answer.
 */
#ifndef AUTHFILTER_SERVER_H
#define AUTHFILTER_SERVER_H

#include <stddef.h>

struct milter_hooks;

struct server_limits {
	size_t		 max_sessions;	/* connections served at once */
	unsigned	 timeout;	/* seconds: idle, and per command */
	size_t		 max_command;	/* bytes of one command's data */
};

/* Serve connections accepted on lfd (a listening socket; inet: TCP
 * options per connection) with `hooks`, from threads of our own.  The
 * signals the daemon handles must be blocked before.  0, or -1 with
 * err. */
int	server_start(int lfd, int inet, const struct milter_hooks *hooks,
	    const struct server_limits *, char *err, size_t errsz);
/* New limits (after a reload), for connections accepted from now on. */
void	server_set_limits(const struct server_limits *);
/* Connections open now. */
size_t	server_sessions(void);

#endif
