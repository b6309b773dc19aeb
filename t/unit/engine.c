/* Unit tests for milter/engine.c: whole sessions as byte strings, the
 * hooks they call, the replies they get. */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/engine.h"
#include "t/tap.h"

/* ---- a session as bytes ---- */

static unsigned char wire[1 << 20];
static size_t wlen;

static void
frame(char cmd, const void *data, size_t len)
{
	mp_set32(wire + wlen, (uint32_t)len + 1);
	wire[wlen + 4] = (unsigned char)cmd;
	memcpy(wire + wlen + 5, data, len);
	wlen += 5 + len;
}
#define F(cmd, lit) frame((cmd), (lit), sizeof(lit) - 1)

static void
optneg(uint32_t actions, uint32_t proto)
{
	unsigned char d[12];

	mp_set32(d, 6);
	mp_set32(d + 4, actions);
	mp_set32(d + 8, proto);
	frame('O', d, 12);
}

#define ALL_NR (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
	SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
/* What Postfix offers. */
#define PF_ACTIONS 0x1ff
#define PF_PROTO 0x1fffff

/* ---- hooks that record what they see ---- */

static char trace[8192];
static enum milter_status verdict_at;	/* returned by the hook of ... */
static char verdict_stage;		/* ... this command */
static int edits_ok;
static size_t body_total, body_largest;	/* bytes to the body hook */
static struct mp_buf sent = { NULL, 0, 0, 1 << 20 };

static void
rec(const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(trace);

	va_start(ap, fmt);
	vsnprintf(trace + n, sizeof(trace) - n, fmt, ap);
	va_end(ap);
}

static enum milter_status
answer(struct milter_conn *mc, char stage)
{
	if (stage != verdict_stage)
		return MS_CONTINUE;
	milter_set_reply(mc, verdict_at == MS_REJECT ? "550" : "451",
	    verdict_at == MS_REJECT ? "5.7.1" : "4.3.0", "no thanks");
	return verdict_at;
}

static void
h_negotiate(struct milter_conn *mc, uint32_t ma, uint32_t mp, uint32_t *a,
    uint32_t *p)
{
	(void)mc;
	(void)ma;
	(void)mp;
	*a = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST;
	*p = SMFIP_HDR_LEADSPC | SMFIP_NODATA | SMFIP_NOUNKNOWN | ALL_NR;
}

static enum milter_status
h_connect(struct milter_conn *mc, const char *host, const struct sockaddr *sa)
{
	char ip[64] = "-";
	const char *d = milter_macro(mc, "{daemon_name}");

	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, ip, sizeof(ip));
	rec("C(%s,%s,%s)", host, ip, d ? d : "-");
	return answer(mc, 'C');
}

static enum milter_status
h_helo(struct milter_conn *mc, const char *name)
{
	rec("H(%s)", name);
	return answer(mc, 'H');
}

static enum milter_status
h_envfrom(struct milter_conn *mc, const char *addr)
{
	const char *auth = milter_macro(mc, "{auth_authen}");
	const char *qid = milter_macro(mc, "i");

	rec("M(%s,%s,%s)", addr, auth ? auth : "-", qid ? qid : "-");
	return answer(mc, 'M');
}

static enum milter_status
h_envrcpt(struct milter_conn *mc, const char *addr)
{
	rec("R(%s)", addr);
	return answer(mc, 'R');
}

static enum milter_status
h_header(struct milter_conn *mc, const char *name, const char *value)
{
	rec("L(%s:%s)", name, value);
	return answer(mc, 'L');
}

static enum milter_status
h_eoh(struct milter_conn *mc)
{
	rec("N");
	return answer(mc, 'N');
}

static enum milter_status
h_body(struct milter_conn *mc, const unsigned char *d, size_t n)
{
	body_total += n;
	if (n > body_largest)
		body_largest = n;
	if (n > 32)
		rec("B[%zu]", n);	/* long pieces by their length */
	else
		rec("B(%.*s)", (int)n, (const char *)d);
	return answer(mc, 'B');
}

static enum milter_status
h_eom(struct milter_conn *mc)
{
	const char *qid = milter_macro(mc, "i");

	rec("E(%s)", qid ? qid : "-");
	edits_ok = milter_insert_header(mc, 0, "Authentication-Results",
	    "mx; none") == 0 && milter_change_header(mc,
	    "Authentication-Results", 1, NULL) == 0;
	if (verdict_stage == 'P')
		edits_ok &= milter_progress(mc) == 0;
	return answer(mc, 'E');
}

