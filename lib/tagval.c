/*
 * NAME
 *	tagval -- one tag of a tag=value list (RFC 6376 3.2)
 * SYNOPSIS
 *	if (tagval_get(sig, len, "d", d, sizeof(d)) == 0) ...
 * DESCRIPTION
 *	tag-list = tag-spec *( ";" tag-spec ) [ ";" ], tag-spec = [FWS]
 *	tag-name [FWS] "=" [FWS] tag-value [FWS].  White space (SP, HTAB,
 *	CR, LF) anywhere in the value is dropped, as DKIM does for b= and
 *	as no d= or s= may contain.  This reads, it does not validate:
 *	callers that decide anything validate the whole list.
 */
#include "buildconf.h"

#include <string.h>

#include "lib/tagval.h"

static int
wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
tagval_get(const char *list, size_t len, const char *tag, char *out,
    size_t outsz)
{
	size_t tl = strlen(tag), i = 0;

	while (i < len) {
		size_t name, nlen, o = 0;
		while (i < len && wsp(list[i]))
			i++;
		name = i;
		while (i < len && list[i] != '=' && list[i] != ';' &&
		    !wsp(list[i]))
			i++;
		nlen = i - name;
		while (i < len && wsp(list[i]))
			i++;
		if (i >= len || list[i] != '=') {
			while (i < len && list[i] != ';')
				i++;
			i++;
			continue;
		}
		i++;
		if (nlen != tl || strncmp(list + name, tag, tl) != 0) {
			while (i < len && list[i] != ';')
				i++;
			i++;
			continue;
		}
		for (; i < len && list[i] != ';'; i++) {
			if (wsp(list[i]))
				continue;
			if (o + 1 >= outsz)
				return -1;
			out[o++] = list[i];
		}
		out[o] = '\0';
		return 0;
	}
	return -1;
}
