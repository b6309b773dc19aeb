/*
 * NAME
 *	config -- read and check authfilter.conf
 * SYNOPSIS
 *	cfg = config_load("/etc/authfilter/authfilter.conf", &errs);
 *	config_print_nondefault(cfg, stdout);
 * DESCRIPTION
 *	The file reads like Postfix's main.cf: "name = value" lines, lines
 *	whose first non-blank character is "#" are comments, and a line
 *	that starts with white space continues the previous one.  Every
 *	setting has one name and one default, listed in the table below;
 *	authfilter.conf(5) documents each.  The daemon, "authfilter -t",
 *	"authfilter -n" and authfilter-keys all read the file through here.
 * DIAGNOSTICS
 *	Each problem becomes one "FILE:LINE: what is wrong" message:
 *	unknown names, bad values, a setting given twice, a line with no
 *	"=", a file that cannot be read.  All problems are reported at once.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/config_values.h"
#include "lib/netlist.h"

unsigned
config_line_of(const char *text, const char *p)
{
	unsigned n = 1;

	for (; text < p; text++)
		n += *text == '\n';
	return n;
}

/* s with every byte that is not printable ASCII as \xNN, at most 64 of
 * them: a message must not send a file's control bytes to a terminal. */
static void
printable(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; s[i] != '\0' && i < 64 && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

enum kind {
	K_SOCKET, K_AUTHSERV, K_ABSPATH, K_ABSPATH_OR_EMPTY, K_RESOLVER,
	K_NETLIST, K_WORDLIST, K_ENUM, K_USER, K_MODE, K_COUNT, K_SIZE,
	K_DURATION, K_LISTEN, K_ADDRLIST, K_HOSTNAME_OR_EMPTY, K_DB, K_TEXT,
	K_EMAIL_OR_EMPTY
};

struct setting {
	const char	*name;
	const char	*def;
	enum kind	 kind;
	size_t		 off;
	unsigned long	 min, max;	/* K_COUNT, K_SIZE, K_DURATION */
	const char *const *choices;	/* K_ENUM: value i sets the field to i */
};

/* K_ENUM choices, in the order of the enum values they set. */
static const char *const policy_modes[] = { "monitor", "enforce", NULL };
static const char *const spf_fail_actions[] = { "accept", "tag", "quarantine",
	"reject", NULL };
static const char *const temperror_actions[] = { "accept", "tempfail", NULL };
static const char *const log_formats[] = { "syslog", "json", NULL };
static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const sign_failures[] = { "tempfail", "accept", NULL };
static const char *const mismatches[] = { "reject", "log", NULL };
static const char *const discoveries[] = { "treewalk", "psl", NULL };

#define F(field) offsetof(struct config, field)

static const struct setting settings[] = {
	{ "milter_socket", "inet:8891@127.0.0.1", K_SOCKET, F(milter_socket), 0, 0 , NULL },
	{ "milter_socket_mode", "0660", K_MODE, F(milter_socket_mode), 0, 0777 , NULL },
	{ "authserv_id", "", K_AUTHSERV, F(authserv_id), 0, 0 , NULL },
	{ "key_dir", AF_CONFDIR "/keys", K_ABSPATH, F(key_dir), 0, 0 , NULL },
	{ "dns_resolver", "", K_RESOLVER, F(dns_resolver), 0, 0 , NULL },
	{ "internal_networks", "127.0.0.0/8, [::1]/128", K_NETLIST,
	    F(internal_networks), 0, 0 , NULL },
	{ "submission_daemons", "", K_WORDLIST, F(submission_daemons), 0, 0 , NULL },
	{ "policy_mode", "monitor", K_ENUM, F(policy_mode), 0, 0, policy_modes },
	{ "log_format", "syslog", K_ENUM, F(log_format), 0, 0, log_formats },
	/* One line per DNS query that reaches libunbound, for tracing a
	 * verdict; off: a busy server asks thousands an hour. */
	{ "log_dns", "no", K_ENUM, F(log_dns), 0, 0, yes_no },
	{ "user", "", K_USER, F(user), 0, 0 , NULL },
	{ "pid_file", "", K_ABSPATH_OR_EMPTY, F(pid_file), 0, 0 , NULL },
	/* RFC 5322 sets no limit; 1000 headers is far above real mail. */
	{ "max_headers", "1000", K_COUNT, F(max_headers), 1, 100000 , NULL },
	{ "max_header_bytes", "1m", K_SIZE, F(max_header_bytes),
	    1024, 64UL * 1024 * 1024 , NULL },
	{ "drain_timeout", "30s", K_DURATION, F(drain_timeout), 0, 3600 , NULL },
	/* Postfix gives up on a milter reply after 300 s at most by default. */
	{ "milter_timeout", "300s", K_DURATION, F(milter_timeout), 1, 86400 , NULL },
	/* One thread each.  Postfix opens one connection per SMTP session
	 * (default_process_limit 100 smtpd processes); room for a burst. */
	{ "max_sessions", "2000", K_COUNT, F(max_sessions), 1, 100000, NULL },
	/* Postfix sends a header (up to header_size_limit, 100 KiB) as one
	 * command and the body in 64 KiB ones: the least we can take. */
	{ "milter_max_command", "1m", K_SIZE, F(milter_max_command), 65536,
	    64UL * 1024 * 1024, NULL },
	{ "sign_subdomains", "no", K_ENUM, F(sign_subdomains), 0, 0, yes_no },
	{ "sign_failure_action", "tempfail", K_ENUM, F(sign_failure_action),
	    0, 0, sign_failures },
	/* 0: no x= tag.  RFC 6376 sets no bound; 1 year is plenty. */
	{ "signature_ttl", "0", K_DURATION, F(signature_ttl), 0, 366 * 86400 , NULL },
	/* Per query; Postfix waits up to milter_content_timeout (300 s) for
	 * the whole message, and a message may need a dozen lookups. */
	{ "dns_timeout", "5s", K_DURATION, F(dns_timeout), 1, 60, NULL },
	/* All the DNS waiting of one message at its end: three answers
	 * that time out one after another.  Lookups start early and run in
	 * parallel, so a normal message waits for none or one. */
	{ "dns_message_budget", "15s", K_DURATION, F(dns_message_budget), 1,
	    600, NULL },
	/* Each signature costs a DNS lookup and a hash; 10 covers the
	 * mailing-list and forwarding chains seen in practice. */
	{ "dkim_max_signatures", "10", K_COUNT, F(dkim_max_signatures), 1, 50,
	    NULL },
	{ "sender_login_map", "", K_ABSPATH_OR_EMPTY, F(sender_login_map), 0, 0 , NULL },
	{ "spf_fail_action", "tag", K_ENUM, F(spf_fail_action), 0, 0,
	    spf_fail_actions },
	{ "temperror_action", "accept", K_ENUM, F(temperror_action), 0, 0,
	    temperror_actions },
	{ "quarantine_tag", "no", K_ENUM, F(quarantine_tag), 0, 0, yes_no },
	/* l= lets anyone append to a signed body: such a pass is not
	 * DMARC's unless the admin says so. */
	{ "dmarc_allow_partial_body", "no", K_ENUM,
	    F(dmarc_allow_partial_body), 0, 0, yes_no },
	{ "trusted_networks", "", K_NETLIST, F(trusted_networks), 0, 0, NULL },
	{ "policy_overrides", "", K_ABSPATH_OR_EMPTY, F(policy_overrides), 0, 0,
	    NULL },
	{ "allow_from_domains", "", K_WORDLIST, F(allow_from_domains), 0, 0,
	    NULL },
	{ "dns_trust_anchor", "", K_ABSPATH_OR_EMPTY, F(dns_trust_anchor), 0, 0,
	    NULL },
	/* unbound's outbound-msg-retry, which must be at least 1. */
	{ "dns_retries", "3", K_COUNT, F(dns_retries), 1, 10, NULL },
	/* RFC 9989 4.10: the DNS Tree Walk; psl: RFC 7489's public suffix
	 * list, for a site that must agree with an RFC 7489 verifier. */
	{ "dmarc_discovery", "treewalk", K_ENUM, F(dmarc_discovery), 0, 0,
	    discoveries },
	/* Read only with dmarc_discovery = psl. */
	{ "public_suffix_list", "/usr/share/publicsuffix/public_suffix_list.dat", K_ABSPATH, F(public_suffix_list), 0, 0 , NULL },
	{ "sender_mismatch_action", "reject", K_ENUM,
	    F(sender_mismatch_action), 0, 0, mismatches },
	{ "signing_table", "", K_ABSPATH_OR_EMPTY, F(signing_table), 0, 0,
	    NULL },
	/* RFC 6376 5.4.1: "SHOULD be included in the signature, if
	 * present". */
	{ "sign_headers", "From, Reply-To, Subject, Date, To, Cc, "
	    "Resent-Date, Resent-From, Resent-To, Resent-Cc, In-Reply-To, "
	    "References, List-Id, List-Help, List-Unsubscribe, "
	    "List-Subscribe, List-Post, List-Owner, List-Archive, Message-ID, "
	    "MIME-Version, Content-Type, Content-Transfer-Encoding, "
	    "Content-ID, Content-Description", K_WORDLIST, F(sign_headers), 0,
	    0, NULL },
	/* Listed once more than present: a second copy breaks the
	 * signature (RFC 6376 8.15). */
	{ "oversign_headers", "From, Reply-To, Subject, Date, To, Cc, "
	    "Message-ID, MIME-Version, Content-Type, "
	    "Content-Transfer-Encoding", K_WORDLIST, F(oversign_headers), 0, 0,
	    NULL },
	/* Inbound mail to only these recipients is never refused
	 * ("postmaster@", "abuse@example.org", "@example.org"). */
	{ "exempt_recipients", "", K_WORDLIST, F(exempt_recipients), 0, 0,
	    NULL },
	/* Inbound mail from these clients is not checked at all. */
	{ "unchecked_clients", "", K_NETLIST, F(unchecked_clients), 0, 0,
	    NULL },
	/* Prometheus metrics and `authfilter status`; off by default. */
	{ "metrics_listen", "", K_LISTEN, F(metrics_listen), 0, 0, NULL },
	/* authfilter doctor: the addresses this host sends from, and the
	 * name it says in HELO; empty: those of Postfix's myhostname. */
	{ "doctor_outbound_ips", "", K_ADDRLIST, F(doctor_outbound_ips), 0, 0,
	    NULL },
	{ "doctor_helo_name", "", K_HOSTNAME_OR_EMPTY, F(doctor_helo_name), 0,
	    0, NULL },
	/* DMARC aggregate reports (RFC 9990): where evaluations are kept,
	 * a SQLite file or a postgresql:// URL; empty: none kept. */
	{ "report_db", AF_STATEDIR "/reports.db", K_DB, F(report_db), 0, 0,
	    NULL },
	/* Rows waiting for the writer; beyond, rows are dropped (counted),
	 * never waited for.  A row takes 7.4 KB: 10000 are 74 MB at worst. */
	{ "report_queue", "10000", K_COUNT, F(report_queue), 1, 1000000,
	    NULL },
	/* <report_metadata>: empty org name: authserv_id; empty email:
	 * postmaster@authserv_id. */
	{ "report_org_name", "", K_TEXT, F(report_org_name), 0, 0, NULL },
	{ "report_email", "", K_EMAIL_OR_EMPTY, F(report_email), 0, 0, NULL },
	/* RFC 9990 2: reports cover at least an hour; a day is the norm. */
	{ "report_period", "1d", K_DURATION, F(report_period), 3600,
	    7 * 86400, NULL },
	{ "report_sendmail", "/usr/sbin/sendmail", K_ABSPATH,
	    F(report_sendmail), 0, 0, NULL },
	/* A sendmail still running after this is killed (and the report
	 * goes out with the next run). */
	{ "report_sendmail_timeout", "5m", K_DURATION,
	    F(report_sendmail_timeout), 1, 86400, NULL },
	/* Evaluations and imported reports are deleted after this. */
	{ "report_keep", "31d", K_DURATION, F(report_keep), 86400,
	    3660 * 86400, NULL },
	/* One report e-mail at most this large (gzip'd XML, base64). */
	{ "report_max_size", "10m", K_SIZE, F(report_max_size), 65536,
	    100UL * 1024 * 1024, NULL },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static int
set_string(char **field, const char *v, char *err, size_t errsz)
{
	char *copy = strdup(v);

	if (copy == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	free(*field);
	*field = copy;
	return 0;
}

static int
apply(const struct setting *s, struct config *cfg, const char *v,
    char *err, size_t errsz)
{
	void *field = (char *)cfg + s->off;
	struct netlist *nl;
	unsigned long n;
	unsigned secs;
	size_t size;
	char *end;

	switch (s->kind) {
	case K_SOCKET:
		if (check_socket(v, err, errsz) != 0)
			return -1;
		return set_string(field, v, err, errsz);
	case K_AUTHSERV:
		if (check_authserv(v, err, errsz) != 0)
			return -1;
		return set_string(field, v, err, errsz);
	case K_ABSPATH_OR_EMPTY:
		if (*v == '\0')
			return set_string(field, v, err, errsz);
		/* FALLTHROUGH */
	case K_ABSPATH:
		if (v[0] != '/') {
			snprintf(err, errsz, "\"%s\": must be an absolute path",
			    v);
			return -1;
		}
		return set_string(field, v, err, errsz);
	case K_RESOLVER:
		if (check_resolver(v, err, errsz) != 0)
			return -1;
		return set_string(field, v, err, errsz);
	case K_LISTEN: {
		struct sockaddr_storage ss;
		socklen_t sslen;
		if (*v != '\0' && netaddr_parse_hostport(v, &ss, &sslen, err,
		    errsz) != 0)
			return -1;
		return set_string(field, v, err, errsz);
	}
	case K_NETLIST:
		if ((nl = netlist_parse(v, err, errsz)) == NULL)
			return -1;
		netlist_free(*(struct netlist **)field);
		*(struct netlist **)field = nl;
		return 0;
	case K_WORDLIST: {
		struct wordlist *wl = field;
		free_words(wl->w, wl->n);
		wl->w = split_words(v, &wl->n);
		return 0;
	}
	case K_ADDRLIST: {
		struct wordlist *wl = field, nw;
		nw.w = split_words(v, &nw.n);
		if (check_addresses(nw.w, nw.n, err, errsz) != 0) {
			free_words(nw.w, nw.n);
			return -1;
		}
		free_words(wl->w, wl->n);
		*wl = nw;
		return 0;
	}
	case K_HOSTNAME_OR_EMPTY:
		if (check_hostname(v, err, errsz) != 0)
			return -1;
		return set_string(field, v, err, errsz);
	case K_DB:
		if (check_db(v, err, errsz) != 0)
			return -1;
		return set_string(field, v, err, errsz);
	case K_TEXT:
		if (check_text(v, err, errsz) != 0)
			return -1;
		return set_string(field, v, err, errsz);
	case K_EMAIL_OR_EMPTY:
		if (check_email(v, err, errsz) != 0)
			return -1;
		return set_string(field, v, err, errsz);
	case K_ENUM:
		for (size_t i = 0; s->choices[i] != NULL; i++)
			if (strcmp(v, s->choices[i]) == 0) {
				*(int *)field = (int)i;
				return 0;
			}
		{
			size_t o = (size_t)snprintf(err, errsz, "\"%s\" is not "
			    "one of:", v);
			for (size_t i = 0; s->choices[i] != NULL && o < errsz;
			    i++)
				o += (size_t)snprintf(err + o, errsz - o, "%s %s",
				    i ? "," : "", s->choices[i]);
		}
		return -1;
	case K_USER:
		if (*v != '\0') {
			struct passwd *pw = getpwnam(v);
			if (pw == NULL) {
				snprintf(err, errsz, "no such user \"%s\"", v);
				return -1;
			}
			if (pw->pw_uid == 0) {
				snprintf(err, errsz, "\"%s\": the daemon must "
				    "not run as root", v);
				return -1;
			}
		}
		return set_string(field, v, err, errsz);
	case K_MODE:
		n = strtoul(v, &end, 8);
		if (*v == '\0' || *end != '\0' || n > s->max) {
			snprintf(err, errsz, "\"%s\": expected an octal mode "
			    "such as 0660", v);
			return -1;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	case K_COUNT:
		n = strtoul(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end != '\0' ||
		    n < s->min || n > s->max) {
			snprintf(err, errsz, "\"%s\": expected a number from "
			    "%lu to %lu", v, s->min, s->max);
			return -1;
		}
		*(size_t *)field = n;
		return 0;
	case K_SIZE:
		if (config_parse_size(v, &size) != 0 || size < s->min ||
		    size > s->max) {
			snprintf(err, errsz, "\"%s\": expected a size from "
			    "%luk to %lum (suffix k, m or g)", v,
			    s->min / 1024, s->max / (1024 * 1024));
			return -1;
		}
		*(size_t *)field = size;
		return 0;
	case K_DURATION:
		if (config_parse_duration(v, &secs) != 0 || secs < s->min ||
		    secs > s->max) {
			snprintf(err, errsz, "\"%s\": expected a duration from "
			    "%lus to %lus (suffix s, m, h, d or w)", v, s->min,
			    s->max);
			return -1;
		}
		*(unsigned *)field = secs;
		return 0;
	}
	snprintf(err, errsz, "internal error: unknown kind");
	return -1;
}

static const struct setting *
find_setting(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

static void
trim(char **s, char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* One logical line "name = value", begun at line `lineno`. */
static void
parse_logical(struct config *cfg, const char *src, unsigned lineno,
    char *line, unsigned *seen_at, struct config_errors *errs)
{
	char *eq = strchr(line, '='), *ns, *ne, *vs, *ve, err[512];
	const struct setting *s;
	size_t idx;

	if (eq == NULL) {
		config_errors_add(errs, "%s:%u: expected \"name = value\"", src, lineno);
		return;
	}
	ns = line, ne = eq, vs = eq + 1, ve = line + strlen(line);
	trim(&ns, &ne);
	trim(&vs, &ve);
	*ne = '\0';
	*ve = '\0';
	if (*ns == '\0') {
		config_errors_add(errs, "%s:%u: missing setting name before \"=\"",
		    src, lineno);
		return;
	}
	if ((s = find_setting(ns)) == NULL) {
		char shown[4 * 64 + 1];
		printable(ns, shown, sizeof(shown));
		config_errors_add(errs, "%s:%u: unknown setting \"%s\"", src,
		    lineno, shown);
		return;
	}
	idx = (size_t)(s - settings);
	if (seen_at[idx] != 0) {
		config_errors_add(errs, "%s:%u: %s is already set at line %u", src,
		    lineno, s->name, seen_at[idx]);
		return;
	}
	seen_at[idx] = lineno;
	if (apply(s, cfg, vs, err, sizeof(err)) != 0) {
		config_errors_add(errs, "%s:%u: %s: %s", src, lineno, s->name, err);
		return;
	}
	free(cfg->raw[idx]);
	cfg->raw[idx] = strdup(vs);
	cfg->line[idx] = lineno;
}

static void
fill_authserv_default(struct config *cfg)
{
	char host[256];

	if (cfg->authserv_id[0] != '\0')
		return;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	free(cfg->authserv_id);
	cfg->authserv_id = strdup(host);
}

static struct config *
parse_text(const char *src, const char *text, size_t len,
    struct config_errors *errs, int lenient)
{
	struct config *cfg;
	unsigned seen_at[NSETTINGS] = { 0 }, lineno = 0, start = 0;
	char *logical = NULL, err[512];
	size_t llen = 0, before = errs->n;
	const char *p = text, *end = text + len, *nl;

	if ((nl = memchr(text, '\0', len)) != NULL) {
		config_errors_add(errs, "%s:%u: contains a NUL byte; not a text "
		    "file", src, config_line_of(text, nl));
		return NULL;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->raw = calloc(NSETTINGS, sizeof(char *))) == NULL ||
	    (cfg->line = calloc(NSETTINGS, sizeof(unsigned))) == NULL ||
	    (cfg->source = strdup(src)) == NULL) {
		config_errors_add(errs, "%s: out of memory", src);
		config_free(cfg);
		return NULL;
	}
	for (size_t i = 0; i < NSETTINGS; i++)
		if (apply(&settings[i], cfg, settings[i].def, err,
		    sizeof(err)) != 0)
			config_errors_add(errs, "default of %s: %s", settings[i].name,
			    err);

	/* Join continuation lines; parse each logical line at its end. */
	while (p <= end) {
		size_t n;
		const char *q;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		for (q = p; q < p + n && isspace((unsigned char)*q); q++)
			;
		if (q < p + n && *q != '#') {
			if (q != p && logical != NULL) {
				char *g = realloc(logical, llen + n + 2);
				if (g != NULL) {
					logical = g;
					logical[llen++] = ' ';
					memcpy(logical + llen, q,
					    (size_t)(p + n - q));
					llen += (size_t)(p + n - q);
					logical[llen] = '\0';
				}
			} else if (q != p) {
				config_errors_add(errs, "%s:%u: continuation line with "
				    "nothing to continue (remove the leading "
				    "white space)", src, lineno);
			} else {
				if (logical != NULL)
					parse_logical(cfg, src, start, logical,
					    seen_at, errs);
				free(logical);
				if ((logical = malloc(n + 1)) != NULL) {
					memcpy(logical, p, n);
					logical[n] = '\0';
					llen = n;
				}
				start = lineno;
			}
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (logical != NULL)
		parse_logical(cfg, src, start, logical, seen_at, errs);
	free(logical);

	if (errs->n > before && !lenient) {
		config_free(cfg);
		return NULL;
	}
	fill_authserv_default(cfg);
	return cfg;
}

struct config *
config_parse(const char *src, const char *text, size_t len,
    struct config_errors *errs)
{
	return parse_text(src, text, len, errs, 0);
}

struct config *
config_parse_lenient(const char *src, const char *text, size_t len,
    struct config_errors *errs)
{
	return parse_text(src, text, len, errs, 1);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->source);
	free(cfg->milter_socket);
	free(cfg->authserv_id);
	free(cfg->key_dir);
	free(cfg->dns_resolver);
	netlist_free(cfg->internal_networks);
	free_words(cfg->submission_daemons.w, cfg->submission_daemons.n);
	free_words(cfg->sign_headers.w, cfg->sign_headers.n);
	free_words(cfg->exempt_recipients.w, cfg->exempt_recipients.n);
	netlist_free(cfg->unchecked_clients);
	free_words(cfg->doctor_outbound_ips.w, cfg->doctor_outbound_ips.n);
	free(cfg->doctor_helo_name);
	free_words(cfg->oversign_headers.w, cfg->oversign_headers.n);
	free_words(cfg->allow_from_domains.w, cfg->allow_from_domains.n);
	netlist_free(cfg->trusted_networks);
	free(cfg->user);
	free(cfg->pid_file);
	free(cfg->sender_login_map);
	free(cfg->public_suffix_list);
	free(cfg->policy_overrides);
	free(cfg->dns_trust_anchor);
	free(cfg->metrics_listen);
	free(cfg->signing_table);
	free(cfg->report_db);
	free(cfg->report_org_name);
	free(cfg->report_email);
	free(cfg->report_sendmail);
	if (cfg->raw != NULL)
		for (size_t i = 0; i < NSETTINGS; i++)
			free(cfg->raw[i]);
	free(cfg->raw);
	free(cfg->line);
	free(cfg);
}

void
config_print_nondefault(const struct config *cfg, FILE *fp)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (cfg->raw[i] != NULL &&
		    strcmp(cfg->raw[i], settings[i].def) != 0)
			fprintf(fp, "%s = %s\n", settings[i].name, cfg->raw[i]);
}

void
config_each_line(char *text, void (*fn)(void *, unsigned, char *), void *arg)
{
	unsigned lineno = 0;
	char *line, *next;

	/* strtok_r would skip empty lines; count lines by hand. */
	for (line = text; line != NULL; line = next) {
		char *p = line;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '#' && *p != '\0' && *p != '\r')
			fn(arg, lineno, line);
	}
}

int
config_table_lines(const char *src, const char *text,
    void (*fn)(void *, unsigned, char *), void *arg,
    struct config_errors *errs)
{
	char *copy = strdup(text);
	size_t before = errs->n;

	if (copy == NULL) {
		config_errors_add(errs, "%s: out of memory", src);
		return -1;
	}
	config_each_line(copy, fn, arg);
	free(copy);
	return errs->n > before ? -1 : 0;
}

unsigned
config_setting_line(const struct config *cfg, const char *name)
{
	const struct setting *s = find_setting(name);

	return s != NULL ? cfg->line[s - settings] : 0;
}