static void
h_abort(struct milter_conn *mc)
{
	(void)mc;
	rec("A");
}

static void
h_close(struct milter_conn *mc)
{
	(void)mc;
	rec("Q");
}

static const struct milter_hooks hooks = {
	.negotiate = h_negotiate, .connect = h_connect, .helo = h_helo,
	.envfrom = h_envfrom, .envrcpt = h_envrcpt, .header = h_header,
	.eoh = h_eoh, .body = h_body, .eom = h_eom, .abort = h_abort,
	.close = h_close,
	.symlist = { [SMFIM_CONNECT] = "{daemon_name}",
	    [SMFIM_ENVFROM] = "i {auth_authen}" },
};

static int
record_send(void *arg, const unsigned char *p, size_t n)
{
	(void)arg;
	return mp_put(&sent, 'S', p, n);	/* framed, to see the order */
}

/* Feed wire[] in pieces of `step` bytes (0: all at once); returns the
 * last status, the replies in out. */
static enum milter_io
feed(size_t step, size_t max_command, struct mp_buf *out, char *errbuf,
    size_t errsz)
{
	struct milter_conn *mc = milter_conn_new(&hooks, max_command);
	enum milter_io io = MC_MORE;
	size_t off = 0;

	trace[0] = '\0';
	sent.len = 0;
	body_total = body_largest = 0;
	milter_conn_set_send(mc, record_send, NULL);
	while (off < wlen && io == MC_MORE) {
		unsigned char *p;
		const unsigned char *o;
		size_t room, n, olen;

		if (milter_conn_space(mc, &p, &room) != 0)
			break;
		n = step == 0 || step > room ? room : step;
		if (n > wlen - off)
			n = wlen - off;
		memcpy(p, wire + off, n);
		off += n;
		io = milter_conn_input(mc, n);
		milter_conn_output(mc, &o, &olen);
		if (olen > 0) {
			mp_put(out, 'S', o, olen);
			milter_conn_sent(mc, olen);
		}
	}
	snprintf(errbuf, errsz, "%s", milter_conn_error(mc));
	milter_conn_free(mc);
	return io;
}

/* The replies in out (each wrapped by feed()), as "O c y:550 ..." */
static const char *
codes(const struct mp_buf *out)
{
	static char s[4096];
	size_t n = 0;

	s[0] = '\0';
	for (size_t w = 0; w + 5 <= out->len; w += 5 + mp_get32(out->p + w) - 1) {
		const unsigned char *q = out->p + w + 5;
		size_t qlen = mp_get32(out->p + w) - 1;
		for (size_t r = 0; r + 5 <= qlen; r += 4 + mp_get32(q + r)) {
			char c = (char)q[r + 4];
			n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%c",
			    n ? " " : "", c);
			if (c == 'y')
				n += (size_t)snprintf(s + n, sizeof(s) - n,
				    ":%.3s", (const char *)q + r + 5);
			if (c == 'i' || c == 'm')
				n += (size_t)snprintf(s + n, sizeof(s) - n,
				    ":%s=%s", (const char *)q + r + 9,
				    (const char *)q + r + 10 +
				    strlen((const char *)q + r + 9));
		}
	}
	return s;
}

/* Copy s with its NUL; its length with the NUL. */
static size_t
put0(char *d, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(d, s, n);
	return n;
}

static void
postfix_message(const char *qid, const char *auth)
{
	char d[128];
	size_t n = 0;

	d[n++] = 'M';
	n += put0(d + n, "i");
	n += put0(d + n, qid);
	if (auth != NULL) {
		n += put0(d + n, "{auth_authen}");
		n += put0(d + n, auth);
	}
	frame('D', d, n);
	F('M', "<a@example.org>\0SIZE=10\0");
	F('D', "R");
	F('R', "<b@example.net>\0");
	F('L', "From\0 a@example.org\0");
	F('L', "Subject\0 hi\0");
	F('N', "");
	F('B', "hello\r\n");
	F('E', "");
	F('A', "");
}

