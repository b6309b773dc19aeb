/*
 * NAME
 *	dkimhdr -- hand a message's header fields to libopendkim handles
 * DESCRIPTION
 *	libopendkim wants each header "in canonical format": "Name:value"
 *	with CRLF line breaks.  Milters get folded values with bare LF
 *	(Postfix stores lines without CR), and DKIM_LIBFLAGS_FIXCRLF covers
 *	only the body, so a folded header (a DKIM-Signature's b= above all)
 *	would not verify.  Every LF not already after a CR becomes CRLF
 *	here, for signing and verifying alike; the value keeps its leading
 *	white space (SMFIP_HDR_LEADSPC), as simple canonicalization needs.
 */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "milter/dkimhdr.h"

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
		for (size_t k = 0; k < n; k++) {
			st = dkim_header(h[k], (unsigned char *)line, len);
			if (st != DKIM_STAT_OK && strict) {
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
