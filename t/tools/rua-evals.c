/*
 * rua-evals -- put DMARC evaluations into a report store, as the
 * daemon's writer does (rua_store_add_evals()), for t/e2e/rua-send.t.
 *
 *	rua-evals REPORT_DB < lines
 *
 * Each line, fields separated by spaces:
 *	WHEN DOMAIN RUA SOURCE_IP HEADER_FROM ENVELOPE_FROM DISPOSITION
 *	DKIM SPF N
 * adds N equal evaluations at WHEN (seconds since 1970) of policy
 * DOMAIN (p=none, np=reject, treewalk) with rua= RUA ("-": none): a
 * DKIM result of HEADER_FROM with selector s1 and result DKIM, an SPF
 * (mfrom) result of ENVELOPE_FROM, "pass" or "fail" as SPF says.
 * The N go in one call (one transaction).  Exit 0, or 1 with the
 * store's error.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rua/store.h"

#define S(dst, v) snprintf((dst), sizeof(dst), "%s", (v))

static int
parse(const char *line, struct rua_eval *e, unsigned long *n)
{
	char dom[256], rua[512], ip[46], hf[256], ef[256], disp[16], dkim[8],
	    spf[8];
	long long when;

	if (sscanf(line, "%lld %255s %511s %45s %255s %255s %15s %7s %7s %lu",
	    &when, dom, rua, ip, hf, ef, disp, dkim, spf, n) != 10)
		return -1;
	memset(e, 0, sizeof(*e));
	e->when = when;
	S(e->pub.domain, dom);
	S(e->pub.p, "none");
	S(e->pub.np, "reject");
	S(e->pub.adkim, "r");
	S(e->pub.aspf, "r");
	S(e->pub.testing, "n");
	S(e->pub.discovery_method, "treewalk");
	S(e->rua, strcmp(rua, "-") == 0 ? "" : rua);
	S(e->rec.source_ip, ip);
	e->rec.count = 1;
	S(e->rec.disposition, disp);
	S(e->rec.dkim, dkim);
	S(e->rec.spf, spf);
	S(e->rec.header_from, hf);
	S(e->rec.envelope_from, ef);
	e->rec.ndkim = 1;
	S(e->rec.dkim_res[0].domain, hf);
	S(e->rec.dkim_res[0].selector, "s1");
	S(e->rec.dkim_res[0].result, dkim);
	e->rec.nspf = 1;
	S(e->rec.spf_res[0].domain, ef);
	S(e->rec.spf_res[0].scope, "mfrom");
	S(e->rec.spf_res[0].result, spf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct rua_store *st;
	struct rua_eval e, *v;
	char line[2048], err[512];
	unsigned long n;
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: rua-evals REPORT_DB < lines\n");
		return 2;
	}
	if ((st = rua_store_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "rua-evals: %s\n", err);
		return 1;
	}
	while (rc == 0 && fgets(line, sizeof(line), stdin) != NULL) {
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (parse(line, &e, &n) != 0) {
			fprintf(stderr, "rua-evals: bad line: %s", line);
			rc = 1;
		}
		if (rc != 0 || n == 0)
			continue;
		if ((v = calloc(n, sizeof(*v))) == NULL) {
			fprintf(stderr, "rua-evals: out of memory\n");
			rc = 1;
			continue;
		}
		for (unsigned long i = 0; i < n; i++)
			v[i] = e;
		if (rua_store_add_evals(st, v, n, err, sizeof(err)) != 0) {
			fprintf(stderr, "rua-evals: %s\n", err);
			rc = 1;
		}
		free(v);
	}
	rua_store_close(st);
	return rc;
}
