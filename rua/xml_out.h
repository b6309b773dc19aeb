/*
 * xml_out.h -- an aggregate report (struct rua_feedback) as RFC 9990 XML.
 */
#ifndef AUTHFILTER_RUA_XML_OUT_H
#define AUTHFILTER_RUA_XML_OUT_H

#include <stddef.h>

#include "rua/feedback.h"

#define RUA_XML_NS	"urn:ietf:params:xml:ns:dmarc-2.0"

/* fb's metadata and policy with its records [first, first + n) as one
 * <feedback> document, UTF-8, into *out (malloc'd, NUL-terminated,
 * *outlen bytes without the NUL): 0, or -1 with err.  The dmarc-2.0
 * namespace is declared when fb->rfc9990 is set. */
int	rua_xml_write(const struct rua_feedback *fb, size_t first, size_t n,
	    char **out, size_t *outlen, char *err, size_t errsz);

#endif
