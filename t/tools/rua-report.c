/*
 * rua-report -- the report mails of a fixed aggregate report, for the
 * oracle tests (t/e2e/rua-send.t): what authfilter-reports send makes
 * of its store, made here from records written in this file.
 *
 *	rua-report [--namespace] [--records N] [--max-size BYTES] DIR
 *
 * Writes each part's NAME.xml, NAME.xml.gz and NAME.eml into DIR and
 * prints one line per part: "NAME RECORDS MESSAGES BYTES".  Record i
 * comes from 192.0.2.(i % 250 + 1) (2001:db8::N for every fifth) and
 * counts i + 1 messages.
 */
#include "buildconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rua/compose.h"

#define S(dst, v) snprintf((dst), sizeof(dst), "%s", (v))

static void
record(struct rua_record *r, size_t i)
{
	memset(r, 0, sizeof(*r));
	if (i % 5 == 4)
		snprintf(r->source_ip, sizeof(r->source_ip), "2001:db8::%zx",
		    i + 1);
	else
		snprintf(r->source_ip, sizeof(r->source_ip), "192.0.2.%zu",
		    i % 250 + 1);
	r->count = i + 1;
	S(r->header_from, "example.com");
	S(r->envelope_from, i % 2 ? "bounce.example.com" : "example.com");
	S(r->envelope_to, "mx.example");
	S(r->disposition, i % 3 == 2 ? "reject" : "none");
	S(r->dkim, i % 3 == 2 ? "fail" : "pass");
	S(r->spf, i % 2 ? "fail" : "pass");
	if (i % 3 != 2) {
		r->ndkim = 1;
		S(r->dkim_res[0].domain, "example.com");
		S(r->dkim_res[0].selector, "s1");
		S(r->dkim_res[0].result, "pass");
	}
	if (i % 7 == 1) {
		r->nreason = 1;
		S(r->reason[0].type, "local_policy");
		S(r->reason[0].comment, "monitor mode: <would reject> & log");
		S(r->dkim_res[r->ndkim].domain, "esp.example");
		S(r->dkim_res[r->ndkim].selector, "k1");
		S(r->dkim_res[r->ndkim].result, "fail");
		r->ndkim++;
	}
	r->nspf = 1;
	S(r->spf_res[0].domain, r->envelope_from);
	S(r->spf_res[0].scope, "mfrom");
	S(r->spf_res[0].result, i % 2 ? "softfail" : "pass");
}

int
main(int argc, char **argv)
{
	struct rua_feedback fb;
	struct rua_compose c;
	struct rua_compose_opts o;
	size_t nrec = 3, max = 0;
	char err[512];
	int i, ns = 0;

	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--namespace") == 0)
			ns = 1;
		else if (strcmp(argv[i], "--records") == 0 && i + 2 < argc)
			nrec = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--max-size") == 0 && i + 2 < argc)
			max = strtoul(argv[++i], NULL, 10);
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: rua-report [--namespace] [--records N] "
		    "[--max-size BYTES] DIR\n");
		return 2;
	}
	memset(&fb, 0, sizeof(fb));
	fb.rfc9990 = ns;
	S(fb.org_name, "mx.example");
	S(fb.email, "postmaster@mx.example");
	S(fb.generator, "authfilter rua-report");
	fb.begin = 1700006400;
	fb.end = 1700092799;
	S(fb.pub.domain, "example.com");
	S(fb.pub.p, "reject");
	S(fb.pub.sp, "quarantine");
	S(fb.pub.np, "reject");
	S(fb.pub.adkim, "r");
	S(fb.pub.aspf, "r");
	S(fb.pub.testing, "n");
	S(fb.pub.discovery_method, "treewalk");
	if ((fb.rec = calloc(nrec ? nrec : 1, sizeof(*fb.rec))) == NULL) {
		fprintf(stderr, "rua-report: out of memory\n");
		return 1;
	}
	fb.nrec = nrec;
	for (size_t r = 0; r < nrec; r++)
		record(&fb.rec[r], r);
	memset(&o, 0, sizeof(o));
	o.receiver = "mx.example";
	o.from = "postmaster@mx.example";
	o.to = "dmarc@example.com";
	o.max_size = max;
	o.now = 1700100000;
	if (rua_compose(&fb, &o, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "rua-report: %s\n", err);
		free(fb.rec);
		return 1;
	}
	for (size_t p = 0; p < c.npart; p++) {
		if (rua_compose_save(&c.part[p], argv[argc - 1], err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "rua-report: %s\n", err);
			return 1;
		}
		printf("%s %zu %" PRIu64 " %zu\n", c.part[p].name,
		    c.part[p].nrec, c.part[p].messages, c.part[p].msglen);
	}
	rua_compose_free(&c);
	free(fb.rec);
	return 0;
}
