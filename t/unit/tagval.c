/* Unit tests for lib/tagval.c (more in t/unit/dkimcheck.c). */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "lib/tagval.h"
#include "t/tap.h"

static int
get(const char *list, const char *tag, char *out, size_t outsz)
{
	return tagval_get(list, strlen(list), tag, out, outsz);
}

int
main(void)
{
	char v[64];

	ok(get("v=1; a=rsa-sha256; d=example.org; s=s1", "d", v, sizeof(v)) ==
	    1 && strcmp(v, "example.org") == 0, "d= among others");
	ok(get(" v = 1 ;\r\n\ts = sel ; d=x", "s", v, sizeof(v)) == 1 &&
	    strcmp(v, "sel") == 0, "folding white space around name and value");
	ok(get("b=AbC\r\n\t dEf; d=x", "b", v, sizeof(v)) == 1 &&
	    strcmp(v, "AbCdEf") == 0, "white space inside a value dropped");
	ok(get("dd=wrong; d=right", "d", v, sizeof(v)) == 1 &&
	    strcmp(v, "right") == 0, "a longer tag name is another tag");
	ok(get("D=upper; d=lower", "d", v, sizeof(v)) == 1 &&
	    strcmp(v, "lower") == 0, "tag names are case-sensitive");
	ok(get("d=first; d=second", "d", v, sizeof(v)) == 1 &&
	    strcmp(v, "second") == 0, "the last of two (tagval_check refuses "
	    "such a list)");
	ok(get("garbage; d=x", "d", v, sizeof(v)) == 1 &&
	    strcmp(v, "x") == 0, "a tag-spec without = is skipped");
	ok(get("a=1; s=2", "d", v, sizeof(v)) == 0, "absent: 0");
	ok(get("d=0123456789", "d", v, 5) == -1, "too long for out: -1");
	ok(get("d=", "d", v, sizeof(v)) == 1 && v[0] == '\0', "empty value");
	/* The list is no string: nothing past len is read (ASan checks;
	 * the fuzzer found an error message reading 16 bytes on). */
	{
		char why[64], *b = malloc(3);
		memcpy(b, "1=x", 3);
		ok(tagval_check(b, 3, why, sizeof(why)) == -1 &&
		    strcmp(why, "malformed tag name at \"1=x\"") == 0,
		    "a bad tag name quoted from within the list only");
		free(b);
	}
	return done_testing();
}
