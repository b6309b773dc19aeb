/*
 * NAME
 *	doctor_host -- authfilter doctor: the sending host's names
 * SYNOPSIS
 *	doctor_host_identity(env, &host);
 *	doctor_host(env, &host);
 * DESCRIPTION
 *	The outbound addresses are doctor_outbound_ips, else the A and
 *	AAAA records of Postfix's myhostname (`postconf -h myhostname`,
 *	else gethostname()); the HELO name is doctor_helo_name, else
 *	myhostname.  Then, in area "host":
 *
 *	addresses    the outbound addresses were found
 *	fcrdns ADDR  ADDR has a PTR name whose A/AAAA records include ADDR
 *		     (forward-confirmed reverse DNS, which the large
 *		     mailbox providers require)
 *	helo	     the HELO name is such a PTR name, or resolves to every
 *		     outbound address
 * DIAGNOSTICS
 *	A lookup that fails: "could not check".
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "doctor/doctor.h"
#include "lib/config.h"
#include "lib/dns.h"

/* PTR names of one address looked at; real hosts have one. */
#define MAX_PTR		8

/* Postfix's myhostname, else this host's name. */
static void
myhostname(char *out, size_t outsz)
{
	FILE *fp = popen("postconf -h myhostname 2>/dev/null", "r");
	char line[256] = "";

	if (fp != NULL) {
		if (fgets(line, sizeof(line), fp) == NULL)
			line[0] = '\0';
		if (pclose(fp) != 0)
			line[0] = '\0';
	}
	line[strcspn(line, " \t\r\n")] = '\0';
	if (line[0] != '\0') {
		snprintf(out, outsz, "%s", line);
		return;
	}
	if (gethostname(out, outsz) != 0)
		snprintf(out, outsz, "localhost");
	out[outsz - 1] = '\0';
}

void
doctor_host_identity(struct doctor_env *env, struct doctor_checks *host)
{
	const struct wordlist *ips = &env->cfg->doctor_outbound_ips;
	char name[256];
	int st;

	name[0] = '\0';
	if (*env->cfg->doctor_helo_name != '\0')
		snprintf(env->helo, sizeof(env->helo), "%s",
		    env->cfg->doctor_helo_name);
	else {
		myhostname(name, sizeof(name));
		snprintf(env->helo, sizeof(env->helo), "%s", name);
	}
	if (ips->n > 0) {
		for (size_t i = 0; i < ips->n && env->nips < DOCTOR_MAX_IPS;
		    i++)
			snprintf(env->ips[env->nips++], sizeof(env->ips[0]),
			    "%s", ips->w[i]);
		return;
	}
	if (name[0] == '\0')
		myhostname(name, sizeof(name));
	env->nips = doctor_addresses(env->dns, name, env->ips,
	    DOCTOR_MAX_IPS, &st);
	if (env->nips > 0)
		doctor_add(host, "host", "addresses", DOC_OK, "", "myhostname "
		    "%s: %s%s", name, env->ips[0], env->nips > 1 ? " and more" :
		    "");
	else
		doctor_add(host, "host", "addresses", st == DNS_TEMPFAIL ?
		    DOC_UNKNOWN : DOC_FAIL, "set doctor_outbound_ips to the "
		    "addresses this host sends from", "myhostname %s has no A "
		    "or AAAA record: outbound addresses unknown", name);
}

/* 1 when two addresses are one, however written (2001:DB8:0::1 is
 * 2001:db8::1). */
static int
same_address(const char *a, const char *b)
{
	unsigned char ba[16], bb[16];
	int fa = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;
	int fb = strchr(b, ':') != NULL ? AF_INET6 : AF_INET;

	return fa == fb && inet_pton(fa, a, ba) == 1 &&
	    inet_pton(fb, b, bb) == 1 &&
	    memcmp(ba, bb, fa == AF_INET6 ? 16 : 4) == 0;
}

