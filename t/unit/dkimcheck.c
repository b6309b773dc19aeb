/* Unit tests for milter/dkimcheck.c: RFC 6376 3.2 tag-lists checked
 * strictly (a tag twice, names differing in case, bad syntax), tag
 * values read with their white space removed, k= against a=, and key
 * records rewritten to what libopendkim's 1 KiB buffer holds. */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "lib/tagval.h"
#include "milter/dkimcheck.h"
#include "t/tap.h"

static int
list(const char *s, char *why, size_t whysz)
{
	why[0] = '\0';
	return tagval_check(s, strlen(s), why, whysz);
}

static int
key(const char *rec, char *out, size_t outsz, char *why, size_t whysz)
{
	return dkimcheck_key_record(rec, strlen(rec), out, outsz, why, whysz);
}

int
main(void)
{
	char why[128], out[1025], v[64];
	const char *bad = "a=rsa-sha256; 1x=2; d=ex.net";
	const char *sig = "v=1; a=rsa-sha256; c=relaxed/simple;\r\n\t"
	    "d=example.net; s=sel; h=from:to; bh=abc=;\r\n\tb=AB CD\r\n EF";

	/* ---- tag-lists ---- */
	is_int(list(sig, why, sizeof(why)), 0, "a folded signature is a "
	    "tag-list");
	is_int(list("v=1; a=rsa-sha256;", why, sizeof(why)), 0,
	    "a trailing \";\" is allowed (RFC 6376 3.2)");
	is_int(list("v=1;; a=rsa-sha256; ", why, sizeof(why)), 0,
	    "an empty tag-spec is tolerated, as libopendkim does");
	is_int(list("v=1; d=a.example; s=x; d=b.example", why, sizeof(why)),
	    -1, "d= twice: the tag-list is invalid");
	is_str(why, "tag \"d\" occurs twice (RFC 6376 3.2)", "and says which");
	is_int(list("v=1; d=a.example; D=b.example", why, sizeof(why)), -1,
	    "d= and D=: refused (libopendkim reads names without case)");
	is_str(why, "tags \"d\" and \"D\" differ only in case", "and says so");
	is_int(list("v=1; bh =x; b = y", why, sizeof(why)), 0,
	    "white space around \"=\" is FWS");
	is_int(list("v=1; 1a=x", why, sizeof(why)), -1,
	    "a tag name starting with a digit");
	is_int(list("v=1; a-b=x", why, sizeof(why)), -1, "a \"-\" in a name");
	is_int(list("v=1; a", why, sizeof(why)), -1, "a tag without \"=\"");
	is_str(why, "tag \"a\" has no \"=\"", "says which tag");
	is_int(list("v=1; n=caf\xc3\xa9", why, sizeof(why)), -1,
	    "8-bit bytes in a value");
	is_int(list("v=1; n=a\001b", why, sizeof(why)), -1,
	    "a control character in a value");
	{
		char big[64 * 8 + 32];
		size_t o = 0;
		for (int i = 0; i < TAGVAL_MAX_TAGS; i++)
			o += (size_t)snprintf(big + o, sizeof(big) - o,
			    "x%d=1;", i);
		is_int(list(big, why, sizeof(why)), 0, "64 tags: accepted");
		snprintf(big + o, sizeof(big) - o, "y=1");
		is_int(list(big, why, sizeof(why)), -1, "65 tags: refused");
	}

	/* ---- tag values ---- */
	is_int(tagval_get(sig, strlen(sig), "b", v, sizeof(v)), 1,
	    "b= found");
	is_str(v, "ABCDEF", "b= without its folding white space");
	is_int(tagval_get(sig, strlen(sig), "a", v, sizeof(v)), 1,
	    "a= found");
	is_str(v, "rsa-sha256", "a= as written");
	is_int(tagval_get(sig, strlen(sig), "l", v, sizeof(v)), 0,
	    "l= absent");
	is_int(tagval_get(sig, strlen(sig), "D", v, sizeof(v)), 0,
	    "names are case-sensitive: D= is not d=");
	is_int(tagval_get(bad, strlen(bad), "d", v, sizeof(v)), 1, "a malformed tag-spec does not hide the others");
	is_str(v, "ex.net", "d= of that signature");
	is_int(tagval_get("a=x; a=y", 8, "a", v, sizeof(v)), 1,
	    "a tag twice: found");
	is_str(v, "y", "the last one, as libopendkim reads it");
	is_int(tagval_get(sig, strlen(sig), "d", v, 4), -1,
	    "a value longer than the buffer");
	is_str(v, "", "leaves it empty");

	/* ---- k= against a= (RFC 6376 6.1.2 step 8) ---- */
	is_int(dkimcheck_key_alg("rsa", "rsa-sha256", why, sizeof(why)), 0,
	    "k=rsa, a=rsa-sha256");
	is_int(dkimcheck_key_alg(NULL, "rsa-sha256", why, sizeof(why)), 0,
	    "no k= (rsa), a=rsa-sha256");
	is_int(dkimcheck_key_alg("RSA", "rsa-sha1", why, sizeof(why)), 0,
	    "k=RSA, a=rsa-sha1 (ABNF strings ignore case)");
	is_int(dkimcheck_key_alg("ed25519", "ed25519-sha256", why,
	    sizeof(why)), 0, "k=ed25519, a=ed25519-sha256");
	is_int(dkimcheck_key_alg("rsa", "ed25519-sha256", why, sizeof(why)),
	    -1, "k=rsa, a=ed25519-sha256: refused");
	is_str(why, "key k=rsa does not fit a=ed25519-sha256", "says why");
	is_int(dkimcheck_key_alg(NULL, "ed25519-sha256", why, sizeof(why)),
	    -1, "no k= (rsa), a=ed25519-sha256: refused");
	is_int(dkimcheck_key_alg("ed25519", "rsa-sha256", why, sizeof(why)),
	    -1, "k=ed25519, a=rsa-sha256: refused");
	is_int(dkimcheck_key_alg("rsa", "rsa-sha512", why, sizeof(why)), 0,
	    "an a= we do not know is left to the verifier");

	/* ---- key records ---- */
	is_int(key("v=DKIM1; k=rsa; n=a note; p=AB\r\n CD", out, sizeof(out), why, sizeof(why)), 0, "a key record");
	is_str(out, "v=DKIM1; k=rsa; p=ABCD", "rewritten: notes go, p= "
	    "without white space");
	is_int(key("p=AB; t = y:s ;h=sha256; k=rsa;v=DKIM1;s=email", out, sizeof(out), why, sizeof(why)), 0,
	    "tags in any order");
	is_str(out, "v=DKIM1; h=sha256; k=rsa; s=email; t=y:s; p=AB",
	    "in the order v h k s t p");
	is_int(key("v=DKIM1; p=", out, sizeof(out), why,
	    sizeof(why)), 0, "an empty p= (revoked) stays");
	is_str(out, "v=DKIM1; p=", "as it was");
	is_int(key("v=DKIM1; k=rsa; p=AAAA; p=BBBB", out,
	    sizeof(out), why, sizeof(why)), -1, "p= twice: unusable");
	is_str(why, "tag \"p\" occurs twice (RFC 6376 3.2)", "says which");
	is_int(key("v=DKIM1; k=rsa; k=ed25519; p=AAAA", out, sizeof(out), why, sizeof(why)), -1, "k= twice: unusable");
	is_int(key("", out, sizeof(out), why,
	    sizeof(why)), -1, "an empty record: unusable");
	is_int(key("v=DKIM1; k", out, sizeof(out), why,
	    sizeof(why)), -1, "a broken tag: unusable");
	{
		/* 60 KiB of notes before a 400-character p= */
		size_t n = 61440;
		char *rec = malloc(n + 512);
		if (rec == NULL)
			return 1;
		memcpy(rec, "v=DKIM1; k=rsa; n=", 18);
		memset(rec + 18, 'x', n);
		memcpy(rec + 18 + n, "; p=", 4);
		memset(rec + 22 + n, 'A', 400);
		rec[22 + n + 400] = '\0';
		is_int(dkimcheck_key_record(rec, strlen(rec), out, sizeof(out),
		    why, sizeof(why)), 0, "60 KiB of notes: fits 1 KiB");
		ok(strlen(out) == 18 + 400 && strncmp(out, "v=DKIM1; k=rsa; "
		    "p=AAAA", 22) == 0, "rewritten with its key");
		/* a p= that cannot fit */
		memcpy(rec, "v=DKIM1; p=", 11);
		memset(rec + 11, 'A', 1100);
		rec[11 + 1100] = '\0';
		is_int(dkimcheck_key_record(rec, strlen(rec), out, sizeof(out),
		    why, sizeof(why)), -2, "a p= of 1100 characters: too long");
		is_str(why, "key record too long for the verifier: p= of 1100 "
		    "characters", "says how long");
		is_str(out, "", "and leaves nothing half-written");
		free(rec);
	}
	return done_testing();
}
