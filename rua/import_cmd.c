/*
 * NAME
 *	import_cmd -- authfilter-reports import: DMARC aggregate reports
 *	receivers sent us, into the report store
 * SYNOPSIS
 *	authfilter-reports [-c FILE] import [FILE | MAILDIR | -] ...
 * DESCRIPTION
 *	Each FILE is a report e-mail (the report attached: gzip, zip or
 *	XML, in any MIME nesting) or a report file (.xml, .xml.gz, .zip),
 *	told apart by content, not name.  A MAILDIR (a directory with cur/
 *	and new/) has each of its messages imported; they are left where
 *	they are, never moved or deleted, so importing a Maildir again
 *	only says "already imported".  "-" reads one message from standard
 *	input: the mode of a Postfix pipe(8) transport or an alias
 *	"|authfilter-reports import -".
 *
 *	Each report goes into report_db (rua_store_add_feedback()) and
 *	gets one line on standard output:
 *
 *	    imported ORG report ID for DOMAIN: N records, M messages
 *	    already imported ORG report ID for DOMAIN
 *
 *	or one on standard error: "NAME: not a DMARC report: WHY" (nothing
 *	of it is stored) or "NAME: cannot store: WHY".  Inputs are at most
 *	RUA_INPUT_MAX bytes; see unpack.c and xml_in.c for the other limits.
 * DIAGNOSTICS
 *	With FILE and MAILDIR arguments: exit 0 when every report went in
 *	(or was already in), 1 when any did not, 2 for a usage error.
 *
 *	With "-" the exit status is for the MTA, and every line also goes
 *	to syslog (mail facility), since the MTA keeps none of the output:
 *	0 when the report is stored or already was, and also when the
 *	message is no report or a broken one: retrying cannot mend it and
 *	a bounce would go to a robot's address (or loop), so it is logged
 *	as a warning and dropped.  75 (EX_TEMPFAIL) when the configuration
 *	cannot be read or the store cannot be opened or written, or memory
 *	runs out: the MTA keeps the message and retries, nothing is lost.
 * SEE ALSO
 *	authfilter-reports(8), authfilter-report(8) (report --outbound)
 */
#include "buildconf.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "lib/config.h"
#include "lib/log.h"
#include "rua/feedback.h"
#include "rua/mime_in.h"
#include "rua/reports_cli.h"
#include "rua/store.h"
#include "rua/unpack.h"
#include "rua/xml_in.h"

enum outcome { STORED, BROKEN, TEMPFAIL };

struct import {
	struct rua_store *st;
	int	 from_stdin;	/* "-": lines also to syslog */
	int	 broken;	/* an input was not a report */
	int	 tempfail;	/* the store or memory failed */
};

