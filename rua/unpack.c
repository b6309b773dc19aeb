/*
 * NAME
 *	unpack -- a report file as received (XML, .gz, .zip) to its XML
 * SYNOPSIS
 *	#include "rua/unpack.h"
 *
 *	enum rua_kind rua_unpack_kind(const unsigned char *buf, size_t len);
 *	int rua_unpack(const unsigned char *buf, size_t len, char **xml,
 *	    size_t *xmllen, char *err, size_t errsz);
 * DESCRIPTION
 *	The kind comes from the content: gzip's magic 1f 8b, zip's PK\3\4,
 *	or '<' after an optional UTF-8 BOM and white space.  gzip goes
 *	through zlib's inflate (windowBits 15+32: gzip or zlib header);
 *	bytes after the end of the gzip stream are ignored (Mimecast's
 *	attachments end with a stray CRLF).  A zip is read with libzip from
 *	memory: its first member named *.xml only, never an encrypted one,
 *	and its declared size is checked before a byte is inflated.
 *
 *	Output is capped at RUA_XML_MAX and at RUA_RATIO_MAX bytes out per
 *	byte in once past RUA_RATIO_FLOOR, so a bomb stops after about a
 *	megabyte of work, whatever it claims.
 * DIAGNOSTICS
 *	-1 and err: "gzip: ...", "zip: ..." with what was wrong.
 */
#include "buildconf.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zip.h>
#include <zlib.h>

#include "rua/feedback.h"
#include "rua/unpack.h"

/* Output grows by this much at a time. */
#define UNPACK_CHUNK	(64 * 1024)

enum rua_kind
rua_unpack_kind(const unsigned char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return RUA_KIND_GZIP;
	if (len >= 4 && memcmp(buf, "PK\3\4", 4) == 0)
		return RUA_KIND_ZIP;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
	    buf[i] == '\n'))
		i++;
	if (i < len && buf[i] == '<')
		return RUA_KIND_XML;
	return RUA_KIND_OTHER;
}

/* 0 when `out` bytes from `in` are within the limits, else -1 and err. */
static int
within_limits(const char *what, size_t out, size_t in, char *err,
    size_t errsz)
{
	if (out > RUA_XML_MAX) {
		snprintf(err, errsz, "%s: more than %lu bytes uncompressed",
		    what, RUA_XML_MAX);
		return -1;
	}
	if (out > RUA_RATIO_FLOOR && out / (in ? in : 1) > RUA_RATIO_MAX) {
		snprintf(err, errsz, "%s: compressed more than %d to 1 "
		    "(a decompression bomb?)", what, RUA_RATIO_MAX);
		return -1;
	}
	return 0;
}

/* Room for `more` bytes (and a NUL) after *len in *buf; -1 when out of
 * memory. */
static int
reserve(char **buf, size_t *cap, size_t len, size_t more)
{
	char *p;
	size_t want;

	if (len + more + 1 <= *cap)
		return 0;
	want = *cap ? *cap : UNPACK_CHUNK;
	while (want < len + more + 1)
		want *= 2;
	if ((p = realloc(*buf, want)) == NULL)
		return -1;
	*buf = p;
	*cap = want;
	return 0;
}

int
rua_gunzip(const unsigned char *buf, size_t len, char **out, size_t *outlen,
    char *err, size_t errsz)
{
	z_stream z;
	char *o = NULL;
	size_t cap = 0, n = 0;
	int zr = Z_OK;

	if (len > RUA_INPUT_MAX || len > UINT_MAX) {
		snprintf(err, errsz, "gzip: more than %lu bytes", RUA_INPUT_MAX);
		return -1;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK) {
		rua_nomem = 1;
		snprintf(err, errsz, "gzip: out of memory");
		return -1;
	}
	z.next_in = (unsigned char *)(uintptr_t)buf;
	z.avail_in = (unsigned)len;
	while (zr != Z_STREAM_END) {
		if (reserve(&o, &cap, n, UNPACK_CHUNK) != 0) {
			rua_nomem = 1;
			snprintf(err, errsz, "gzip: out of memory");
			goto fail;
		}
		z.next_out = (unsigned char *)o + n;
		z.avail_out = UNPACK_CHUNK;
		zr = inflate(&z, Z_NO_FLUSH);
		n += UNPACK_CHUNK - z.avail_out;
		if (zr != Z_OK && zr != Z_STREAM_END) {
			snprintf(err, errsz, "gzip: %s", zr == Z_BUF_ERROR ?
			    "truncated" : z.msg ? z.msg : "corrupt data");
			goto fail;
		}
		if (within_limits("gzip", n, len - z.avail_in, err, errsz) != 0)
			goto fail;
	}
	inflateEnd(&z);
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
fail:
	inflateEnd(&z);
	free(o);
	return -1;
}

