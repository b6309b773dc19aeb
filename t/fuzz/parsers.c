/*
 * NAME
 *	parsers -- libFuzzer harnesses of the parsers of outside input
 * SYNOPSIS
 *	make fuzz FUZZ_SECONDS=60		(each target that long)
 *	fuzz/fuzz-from FILE			(rerun one input)
 * DESCRIPTION
 *	One source, one target per build (-DFUZZ_<NAME>), each a pure
 *	function over bytes from the network or from a file an admin (or
 *	an attacker with write access to it) controls:
 *
 *	from		From header field values (lib/from.c)
 *	ar		Authentication-Results values, parsed and re-written
 *			(milter/ar.c)
 *	dkimtags	DKIM-Signature tag-lists and key records
 *			(lib/tagval.c, milter/dkimcheck.c)
 *	dmarc		DMARC records (milter/dmarc_record.c)
 *	spf		SPF records: the RFC 7208 validator and the rewrite
 *			for libspf2 (milter/spf_record.c)
 *	config		authfilter.conf (lib/config.c)
 *	tables		policy_overrides and sender_login_map files
 *			(policy/overrides.c, milter/loginmap.c)
 *	keystate	the key store's SELECTOR.state files
 *			(keys/keystore.c)
 *	reportlog	the log lines `authfilter report` reads, JSON and
 *			key=value (report/logline.c)
 *	ruareport	DMARC aggregate report files as authfilter-reports
 *			import reads them: .gz, .zip or XML (rua/unpack.c,
 *			rua/xml_in.c)
 *
 *	Whatever a parser accepts is used (values read, results written
 *	back), so a half-initialised result shows up under the sanitizers.
 *	Seed corpora: t/fuzz/corpus/<name>/.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t touched;		/* keeps the reads from being optimised out */

static void
touch(const char *s)
{
	if (s != NULL)
		touched += strlen(s);
}

/* The input as a NUL-terminated string (inputs with a NUL end there). */
static char *
text_of(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#if defined(FUZZ_FROM)
#include "lib/from.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct from_result fr;
	char norm[256], env[1024];

	/* The same bytes as a MAIL FROM (U-labels become A-labels). */
	if (size < sizeof(env)) {
		memcpy(env, data, size);
		env[size] = '\0';
		envelope_domain(env, norm, sizeof(norm));
		touch(norm);
	}
	if (from_parse((const char *)data, size, &fr) == FROM_OK)
		for (size_t i = 0; i < fr.n; i++) {
			touch(fr.domain[i]);
			if (domain_normalise(fr.domain[i], strlen(fr.domain[i]),
			    norm, sizeof(norm)) == 0)
				touched += (size_t)domain_at_or_below(norm,
				    fr.domain[0]);
		}
	return 0;
}

#elif defined(FUZZ_AR)
#include "milter/ar.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ar_header h;
	static char out[16384];
	char id[256];

	if (ar_parse((const char *)data, size, &h) == 0) {
		touch(h.authserv_id);
		(void)ar_format(out, sizeof(out), h.authserv_id[0] != '\0' ?
		    h.authserv_id : "x", h.res, h.nres);
		touch(out);
	}
	if (ar_authserv_id((const char *)data, size, id, sizeof(id)) == 0)
		touch(id);
	touched += (size_t)ar_is_ours((const char *)data, size, "mx.example");
	return 0;
}

#elif defined(FUZZ_DKIMTAGS)
#include "lib/tagval.h"
#include "milter/dkimcheck.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[65536];
	char why[256], v[1024];
	const char *s = (const char *)data;

	if (tagval_check(s, size, why, sizeof(why)) != 0)
		touch(why);
	for (const char *t = "vadsbhklp"; *t != '\0'; t++) {
		char tag[2] = { *t, '\0' };
		if (tagval_get(s, size, tag, v, sizeof(v)) == 1)
			touch(v);
	}
	if (dkimcheck_key_record(s, size, out, sizeof(out), why,
	    sizeof(why)) == 0)
		touch(out);
	else
		touch(why);
	if (tagval_get(s, size, "k", v, sizeof(v)) == 1 &&
	    dkimcheck_key_alg(v, "ed25519-sha256", why, sizeof(why)) != 0)
		touch(why);
	return 0;
}

#elif defined(FUZZ_DMARC)
#include "milter/dmarc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record r;
	char *s = text_of(data, size);

	if (s == NULL)
		return 0;
	if (dmarc_record_parse(s, &r) == DMARC_REC_OK)
		touched += (size_t)r.p + (size_t)r.sp + (size_t)r.np +
		    (size_t)r.adkim_strict + (size_t)r.aspf_strict +
		    (size_t)r.testing + (size_t)r.psd;
	free(s);
	return 0;
}

