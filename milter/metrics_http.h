/*
 * metrics_http.h -- the metrics_listen endpoint (/metrics, /status).
 */
#ifndef AUTHFILTER_METRICS_HTTP_H
#define AUTHFILTER_METRICS_HTTP_H

#include <stddef.h>

/* Bind and listen on "ADDRESS:PORT": the descriptor, or -1 with err. */
int	metrics_http_bind(const char *spec, char *err, size_t errsz);
/* Serve it in a thread of libmicrohttpd's: 0, or -1 with err. */
int	metrics_http_start(int fd, char *err, size_t errsz);
void	metrics_http_stop(void);

#endif
