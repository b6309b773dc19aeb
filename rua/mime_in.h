/*
 * mime_in.h -- the report attached to a DMARC aggregate report e-mail.
 */
#ifndef AUTHFILTER_RUA_MIME_IN_H
#define AUTHFILTER_RUA_MIME_IN_H

#include <stddef.h>

/* The decoded bytes of the first part of the message (len bytes, RFC
 * 5322) that holds a report (gzip, zip or XML by content): *out is
 * malloc'd; 0, or -1 and what is wrong in err. */
int	rua_mime_report(const unsigned char *msg, size_t len,
	    unsigned char **out, size_t *outlen, char *err, size_t errsz);

#endif
