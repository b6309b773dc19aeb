/*
 * NAME
 *	dkimhdr -- hand a message's header fields to libopendkim handles
 * DESCRIPTION
 *	libopendkim wants each header "in canonical format": "Name:value"
 *	with CRLF line breaks.  Milters get folded values with bare LF
 *	(Postfix stores lines without CR), and DKIM_LIBFLAGS_FIXCRLF covers
 *	only the body, so a folded header (a DKIM-Signature's b= above all)
 *	would not verify.  Every LF not already after a CR becomes CRLF
 *	here, for verifying; the value keeps its leading
 *	white space (SMFIP_HDR_LEADSPC), as simple canonicalization needs.
 *
 *	libopendkim copies each header into a 64 KiB buffer but keeps the
 *	full length, so simple canonicalization then reads past the buffer
 *	(ASan: heap-buffer-overflow in dkim_eoh).  A header line of
 *	DKIMHDR_MAX bytes or more is never handed over: verifying skips it
 *	(a signature covering it fails), signing reports an error.
 */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "milter/dkimhdr.h"

/* libopendkim's header copy buffer is 65536 bytes including the NUL. */
#define DKIMHDR_MAX 65535

DKIM_STAT
dkimhdr_feed(DKIM **h, size_t n, const struct message *m, int strict,
    size_t *failed)
{
	char *line = NULL;
	size_t cap = 0, len;
	DKIM_STAT st;

	*failed = 0;
	for (size_t j = 0; j < m->nhdrs; j++) {
		const char *v = m->hdrs[j].value;
		size_t need = strlen(m->hdrs[j].name) + 2 * m->hdrs[j].vlen + 2;

		if (need > cap) {
			char *g = realloc(line, need);
			if (g == NULL) {
				free(line);
				return DKIM_STAT_NORESOURCE;
			}
			line = g;
			cap = need;
		}
		len = strlen(m->hdrs[j].name);
		memcpy(line, m->hdrs[j].name, len);
		line[len++] = ':';
		for (size_t i = 0; i < m->hdrs[j].vlen; i++) {
			if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r'))
				line[len++] = '\r';
			line[len++] = v[i];
		}
		line[len] = '\0';
		if (len >= DKIMHDR_MAX) {
			if (strict) {
				free(line);
				return DKIM_STAT_INTERNAL;
			}
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			st = dkim_header(h[k], (unsigned char *)line, len);
			/* A header libopendkim finds malformed (";" in a name,
			 * a broken DKIM-Signature) is left out, not fatal:
			 * only resource errors stop signing. */
			if (st != DKIM_STAT_OK && strict &&
			    (st == DKIM_STAT_NORESOURCE ||
			    st == DKIM_STAT_INTERNAL)) {
				*failed = k;
				free(line);
				return st;
			}
		}
	}
	free(line);
	for (size_t k = 0; k < n; k++)
		if ((st = dkim_eoh(h[k])) != DKIM_STAT_OK) {
			*failed = k;
			return st;
		}
	return DKIM_STAT_OK;
}