static void
postfix_session(uint32_t proto)
{
	wlen = 0;
	optneg(PF_ACTIONS, proto);
	F('D', "C{daemon_name}\0smtpd\0");
	F('C', "client.example\0" "4\x61\xa8" "192.0.2.1\0");
	F('D', "H");
	F('H', "client.example\0");
	postfix_message("Q1", "alice");
	postfix_message("Q2", NULL);
	F('Q', "");
}

static void
test_postfix_session(void)
{
	struct mp_buf out = { NULL, 0, 0, 1 << 20 };
	char e[256];
	const char *want_trace =
	    "C(client.example,192.0.2.1,smtpd)H(client.example)"
	    "M(<a@example.org>,alice,Q1)R(<b@example.net>)"
	    "L(From: a@example.org)L(Subject: hi)NB(hello\r\n)E(Q1)"
	    "M(<a@example.org>,-,Q2)R(<b@example.net>)"
	    "L(From: a@example.org)L(Subject: hi)NB(hello\r\n)E(Q2)Q";

	verdict_stage = 0;
	postfix_session(PF_PROTO);
	is_int(feed(0, 1 << 20, &out, e, sizeof(e)), MC_CLOSE,
	    "Postfix session: ends at QUIT");
	is_str(e, "", "Postfix session: no error");
	is_str(trace, want_trace, "Postfix session: hooks in order, macros "
	    "of message 1 not seen in message 2");
	is_str(codes(&out), "O i:Authentication-Results= mx; none "
	    "m:Authentication-Results= c i:Authentication-Results= mx; none "
	    "m:Authentication-Results= c",
	    "Postfix session: only OPTNEG and the two ends of message get "
	    "replies, edits with the verdict, leading space added");
	ok(edits_ok, "Postfix session: edits allowed at end of message");
	/* OPTNEG reply: version 6, what we asked of what was offered, and
	 * the macro lists. */
	ok(out.len > 5 + 5 + 12 && mp_get32(out.p + 10) == 6 &&
	    mp_get32(out.p + 14) == (SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    SMFIF_QUARANTINE | SMFIF_SETSYMLIST) &&
	    mp_get32(out.p + 18) == (SMFIP_HDR_LEADSPC | SMFIP_NODATA |
	    SMFIP_NOUNKNOWN | ALL_NR), "OPTNEG: version, actions, protocol");
	ok(memcmp(out.p + 22, "\0\0\0\0{daemon_name}\0\0\0\0\2i {auth_authen}",
	    34) == 0, "OPTNEG: macro lists for CONNECT and MAIL");

	/* The same session fed one byte at a time. */
	out.len = 0;
	is_int(feed(1, 1 << 20, &out, e, sizeof(e)), MC_CLOSE,
	    "byte by byte: ends at QUIT");
	is_str(trace, "C(client.example,192.0.2.1,smtpd)H(client.example)"
	    "M(<a@example.org>,alice,Q1)R(<b@example.net>)"
	    "L(From: a@example.org)L(Subject: hi)NB(h)B(e)B(l)B(l)B(o)B(\r)"
	    "B(\n)E(Q1)M(<a@example.org>,-,Q2)R(<b@example.net>)"
	    "L(From: a@example.org)L(Subject: hi)NB(h)B(e)B(l)B(l)B(o)B(\r)"
	    "B(\n)E(Q2)Q", "byte by byte: body bytes streamed as they come");

	/* An MTA without "no reply" stages gets a reply at each. */
	out.len = 0;
	postfix_session(SMFIP_HDR_LEADSPC);
	feed(0, 1 << 20, &out, e, sizeof(e));
	is_str(codes(&out), "O c c c c c c c c i:Authentication-Results= mx; "
	    "none m:Authentication-Results= c c c c c c c i:"
	    "Authentication-Results= mx; none m:Authentication-Results= c",
	    "no NR offered: continue at every stage");
	/* Without SMFIP_HDR_LEADSPC no leading space. */
	out.len = 0;
	postfix_session(ALL_NR);
	feed(0, 1 << 20, &out, e, sizeof(e));
	ok(strstr(codes(&out), "i:Authentication-Results=mx; none") != NULL,
	    "no LEADSPC: header value without the leading space");
	mp_buf_free(&out);
}

