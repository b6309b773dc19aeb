/*
 * xml_in.h -- a DMARC aggregate report's XML (RFC 7489 appendix C or
 * RFC 9990) read into a struct rua_feedback, refusing what is hostile
 * or incomplete.
 */
#ifndef AUTHFILTER_RUA_XML_IN_H
#define AUTHFILTER_RUA_XML_IN_H

#include <stddef.h>

#include "rua/feedback.h"

/* Records in one report at most: each costs 6.5 KB in memory (about
 * 130 MB, 170 MB while the array grows), and a minimal record is 75
 * bytes of XML, so the cap, not the file size, bounds the memory; the
 * largest real reports have a few thousand. */
#define RUA_RECORDS_MAX	20000

/* RFC 9990's namespace; RFC 7489's reports have none. */
#define RUA_XMLNS_9990	"urn:ietf:params:xml:ns:dmarc-2.0"

/* Fill fb (zeroed first; rua_feedback_free() it, also after an error)
 * from len bytes of XML: 0, or -1 and what is wrong or missing in err
 * ("record 3: no <count>"). */
int	rua_xml_read(const char *xml, size_t len, struct rua_feedback *fb,
	    char *err, size_t errsz);

#endif