/* 1 when name's A/AAAA records include ip; -1 when the lookup failed. */
static int
resolves_to(struct dns *d, const char *name, const char *ip)
{
	char addr[DOCTOR_MAX_IPS][46];
	int st;
	size_t n = doctor_addresses(d, name, addr, DOCTOR_MAX_IPS, &st);

	if (n == 0 && st == DNS_TEMPFAIL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (same_address(addr[i], ip))
			return 1;
	return 0;
}

/* FCrDNS of one address.  Returns 1 if the HELO name is one of its
 * PTR names. */
static int
check_fcrdns(const struct doctor_env *env, const char *ip,
    struct doctor_checks *host)
{
	char names[MAX_PTR][256], check[80], advice[DOCTOR_ADVICE_MAX];
	int st, helo_is_ptr = 0, confirmed = 0, failed = 0;
	size_t n = doctor_ptr(env->dns, ip, names, MAX_PTR, &st);

	snprintf(check, sizeof(check), "fcrdns %s", ip);
	if (n == 0) {
		snprintf(advice, sizeof(advice), "ask the provider of %s to "
		    "set its PTR record to %s", ip, env->helo);
		if (st == DNS_TEMPFAIL)
			doctor_add(host, "host", check, DOC_UNKNOWN, "",
			    "the PTR lookup for %s failed", ip);
		else
			doctor_add(host, "host", check, DOC_FAIL, advice,
			    "no PTR record for %s", ip);
		return 0;
	}
	for (size_t i = 0; i < n && !confirmed; i++) {
		int r = resolves_to(env->dns, names[i], ip);
		if (r < 0)
			failed = 1;
		else if (r == 1) {
			confirmed = 1;
			doctor_add(host, "host", check, DOC_OK, "", "%s -> %s "
			    "-> %s", ip, names[i], ip);
		}
	}
	for (size_t i = 0; i < n && !helo_is_ptr; i++)
		helo_is_ptr = strcasecmp(names[i], env->helo) == 0;
	if (!confirmed && failed)
		doctor_add(host, "host", check, DOC_UNKNOWN, "", "PTR %s: its "
		    "address lookup failed", names[0]);
	else if (!confirmed) {
		snprintf(advice, sizeof(advice), "add an A/AAAA record %s -> "
		    "%s, or have the PTR changed to a name that has one",
		    names[0], ip);
		doctor_add(host, "host", check, DOC_FAIL, advice, "%s -> %s, "
		    "but %s does not resolve to %s", ip, names[0], names[0],
		    ip);
	}
	return helo_is_ptr;
}

void
doctor_host(const struct doctor_env *env, struct doctor_checks *host)
{
	char bad[DOCTOR_DETAIL_MAX] = "", advice[DOCTOR_ADVICE_MAX];
	int failed = 0;

	for (size_t i = 0; i < env->nips; i++) {
		const char *ip = env->ips[i];
		int r = check_fcrdns(env, ip, host);
		if (r == 0)
			r = resolves_to(env->dns, env->helo, ip);
		if (r < 0)
			failed = 1;
		else if (r == 0) {
			size_t o = strlen(bad);
			snprintf(bad + o, sizeof(bad) - o, "%s%s", o ? ", " :
			    "", ip);
		}
	}
	if (env->nips == 0)
		return;
	snprintf(advice, sizeof(advice), "set Postfix's smtp_helo_name (and "
	    "doctor_helo_name) to the PTR name of the outbound address, or "
	    "point %s at it", env->helo);
	if (bad[0] != '\0')
		doctor_add(host, "host", "helo", DOC_FAIL, advice, "HELO %s is "
		    "neither the PTR name of nor resolves to %s", env->helo,
		    bad);
	else if (failed)
		doctor_add(host, "host", "helo", DOC_UNKNOWN, "", "HELO %s: a "
		    "lookup failed", env->helo);
	else
		doctor_add(host, "host", "helo", DOC_OK, "", "HELO %s matches "
		    "the outbound addresses", env->helo);
}
