/*
 * NAME
 *	config_file -- the configuration and the files its settings name,
 *	read safely
 * SYNOPSIS
 *	cfg = config_load(path, &errs);
 *	buf = config_read_file(cfg->policy_overrides, max, "an overrides file",
 *	    &errs);
 *	config_check_file(cfg, "dns_trust_anchor", path, max, &errs);
 * DESCRIPTION
 *	Every file is opened through lib/safefile.c: no FIFO blocks a read,
 *	no directory reads as an empty file, sizes are bounded.  Problems
 *	with a setting's file name the setting's FILE:LINE (config_where()).
 *	The parser itself (config.c) works on a buffer.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/safefile.h"

/* A config file larger than this is certainly a mistake (a key, a log). */
#define CONFIG_MAX_BYTES (1024 * 1024)

static struct config *
load(const char *path, struct config_errors *errs, int lenient)
{
	FILE *fp;
	char *buf, err[128];
	size_t len;
	struct config *cfg;
	/* Any size here: the limit is reported below with its line. */
	int fd = safefile_open(path, (off_t)1 << 40, 0, err, sizeof(err));

	if (fd < 0 || (fp = fdopen(fd, "r")) == NULL) {
		config_errors_add(errs, "%s: cannot open: %s", path,
		    fd < 0 ? err : strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if ((buf = malloc(CONFIG_MAX_BYTES + 1)) == NULL) {
		fclose(fp);
		config_errors_add(errs, "%s: out of memory", path);
		return NULL;
	}
	len = fread(buf, 1, CONFIG_MAX_BYTES + 1, fp);
	if (ferror(fp)) {
		config_errors_add(errs, "%s: read error: %s", path, strerror(errno));
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	if (len > CONFIG_MAX_BYTES) {
		config_errors_add(errs, "%s:%u: larger than %d bytes; not a config "
		    "file", path, config_line_of(buf, buf + CONFIG_MAX_BYTES),
		    CONFIG_MAX_BYTES);
		free(buf);
		return NULL;
	}
	cfg = lenient ? config_parse_lenient(path, buf, len, errs) :
	    config_parse(path, buf, len, errs);
	free(buf);
	return cfg;
}

struct config *
config_load(const char *path, struct config_errors *errs)
{
	return load(path, errs, 0);
}

struct config *
config_load_lenient(const char *path, struct config_errors *errs)
{
	return load(path, errs, 1);
}

char *
config_read_file(const char *path, size_t max, const char *what,
    struct config_errors *errs)
{
	char err[128];
	int fd = safefile_open(path, (off_t)max, 0, err, sizeof(err));
	FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *buf;
	size_t len;

	if (fp == NULL) {
		config_errors_add(errs, "%s: cannot open: %s", path,
		    fd < 0 ? err : strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(max + 1);
	len = buf != NULL ? fread(buf, 1, max + 1, fp) : 0;
	fclose(fp);
	if (buf == NULL || len > max || memchr(buf, '\0', len) != NULL) {
		config_errors_add(errs, "%s: not %s (too large or binary)",
		    path, what);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

const char *
config_where(const struct config *cfg, const char *name, char *buf,
    size_t bufsz)
{
	unsigned line = config_setting_line(cfg, name);

	if (line > 0)
		snprintf(buf, bufsz, "%s:%u", cfg->source, line);
	else
		snprintf(buf, bufsz, "%s", cfg->source);
	return buf;
}

int
config_check_file(const struct config *cfg, const char *name,
    const char *path, off_t max, struct config_errors *errs)
{
	char err[128], where[300];

	if (safefile_check(path, max, err, sizeof(err)) == 0)
		return 0;
	config_errors_add(errs, "%s: %s%s %s: %s", config_where(cfg, name,
	    where, sizeof(where)), name, config_setting_line(cfg, name) > 0 ?
	    "" : " (default)", path, err);
	return -1;
}
