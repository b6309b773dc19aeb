/*
 * NAME
 *	config_values -- the checks of single setting values
 * DESCRIPTION
 *	What config.c's table of settings calls for each kind of value:
 *	durations and sizes with their units, milter sockets, the
 *	authserv-id, resolver addresses, host names and word lists, and
 *	the list of problems a file has (config_errors).  Each check fills
 *	err with what is wrong, for the "FILE:LINE: name: ..." message.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/config_values.h"

void
config_errors_add(struct config_errors *errs, const char *fmt, ...)
{
	char buf[1024], **grown;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	grown = realloc(errs->msg, (errs->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return;
	errs->msg = grown;
	if ((errs->msg[errs->n] = strdup(buf)) != NULL)
		errs->n++;
}

void
config_errors_clear(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = 0;
}

int
config_parse_duration(const char *s, unsigned *out)
{
	char *end;
	unsigned long v, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (v > 0xffffffffUL / mult)
		return -1;
	*out = (unsigned)(v * mult);
	return 0;
}

int
config_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		switch (tolower((unsigned char)*end)) {
		case 'k': mult = 1024; break;
		case 'm': mult = 1024 * 1024; break;
		case 'g': mult = 1024 * 1024 * 1024; break;
		default: return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (v > (unsigned long long)SIZE_MAX / mult)
		return -1;
	*out = (size_t)(v * mult);
	return 0;
}

static int
valid_port(const char *s)
{
	char *end;
	long p;

	if (!isdigit((unsigned char)*s))
		return 0;
	p = strtol(s, &end, 10);
	return *end == '\0' && p >= 1 && p <= 65535;
}

/* inet:PORT@HOST, inet6:PORT@HOST, unix:/path (local:/path). */
int
check_socket(const char *v, char *err, size_t errsz)
{
	const char *rest, *at;
	char port[8];

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		rest = strchr(v, ':') + 1;
		if (rest[0] != '/') {
			snprintf(err, errsz, "\"%s\": the socket path must be "
			    "absolute", v);
			return -1;
		}
		return 0;
	}
	if (strncmp(v, "inet:", 5) == 0)
		rest = v + 5;
	else if (strncmp(v, "inet6:", 6) == 0)
		rest = v + 6;
	else {
		snprintf(err, errsz, "\"%s\": expected inet:PORT@HOST, "
		    "inet6:PORT@HOST or unix:/PATH", v);
		return -1;
	}
	at = strchr(rest, '@');
	if (at == NULL || at[1] == '\0') {
		/* libmilter would listen on every interface: refuse. */
		snprintf(err, errsz, "\"%s\": name the address to listen on, "
		    "e.g. inet:8891@127.0.0.1", v);
		return -1;
	}
	if ((size_t)(at - rest) >= sizeof(port)) {
		snprintf(err, errsz, "\"%s\": bad port", v);
		return -1;
	}
	memcpy(port, rest, (size_t)(at - rest));
	port[at - rest] = '\0';
	if (!valid_port(port)) {
		snprintf(err, errsz, "\"%s\": port must be 1..65535", v);
		return -1;
	}
	return 0;
}

/* RFC 8601 authserv-id is a "value": we accept the token characters a
 * host name uses, so it can be matched and written without quoting. */
int
check_authserv(const char *v, char *err, size_t errsz)
{
	for (const char *p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_", *p) == NULL) {
			snprintf(err, errsz, "\"%s\": use a host name "
			    "(letters, digits, '.', '-', '_')", v);
			return -1;
		}
	return 0;
}

/* ADDR or ADDR@PORT, ADDR an IPv4 or IPv6 literal. */
int
check_resolver(const char *v, char *err, size_t errsz)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char buf[16];
	const char *at = strchr(v, '@');
	size_t alen = at != NULL ? (size_t)(at - v) : strlen(v);

	if (*v == '\0')
		return 0;
	if (alen >= sizeof(addr))
		goto bad;
	memcpy(addr, v, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, buf) != 1 &&
	    inet_pton(AF_INET6, addr, buf) != 1)
		goto bad;
	if (at != NULL && !valid_port(at + 1))
		goto bad;
	return 0;
bad:
	snprintf(err, errsz, "\"%s\": expected an IP address, optionally "
	    "@PORT (e.g. 127.0.0.1@5353), or empty for the system resolver",
	    v);
	return -1;
}

char **
split_words(const char *v, size_t *n)
{
	char *copy, *tok, *save = NULL, **list = NULL, **grown;

	*n = 0;
	if ((copy = strdup(v)) == NULL)
		return NULL;
	for (tok = strtok_r(copy, ", \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t\r\n", &save)) {
		if ((grown = realloc(list, (*n + 1) * sizeof(*list))) == NULL)
			break;
		list = grown;
		if ((list[*n] = strdup(tok)) == NULL)
			break;
		(*n)++;
	}
	free(copy);
	return list;
}

void
free_words(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Every word an IPv4 or IPv6 address: 0, or -1 with err. */
int
check_addresses(char **w, size_t n, char *err, size_t errsz)
{
	unsigned char buf[16];

	for (size_t i = 0; i < n; i++)
		if (inet_pton(AF_INET, w[i], buf) != 1 &&
		    inet_pton(AF_INET6, w[i], buf) != 1) {
			snprintf(err, errsz, "\"%.100s\" is not an IPv4 or IPv6 "
			    "address", w[i]);
			return -1;
		}
	return 0;
}

/* A host name (RFC 1123 2.1: letters, digits, hyphens, dots), or "". */
int
check_hostname(const char *v, char *err, size_t errsz)
{
	size_t len = strlen(v);

	if (len > 253 || strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != len ||
	    v[0] == '.' || v[0] == '-' || strstr(v, "..") != NULL) {
		snprintf(err, errsz, "\"%.100s\" is not a host name", v);
		return -1;
	}
	return 0;
}


/* report_db: "" (none kept), an absolute path (SQLite), or a libpq URL
 * (postgresql:// or postgres://, RFC 3986 as libpq reads it). */
int
check_db(const char *v, char *err, size_t errsz)
{
	if (*v == '\0' || v[0] == '/' ||
	    strncmp(v, "postgresql://", 13) == 0 ||
	    strncmp(v, "postgres://", 11) == 0)
		return check_text(v, err, errsz);
	snprintf(err, errsz, "\"%.100s\": expected an absolute path (SQLite) "
	    "or a postgresql:// URL", v);
	return -1;
}

/* Text that goes into a report or a header: printable ASCII, at most
 * 200 characters. */
int
check_text(const char *v, char *err, size_t errsz)
{
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] > 0x7e) {
			snprintf(err, errsz, "character %zu is not printable "
			    "ASCII", i + 1);
			return -1;
		}
	if (len > 200) {
		snprintf(err, errsz, "longer than 200 characters");
		return -1;
	}
	return 0;
}

/* An address local@domain (no display name, no angle brackets), or "". */
int
check_email(const char *v, char *err, size_t errsz)
{
	const char *at = strrchr(v, '@');

	if (*v == '\0')
		return 0;
	if (check_text(v, err, errsz) != 0)
		return -1;
	if (at == NULL || at == v || strpbrk(v, " <>\"(),;:") != NULL ||
	    check_hostname(at + 1, err, errsz) != 0 || at[1] == '\0') {
		snprintf(err, errsz, "\"%.100s\" is not an address such as "
		    "dmarc-reports@example.org", v);
		return -1;
	}
	return 0;
}
