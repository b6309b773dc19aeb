/*
 * milter_nodelay.h -- TCP options on libmilter's inet sockets (the
 * interposed listen, accept, read and close are in milter_nodelay.c).
 */
#ifndef AUTHFILTER_MILTER_NODELAY_H
#define AUTHFILTER_MILTER_NODELAY_H

/* Whether fd was accepted on an inet listening socket, so every read
 * re-arms TCP_QUICKACK on it. */
int	milter_fd_quickack(int fd);

#endif
