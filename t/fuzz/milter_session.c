/*
 * NAME
 *	milter_session -- libFuzzer harness of the milter protocol engine
 * SYNOPSIS
 *	make fuzz FUZZ_SECONDS=60
 * DESCRIPTION
 *	Each input is the byte stream an MTA sends on one connection.  The
 *	first byte picks how the stream is cut into reads (one read, fixed
 *	pieces of 1 to 64 bytes, or pieces of varying size), so the same
 *	commands are also decoded across every split a socket can make.
 *	The hooks touch every string and byte they are given, look up
 *	macros, make header edits at end of message (with values from
 *	macros, so long and odd ones too), ask for progress, and answer
 *	with verdicts picked from the input, so that verdicts kept for
 *	later stages are exercised too.  Every reply the engine produces
 *	is checked to be a well-formed frame.
 *
 *	The seed corpus (t/fuzz/corpus/milter_session/) holds sessions
 *	recorded from Postfix 3.7 by t/fuzz/record-postfix.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milter/engine.h"

static size_t touched;		/* keeps the reads from being optimised out */
static unsigned char pick;	/* verdicts: from the input */

static void
touch(const char *s)
{
	if (s != NULL)
		touched += strlen(s);
}

static enum milter_status
answer(struct milter_conn *mc, unsigned stage)
{
	touch(milter_macro(mc, "i"));
	touch(milter_macro(mc, "{daemon_name}"));
	touch(milter_macro(mc, "{auth_authen}"));
	switch ((pick >> (stage % 8)) & 3) {
	case 1:
		milter_set_reply(mc, "550", "5.7.1", milter_macro(mc, "j") ?
		    milter_macro(mc, "j") : "no\r\n100%");
		return MS_REJECT;
	case 2:
		milter_set_reply(mc, "451", "4.3.0", "later");
		return (stage & 1) ? MS_TEMPFAIL : MS_CONTINUE;
	default:
		return MS_CONTINUE;
	}
}

static void
f_negotiate(struct milter_conn *mc, uint32_t ma, uint32_t mp, uint32_t *a,
    uint32_t *p)
{
	(void)mc;
	*a = ma | SMFIF_SETSYMLIST;
	*p = mp;
}

static enum milter_status
f_connect(struct milter_conn *mc, const char *host, const struct sockaddr *sa)
{
	touch(host);
	touched += sa != NULL ? sa->sa_family : 0;
	return answer(mc, 0);
}

static enum milter_status
f_helo(struct milter_conn *mc, const char *s)
{
	touch(s);
	return answer(mc, 1);
}

static enum milter_status
f_envfrom(struct milter_conn *mc, const char *s)
{
	touch(s);
	return answer(mc, 2);
}

static enum milter_status
f_envrcpt(struct milter_conn *mc, const char *s)
{
	touch(s);
	return answer(mc, 3);
}

static enum milter_status
f_header(struct milter_conn *mc, const char *n, const char *v)
{
	touch(n);
	touch(v);
	return answer(mc, 4);
}

static enum milter_status
f_eoh(struct milter_conn *mc)
{
	return answer(mc, 5);
}

static enum milter_status
f_body(struct milter_conn *mc, const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		touched += d[i];
	return answer(mc, 6);
}

static enum milter_status
f_eom(struct milter_conn *mc)
{
	const char *v = milter_macro(mc, "i");

	(void)milter_add_header(mc, "X-Fuzz", v != NULL ? v : "");
	(void)milter_insert_header(mc, 0, "Authentication-Results", "mx; none");
	(void)milter_change_header(mc, "Authentication-Results", 2, NULL);
	(void)milter_quarantine(mc, "held");
	if (pick & 0x80)
		(void)milter_progress(mc);
	return answer(mc, 7);
}

static void
f_abort(struct milter_conn *mc)
{
	touch(milter_macro(mc, "i"));
}

static void
f_close(struct milter_conn *mc)
{
	touch(milter_macro(mc, "{daemon_name}"));
}

static const struct milter_hooks hooks = {
	.negotiate = f_negotiate, .connect = f_connect, .helo = f_helo,
	.envfrom = f_envfrom, .envrcpt = f_envrcpt, .header = f_header,
	.eoh = f_eoh, .body = f_body, .eom = f_eom, .abort = f_abort,
	.close = f_close,
	.symlist = { [SMFIM_CONNECT] = "{daemon_name}", [SMFIM_EOM] = "i" },
};

/* Replies must be whole frames with a known reply code. */
static void
check_replies(const unsigned char *p, size_t len)
{
	while (len > 0) {
		uint32_t n;
		if (len < MP_FRAME_HDR || (n = mp_get32(p)) == 0 ||
		    n - 1 > len - MP_FRAME_HDR ||
		    strchr("Ocartyihmqp", (char)p[4]) == NULL)
			abort();
		p += 4 + n;
		len -= 4 + n;
	}
}

static int
f_send(void *arg, const unsigned char *p, size_t n)
{
	(void)arg;
	check_replies(p, n);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct milter_conn *mc;
	size_t off = 1, step;

	if (size < 2)
		return 0;
	pick = data[0];
	step = data[0] < 64 ? 0 : data[0] < 192 ? (size_t)(data[0] & 63) + 1 :
	    SIZE_MAX;
	/* A small limit, so that oversized commands are reached too. */
	if ((mc = milter_conn_new(&hooks, 65536)) == NULL)
		return 0;
	milter_conn_set_send(mc, f_send, NULL);
	while (off < size) {
		unsigned char *p;
		const unsigned char *o;
		size_t room, n, olen;

		if (milter_conn_space(mc, &p, &room) != 0)
			break;
		n = step == 0 ? room : step == SIZE_MAX ?
		    (size_t)(data[off] % 97) + 1 : step;
		if (n > room)
			n = room;
		if (n > size - off)
			n = size - off;
		memcpy(p, data + off, n);
		off += n;
		if (milter_conn_input(mc, n) == MC_CLOSE)
			off = size;
		milter_conn_output(mc, &o, &olen);
		check_replies(o, olen);
		milter_conn_sent(mc, olen);
	}
	milter_conn_free(mc);
	return 0;
}