/* The index of the first member named *.xml, or -1 and err. */
static zip_int64_t
first_xml(zip_t *za, zip_stat_t *st, char *err, size_t errsz)
{
	zip_int64_t n = zip_get_num_entries(za, 0);

	for (zip_int64_t i = 0; i < n; i++) {
		size_t l;
		if (zip_stat_index(za, (zip_uint64_t)i, 0, st) != 0 ||
		    !(st->valid & ZIP_STAT_NAME))
			continue;
		l = strlen(st->name);
		if (l >= 4 && strcasecmp(st->name + l - 4, ".xml") == 0)
			return i;
	}
	snprintf(err, errsz, "zip: no .xml member");
	return -1;
}

/* Read the member with the limits: 0, or -1 and err. */
static int
read_member(zip_t *za, zip_int64_t i, const zip_stat_t *st, size_t inlen,
    char **out, size_t *outlen, char *err, size_t errsz)
{
	zip_file_t *zf;
	char *o = NULL;
	size_t cap = 0, n = 0;
	zip_int64_t r;

	if ((st->valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	    st->encryption_method != ZIP_EM_NONE) {
		snprintf(err, errsz, "zip: %s is encrypted", st->name);
		return -1;
	}
	if (!(st->valid & ZIP_STAT_SIZE) || st->size > RUA_XML_MAX) {
		snprintf(err, errsz, "zip: %s declares more than %lu bytes",
		    st->name, RUA_XML_MAX);
		return -1;
	}
	if ((zf = zip_fopen_index(za, (zip_uint64_t)i, 0)) == NULL) {
		snprintf(err, errsz, "zip: %s: %s", st->name,
		    zip_strerror(za));
		return -1;
	}
	do {
		if (reserve(&o, &cap, n, UNPACK_CHUNK) != 0) {
			rua_nomem = 1;
			snprintf(err, errsz, "zip: out of memory");
			goto fail;
		}
		if ((r = zip_fread(zf, o + n, UNPACK_CHUNK)) < 0) {
			snprintf(err, errsz, "zip: %s: %s", st->name,
			    zip_file_strerror(zf));
			goto fail;
		}
		n += (size_t)r;
		/* The declared size may lie: the output is what counts. */
		if (within_limits("zip", n, inlen, err, errsz) != 0)
			goto fail;
	} while (r > 0);
	zip_fclose(zf);
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
fail:
	zip_fclose(zf);
	free(o);
	return -1;
}

int
rua_unzip(const unsigned char *buf, size_t len, char **out, size_t *outlen,
    char *err, size_t errsz)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *za;
	zip_stat_t st;
	zip_int64_t i;
	int rc;

	if (len > RUA_INPUT_MAX) {
		snprintf(err, errsz, "zip: more than %lu bytes", RUA_INPUT_MAX);
		return -1;
	}
	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(buf, len, 0, &ze)) == NULL) {
		snprintf(err, errsz, "zip: %s", zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return -1;
	}
	if ((za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS,
	    &ze)) == NULL) {
		snprintf(err, errsz, "zip: %s", zip_error_strerror(&ze));
		zip_source_free(src);
		zip_error_fini(&ze);
		return -1;
	}
	zip_error_fini(&ze);
	zip_stat_init(&st);
	if ((i = first_xml(za, &st, err, errsz)) < 0)
		rc = -1;
	else
		rc = read_member(za, i, &st, len, out, outlen, err, errsz);
	zip_discard(za);	/* frees src too */
	return rc;
}

int
rua_unpack(const unsigned char *buf, size_t len, char **xml, size_t *xmllen,
    char *err, size_t errsz)
{
	switch (rua_unpack_kind(buf, len)) {
	case RUA_KIND_GZIP:
		return rua_gunzip(buf, len, xml, xmllen, err, errsz);
	case RUA_KIND_ZIP:
		return rua_unzip(buf, len, xml, xmllen, err, errsz);
	case RUA_KIND_XML:
		if (len > RUA_XML_MAX) {
			snprintf(err, errsz, "XML: more than %lu bytes",
			    RUA_XML_MAX);
			return -1;
		}
		if ((*xml = malloc(len + 1)) == NULL) {
			rua_nomem = 1;
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		memcpy(*xml, buf, len);
		(*xml)[len] = '\0';
		*xmllen = len;
		return 0;
	default:
		snprintf(err, errsz, "neither XML, gzip nor zip");
		return -1;
	}
}
