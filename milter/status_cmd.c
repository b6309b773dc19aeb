/*
 * NAME
 *	status_cmd -- authfilter status: what the running daemon says
 * SYNOPSIS
 *	authfilter status [-c FILE] [--json]
 * DESCRIPTION
 *	Reads metrics_listen from the configuration, asks the daemon for
 *	GET /status there (loopback, as the admin configured it) and prints
 *	it for a person: version and uptime, the configuration file, its
 *	generation and when it was loaded, the last reload and its errors,
 *	the sessions open, the keys with their state and age, and the
 *	counters since start.  --json prints the daemon's JSON as it is.
 * DIAGNOSTICS
 *	Exit 0; 1 when the daemon cannot be reached or metrics_listen is
 *	not set (said on stderr); 2 on bad usage.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/config.h"
#include "lib/netlist.h"
#include "milter/status.h"

#define REPLY_MAX (4 << 20)

/* GET /status from spec; the body, malloc'd, or NULL with err. */
static char *
fetch(const char *spec, char *err, size_t errsz)
{
	static const char req[] = "GET /status HTTP/1.0\r\n"
	    "Host: authfilter\r\n\r\n";
	struct sockaddr_storage ss;
	struct timeval tv = { 5, 0 };
	socklen_t len;
	char *buf = NULL, *body;
	size_t n = 0;
	ssize_t r;
	int fd;

	if (netaddr_parse_hostport(spec, &ss, &len, err, errsz) != 0)
		return NULL;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&ss, len) != 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1) ||
	    (buf = malloc(REPLY_MAX + 1)) == NULL) {
		snprintf(err, errsz, "metrics_listen %s: %s (is authfilter "
		    "running?)", spec, strerror(errno));
		goto fail;
	}
	while (n < REPLY_MAX && (r = read(fd, buf + n, REPLY_MAX - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4) !=
	    0 || (body = strstr(buf, "\r\n\r\n")) == NULL) {
		snprintf(err, errsz, "metrics_listen %s: not authfilter's "
		    "answer: %.60s", spec, buf);
		goto fail;
	}
	close(fd);
	memmove(buf, body + 4, strlen(body + 4) + 1);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static const char *
str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	    json_object_get_string(v) : "";
}

static long long
num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	    (long long)json_object_get_int64(v) : 0;
}

static void
print_status(json_object *o, FILE *fp)
{
	json_object *r, *keys, *c;
	long long up = num(o, "uptime_seconds");

	fprintf(fp, "authfilter %s, pid %lld (signer process %lld), up "
	    "%lldd %lldh %lldm\n", str(o, "version"), num(o, "pid"),
	    num(o, "signer_pid"), up / 86400, up / 3600 % 24, up / 60 % 60);
	fprintf(fp, "configuration: %s, generation %lld, loaded %s\n",
	    str(o, "config_file"), num(o, "config_generation"),
	    str(o, "config_loaded_at"));
	if (json_object_object_get_ex(o, "last_reload", &r)) {
		fprintf(fp, "last reload:   %s at %s\n", str(r, "result"),
		    str(r, "at"));
		for (const char *e = str(r, "errors"); *e != '\0';) {
			size_t l = strcspn(e, "\n");
			fprintf(fp, "  %.*s\n", (int)l, e);
			e += l + (e[l] == '\n');
		}
	} else
		fprintf(fp, "last reload:   none since start\n");
	fprintf(fp, "sessions open: %lld, messages in progress: %lld\n",
	    num(o, "sessions_open"), num(o, "messages_in_progress"));
	if (json_object_object_get_ex(o, "keys", &keys)) {
		size_t n = json_object_array_length(keys);
		fprintf(fp, "keys:%s\n", n == 0 ? " none" : "");
		for (size_t i = 0; i < n; i++) {
			json_object *k = json_object_array_get_idx(keys, i);
			fprintf(fp, "  %-24s %-12s %-14s %5lld %-8s since %.10s "
			    "(%lld days)\n", str(k, "domain"),
			    str(k, "selector"), str(k, "algorithm"),
			    num(k, "bits"), str(k, "state"), str(k, "since"),
			    num(k, "age_days"));
		}
	}
	if (json_object_object_get_ex(o, "counters", &c)) {
		fprintf(fp, "counters since start:\n");
		json_object_object_foreach(c, name, v)
			fprintf(fp, "  %-72s %.0f\n", name,
			    json_object_get_double(v));
	}
}

int
status_main(int argc, char **argv, const char *default_config)
{
	struct config_errors errs = { 0 };
	const char *path = default_config;
	struct config *cfg;
	json_object *o;
	char err[512], *body;
	int as_json = 0, rc = 1;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else {
			fprintf(stderr, "usage: authfilter status [-c FILE] "
			    "[--json]\n");
			return 2;
		}
	}
	/* The file may be what a reload refused: metrics_listen is all
	 * we need of it (the daemon says what is wrong with the rest). */
	cfg = config_load_lenient(path, &errs);
	for (size_t i = 0; cfg == NULL && i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	config_errors_clear(&errs);
	if (cfg == NULL)
		return 1;
	if (*cfg->metrics_listen == '\0') {
		fprintf(stderr, "%s: metrics_listen is not set: authfilter "
		    "status asks the daemon there (e.g. metrics_listen = "
		    "127.0.0.1:9925)\n", path);
		goto out;
	}
	if ((body = fetch(cfg->metrics_listen, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (as_json)
		fputs(body, stdout);
	else if ((o = json_tokener_parse(body)) == NULL)
		fprintf(stderr, "metrics_listen %s: /status is not JSON\n",
		    cfg->metrics_listen);
	else {
		print_status(o, stdout);
		json_object_put(o);
		rc = 0;
	}
	rc = as_json ? 0 : rc;
	free(body);
out:
	config_free(cfg);
	return rc;
}
