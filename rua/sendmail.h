/*
 * sendmail.h -- hand a message to the local MTA's sendmail(1).
 */
#ifndef AUTHFILTER_RUA_SENDMAIL_H
#define AUTHFILTER_RUA_SENDMAIL_H

#include <stddef.h>

/* Run `path -t -i -f from` (no shell) with msg on its standard input;
 * its standard output goes to our standard error.  0 when it exited 0,
 * else -1 with err ("/usr/sbin/sendmail exited 75", "... killed by
 * signal 9", or why it could not run).  After timeout seconds it and
 * its process group are killed: -1.  The caller ignores SIGPIPE. */
int	rua_sendmail(const char *path, const char *from, const char *msg,
	    size_t len, unsigned timeout, char *err, size_t errsz);

#endif