static void
test_verdicts(void)
{
	struct mp_buf out = { NULL, 0, 0, 1 << 20 };
	char e[256];

	/* Reject at a header (a no-reply stage): kept for end of message;
	 * no later hook of the message; the next message is fresh. */
	verdict_stage = 'L';
	verdict_at = MS_REJECT;
	postfix_session(PF_PROTO);
	feed(0, 1 << 20, &out, e, sizeof(e));
	is_str(trace, "C(client.example,192.0.2.1,smtpd)H(client.example)"
	    "M(<a@example.org>,alice,Q1)R(<b@example.net>)"
	    "L(From: a@example.org)A"
	    "M(<a@example.org>,-,Q2)R(<b@example.net>)"
	    "L(From: a@example.org)AQ",
	    "kept verdict: no hook after it in that message; abort instead "
	    "of end of message");
	is_str(codes(&out), "O y:550 y:550",
	    "kept verdict: given at end of message, with its text");

	/* The same without no-reply stages: given where it is reached. */
	out.len = 0;
	postfix_session(SMFIP_HDR_LEADSPC);
	feed(0, 1 << 20, &out, e, sizeof(e));
	is_str(codes(&out), "O c c c c y:550 y:550 y:550 y:550 y:550 c c "
	    "y:550 y:550 y:550 y:550 y:550",
	    "replying stages: the verdict at once and at every later stage "
	    "of the message");

	/* Tempfail at CONNECT holds for the session. */
	out.len = 0;
	verdict_stage = 'C';
	verdict_at = MS_TEMPFAIL;
	postfix_session(PF_PROTO);
	feed(0, 1 << 20, &out, e, sizeof(e));
	is_str(trace, "C(client.example,192.0.2.1,smtpd)AAQ",
	    "connect verdict: no further hook");
	is_str(codes(&out), "O y:451 y:451", "connect verdict: at each end "
	    "of message");

	/* Reject at end of message drops the edits made. */
	out.len = 0;
	verdict_stage = 'E';
	verdict_at = MS_REJECT;
	postfix_session(PF_PROTO);
	feed(0, 1 << 20, &out, e, sizeof(e));
	is_str(codes(&out), "O y:550 y:550",
	    "reject at end of message: no header edits sent");

	/* Progress goes out at once, before the edits and the verdict. */
	out.len = 0;
	verdict_stage = 'P';
	postfix_session(PF_PROTO);
	feed(0, 1 << 20, &out, e, sizeof(e));
	/* All of the session came in one read: what was owed before an
	 * end of message (OPTNEG's reply, the first message's answer) goes
	 * out before its progress reply. */
	is_str(codes(&sent), "O p i:Authentication-Results= mx; none "
	    "m:Authentication-Results= c p", "progress: sent at once through "
	    "the I/O layer, after what was owed before");
	is_str(codes(&out), "i:Authentication-Results= mx; none "
	    "m:Authentication-Results= c", "progress: edits and verdict "
	    "after it");
	ok(edits_ok, "progress: allowed at end of message");
	mp_buf_free(&out);
}

static void
test_quit_nc(void)
{
	struct mp_buf out = { NULL, 0, 0, 1 << 20 };
	char e[256];

	/* K ends the session, keeps the negotiation: the second session
	 * still has no-reply stages and values with their leading space. */
	verdict_stage = 0;
	wlen = 0;
	optneg(PF_ACTIONS, PF_PROTO);
	F('C', "one\0" "4\0\x19" "192.0.2.1\0");
	F('M', "<a@example.org>\0");
	F('R', "<b@example.net>\0");
	F('K', "");
	F('D', "C{daemon_name}\0submission\0");
	F('C', "two\0" "4\0\x19" "192.0.2.2\0");
	F('M', "<c@example.org>\0");
	F('R', "<d@example.net>\0");
	F('N', "");
	F('E', "");
	F('Q', "");
	is_int(feed(0, 1 << 20, &out, e, sizeof(e)), MC_CLOSE, "K: then QUIT");
	is_str(trace, "C(one,192.0.2.1,-)M(<a@example.org>,-,-)"
	    "R(<b@example.net>)AQ"
	    "C(two,192.0.2.2,submission)M(<c@example.org>,-,-)"
	    "R(<d@example.net>)NE(-)Q",
	    "K: the message aborted, the session closed, a new one begun");
	is_str(codes(&out), "O i:Authentication-Results= mx; none "
	    "m:Authentication-Results= c",
	    "K: negotiation kept (no replies before EOM, leading space)");
	mp_buf_free(&out);
}

