/*
 * unpack.h -- a DMARC aggregate report file as received (XML, gzip'd
 * XML, a zip holding the XML) to its XML, within hard limits: the
 * input is hostile (decompression bombs, encrypted or huge members).
 */
#ifndef AUTHFILTER_RUA_UNPACK_H
#define AUTHFILTER_RUA_UNPACK_H

#include <stddef.h>

/* One e-mail or report file read: the largest report e-mails seen are a
 * few MB (report_max_size's default is 10 MB); twice that is generous. */
#define RUA_INPUT_MAX	(20UL * 1024 * 1024)
/* The XML of one report once decompressed: about 100,000 records. */
#define RUA_XML_MAX	(50UL * 1024 * 1024)
/* Beyond RUA_RATIO_FLOOR bytes of output, more than RUA_RATIO_MAX bytes
 * out per byte in is a bomb, not a report: real reports compress about
 * 10:1 to 100:1 (the 900 KB sample: 102:1), deflate's ceiling is 1032:1. */
#define RUA_RATIO_MAX	500
#define RUA_RATIO_FLOOR	(1024UL * 1024)

enum rua_kind {
	RUA_KIND_XML,		/* '<' after an optional BOM and space */
	RUA_KIND_GZIP,		/* 1f 8b */
	RUA_KIND_ZIP,		/* PK\3\4 */
	RUA_KIND_OTHER		/* an e-mail, or nothing we read */
};

/* What the bytes are, by their content (never by a file name). */
enum rua_kind rua_unpack_kind(const unsigned char *buf, size_t len);

/* The XML of a report of any kind but RUA_KIND_OTHER: *xml is malloc'd
 * (NUL-terminated, *xmllen bytes without the NUL); 0, or -1 with what
 * is wrong in err. */
int	rua_unpack(const unsigned char *buf, size_t len, char **xml,
	    size_t *xmllen, char *err, size_t errsz);

/* The two decompressors rua_unpack() uses, each with the limits above. */
int	rua_gunzip(const unsigned char *buf, size_t len, char **out,
	    size_t *outlen, char *err, size_t errsz);
int	rua_unzip(const unsigned char *buf, size_t len, char **out,
	    size_t *outlen, char *err, size_t errsz);

#endif
