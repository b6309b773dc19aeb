/*
 * NAME
 *	dkimcheck -- strict checks of DKIM-Signature values and key records
 * SYNOPSIS
 *	dkimcheck_key_alg(k, a, why, sizeof(why));
 *	dkimcheck_key_record(txt, len, buf, buflen, why, sizeof(why));
 * DESCRIPTION
 *	libopendkim reads a tag=value list leniently: a tag given twice
 *	silently takes the last value, and tag names are compared without
 *	case although RFC 6376 3.2 makes them case-sensitive, so "D=" would
 *	replace "d=".  RFC 6376 3.2: "if a tag name does occur more than
 *	once, the entire tag-list is invalid".  These functions look at the
 *	text first (lib/tagval.c: tagval_check()), so such a signature or
 *	key record gets a verdict of its own (permerror) instead of
 *	whatever the library made of it.
 *
 *	A key record is at most a DNS message (64 KiB) but libopendkim
 *	copies it into a 1 KiB buffer, cutting longer ones (a long n= note
 *	before p= loses the key).  dkimcheck_key_record() keeps only what a
 *	verifier reads, so any record whose key fits gets a real verdict.
 * SEE ALSO
 *	verify.c, t/unit/dkimcheck.c
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/tagval.h"
#include "milter/dkimcheck.h"

int
dkimcheck_key_alg(const char *k, const char *a, char *why, size_t whysz)
{
	const char *type;

	/* RFC 6376 3.5 a= and 3.6.1 k= (default "rsa"); RFC 8463 3. */
	if (strcasecmp(a, "rsa-sha256") == 0 || strcasecmp(a, "rsa-sha1") == 0)
		type = "rsa";
	else if (strcasecmp(a, "ed25519-sha256") == 0)
		type = "ed25519";
	else
		return 0;
	if (k == NULL)
		k = "rsa";
	if (strcasecmp(k, type) == 0)
		return 0;
	/* RFC 6376 6.1.2 step 8: a key not suitable for the a= and k=
	 * algorithm: "PERMFAIL (inappropriate key algorithm)". */
	snprintf(why, whysz, "key k=%.16s does not fit a=%.16s", k, a);
	return -1;
}

int
dkimcheck_key_record(const char *rec, size_t len, char *out, size_t outsz,
    char *why, size_t whysz)
{
	static const char *keep[] = { "v", "h", "k", "s", "t", "p" };
	struct tagval_spec t[TAGVAL_MAX_TAGS];
	size_t o = 0;
	int n;

	if (outsz == 0)
		return -2;
	out[0] = '\0';
	if ((n = tagval_split(rec, len, t, TAGVAL_MAX_TAGS, 1, why, whysz)) < 0 ||
	    tagval_duplicates(t, (size_t)n, why, whysz) != 0)
		return -1;	/* RFC 6376 6.1.2 step 5: key syntax error */
	if (n == 0) {
		snprintf(why, whysz, "empty key record");
		return -1;
	}
	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
		for (int i = 0; i < n; i++) {
			if (!tagval_is(&t[i].name, keep[k]))
				continue;
			/* o < outsz: out + o is always a string's end */
			o += (size_t)snprintf(out + o, outsz - o, "%s%s=",
			    o > 0 ? "; " : "", keep[k]);
			if (o >= outsz || tagval_squeeze(&t[i].value, out + o,
			    outsz - o) != 0) {
				out[0] = '\0';
				snprintf(why, whysz, "key record too long for "
				    "the verifier: %s= of %zu characters",
				    keep[k], t[i].value.n);
				return -2;
			}
			o += strlen(out + o);
		}
	return 0;
}
