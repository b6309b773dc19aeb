/*
 * config.h -- authfilter.conf: the settings, their defaults and the parser.
 */
#ifndef AUTHFILTER_CONFIG_H
#define AUTHFILTER_CONFIG_H

#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/log.h"

struct netlist;

enum policy_mode { POLICY_MONITOR, POLICY_ENFORCE };
enum sign_failure { SIGN_FAIL_TEMPFAIL, SIGN_FAIL_ACCEPT };
enum sender_mismatch { MISMATCH_REJECT, MISMATCH_LOG };

/* Problems found while reading a file: "FILE:LINE: what is wrong". */
struct config_errors {
	char	**msg;
	size_t	  n;
};

/* A list of words (", " or white space between them). */
struct wordlist {
	char		**w;
	size_t		  n;
};

enum spf_fail_action { SPF_FAIL_ACCEPT, SPF_FAIL_TAG, SPF_FAIL_QUARANTINE,
	SPF_FAIL_REJECT };
enum temperror_action { TEMPERROR_ACCEPT, TEMPERROR_TEMPFAIL };
enum dmarc_discovery_mode { DMARC_DISCOVERY_TREEWALK, DMARC_DISCOVERY_PSL };

struct config {
	char		*source;	/* file read, for messages */
	char		*milter_socket;	/* e.g. inet:8891@127.0.0.1 */
	char		*authserv_id;
	char		*key_dir;
	char		*dns_resolver;	/* "" = system resolver */
	struct netlist	*internal_networks;
	struct wordlist	 submission_daemons;
	enum policy_mode policy_mode;
	enum log_format	 log_format;
	char		*user;		/* "" = stay who we are */
	char		*pid_file;	/* "" = none */
	unsigned	 milter_socket_mode;
	size_t		 max_headers;
	size_t		 max_header_bytes;
	unsigned	 drain_timeout;	/* seconds */
	unsigned	 milter_timeout;	/* seconds */
	size_t		 max_sessions;		/* milter connections at once */
	size_t		 milter_max_command;	/* bytes of one command */
	int		 sign_subdomains;
	enum sign_failure sign_failure_action;
	unsigned	 signature_ttl;		/* seconds; 0 = no x= */
	char		*sender_login_map;	/* "" = no restriction */
	enum dmarc_discovery_mode dmarc_discovery;	/* tree walk or PSL */
	char		*public_suffix_list;	/* its file, for PSL */
	size_t		 dkim_max_signatures;
	unsigned	 dns_timeout;		/* seconds */
	unsigned	 dns_message_budget;	/* seconds, per message */
	enum sender_mismatch sender_mismatch_action;
	enum spf_fail_action spf_fail_action;	/* SPF fail, no DMARC */
	enum temperror_action temperror_action;	/* DMARC temperror */
	int		 quarantine_tag;	/* held mail gets the header */
	int		 log_dns;		/* log every query sent */
	int		 dmarc_allow_partial_body;	/* l= passes align */
	struct netlist	*trusted_networks;	/* no enforcement */
	struct wordlist	 allow_from_domains;	/* no enforcement */
	char		*policy_overrides;	/* "" = none */
	char		*dns_trust_anchor;	/* "" = no DNSSEC validation */
	size_t		 dns_retries;		/* resends per server */
	char		*metrics_listen;	/* "" = no metrics endpoint */
	char		*signing_table;		/* "" = From domain's keys */
	struct wordlist	 sign_headers;		/* signed when present */
	struct wordlist	 oversign_headers;	/* and once more */
	struct wordlist	 exempt_recipients;	/* never refused for them */
	struct netlist	*unchecked_clients;	/* inbound, not checked */
	struct wordlist	 doctor_outbound_ips;	/* "" = myhostname's */
	char		*doctor_helo_name;	/* "" = myhostname */
	char		*report_db;	/* SQLite file, postgresql:// URL, "" */
	size_t		 report_queue;		/* rows waiting, at most */
	char		*report_org_name;	/* "" = authserv_id */
	char		*report_email;		/* "" = postmaster@authserv_id */
	unsigned	 report_period;		/* seconds */
	char		*report_sendmail;
	unsigned	 report_sendmail_timeout;	/* seconds */
	unsigned	 report_keep;		/* seconds */
	size_t		 report_max_size;	/* bytes of one report e-mail */
	char		**raw;		/* value as written, NULL = default */
	unsigned	*line;		/* where it was written, 0 = default */
};

/* Parse text (name = value lines) read from `source`.  Returns a config
 * with every setting filled (defaults where unset), or NULL with at least
 * one message in errs.  Every problem is reported, not just the first. */
struct config	*config_parse(const char *source, const char *text, size_t len,
		    struct config_errors *errs);
struct config	*config_load(const char *path, struct config_errors *errs);
/* The same, but every setting that parsed is kept even when others did
 * not (errs says which): for tools that need one setting of a file the
 * daemon refused (authfilter status). */
struct config	*config_parse_lenient(const char *source, const char *text,
		    size_t len, struct config_errors *errs);
struct config	*config_load_lenient(const char *path,
		    struct config_errors *errs);
void		 config_free(struct config *);

/* Print "name = value" for every setting that differs from its default,
 * in the order of the settings table (like postconf -n). */
void		 config_print_nondefault(const struct config *, FILE *);

void		 config_errors_clear(struct config_errors *);
void		 config_errors_add(struct config_errors *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* Helpers shared with other parsers. */
/* A whole small text file (at most max bytes, no NUL byte), or NULL with
 * "PATH: problem" in errs; `what` names the kind of file. */
/* The line (1-based) of text that the byte at p is on. */
unsigned	 config_line_of(const char *text, const char *p);
/* Where a setting was written (its line), or 0 for its default. */
unsigned	 config_setting_line(const struct config *, const char *name);
/* "FILE:LINE" of a setting into buf, or "FILE" when it has its default;
 * returns buf. */
const char	*config_where(const struct config *, const char *name, char *buf,
		    size_t bufsz);
/* Is the file a path setting names a regular file (not a directory,
 * FIFO or device) of at most max bytes?  0, or -1 with the error added
 * as "FILE:LINE: name PATH: what it is". */
int		 config_check_file(const struct config *, const char *name,
		    const char *path, off_t max, struct config_errors *);
char		*config_read_file(const char *path, size_t max, const char *what,
		    struct config_errors *errs);
/* fn(arg, line number, line) for each line of text (changed in place)
 * that is neither blank nor a "#" comment. */
void		 config_each_line(char *text, void (*fn)(void *, unsigned,
		    char *), void *arg);
/* config_each_line() over a copy of a table file's text (src names it
 * in messages): 0, or -1 when fn added problems to errs (or memory ran
 * out, said there). */
int		 config_table_lines(const char *src, const char *text,
		    void (*fn)(void *, unsigned, char *), void *arg,
		    struct config_errors *errs);
int		 config_parse_duration(const char *s, unsigned *out);
int		 config_parse_size(const char *s, size_t *out);

#endif
