/*
 * NAME
 *	header -- a message header field's name, compared as MTAs do
 * SYNOPSIS
 *	if (header_name_is(h->name, "From")) ...
 * DESCRIPTION
 *	Header names are compared without regard to case, and white space
 *	between the name and the colon (which MTAs pass on as part of the
 *	name) is ignored, as DKIM canonicalisation and MTAs treat it.
 */
#include "buildconf.h"

#include <string.h>
#include <strings.h>

#include "lib/header.h"

int
header_name_is(const char *name, const char *want)
{
	size_t n = strlen(name), w = strlen(want);

	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	return n == w && strncasecmp(name, want, w) == 0;
}
