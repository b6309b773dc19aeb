/*
 * NAME
 *	dkimhdr -- hand a message's header fields to a libopendkim verify
 *	handle
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
 *	DKIMHDR_MAX bytes or more is never handed over: it is skipped, and
 *	a signature covering it fails.  Signing does not use libopendkim
 *	(sign.c).
 */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "milter/dkimhdr.h"

/* libopendkim's header copy buffer is 65536 bytes including the NUL. */
#define DKIMHDR_MAX 65535

DKIM_STAT
dkimhdr_feed(DKIM *h, const struct message *m)
{
	char *line = NULL;
	size_t cap = 0, len;

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
		if (len >= DKIMHDR_MAX)
			continue;
		/* A header libopendkim finds malformed (";" in a name, a
		 * broken DKIM-Signature) is its signature's problem: the
		 * results say so. */
		(void)dkim_header(h, (unsigned char *)line, len);
	}
	free(line);
	return dkim_eoh(h);
}