#elif defined(FUZZ_SPF)
#include "milter/spf_record.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[256], *out;

	if (!spf_record_is_spf(s, size))
		return 0;
	if (spf_record_check(s, size, err, sizeof(err)) != 0)
		touch(err);
	if (size > SPF_RECORD_MAX ||
	    (out = malloc(SPF_RECORD_OUTSZ(size))) == NULL)
		return 0;
	for (int ip6 = 0; ip6 <= 1; ip6++)
		if (spf_record_rewrite(s, size, ip6, out, SPF_RECORD_OUTSZ(size),
		    err, sizeof(err)) == 0)
			touch(out);
	free(out);
	return 0;
}

#elif defined(FUZZ_CONFIG)
#include "lib/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct config *cfg;

	cfg = config_parse("fuzz.conf", (const char *)data, size, &errs);
	for (size_t i = 0; i < errs.n; i++)
		touch(errs.msg[i]);
	if (cfg != NULL) {
		touch(cfg->milter_socket);
		touch(cfg->authserv_id);
		config_free(cfg);
	}
	config_errors_clear(&errs);
	return 0;
}

#elif defined(FUZZ_TABLES)
#include "lib/config.h"
#include "milter/loginmap.h"
#include "policy/overrides.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct overrides *o;
	struct loginmap *m;
	char *s = text_of(data, size);

	if (s == NULL)
		return 0;
	if ((o = overrides_parse("fuzz.ovr", s, &errs)) != NULL) {
		const struct override *e = overrides_find(o, "a.example", 0);
		if (e != NULL)
			touch(e->domain);
		overrides_free(o);
	}
	config_errors_clear(&errs);
	memcpy(s, data, size);		/* the parsers may edit in place */
	if ((m = loginmap_parse("fuzz.map", s, &errs)) != NULL) {
		touched += (size_t)loginmap_allows(m, "alice", "a.example");
		loginmap_free(m);
	}
	for (size_t i = 0; i < errs.n; i++)
		touch(errs.msg[i]);
	config_errors_clear(&errs);
	free(s);
	return 0;
}

#elif defined(FUZZ_KEYSTATE)
#include "keys/keystore.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct key k;
	char *s = text_of(data, size);

	if (s == NULL)
		return 0;
	memset(&k, 0, sizeof(k));
	if (keystore_parse_state("fuzz.state", s, &k, &errs) == 0) {
		touch(key_alg_name(k.alg));
		touch(key_state_name(k.state));
		touched += (size_t)k.bits + (size_t)k.ttl + (size_t)k.forced +
		    (size_t)k.created + (size_t)k.activated +
		    (size_t)k.retired + (size_t)k.revoked + (size_t)k.published;
	}
	for (size_t i = 0; i < errs.n; i++)
		touch(errs.msg[i]);
	config_errors_clear(&errs);
	free(s);
	return 0;
}

#elif defined(FUZZ_REPORTLOG)
#include "report/logline.h"

/* Line by line, as read_log() hands them over: no newline left. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_rec r;
	char *s = text_of(data, size), *line, *next;

	if (s == NULL)
		return 0;
	for (line = s; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (report_parse_line(line, &r) != 0)
			continue;
		touch(r.date);
		touch(r.from);
		touch(r.dmarc);
		touch(r.action);
		touch(r.would);
		touch(r.spf);
		touch(r.direction);
		touch(r.reason);
		touch(r.sign_domain);
	}
	free(s);
	return 0;
}

#elif defined(FUZZ_RUAREPORT)
#include "rua/unpack.h"
#include "rua/xml_in.h"

/* Raw XML too (not only what looks like a report file), so the XML
 * reader sees inputs that do not start with '<'. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rua_feedback fb;
	char err[512], *xml = NULL;
	size_t len;

	if (rua_unpack_kind(data, size) == RUA_KIND_OTHER) {
		if (rua_xml_read((const char *)data, size, &fb, err,
		    sizeof(err)) == 0)
			touch(fb.org_name);
		rua_feedback_free(&fb);
		return 0;
	}
	if (rua_unpack(data, size, &xml, &len, err, sizeof(err)) != 0)
		return 0;
	if (rua_xml_read(xml, len, &fb, err, sizeof(err)) == 0) {
		touch(fb.org_name);
		touch(fb.report_id);
		touch(fb.pub.domain);
		for (size_t i = 0; i < fb.nrec; i++) {
			touch(fb.rec[i].source_ip);
			touch(fb.rec[i].header_from);
			for (size_t j = 0; j < fb.rec[i].ndkim; j++)
				touch(fb.rec[i].dkim_res[j].human_result);
		}
	}
	rua_feedback_free(&fb);
	free(xml);
	return 0;
}

#else
#error "build with -DFUZZ_<TARGET>: see the DESCRIPTION"
#endif
