/*
 * NAME
 *	cfws -- RFC 5322 comments and folding white space
 * DESCRIPTION
 *	RFC 5322 section 3.2.2: CFWS may stand between most tokens of a
 *	structured header field, and comments nest and may escape their
 *	parentheses with a backslash.  The From and Authentication-Results
 *	parsers skip it the same way, through here.  Lengths, not NUL
 *	bytes, bound every read.
 */
#include "buildconf.h"

#include <stddef.h>

#include "lib/cfws.h"

const char *
cfws_skip(const char *p, const char *end)
{
	int depth;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n'))
			p++;
		if (p >= end || *p != '(')
			return p;
		depth = 0;
		do {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (depth > 0 && p < end);
		if (depth > 0)
			return NULL;
	}
}
