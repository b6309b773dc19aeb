/*
 * NAME
 *	sign -- DKIM signatures for outgoing mail (libopendkim)
 * SYNOPSIS
 *	lib = sign_lib_new(ttl, err, sizeof(err));
 *	s = signer_new(lib, keys, n, queue_id, &msg, err, sizeof(err));
 *	signer_body(s, chunk, len, ...);	... for each body chunk
 *	signer_finish(s, &values, &n, ...);
 * DESCRIPTION
 *	Every active key of the author domain signs in one pass: each
 *	body chunk goes to every handle as it arrives, nothing is copied.
 *	Signatures use c=relaxed/relaxed, rsa-sha256 or ed25519-sha256
 *	(RFC 8463), no l=, t= always and x= when a TTL is set.
 *
 *	Signed header fields are those RFC 6376 section 5.4.1 recommends,
 *	when present.  The ones below in `oversign` are listed once more
 *	than they occur, so nobody can add a second From or Subject and
 *	keep the signature valid (RFC 6376 section 8.15).
 *
 *	libopendkim quirks handled here: header values from the MTA may
 *	carry bare LF in folding, so DKIM_LIBFLAGS_FIXCRLF is set; the
 *	signature it returns is folded with CRLF, which Postfix would keep
 *	as stray CRs, so they are removed.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#include "milter/dkimhdr.h"
#include "milter/sign.h"

/* RFC 6376 5.4.1: "SHOULD be included in the signature, if present". */
static const char *signhdrs[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date",
	"Resent-From", "Resent-To", "Resent-Cc", "In-Reply-To", "References",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Subscribe",
	"List-Post", "List-Owner", "List-Archive", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Content-ID", "Content-Description", NULL
};

/* Listed once more than present: a second copy breaks the signature. */
static const char *oversign[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", NULL
};

struct sign_lib {
	DKIM_LIB	*lib;
};

struct signer {
	DKIM		*h[SIGN_MAX_KEYS];
	const struct key *key[SIGN_MAX_KEYS];
	size_t		 n;
};

struct sign_lib *
sign_lib_new(unsigned ttl, char *err, size_t errsz)
{
	struct sign_lib *sl = calloc(1, sizeof(*sl));
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	uint64_t ttl64 = ttl;

	if (sl == NULL || (sl->lib = dkim_init(NULL, NULL)) == NULL) {
		snprintf(err, errsz, "cannot initialise libopendkim");
		free(sl);
		return NULL;
	}
	if (dkim_options(sl->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(sl->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    signhdrs, sizeof(char **)) != DKIM_STAT_OK ||
	    dkim_options(sl->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	    oversign, sizeof(char **)) != DKIM_STAT_OK ||
	    (ttl > 0 && dkim_options(sl->lib, DKIM_OP_SETOPT,
	    DKIM_OPTS_SIGNATURETTL, &ttl64, sizeof(ttl64)) != DKIM_STAT_OK)) {
		snprintf(err, errsz, "libopendkim refused our signing options");
		sign_lib_free(sl);
		return NULL;
	}
	return sl;
}

void
sign_lib_free(struct sign_lib *sl)
{
	if (sl == NULL)
		return;
	if (sl->lib != NULL)
		dkim_close(sl->lib);
	free(sl);
}

void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		dkim_free(s->h[i]);
	free(s);
}

static void
lib_error(DKIM *h, DKIM_STAT st, const char *what, char *err, size_t errsz)
{
	const char *detail = h != NULL ? dkim_geterror(h) : NULL;

	snprintf(err, errsz, "%s: %s%s%s", what, dkim_getresultstr(st),
	    detail != NULL && *detail ? ": " : "", detail ? detail : "");
}

struct signer *
signer_new(struct sign_lib *sl, const struct key **keys, size_t n,
    const char *jobid, const struct message *m, char *err, size_t errsz)
{
	struct signer *s = calloc(1, sizeof(*s));
	DKIM_STAT st;
	size_t bad;

	if (s == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n && i < SIGN_MAX_KEYS; i++) {
		s->h[i] = dkim_sign(sl->lib, (const unsigned char *)jobid, NULL,
		    (dkim_sigkey_t)keys[i]->pem, (const unsigned char *)
		    keys[i]->selector, (const unsigned char *)keys[i]->domain,
		    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
		    keys[i]->alg == KEY_ED25519 ? DKIM_SIGN_ED25519SHA256 :
		    DKIM_SIGN_RSASHA256, -1, &st);
		if (s->h[i] == NULL) {
			snprintf(err, errsz, "%s/%s: dkim_sign: %s",
			    keys[i]->domain, keys[i]->selector,
			    dkim_getresultstr(st));
			signer_free(s);
			return NULL;
		}
		s->key[i] = keys[i];
		s->n++;
	}
	if ((st = dkimhdr_feed(s->h, s->n, m, 1, &bad)) != DKIM_STAT_OK) {
		lib_error(s->h[bad], st, "headers", err, errsz);
		goto fail;
	}
	return s;
fail:
	signer_free(s);
	return NULL;
}

int
signer_body(struct signer *s, const unsigned char *buf, size_t len,
    char *err, size_t errsz)
{
	DKIM_STAT st;

	for (size_t i = 0; i < s->n; i++)
		if ((st = dkim_body(s->h[i], (unsigned char *)buf, len)) !=
		    DKIM_STAT_OK) {
			lib_error(s->h[i], st, "dkim_body", err, errsz);
			return -1;
		}
	return 0;
}

/* Drop CRs: libopendkim folds with CRLF, milters hand LF to the MTA. */
static void
strip_cr(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++)
		if (*s != '\r')
			*o++ = *s;
	*o = '\0';
}

int
signer_finish(struct signer *s, char ***values, size_t *n, char *err,
    size_t errsz)
{
	DKIM_STAT st;
	unsigned char *hdr;
	size_t len;
	char **out = calloc(s->n + 1, sizeof(char *));

	*values = NULL;
	*n = 0;
	if (out == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		if ((st = dkim_eom(s->h[i], NULL)) != DKIM_STAT_OK ||
		    (st = dkim_getsighdr_d(s->h[i], strlen("DKIM-Signature: "),
		    &hdr, &len)) != DKIM_STAT_OK) {
			lib_error(s->h[i], st, "signing", err, errsz);
			goto fail;
		}
		if ((out[i] = strndup((char *)hdr, len)) == NULL) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		strip_cr(out[i]);
	}
	*values = out;
	*n = s->n;
	return 0;
fail:
	for (size_t i = 0; out[i] != NULL; i++)
		free(out[i]);
	free(out);
	return -1;
}

void
signer_describe(const struct signer *s, char *buf, size_t bufsz)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; s != NULL && i < s->n && o < bufsz; i++)
		o += (size_t)snprintf(buf + o, bufsz - o, "%s%s/%s",
		    i ? "," : "", s->key[i]->domain, s->key[i]->selector);
}
