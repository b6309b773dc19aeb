/*
 * feedback.h -- one DMARC aggregate report in memory (RFC 9990, and the
 * RFC 7489 appendix C format it replaces): what `authfilter-reports send`
 * writes as XML and what `authfilter-reports import` reads back.  The
 * daemon's own evaluations are records of the same shape (rua_eval), so
 * one set of fields goes from the milter to the store to the XML.
 *
 * Strings are NUL-terminated and bounded; a field that was absent is "".
 * Values are kept as the XML spells them ("pass", "reject", "mfrom"), so
 * a report read from another receiver keeps what it said.
 */
#ifndef AUTHFILTER_RUA_FEEDBACK_H
#define AUTHFILTER_RUA_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#define RUA_DOMAIN_MAX	256	/* a domain name, with its NUL */
#define RUA_DKIM_MAX	8	/* <auth_results><dkim> kept per record */
#define RUA_SPF_MAX	2	/* <auth_results><spf>: mfrom and helo */
#define RUA_REASON_MAX	4	/* <policy_evaluated><reason> */

/* <policy_published> (RFC 9990 section 3.1.1.5). */
struct rua_policy {
	char	 domain[RUA_DOMAIN_MAX];	/* where the record was */
	char	 p[16], sp[16], np[16];	/* none|quarantine|reject, or "" */
	char	 adkim[2], aspf[2];	/* "r" | "s" */
	char	 testing[2];		/* "y" | "n" (RFC 9989 t=) */
	char	 discovery_method[16];	/* "treewalk" | "psl" */
	char	 fo[16];
};

/* <auth_results><dkim> */
struct rua_dkim {
	char	 domain[RUA_DOMAIN_MAX];
	char	 selector[64];
	char	 result[16];	/* none|pass|fail|policy|neutral|temperror|
				 * permerror */
	char	 human_result[128];
};

/* <auth_results><spf> */
struct rua_spf {
	char	 domain[RUA_DOMAIN_MAX];
	char	 scope[8];	/* "mfrom" | "helo" */
	char	 result[16];	/* none|neutral|pass|fail|softfail|
				 * temperror|permerror */
	char	 human_result[128];
};

/* <policy_evaluated><reason>: why the disposition is not the policy's.
 * type: forwarded|sampled_out|trusted_forwarder|mailing_list|
 * local_policy|other (RFC 9990 adds policy_test_mode). */
struct rua_reason {
	char	 type[32];
	char	 comment[256];
};

/* One <record>. */
struct rua_record {
	char	 source_ip[46];
	uint64_t count;
	/* <policy_evaluated> */
	char	 disposition[16];	/* none|pass|quarantine|reject */
	char	 dkim[8], spf[8];	/* aligned result: "pass" | "fail" */
	struct rua_reason reason[RUA_REASON_MAX];
	size_t	 nreason;
	/* <identifiers> */
	char	 envelope_to[RUA_DOMAIN_MAX];
	char	 envelope_from[RUA_DOMAIN_MAX];
	char	 header_from[RUA_DOMAIN_MAX];
	/* <auth_results> */
	struct rua_dkim dkim_res[RUA_DKIM_MAX];
	size_t	 ndkim;
	struct rua_spf spf_res[RUA_SPF_MAX];
	size_t	 nspf;
};

/* One <feedback>. */
struct rua_feedback {
	char	 version[8];		/* "1.0" (RFC 9990), "" when absent */
	int	 rfc9990;		/* in the dmarc-2.0 namespace */
	/* <report_metadata> */
	char	 org_name[256];
	char	 email[256];
	char	 extra_contact_info[256];
	char	 report_id[256];
	int64_t	 begin, end;		/* <date_range>, seconds since 1970 */
	char	 generator[128];
	char	 error[256];		/* first <error>, if any */
	struct rua_policy pub;
	struct rua_record *rec;		/* malloc'd, nrec of them */
	size_t	 nrec;
};

void	 rua_feedback_free(struct rua_feedback *);	/* rec only */

/* Set (never cleared) by the report readers (unpack.c, mime_in.c,
 * xml_in.c) when they fail for want of memory: what a retry may mend,
 * told apart from a broken report without reading the message, which
 * may quote the report. */
extern _Thread_local int rua_nomem;
/* A new zeroed record at the end of fb->rec: NULL when out of memory.
 * The array's capacity follows from nrec, so fb->rec must be grown only
 * by this (from a zeroed fb) and emptied only by rua_feedback_free(). */
struct rua_record *rua_feedback_add(struct rua_feedback *);

/*
 * One DMARC evaluation of inbound mail by this daemon: the record it
 * contributes to a report (count 1), the policy it was evaluated
 * against, and that policy's rua= (where its reports go).  Made at end
 * of message, queued to the report writer, stored.
 */
struct rua_eval {
	int64_t	 when;			/* seconds since 1970 */
	struct rua_policy pub;		/* pub.domain: the policy domain */
	char	 rua[512];		/* rua= as published, "" = none */
	struct rua_record rec;
};

#endif
