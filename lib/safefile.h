/*
 * safefile.h -- open a file named by a setting without blocking on it.
 */
#ifndef AUTHFILTER_SAFEFILE_H
#define AUTHFILTER_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Open path for reading, without blocking (a FIFO) and, with nofollow,
 * without following a symbolic link; then check it is a regular file
 * of at most max bytes.  The descriptor (blocking again), or -1 with
 * err saying what it is instead ("a directory", "a FIFO", ...). */
int	safefile_open(const char *path, off_t max, int nofollow, char *err,
	    size_t errsz);
/* The same check for a file a library will read by its name: 0, or -1
 * with err. */
int	safefile_check(const char *path, off_t max, char *err, size_t errsz);

#endif
