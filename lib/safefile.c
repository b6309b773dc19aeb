/*
 * NAME
 *	safefile -- open a file named by a setting without blocking on it
 * SYNOPSIS
 *	fd = safefile_open(path, max, 0, err, sizeof(err));
 *	if (safefile_check(cfg->dns_trust_anchor, max, err, sizeof(err)) ...
 * DESCRIPTION
 *	A FIFO named where a file belongs blocks whoever opens it for
 *	reading until a writer comes: authfilter -t, or a SIGHUP reload,
 *	would hang.  A directory opens and reads as an empty file in some
 *	readers and makes libunbound's spin in others.  So every file a
 *	setting names is opened with O_NONBLOCK (and O_NOFOLLOW where links
 *	are refused), checked with fstat() to be a regular file within its
 *	size limit, and only then read, or handed to the library that reads
 *	it by name.
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/safefile.h"

static const char *
kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

int
safefile_open(const char *path, off_t max, int nofollow, char *err,
    size_t errsz)
{
	struct stat sb;
	int fd, flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;

	if (nofollow)
		flags |= O_NOFOLLOW;
	if ((fd = open(path, flags)) < 0) {
		snprintf(err, errsz, "%s", errno == ELOOP && nofollow ?
		    "a symbolic link (not followed)" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0) {
		snprintf(err, errsz, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "%s, not a file", kind(sb.st_mode));
		close(fd);
		return -1;
	}
	if (sb.st_size > max) {
		snprintf(err, errsz, "larger than %lld bytes", (long long)max);
		close(fd);
		return -1;
	}
	(void)fcntl(fd, F_SETFL, 0);		/* blocking reads again */
	return fd;
}

int
safefile_check(const char *path, off_t max, char *err, size_t errsz)
{
	int fd = safefile_open(path, max, 0, err, errsz);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}
