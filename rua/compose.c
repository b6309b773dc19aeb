/*
 * NAME
 *	compose -- a policy domain's aggregate report as the mails to send
 * SYNOPSIS
 *	if (rua_compose(&fb, &opts, &c, err, sizeof(err)) == 0)
 *		for (size_t i = 0; i < c.npart; i++) ... c.part[i].msg ...
 *	rua_compose_free(&c);
 * DESCRIPTION
 *	Builds, for one destination, the XML (xml_out.c), its gzip and the
 *	mail (mime.c) of fb.  When the mail would be larger than
 *	opts->max_size, the records are split across several reports, each
 *	with its own report_id and file name (RFC 9990 3.2: a report too
 *	large for the destination is split, not truncated): the number of
 *	records per report shrinks in proportion to the excess until every
 *	mail fits.  A single record whose mail does not fit is an error.
 *
 *	report_id is "<begin>.<policy domain>.<16 hex digits>" and the file
 *	name "<receiver>!<policy domain>!<begin>!<end>!<16 hex digits>"
 *	(RFC 9990 3.2.1), the digits random, so no two reports share one.
 *	The Subject says "Submitter: <receiver>": a domain, as RFC 9990
 *	3.2.1 asks, whatever report_org_name is.
 * DIAGNOSTICS
 *	-1 and err: what failed (out of memory, zlib, libxml2, no random
 *	bytes), or that a record does not fit in max_size.
 * SEE ALSO
 *	xml_out.c, mime.c, send_cmd.c
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "rua/compose.h"
#include "rua/mime.h"
#include "rua/xml_out.h"

void
rua_compose_free(struct rua_compose *c)
{
	for (size_t i = 0; i < c->npart; i++) {
		free(c->part[i].xml);
		free(c->part[i].gz);
		free(c->part[i].msg);
	}
	free(c->part);
	c->part = NULL;
	c->npart = 0;
}

static int
random_hex(char *out, size_t nbytes, char *err, size_t errsz)
{
	unsigned char b[16];

	if (nbytes > sizeof(b) || getrandom(b, nbytes, 0) != (ssize_t)nbytes) {
		snprintf(err, errsz, "no random bytes for a report id: %s",
		    strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

void
rua_compose_utc(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "%" PRId64, t);
}

/* Records [first, first + n) of fb as part p: 0, or -1 + err. */
static int
build_part(struct rua_feedback *fb, const struct rua_compose_opts *o,
    size_t first, size_t n, size_t index, size_t count, struct rua_part *p,
    char *err, size_t errsz)
{
	char hex[33], subject[1024], msgid[400], text[1200], b[32], e[32],
	    file[720];
	struct rua_mail m;
	int len;

	memset(p, 0, sizeof(*p));
	if (random_hex(hex, 8, err, errsz) != 0)
		return -1;
	p->first = first;
	p->nrec = n;
	for (size_t i = first; i < first + n; i++)
		p->messages += fb->rec[i].count;
	len = snprintf(p->report_id, sizeof(p->report_id), "%" PRId64
	    ".%s.%s", fb->begin, fb->pub.domain, hex);
	if (len < 0 || (size_t)len >= sizeof(p->report_id)) {
		snprintf(err, errsz, "report id for %s: too long",
		    fb->pub.domain);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s!%s!%" PRId64 "!%" PRId64 "!%s",
	    o->receiver, fb->pub.domain, fb->begin, fb->end, hex);
	memcpy(fb->report_id, p->report_id, sizeof(fb->report_id));
	if (rua_xml_write(fb, first, n, &p->xml, &p->xmllen, err, errsz) != 0 ||
	    rua_gzip(p->xml, p->xmllen, &p->gz, &p->gzlen, err, errsz) != 0)
		return -1;

	rua_mime_subject(subject, sizeof(subject), fb->pub.domain, o->receiver,
	    p->report_id);
	snprintf(msgid, sizeof(msgid), "%s@%s", p->report_id, o->receiver);
	rua_compose_utc(fb->begin, b, sizeof(b));
	rua_compose_utc(fb->end, e, sizeof(e));
	snprintf(text, sizeof(text), "This is a DMARC aggregate report "
	    "(RFC 9990) from %s\nabout %s, for %s to %s:\n%zu records, "
	    "%" PRIu64 " messages.%s\n\nReport-ID: %s\n", o->receiver,
	    fb->pub.domain, b, e, n, p->messages, count > 1 ?
	    "  The period's records are split across several reports." : "",
	    p->report_id);
	if (count > 1)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "Part %zu of %zu.\n", index + 1, count);
	snprintf(file, sizeof(file), "%s.xml.gz", p->name);
	memset(&m, 0, sizeof(m));
	m.from = o->from;
	m.to = o->to;
	m.subject = subject;
	m.message_id = msgid;
	m.date = o->now;
	m.text = text;
	m.filename = file;
	m.att = p->gz;
	m.attlen = p->gzlen;
	return rua_mime_message(&m, &p->msg, &p->msglen, err, errsz);
}

