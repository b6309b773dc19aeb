/*
 * cfws.h -- RFC 5322 comments and folding white space.
 */
#ifndef AUTHFILTER_CFWS_H
#define AUTHFILTER_CFWS_H

/* Skip white space, line breaks and (nested, backslash-escaped) comments
 * from p up to end.  Returns where the next token starts, or NULL when a
 * comment is not closed before end. */
const char	*cfws_skip(const char *p, const char *end);

#endif