/* One line to stdout (LOG_INFO) or stderr, and to syslog with "-". */
static void
say(const struct import *im, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
say(const struct import *im, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(prio == LOG_INFO ? stdout : stderr, "%s\n", line);
	if (im->from_stdin)
		log_msg(prio, "%s", line);
}

/* buf (len bytes, one input) to the XML of its report. */
static int
to_xml(const unsigned char *buf, size_t len, char **xml, size_t *xmllen,
    char *err, size_t errsz)
{
	unsigned char *att = NULL;
	int rc;

	if (rua_unpack_kind(buf, len) == RUA_KIND_OTHER) {
		if (rua_mime_report(buf, len, &att, &len, err, errsz) != 0)
			return -1;
		buf = att;
	}
	rc = rua_unpack(buf, len, xml, xmllen, err, errsz);
	free(att);
	return rc;
}

static enum outcome
import_buf(struct import *im, const char *name, const unsigned char *buf,
    size_t len)
{
	struct rua_feedback fb;
	char err[512] = "", *xml = NULL;
	size_t xmllen;
	uint64_t msgs = 0;
	int rc;

	memset(&fb, 0, sizeof(fb));
	rua_nomem = 0;
	if (to_xml(buf, len, &xml, &xmllen, err, sizeof(err)) != 0 ||
	    rua_xml_read(xml, xmllen, &fb, err, sizeof(err)) != 0) {
		free(xml);
		rua_feedback_free(&fb);
		/* Out of memory (never what err says: it may quote the
		 * report): a retry may succeed. */
		if (rua_nomem) {
			say(im, LOG_ERR, "%s: %s", name, err);
			return TEMPFAIL;
		}
		say(im, LOG_WARNING, "%s: not a DMARC report: %s", name, err);
		return BROKEN;
	}
	free(xml);
	for (size_t i = 0; i < fb.nrec; i++)
		msgs = fb.rec[i].count > UINT64_MAX - msgs ? UINT64_MAX :
		    msgs + fb.rec[i].count;
	rc = rua_store_add_feedback(im->st, &fb, err, sizeof(err));
	if (rc == 0)
		say(im, LOG_INFO, "imported %s report %s for %s: %zu record%s, "
		    "%" PRIu64 " message%s", fb.org_name, fb.report_id,
		    fb.pub.domain, fb.nrec, fb.nrec == 1 ? "" : "s", msgs,
		    msgs == 1 ? "" : "s");
	else if (rc == 1)
		say(im, LOG_INFO, "already imported %s report %s for %s",
		    fb.org_name, fb.report_id, fb.pub.domain);
	else
		say(im, LOG_ERR, "%s: cannot store: %s", name, err);
	rua_feedback_free(&fb);
	return rc < 0 ? TEMPFAIL : STORED;
}

/* All of fp, at most RUA_INPUT_MAX bytes: 0, -1 too large (errno
 * EFBIG) or unreadable. */
static int
slurp(FILE *fp, unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL, *p;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > RUA_INPUT_MAX + 1)
				cap = RUA_INPUT_MAX + 1;
			if (len == cap) {
				free(buf);
				errno = EFBIG;
				return -1;
			}
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				errno = ENOMEM;
				return -1;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static enum outcome
import_stream(struct import *im, const char *name, FILE *fp)
{
	unsigned char *buf;
	size_t len;
	enum outcome o;

	if (slurp(fp, &buf, &len) != 0) {
		int e = errno;
		if (e == EFBIG) {
			say(im, LOG_WARNING, "%s: not a DMARC report: more "
			    "than %lu bytes", name, RUA_INPUT_MAX);
			return BROKEN;
		}
		say(im, LOG_ERR, "%s: cannot read: %s", name, strerror(e));
		return e == ENOMEM ? TEMPFAIL : BROKEN;
	}
	o = import_buf(im, name, buf, len);
	free(buf);
	return o;
}

static enum outcome
import_file(struct import *im, const char *path)
{
	FILE *fp = fopen(path, "rb");
	enum outcome o;

	if (fp == NULL) {
		say(im, LOG_ERR, "%s: cannot open: %s", path, strerror(errno));
		return BROKEN;
	}
	o = import_stream(im, path, fp);
	fclose(fp);
	return o;
}

static int
no_dotfiles(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every message in dir/sub, in name order. */
static void
import_maildir_sub(struct import *im, const char *dir, const char *sub)
{
	char path[4096];
	struct dirent **ents;
	struct stat sb;
	int n;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((n = scandir(path, &ents, no_dotfiles, alphasort)) < 0) {
		say(im, LOG_ERR, "%s: cannot read: %s", path, strerror(errno));
		im->broken = 1;
		return;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub,
		    ents[i]->d_name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			switch (import_file(im, path)) {
			case BROKEN: im->broken = 1; break;
			case TEMPFAIL: im->tempfail = 1; break;
			case STORED: break;
			}
		}
		free(ents[i]);
	}
	free(ents);
}

static void
import_arg(struct import *im, const char *arg)
{
	char sub[4096];
	struct stat sb;
	enum outcome o;

	if (strcmp(arg, "-") == 0)
		o = import_stream(im, "stdin", stdin);
	else if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		snprintf(sub, sizeof(sub), "%s/cur", arg);
		if (stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
		    (snprintf(sub, sizeof(sub), "%s/new", arg),
		    stat(sub, &sb) != 0) || !S_ISDIR(sb.st_mode)) {
			say(im, LOG_ERR, "%s: a directory but not a Maildir "
			    "(no cur/ and new/)", arg);
			im->broken = 1;
			return;
		}
		import_maildir_sub(im, arg, "new");
		import_maildir_sub(im, arg, "cur");
		return;
	} else
		o = import_file(im, arg);
	if (o == BROKEN)
		im->broken = 1;
	else if (o == TEMPFAIL)
		im->tempfail = 1;
}

/* The store of the configuration: NULL after saying why. */
static struct rua_store *
open_store(const struct import *im, const char *conf)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_load(conf, &errs);
	struct rua_store *st = NULL;
	char err[512];

	for (size_t i = 0; i < errs.n; i++)
		say(im, LOG_ERR, "authfilter-reports: %s", errs.msg[i]);
	config_errors_clear(&errs);
	if (cfg == NULL)
		return NULL;
	if (cfg->report_db[0] == '\0')
		say(im, LOG_ERR, "authfilter-reports: %s: report_db is empty: "
		    "no store to import into", conf);
	else if ((st = rua_store_open(cfg->report_db, err, sizeof(err))) ==
	    NULL)
		say(im, LOG_ERR, "authfilter-reports: %s", err);
	config_free(cfg);
	return st;
}

int
reports_import_main(int argc, char **argv, const char *conf)
{
	struct import im = { 0 };
	int first = 1;

	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc) {
		fprintf(stderr, "usage: authfilter-reports [-c FILE] import "
		    "[FILE | MAILDIR | -] ...\n");
		return 2;
	}
	for (int i = first; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			im.from_stdin = 1;
	if (im.from_stdin)
		log_init("authfilter-reports", 0, LOG_FORMAT_SYSLOG);
	if ((im.st = open_store(&im, conf)) == NULL)
		return im.from_stdin ? EX_TEMPFAIL : 1;
	for (int i = first; i < argc; i++)
		import_arg(&im, argv[i]);
	rua_store_close(im.st);
	if (im.from_stdin)
		return im.tempfail ? EX_TEMPFAIL : 0;
	return im.broken || im.tempfail ? 1 : 0;
}
