/*
 * NAME
 *	metrics_http -- the metrics_listen endpoint: /metrics and /status
 * SYNOPSIS
 *	fd = metrics_http_bind("127.0.0.1:9925", err, sizeof(err));	as root
 *	metrics_http_start(fd, err, sizeof(err));	after the signal mask
 *	metrics_http_stop();
 * DESCRIPTION
 *	HTTP by libmicrohttpd, in its own thread: a scrape never runs on a
 *	milter thread, and takes the metrics lock only to copy the counters.
 *	GET /metrics gives the Prometheus text format (counters from
 *	lib/metrics.c, then the gauges of status.c); GET /status the JSON
 *	that `authfilter status` prints.  Anything else: 404 or 405.  The
 *	socket is bound before the daemon drops privileges, so a port
 *	under 1024 works too; at most 16 connections, 10 s each.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/netlist.h"
#include "milter/metrics_http.h"
#include "milter/status.h"

static struct MHD_Daemon *mhd;

int
metrics_http_bind(const char *spec, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (netaddr_parse_hostport(spec, &ss, &len, err, errsz) != 0)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, 16) != 0) {
		snprintf(err, errsz, "metrics_listen %s: %s", spec,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned code, const char *type, char *body,
    size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
text(struct MHD_Connection *c, unsigned code, const char *msg)
{
	char *b = strdup(msg);

	return b != NULL ? reply(c, code, "text/plain; charset=utf-8", b,
	    strlen(b)) : MHD_NO;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	char *body = NULL;
	size_t len = 0;
	FILE *fp;

	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	if (strcmp(url, "/metrics") == 0) {
		if ((fp = open_memstream(&body, &len)) == NULL)
			return MHD_NO;
		metrics_write(fp);
		status_gauges(fp);
		if (fclose(fp) != 0)
			return MHD_NO;
		return reply(c, MHD_HTTP_OK,
		    "text/plain; version=0.0.4; charset=utf-8", body, len);
	}
	if (strcmp(url, "/status") == 0) {
		if ((body = status_json()) == NULL)
			return MHD_NO;
		return reply(c, MHD_HTTP_OK, "application/json", body,
		    strlen(body));
	}
	if (strcmp(url, "/") == 0)
		return text(c, MHD_HTTP_OK, "authfilter: /metrics (Prometheus), "
		    "/status (JSON)\n");
	return text(c, MHD_HTTP_NOT_FOUND, "not found: /metrics or /status\n");
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_msg(LOG_WARNING, "metrics_listen: %s", line);
}

int
metrics_http_start(int fd, char *err, size_t errsz)
{
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, NULL,
	    /* First: libmicrohttpd warns about a logger set later. */
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, 16u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10u,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		snprintf(err, errsz, "metrics_listen: libmicrohttpd could not "
		    "start");
		return -1;
	}
	return 0;
}

void
metrics_http_stop(void)
{
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	mhd = NULL;
}