/* fb in reports of at most per records each into c: 0, or -1 + err;
 * *biggest the largest mail. */
static int
build_all(struct rua_feedback *fb, const struct rua_compose_opts *o,
    size_t per, struct rua_compose *c, size_t *biggest, char *err,
    size_t errsz)
{
	size_t count = fb->nrec == 0 ? 1 : (fb->nrec + per - 1) / per;

	if ((c->part = calloc(count, sizeof(*c->part))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	*biggest = 0;
	for (size_t i = 0; i < count; i++) {
		size_t first = i * per;
		size_t n = fb->nrec - first < per ? fb->nrec - first : per;
		c->npart = i + 1;
		if (build_part(fb, o, first, n, i, count, &c->part[i], err,
		    errsz) != 0)
			return -1;
		if (c->part[i].msglen > *biggest)
			*biggest = c->part[i].msglen;
	}
	return 0;
}

int
rua_compose(struct rua_feedback *fb, const struct rua_compose_opts *o,
    struct rua_compose *c, char *err, size_t errsz)
{
	size_t per = fb->nrec > 0 ? fb->nrec : 1, biggest, fit;

	memset(c, 0, sizeof(*c));
	for (;;) {
		if (build_all(fb, o, per, c, &biggest, err, errsz) != 0) {
			rua_compose_free(c);
			return -1;
		}
		if (o->max_size == 0 || biggest <= o->max_size)
			return 0;
		rua_compose_free(c);
		if (per == 1) {
			snprintf(err, errsz, "one record alone makes a mail of "
			    "%zu bytes, over the limit of %zu", biggest,
			    o->max_size);
			return -1;
		}
		/* Fewer records per report, in proportion, with a margin
		 * for what does not shrink (headers, metadata). */
		fit = (size_t)((double)per * (double)o->max_size /
		    (double)biggest * 0.9);
		per = fit < per - 1 ? (fit > 0 ? fit : 1) : per - 1;
	}
}

static int
save_file(const char *dir, const char *name, const char *ext,
    const void *data, size_t len, char *err, size_t errsz)
{
	char path[1200];
	int fd;
	ssize_t w = 0;

	snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (size_t off = 0; off < len; off += (size_t)w)
		if ((w = write(fd, (const char *)data + off, len - off)) <= 0) {
			snprintf(err, errsz, "%s: %s", path, w < 0 ?
			    strerror(errno) : "short write");
			close(fd);
			return -1;
		}
	if (close(fd) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
rua_compose_save(const struct rua_part *p, const char *dir, char *err,
    size_t errsz)
{
	if (save_file(dir, p->name, ".xml", p->xml, p->xmllen, err, errsz) != 0 ||
	    save_file(dir, p->name, ".xml.gz", p->gz, p->gzlen, err, errsz) != 0)
		return -1;
	return save_file(dir, p->name, ".eml", p->msg, p->msglen, err, errsz);
}
