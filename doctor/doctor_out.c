/*
 * NAME
 *	doctor_out -- authfilter doctor's report, as text or JSON
 * SYNOPSIS
 *	doctor_print_text(&report, stdout);
 *	doctor_print_json(&report, stdout);
 * DESCRIPTION
 *	Text: per domain, then for the host, one line per check,
 *
 *	    STATUS  AREA   CHECK         what was found
 *	                                 -> advice, when there is a problem
 *
 *	then the requirement lines (pass or FAIL) and the overall status
 *	with the exit code.  JSON: one object,
 *
 *	    { "status": "warning", "exit": 1,
 *	      "domains": [ { "domain", "key_domain", "checks": [
 *	          { "area", "check", "status", "detail", "advice" } ] } ],
 *	      "host": { "helo", "outbound_ips": [ ], "checks": [ ] },
 *	      "requirements": [ { "requirement", "status", "detail" } ] }
 *
 *	with status "ok", "warn", "fail" or "unknown" per check, "pass" or
 *	"fail" per requirement.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "doctor/doctor.h"

/* By enum doctor_status: the run's (Nagios' words), and a check's. */
static const char *const overall[] = { "ok", "warning", "unknown",
    "critical" };
static const char *const json_status[] = { "ok", "warn", "unknown", "fail" };

static void
print_checks(const struct doctor_checks *c, FILE *fp)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct doctor_check *k = &c->c[i];
		fprintf(fp, "  %-7s %-5s %-22s %s\n",
		    doctor_status_name(k->status), k->area, k->check,
		    k->detail);
		if (k->advice[0] != '\0')
			fprintf(fp, "  %-7s %-5s %-22s -> %s\n", "", "", "",
			    k->advice);
	}
}

void
doctor_print_text(const struct doctor_report *r, FILE *fp)
{
	for (size_t i = 0; i < r->ndom; i++) {
		const struct doctor_domain *d = &r->dom[i];
		if (d->key_domain[0] != '\0' &&
		    strcmp(d->key_domain, d->from) != 0)
			fprintf(fp, "%s (signed with d=%s)\n", d->from,
			    d->key_domain);
		else
			fprintf(fp, "%s\n", d->from);
		print_checks(&d->checks, fp);
	}
	fprintf(fp, "host (HELO %s)\n", r->env->helo);
	print_checks(r->host, fp);
	fprintf(fp, "mailbox providers' sender requirements\n");
	for (int i = 0; i < DOCTOR_NREQ; i++)
		fprintf(fp, "  %-7s %s%s%s\n", r->req[i].pass ? "pass" : "FAIL",
		    r->req[i].name, r->req[i].detail[0] ? ": " : "",
		    r->req[i].detail);
	fprintf(fp, "status: %s (exit %d)\n", overall[r->status],
	    r->exit_code);
}

static json_object *
checks_json(const struct doctor_checks *c)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < c->n; i++) {
		const struct doctor_check *k = &c->c[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "area",
		    json_object_new_string(k->area));
		json_object_object_add(o, "check",
		    json_object_new_string(k->check));
		json_object_object_add(o, "status",
		    json_object_new_string(json_status[k->status]));
		json_object_object_add(o, "detail",
		    json_object_new_string(k->detail));
		json_object_object_add(o, "advice",
		    json_object_new_string(k->advice));
		json_object_array_add(a, o);
	}
	return a;
}

int
doctor_print_json(const struct doctor_report *r, FILE *fp)
{
	json_object *top = json_object_new_object(), *doms, *host, *ips, *req;

	if (top == NULL)
		return -1;
	json_object_object_add(top, "status",
	    json_object_new_string(overall[r->status]));
	json_object_object_add(top, "exit", json_object_new_int(r->exit_code));
	doms = json_object_new_array();
	for (size_t i = 0; i < r->ndom; i++) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "domain",
		    json_object_new_string(r->dom[i].from));
		json_object_object_add(d, "key_domain",
		    json_object_new_string(r->dom[i].key_domain));
		json_object_object_add(d, "checks",
		    checks_json(&r->dom[i].checks));
		json_object_array_add(doms, d);
	}
	json_object_object_add(top, "domains", doms);
	host = json_object_new_object();
	json_object_object_add(host, "helo",
	    json_object_new_string(r->env->helo));
	ips = json_object_new_array();
	for (size_t i = 0; i < r->env->nips; i++)
		json_object_array_add(ips,
		    json_object_new_string(r->env->ips[i]));
	json_object_object_add(host, "outbound_ips", ips);
	json_object_object_add(host, "checks", checks_json(r->host));
	json_object_object_add(top, "host", host);
	req = json_object_new_array();
	for (int i = 0; i < DOCTOR_NREQ; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "requirement",
		    json_object_new_string(r->req[i].name));
		json_object_object_add(o, "status",
		    json_object_new_string(r->req[i].pass ? "pass" : "fail"));
		json_object_object_add(o, "detail",
		    json_object_new_string(r->req[i].detail));
		json_object_array_add(req, o);
	}
	json_object_object_add(top, "requirements", req);
	fprintf(fp, "%s\n", json_object_to_json_string_ext(top,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
	return 0;
}
