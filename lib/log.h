/*
 * log.h -- the one logging path of authfilter (syslog, stderr, text or JSON).
 */
#ifndef AUTHFILTER_LOG_H
#define AUTHFILTER_LOG_H

#include <stddef.h>
#include <syslog.h>

enum log_format { LOG_FORMAT_SYSLOG, LOG_FORMAT_JSON };

/* One key/value pair of a structured record; val may hold any bytes. */
struct log_field {
	const char *key;
	const char *val;
};

void	log_init(const char *ident, int to_stderr, enum log_format fmt);
void	log_set_format(enum log_format fmt);
/* Syslog mode: also print errors and warnings to stderr while on. */
void	log_echo_stderr(int on);
void	log_msg(int prio, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_record(int prio, const struct log_field *fields, size_t n);

/* Formatting, exposed for tests: both return the length written (always
 * NUL-terminated, truncated to fit dstsz). */
size_t	log_format_text(char *dst, size_t dstsz,
	    const struct log_field *fields, size_t n);
size_t	log_format_json(char *dst, size_t dstsz, const char *level,
	    const struct log_field *fields, size_t n);

#endif