static void
test_bad_sessions(void)
{
	/* The session that crashed libmilter 8.17.1.9 (issue 15). */
	static const char crash[] = "0000000d4f00000006000001ff0000000000000010"
	    "44437b6461656d6f6e5f6e616d657d000000001a43636c69656e742e7465737400"
	    "3400193139322e302e322e31000000000d48636c69656e742e7465737400000000"
	    "114d3c61406578616d706c652e6f72673e00";
	struct mp_buf out = { NULL, 0, 0, 1 << 20 };
	char e[256];

	verdict_stage = 0;
	wlen = 0;
	for (size_t i = 0; crash[i] != '\0'; i += 2) {
		unsigned v;
		sscanf(crash + i, "%2x", &v);
		wire[wlen++] = (unsigned char)v;
	}
	is_int(feed(0, 1 << 20, &out, e, sizeof(e)), MC_CLOSE,
	    "libmilter crash session: connection ended");
	ok(strstr(e, "MACRO (D): a macro name without a value") != NULL,
	    "libmilter crash session: says why");
	is_str(trace, "", "libmilter crash session: no hook called");
	is_str(codes(&out), "O", "libmilter crash session: only OPTNEG "
	    "answered");

	/* Out of order: a header before MAIL. */
	out.len = 0;
	wlen = 0;
	optneg(PF_ACTIONS, PF_PROTO);
	F('C', "h\0U");
	F('L', "From\0 a@example.org\0");
	is_int(feed(0, 1 << 20, &out, e, sizeof(e)), MC_CLOSE,
	    "header before MAIL: connection ended");
	is_str(e, "HEADER (L) outside a message", "header before MAIL: why");
	is_str(trace, "C(h,-,-)Q", "header before MAIL: session closed");

	/* A command over milter_max_command ends the connection as soon as
	 * its length is read, before its data. */
	out.len = 0;
	wlen = 0;
	optneg(PF_ACTIONS, PF_PROTO);
	F('C', "h\0U");
	F('M', "<a@example.org>\0");
	F('R', "<b@example.net>\0");
	mp_set32(wire + wlen, 70000);
	wire[wlen + 4] = 'L';
	wlen += 5;
	is_int(feed(0, 65536, &out, e, sizeof(e)), MC_CLOSE,
	    "oversized command: connection ended");
	ok(strstr(e, "69999 bytes, more than milter_max_command (65536)") !=
	    NULL, "oversized command: says why");
	is_str(trace, "C(h,-,-)M(<a@example.org>,-,-)R(<b@example.net>)AQ",
	    "oversized command: message aborted, session closed");

	/* A body chunk larger than the input buffer streams through. */
	out.len = 0;
	wlen = 0;
	optneg(PF_ACTIONS, PF_PROTO);
	F('C', "h\0U");
	F('M', "<a@example.org>\0");
	F('R', "<b@example.net>\0");
	F('N', "");
	{
		static unsigned char big[65535];
		memset(big, 'x', sizeof(big));
		frame('B', big, sizeof(big));
	}
	F('E', "tail");
	F('Q', "");
	is_int(feed(0, 65536, &out, e, sizeof(e)), MC_CLOSE,
	    "64 KiB body chunk: served");
	ok(body_total == 65535 + 4 && body_largest <= 16384,
	    "a 64 KiB body chunk streams through a 16 KiB buffer");
	ok(strstr(trace, "B(tail)E(-)Q") != NULL,
	    "EOM's own body bytes go to the body hook first");
	mp_buf_free(&out);
}

static void
test_edit_rules(void)
{
	struct milter_conn *mc = milter_conn_new(&hooks, 1 << 20);

	is_int(milter_add_header(mc, "X", "y"), -1,
	    "edits refused outside end of message");
	is_int(milter_progress(mc), -1, "progress refused outside end of "
	    "message");
	milter_conn_free(mc);
}

int
main(void)
{
	test_postfix_session();
	test_verdicts();
	test_quit_nc();
	test_bad_sessions();
	test_edit_rules();
	mp_buf_free(&sent);
	return done_testing();
}
