/*
 * NAME
 *	listen -- open the milter socket
 * SYNOPSIS
 *	fd = listen_open("inet:8891@127.0.0.1", 0, err, sizeof(err));
 * DESCRIPTION
 *	The forms of milter_socket are libmilter's, which MTAs and admins
 *	know: inet:PORT@HOST and inet6:PORT@HOST (HOST an address or a
 *	name; config.c refuses a missing HOST, which would mean every
 *	interface), unix:/PATH and its synonym local:/PATH.
 *
 *	An inet socket gets TCP_NODELAY: a milter conversation is small
 *	packets, and without it every reply meets Nagle's algorithm here
 *	and a delayed ACK at the MTA (~40 ms each).  server.c sets it again
 *	on every connection, with TCP_QUICKACK for the other direction.
 *
 *	The backlog is the kernel's largest (SOMAXCONN): when every worker
 *	is busy (max_sessions) connections wait there, not refused.
 * DIAGNOSTICS
 *	err says what failed with which address ("bind 127.0.0.1 port
 *	8891: Address already in use"); for a unix socket, what is wrong
 *	with its directory ("directory /x does not exist", "is not writable
 *	by authfilter (owner root, mode 0755)").
 */
#include "buildconf.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter/listen.h"

int
listen_is_inet(const char *spec)
{
	return strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0;
}

static const char *
user_name(uid_t uid, char *buf, size_t bufsz)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, bufsz, "%s", pw->pw_name);
	else
		snprintf(buf, bufsz, "uid %lu", (unsigned long)uid);
	return buf;
}

int
listen_dir_problem(const char *file, char *why, size_t whysz)
{
	char dir[4096], me[64], owner[64];
	const char *slash = strrchr(file, '/');
	struct stat st;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			snprintf(why, whysz, "directory %s does not exist",
			    dir);
		else
			snprintf(why, whysz, "directory %s: %s", dir,
			    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysz, "%s is not a directory", dir);
		return -1;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0)
		return 0;
	if (errno == EROFS)
		snprintf(why, whysz, "directory %s is on a read-only file "
		    "system (under systemd: ReadWritePaths=)", dir);
	else
		snprintf(why, whysz, "directory %s is not writable by %s "
		    "(owner %s, mode %04o)", dir, user_name(geteuid(), me,
		    sizeof(me)), user_name(st.st_uid, owner, sizeof(owner)),
		    (unsigned)(st.st_mode & 07777));
	return -1;
}

static int
open_unix(const char *path, int stale, char *err, size_t errsz)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsz, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (stale && unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errsz, "cannot remove stale socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		char why[512];
		int e = errno;

		if ((e != ENOENT && e != EACCES && e != EROFS &&
		    e != ENOTDIR) || listen_dir_problem(path, why,
		    sizeof(why)) == 0)
			snprintf(why, sizeof(why), "%s", strerror(e));
		snprintf(err, errsz, "cannot listen on unix:%s: %s", path, why);
		close(fd);
		return -1;
	}
	return fd;
}

static int
open_inet(const char *rest, int family, char *err, size_t errsz)
{
	struct addrinfo hints, *res = NULL;
	const char *at = strchr(rest, '@');
	char port[8], host[256];
	int fd, one = 1, rc;

	if (at == NULL || (size_t)(at - rest) >= sizeof(port) ||
	    strlen(at + 1) >= sizeof(host)) {
		snprintf(err, errsz, "%s: expected PORT@HOST", rest);
		return -1;
	}
	memcpy(port, rest, (size_t)(at - rest));
	port[at - rest] = '\0';
	snprintf(host, sizeof(host), "%s", at + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsz, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errsz, "cannot listen on %s port %s: %s", host,
		    port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
listen_open(const char *spec, int stale, char *err, size_t errsz)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(spec + 5, stale, err, errsz);
	if (strncmp(spec, "local:", 6) == 0)
		return open_unix(spec + 6, stale, err, errsz);
	if (strncmp(spec, "inet:", 5) == 0)
		return open_inet(spec + 5, AF_INET, err, errsz);
	if (strncmp(spec, "inet6:", 6) == 0)
		return open_inet(spec + 6, AF_INET6, err, errsz);
	snprintf(err, errsz, "\"%s\": expected inet:PORT@HOST, inet6:PORT@HOST "
	    "or unix:/PATH", spec);
	return -1;
}
