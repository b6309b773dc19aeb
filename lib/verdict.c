/*
 * NAME
 *	verdict -- the names of SPF and DMARC results and policies
 * DESCRIPTION
 *	The words RFC 8601 and RFC 7489 use, for Authentication-Results,
 *	the log and the policy engine.
 */
#include "buildconf.h"

#include <stddef.h>

#include "lib/verdict.h"

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPFR_NONE:		return "none";
	case SPFR_NEUTRAL:	return "neutral";
	case SPFR_PASS:		return "pass";
	case SPFR_FAIL:		return "fail";
	case SPFR_SOFTFAIL:	return "softfail";
	case SPFR_TEMPERROR:	return "temperror";
	case SPFR_PERMERROR:	return "permerror";
	}
	return "temperror";
}

const char *
dmarc_result_name(enum dmarc_result r)
{
	switch (r) {
	case DMARC_R_NONE:	return "none";
	case DMARC_R_PASS:	return "pass";
	case DMARC_R_FAIL:	return "fail";
	case DMARC_R_TEMPERROR:	return "temperror";
	case DMARC_R_PERMERROR:	return "permerror";
	}
	return "temperror";
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_NONE:		return "none";
	case DMARC_P_QUARANTINE:	return "quarantine";
	case DMARC_P_REJECT:		return "reject";
	case DMARC_P_UNSET:		break;
	}
	return NULL;
}
