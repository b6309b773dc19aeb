/*
 * NAME
 *	dmarc_record -- a DMARC policy record (RFC 9989 4.7), parsed
 * SYNOPSIS
 *	if (dmarc_record_parse(txt, &rec) == DMARC_REC_OK) ...
 * DESCRIPTION
 *	A pure function over the TXT record's text, for dmarc.c and for
 *	the fuzzer (t/fuzz/parsers.c).  See dmarc.h for what it returns.
 *
 *	RFC 9989 drops pct=, rf= and ri=: they are unknown tags now, and
 *	ignored.  A bad np= makes the record unusable like a bad sp= (4.10.1:
 *	"contains an sp or np tag that is not valid"), unless a valid rua=
 *	turns it into p=none.  psd= other than y or n counts as u.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/dmarc.h"

/* RFC 9989 4.8 ABNF (as RFC 7489 6.4); WSP around "=" and ";". */

static const char *
skip_wsp(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static enum dmarc_policy
policy_value(const char *v)
{
	if (strcasecmp(v, "none") == 0)
		return DMARC_P_NONE;
	if (strcasecmp(v, "quarantine") == 0)
		return DMARC_P_QUARANTINE;
	if (strcasecmp(v, "reject") == 0)
		return DMARC_P_REJECT;
	return DMARC_P_UNSET;
}

/* A reporting URI list with at least one plausible URI (scheme ":"). */
static int
rua_valid(const char *v)
{
	const char *c = strchr(v, ':');

	if (c == NULL || c == v)
		return 0;
	for (const char *p = v; p < c; p++)
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' &&
		    *p != '.')
			return 0;
	return c[1] != '\0';
}

enum dmarc_parse
dmarc_record_parse(const char *txt, struct dmarc_record *r)
{
	static const char *const tags[] = { "v", "p", "sp", "np", "adkim",
	    "aspf", "t", "psd", "rua" };
	int seen[sizeof(tags) / sizeof(tags[0])] = { 0 };
	const char *p = skip_wsp(txt);
	int p_ok = 0, sp_bad = 0, np_bad = 0, rua_ok = 0, dup = 0;

	memset(r, 0, sizeof(*r));
	/* "v" *WSP "=" *WSP "DMARC1", exactly, then ";" or the end. */
	if (*p != 'v')
		return DMARC_REC_NOT_DMARC;
	p = skip_wsp(p + 1);
	if (*p != '=')
		return DMARC_REC_NOT_DMARC;
	p = skip_wsp(p + 1);
	if (strncmp(p, "DMARC1", 6) != 0)
		return DMARC_REC_NOT_DMARC;
	p = skip_wsp(p + 6);
	if (*p != ';' && *p != '\0')
		return DMARC_REC_NOT_DMARC;
	seen[0] = 1;

	while (*p == ';') {
		char name[16], val[512];
		size_t n = 0, k;
		const char *e;

		p = skip_wsp(p + 1);
		if (*p == '\0')
			break;
		while (isalnum((unsigned char)*p) || *p == '_') {
			if (n + 1 < sizeof(name))
				name[n++] = *p;
			p++;
		}
		name[n] = '\0';
		p = skip_wsp(p);
		if (*p != '=') {
			/* Not a tag: skip to the next ";". */
			while (*p != '\0' && *p != ';')
				p++;
			continue;
		}
		p = skip_wsp(p + 1);
		e = p;
		while (*e != '\0' && *e != ';')
			e++;
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= sizeof(val))
			n = sizeof(val) - 1;
		memcpy(val, p, n);
		val[n] = '\0';
		p = e;
		for (k = 0; k < sizeof(tags) / sizeof(tags[0]); k++)
			if (strcasecmp(name, tags[k]) == 0)
				break;
		if (k == sizeof(tags) / sizeof(tags[0]))
			continue;		/* unknown tags are ignored */
		if (seen[k]++)
			dup = 1;
		if (strcasecmp(name, "p") == 0) {
			r->p = policy_value(val);
			p_ok = r->p != DMARC_P_UNSET;
		} else if (strcasecmp(name, "sp") == 0) {
			r->sp = policy_value(val);
			sp_bad = r->sp == DMARC_P_UNSET;
		} else if (strcasecmp(name, "np") == 0) {
			r->np = policy_value(val);
			np_bad = r->np == DMARC_P_UNSET;
		} else if (strcasecmp(name, "adkim") == 0)
			r->adkim_strict = strcasecmp(val, "s") == 0;
		else if (strcasecmp(name, "aspf") == 0)
			r->aspf_strict = strcasecmp(val, "s") == 0;
		else if (strcasecmp(name, "t") == 0)
			r->testing = strcasecmp(val, "y") == 0;
		else if (strcasecmp(name, "psd") == 0)
			r->psd = strcasecmp(val, "y") == 0 ? DMARC_PSD_Y :
			    strcasecmp(val, "n") == 0 ? DMARC_PSD_N :
			    DMARC_PSD_U;
		else if (strcasecmp(name, "rua") == 0)
			rua_ok = rua_valid(val);
	}
	if (dup)
		return DMARC_REC_INVALID;
	if (!p_ok || sp_bad || np_bad) {
		/* RFC 9989 4.10.1: act as p=none when rua is usable. */
		if (!rua_ok)
			return DMARC_REC_INVALID;
		r->p = DMARC_P_NONE;
		r->sp = r->np = DMARC_P_UNSET;
	}
	return DMARC_REC_OK;
}
