/*
 * milter_sock.h -- what we do to libmilter's sockets (the interposed
 * listen, accept, read, poll, writev and close are in milter_sock.c).
 */
#ifndef AUTHFILTER_MILTER_SOCK_H
#define AUTHFILTER_MILTER_SOCK_H

#include <stddef.h>

/* Whether fd was accepted on an inet milter socket, so every read
 * re-arms TCP_QUICKACK on it. */
int	milter_fd_quickack(int fd);

/* Bytes of a milter connection read ahead and not yet handed out. */
size_t	milter_fd_unread(int fd);

/* Bytes of replies held back on fd, to go out with the next one. */
size_t	milter_fd_replies_held(int fd);

#endif
