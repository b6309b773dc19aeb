/*
 * NAME
 *	mime_in -- the report attached to a DMARC aggregate report e-mail
 * SYNOPSIS
 *	#include "rua/mime_in.h"
 *
 *	int rua_mime_report(const unsigned char *msg, size_t len,
 *	    unsigned char **out, size_t *outlen, char *err, size_t errsz);
 * DESCRIPTION
 *	GMime 3 parses the message (nested multiparts, message/rfc822
 *	parts, base64 and quoted-printable).  The parts are searched depth
 *	first for one typed application/gzip, application/x-gzip,
 *	application/zip, application/x-zip-compressed, text/xml,
 *	application/xml or application/octet-stream, or named *.xml, *.gz
 *	or *.zip; its decoded content must then be gzip, zip or XML by
 *	content (rua_unpack_kind()), else the search goes on.  The caller
 *	caps the message's size (RUA_INPUT_MAX); decoding never makes a
 *	part larger than its encoded form.
 *
 *	GLib aborts when out of memory; that is GMime's contract.
 * DIAGNOSTICS
 *	-1 and err: "not a MIME message", "no report attached".
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "rua/feedback.h"
#include "rua/mime_in.h"
#include "rua/unpack.h"

/* Types receivers use for the report (RFC 7489 7.2.1.1: gzip; zip and
 * plain XML are seen too, and octet-stream from some). */
static const char *const report_types[][2] = {
	{ "application", "gzip" }, { "application", "x-gzip" },
	{ "application", "zip" }, { "application", "x-zip-compressed" },
	{ "application", "x-zip" }, { "text", "xml" },
	{ "application", "xml" }, { "application", "octet-stream" },
};

static int
ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);

	return ls >= lt && strcasecmp(s + ls - lt, tail) == 0;
}

static int
looks_like_report(GMimeObject *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	const char *name = g_mime_part_get_filename(GMIME_PART(part));

	for (size_t i = 0; i < sizeof(report_types) /
	    sizeof(report_types[0]); i++)
		if (ct != NULL && g_mime_content_type_is_type(ct,
		    report_types[i][0], report_types[i][1]))
			return 1;
	return name != NULL && (ends_with(name, ".xml") ||
	    ends_with(name, ".gz") || ends_with(name, ".zip"));
}

/* The part's decoded content, if it is a report: 1 found, 0 not, -1
 * out of memory. */
static int
take_part(GMimeObject *part, unsigned char **out, size_t *outlen)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
	GMimeStream *mem;
	GByteArray *ba;
	int found = 0;

	if (w == NULL)
		return 0;
	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(w, mem) >= 0) {
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		if (ba->len > 0 && rua_unpack_kind(ba->data, ba->len) !=
		    RUA_KIND_OTHER) {
			found = -1;
			if ((*out = malloc(ba->len)) != NULL) {
				memcpy(*out, ba->data, ba->len);
				*outlen = ba->len;
				found = 1;
			}
		}
	}
	g_object_unref(mem);
	return found;
}

/* Depth first; depth bounds hostile nesting. */
static int
search(GMimeObject *obj, unsigned char **out, size_t *outlen, int depth)
{
	int r;

	if (obj == NULL || depth > 16)
		return 0;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++)
			if ((r = search(g_mime_multipart_get_part(mp, i), out,
			    outlen, depth + 1)) != 0)
				return r;
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		return m == NULL ? 0 : search(g_mime_message_get_mime_part(m),
		    out, outlen, depth + 1);
	}
	if (GMIME_IS_PART(obj) && looks_like_report(obj))
		return take_part(obj, out, outlen);
	return 0;
}

int
rua_mime_report(const unsigned char *msg, size_t len, unsigned char **out,
    size_t *outlen, char *err, size_t errsz)
{
	static int initialised;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *m;
	int r;

	if (!initialised) {
		g_mime_init();
		initialised = 1;
	}
	stream = g_mime_stream_mem_new_with_buffer((const char *)msg, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (m == NULL) {
		snprintf(err, errsz, "not a MIME message");
		return -1;
	}
	r = search(g_mime_message_get_mime_part(m), out, outlen, 0);
	g_object_unref(m);
	if (r == 1)
		return 0;
	if (r < 0)
		rua_nomem = 1;
	snprintf(err, errsz, r < 0 ? "out of memory" :
	    "no report attached (gzip, zip or XML)");
	return -1;
}
