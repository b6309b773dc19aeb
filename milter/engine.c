/*
 * NAME
 *	engine -- one milter connection, from the MTA's bytes to replies
 * SYNOPSIS
 *	mc = milter_conn_new(&hooks, max_command);
 *	milter_conn_space(mc, &p, &room);	read into p
 *	milter_conn_input(mc, n);		calls the hooks
 *	milter_conn_output(mc, &p, &len);	write, milter_conn_sent()
 *	milter_conn_free(mc);
 * DESCRIPTION
 *	The whole conversation of one connection, without I/O: server.c
 *	reads, writes and owns the socket; tests and the fuzzer feed bytes
 *	directly.  Commands are decoded, checked for their order
 *	(protocol.c) and handed to the daemon's hooks; replies are
 *	appended to one buffer, so that whatever is owed goes to the MTA
 *	in one write when the engine needs the next bytes.
 *
 *	Negotiation: the version is the MTA's, at most 6; actions and
 *	protocol flags are what the hooks want of what the MTA offers (an
 *	MTA refuses more); the macros wanted per stage follow when the MTA
 *	takes SMFIF_SETSYMLIST.  QUIT_NC (K) ends the session and keeps
 *	all of that for the next one on the connection.
 *
 *	Stages negotiated as "no reply" get none: a verdict reached there
 *	is kept and given at the next stage that replies (milter_hooks in
 *	engine.h).  At end of message the header edits the hook made and
 *	the verdict go out together; a reject or tempfail drops the edits.
 *
 *	Macros are kept per stage, as libmilter keeps them: a command of
 *	one stage makes the macros of later stages stale, and the message
 *	stages' macros go when the message ends, so a value from one
 *	message (a SASL login) never reaches the next.
 *
 *	A BODY command (and the last body bytes an EOM may carry) goes to
 *	the body hook as its bytes arrive, so a connection holds at most
 *	one header or other small command in memory, never a body chunk.
 * DIAGNOSTICS
 *	A protocol violation returns MC_CLOSE with milter_conn_error()
 *	saying what was wrong; the hooks see the session end as if the
 *	MTA had gone away.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/engine.h"

/* Input buffer: enough for a whole small message in one read; grows for
 * one large command (a header) and shrinks back afterwards. */
#define IN_SIZE		(16 * 1024)
/* Replies of one message: every header edit plus the verdict. */
#define OUT_MAX		(4 * 1024 * 1024)

struct verdict {
	enum milter_status rc;		/* MS_CONTINUE: none kept */
	char	 code[4], xcode[10], text[400];
};

struct macro_set {
	char	*pairs;			/* name NUL value NUL ... */
	size_t	 len, cap;
};

struct milter_conn {
	const struct milter_hooks *hooks;
	void	*priv;
	size_t	 max_payload;
	enum mp_phase phase;
	int	 session;		/* connect seen: close owed */
	uint32_t actions, proto;	/* as agreed */
	unsigned char *in;		/* bytes [in_off, in_len) unread */
	size_t	 in_off, in_len, in_cap;
	size_t	 body_left;		/* of a BODY/EOM command streaming */
	char	 body_cmd;
	struct mp_buf out;
	struct macro_set mac[MP_NSTAGES];
	struct verdict conn_v, msg_v, next;	/* next: milter_set_reply */
	int	 at_eom;
	size_t	 eom_mark;		/* replies before this EOM's edits */
	int	(*send)(void *, const unsigned char *, size_t);
	void	*send_arg;
	char	 err[256];
};

struct milter_conn *
milter_conn_new(const struct milter_hooks *hooks, size_t max_command)
{
	struct milter_conn *mc = calloc(1, sizeof(*mc));

	if (mc == NULL)
		return NULL;
	mc->hooks = hooks;
	mc->max_payload = max_command;
	mc->out.max = OUT_MAX;
	return mc;
}

/* A message is over: its verdict and its macros go. */
static void
forget_message(struct milter_conn *mc)
{
	mc->msg_v.rc = MS_CONTINUE;
	for (int i = MP_STAGE_MAIL; i < MP_NSTAGES; i++)
		mc->mac[i].len = 0;
}

/* A message ends without its end of message (ABORT, QUIT, a new MAIL):
 * the hooks hear it when one was in progress. */
static void
end_message(struct milter_conn *mc, enum mp_phase before)
{
	if (MP_IN_MESSAGE(before) && mc->hooks->abort != NULL)
		mc->hooks->abort(mc);
	forget_message(mc);
}

static void
end_session(struct milter_conn *mc, enum mp_phase before)
{
	end_message(mc, before);
	if (mc->session && mc->hooks->close != NULL)
		mc->hooks->close(mc);
	mc->session = 0;
	mc->conn_v.rc = MS_CONTINUE;
	for (int i = 0; i < MP_NSTAGES; i++)
		mc->mac[i].len = 0;
}

void
milter_conn_free(struct milter_conn *mc)
{
	if (mc == NULL)
		return;
	end_session(mc, mc->body_left > 0 ? MP_PH_BODY : mc->phase);
	for (int i = 0; i < MP_NSTAGES; i++)
		free(mc->mac[i].pairs);
	free(mc->in);
	mp_buf_free(&mc->out);
	free(mc);
}

void *
milter_priv(struct milter_conn *mc)
{
	return mc->priv;
}

void
milter_set_priv(struct milter_conn *mc, void *priv)
{
	mc->priv = priv;
}

void
milter_conn_set_send(struct milter_conn *mc,
    int (*send)(void *, const unsigned char *, size_t), void *arg)
{
	mc->send = send;
	mc->send_arg = arg;
}

const char *
milter_conn_error(const struct milter_conn *mc)
{
	return mc->err;
}

int
milter_conn_partial(const struct milter_conn *mc)
{
	return mc->body_left > 0 || mc->in_len > mc->in_off;
}

/* ---- macros ---- */

static int
macro_name_eq(const char *have, const char *want)
{
	size_t hl = strlen(have), wl = strlen(want);

	if (hl == wl)
		return memcmp(have, want, hl) == 0;
	/* "{i}" and "i" */
	if (hl == wl + 2 && have[0] == '{' && have[hl - 1] == '}')
		return memcmp(have + 1, want, wl) == 0;
	if (wl == hl + 2 && want[0] == '{' && want[wl - 1] == '}')
		return memcmp(want + 1, have, hl) == 0;
	return 0;
}

const char *
milter_macro(const struct milter_conn *mc, const char *name)
{
	for (int i = MP_NSTAGES - 1; i >= 0; i--) {
		const struct macro_set *m = &mc->mac[i];
		const char *p, *end;
		if (m->len == 0)
			continue;	/* pairs may be NULL */
		for (p = m->pairs, end = p + m->len; p < end;) {
			const char *value = p + strlen(p) + 1;
			if (macro_name_eq(p, name))
				return value;
			p = value + strlen(value) + 1;
		}
	}
	return NULL;
}

static int
macro_store(struct milter_conn *mc, const struct mp_cmd *c)
{
	struct macro_set *m;

	if (c->u.macro.stage == MP_NSTAGES)
		return 0;
	m = &mc->mac[c->u.macro.stage];
	if (c->u.macro.len > m->cap) {
		char *grown = realloc(m->pairs, c->u.macro.len);
		if (grown == NULL)
			return -1;
		m->pairs = grown;
		m->cap = c->u.macro.len;
	}
	if (c->u.macro.len > 0)
		memcpy(m->pairs, c->u.macro.pairs, c->u.macro.len);
	m->len = c->u.macro.len;
	return 0;
}

/* A command of stage s: the macros of later stages are stale
 * (MP_NSTAGES: a command without a stage, nothing). */
static void
macros_after(struct milter_conn *mc, enum mp_stage s)
{
	for (int i = (int)s + 1; i < MP_NSTAGES; i++)
		mc->mac[i].len = 0;
}

/* ---- replies ---- */

void
milter_set_reply(struct milter_conn *mc, const char *code, const char *xcode,
    const char *text)
{
	snprintf(mc->next.code, sizeof(mc->next.code), "%s", code);
	snprintf(mc->next.xcode, sizeof(mc->next.xcode), "%s", xcode);
	snprintf(mc->next.text, sizeof(mc->next.text), "%s", text);
}

static int
put_verdict(struct milter_conn *mc, const struct verdict *v)
{
	char want = v->rc == MS_REJECT ? '5' : '4';

	switch (v->rc) {
	case MS_CONTINUE:
		return mp_put(&mc->out, SMFIR_CONTINUE, NULL, 0);
	case MS_ACCEPT:
		return mp_put(&mc->out, SMFIR_ACCEPT, NULL, 0);
	case MS_REJECT:
	case MS_TEMPFAIL:
		if (v->code[0] == want && v->xcode[0] == want)
			return mp_put_replycode(&mc->out, v->code, v->xcode,
			    v->text);
		return mp_put(&mc->out, v->rc == MS_REJECT ? SMFIR_REJECT :
		    SMFIR_TEMPFAIL, NULL, 0);
	}
	return -1;
}

/* The "no reply" flag of a stage's command, 0 for those that always
 * get a reply (EOM) or never (D, A, Q, K). */
static uint32_t
noreply_bit(char cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return SMFIP_NR_CONN;
	case SMFIC_HELO:	return SMFIP_NR_HELO;
	case SMFIC_MAIL:	return SMFIP_NR_MAIL;
	case SMFIC_RCPT:	return SMFIP_NR_RCPT;
	case SMFIC_DATA:	return SMFIP_NR_DATA;
	case SMFIC_UNKNOWN:	return SMFIP_NR_UNKN;
	case SMFIC_HEADER:	return SMFIP_NR_HDR;
	case SMFIC_EOH:		return SMFIP_NR_EOH;
	case SMFIC_BODY:	return SMFIP_NR_BODY;
	default:		return 0;
	}
}

/* The verdict kept for a stage of this scope, or NULL. */
static const struct verdict *
kept(const struct milter_conn *mc, int message_scope)
{
	if (mc->conn_v.rc != MS_CONTINUE)
		return &mc->conn_v;
	if (message_scope && mc->msg_v.rc != MS_CONTINUE)
		return &mc->msg_v;
	return NULL;
}

/* What a hook said: kept (first one stands) when it is a verdict. */
static void
keep(struct milter_conn *mc, int message_scope, enum milter_status rc)
{
	struct verdict *v = message_scope ? &mc->msg_v : &mc->conn_v;

	if (rc != MS_CONTINUE && v->rc == MS_CONTINUE) {
		*v = mc->next;
		v->rc = rc;
	}
	memset(&mc->next, 0, sizeof(mc->next));
}

/* The reply a stage owes, if it owes one. */
static int
reply_stage(struct milter_conn *mc, char cmd, int message_scope)
{
	static const struct verdict cont = { MS_CONTINUE, "", "", "" };
	const struct verdict *v = kept(mc, message_scope);

	if ((mc->proto & noreply_bit(cmd)) != 0)
		return 0;
	return put_verdict(mc, v != NULL ? v : &cont);
}

static int
fail(struct milter_conn *mc, const char *what)
{
	snprintf(mc->err, sizeof(mc->err), "%s", what);
	return -1;
}

/* ---- commands ---- */

static int
negotiate(struct milter_conn *mc, const struct mp_cmd *c)
{
	uint32_t mta_actions = c->u.optneg.actions, mta_proto =
	    c->u.optneg.protocol, actions = 0, proto = 0;
	uint32_t version = c->u.optneg.version < MP_VERSION ?
	    c->u.optneg.version : MP_VERSION;

	/* An MTA that names nothing offers version 1's set (libmilter). */
	if (mta_actions == 0)
		mta_actions = SMFI_V1_ACTS;
	if (mta_proto == 0)
		mta_proto = SMFI_V1_PROT;
	mta_proto &= ~(uint32_t)SMFI_INTERNAL;
	if (mc->hooks->negotiate != NULL)
		mc->hooks->negotiate(mc, mta_actions, mta_proto, &actions,
		    &proto);
	mc->actions = actions & mta_actions;
	mc->proto = proto & mta_proto;
	if (mp_put_optneg(&mc->out, version, mc->actions, mc->proto,
	    (mc->actions & SMFIF_SETSYMLIST) != 0 ? mc->hooks->symlist : NULL,
	    (mc->actions & SMFIF_SETSYMLIST) != 0 ? SMFIM_LAST + 1 : 0) != 0)
		return fail(mc, "out of memory for the negotiation reply");
	return 0;
}

static int
connect_cmd(struct milter_conn *mc, const struct mp_cmd *c)
{
	struct sockaddr_storage ss;
	struct sockaddr *sa = NULL;
	enum milter_status rc = MS_CONTINUE;

	memset(&ss, 0, sizeof(ss));
	if (c->u.connect.family == SMFIA_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(c->u.connect.port);
		inet_pton(AF_INET, c->u.connect.addr, &sin->sin_addr);
		sa = (struct sockaddr *)&ss;
	} else if (c->u.connect.family == SMFIA_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(c->u.connect.port);
		inet_pton(AF_INET6, c->u.connect.addr, &sin6->sin6_addr);
		sa = (struct sockaddr *)&ss;
	}
	macros_after(mc, MP_STAGE_CONNECT);
	mc->session = 1;
	if (mc->hooks->connect != NULL)
		rc = mc->hooks->connect(mc, c->u.connect.host, sa);
	keep(mc, 0, rc);
	return reply_stage(mc, c->cmd, 0);
}

/* HELO, MAIL, RCPT, DATA, UNKNOWN, HEADER, EOH. */
static int
stage_cmd(struct milter_conn *mc, const struct mp_cmd *c)
{
	int msg = c->cmd != SMFIC_HELO;
	enum milter_status rc = MS_CONTINUE;
	const struct milter_hooks *h = mc->hooks;

	macros_after(mc, mp_stage_of(c->cmd));
	if (c->cmd == SMFIC_MAIL)
		mc->msg_v.rc = MS_CONTINUE;	/* a new message */
	/* UNKNOWN outside a message belongs to the session. */
	if (c->cmd == SMFIC_UNKNOWN && !MP_IN_MESSAGE(mc->phase))
		msg = 0;
	if (kept(mc, msg) == NULL) {
		switch (c->cmd) {
		case SMFIC_HELO:
			if (h->helo != NULL)
				rc = h->helo(mc, c->u.str.s);
			break;
		case SMFIC_MAIL:
			if (h->envfrom != NULL)
				rc = h->envfrom(mc, c->u.args.addr);
			break;
		case SMFIC_RCPT:
			if (h->envrcpt != NULL)
				rc = h->envrcpt(mc, c->u.args.addr);
			break;
		case SMFIC_HEADER:
			if (h->header != NULL)
				rc = h->header(mc, c->u.header.name,
				    c->u.header.value);
			break;
		case SMFIC_EOH:
			if (h->eoh != NULL)
				rc = h->eoh(mc);
			break;
		default:	/* DATA, UNKNOWN: nothing to do */
			break;
		}
		keep(mc, msg, rc);
	}
	return reply_stage(mc, c->cmd, msg);
}

static void
body_piece(struct milter_conn *mc, const unsigned char *p, size_t n)
{
	if (n > 0 && kept(mc, 1) == NULL && mc->hooks->body != NULL)
		keep(mc, 1, mc->hooks->body(mc, p, n));
}

static int
eom_cmd(struct milter_conn *mc)
{
	const struct verdict *v = kept(mc, 1);
	enum milter_status verdict;
	struct verdict now;
	int rc;

	macros_after(mc, MP_STAGE_EOM);
	if (v != NULL) {
		/* decided earlier: the hooks never see this end */
		now = *v;
		end_message(mc, MP_PH_BODY);
		return put_verdict(mc, &now);
	}
	mc->eom_mark = mc->out.len;
	mc->at_eom = 1;
	verdict = mc->hooks->eom != NULL ? mc->hooks->eom(mc) : MS_CONTINUE;
	mc->at_eom = 0;
	now = mc->next;		/* with the text milter_set_reply() gave */
	now.rc = verdict;
	if (now.rc == MS_REJECT || now.rc == MS_TEMPFAIL)
		mc->out.len = mc->eom_mark;	/* no edits on a refused message */
	memset(&mc->next, 0, sizeof(mc->next));
	rc = put_verdict(mc, &now);
	forget_message(mc);	/* the hook ended the message itself */
	return rc;
}

/* The end of a BODY or EOM command whose bytes were streamed. */
static int
body_end(struct milter_conn *mc, char cmd)
{
	if (cmd == SMFIC_BODYEOB)
		return eom_cmd(mc);
	return reply_stage(mc, SMFIC_BODY, 1);
}

/* One whole command, in order. */
static int
dispatch(struct milter_conn *mc, const struct mp_cmd *c, enum mp_phase before)
{
	switch (c->cmd) {
	case SMFIC_OPTNEG:
		return negotiate(mc, c);
	case SMFIC_MACRO:
		return macro_store(mc, c) == 0 ? 0 :
		    fail(mc, "out of memory for macros");
	case SMFIC_CONNECT:
		return connect_cmd(mc, c);
	case SMFIC_BODY:
	case SMFIC_BODYEOB:
		body_piece(mc, c->u.body.data, c->u.body.len);
		return body_end(mc, c->cmd);
	case SMFIC_ABORT:
		end_message(mc, before);
		return 0;
	case SMFIC_QUIT_NC:
	case SMFIC_QUIT:
		end_session(mc, before);
		return 0;
	default:
		return stage_cmd(mc, c);
	}
}

/* The start of a frame: checks that need only its header.  Body bytes
 * are then streamed; 1 when that begins, 0 for other commands. */
static int
frame_start(struct milter_conn *mc, char cmd, size_t payload)
{
	char err[200];
	enum mp_order o;

	if (mp_frame_check(cmd, payload, err, sizeof(err)) != 0)
		return fail(mc, err);
	if ((cmd != SMFIC_BODY && cmd != SMFIC_BODYEOB) || payload == 0)
		return 0;
	if ((o = mp_order(&mc->phase, cmd, err, sizeof(err))) == MP_ORDER_BAD)
		return fail(mc, err);
	mc->body_cmd = cmd;
	mc->body_left = payload;
	return 1;
}

static int
whole_frame(struct milter_conn *mc, unsigned char *data, size_t len)
{
	char err[200], cmd = (char)data[-1];
	enum mp_phase before = mc->phase;
	struct mp_cmd c;

	switch (mp_order(&mc->phase, cmd, err, sizeof(err))) {
	case MP_ORDER_BAD:
		return fail(mc, err);
	case MP_ORDER_ABORT_FIRST:
		end_message(mc, before);
		before = MP_PH_SESSION;
		break;
	case MP_ORDER_OK:
		break;
	}
	if (mp_decode(cmd, data, len, &c, err, sizeof(err)) != 0)
		return fail(mc, err);
	return dispatch(mc, &c, before);
}

/* A command failed: say why if nothing has yet. */
static enum milter_io
closed(struct milter_conn *mc)
{
	if (mc->err[0] == '\0')
		fail(mc, "out of memory for a reply");
	return MC_CLOSE;
}

enum milter_io
milter_conn_input(struct milter_conn *mc, size_t n)
{
	mc->in_len += n;
	while (mc->phase != MP_PH_CLOSED) {
		unsigned char *p = mc->in + mc->in_off;
		size_t avail = mc->in_len - mc->in_off, payload;
		int r;

		if (mc->body_left > 0) {
			size_t k = avail < mc->body_left ? avail : mc->body_left;
			if (k == 0)
				break;
			body_piece(mc, p, k);
			mc->in_off += k;
			mc->body_left -= k;
			if (mc->body_left == 0 &&
			    body_end(mc, mc->body_cmd) != 0)
				return closed(mc);
			continue;
		}
		r = mp_frame(p, avail, mc->max_payload, &payload, mc->err,
		    sizeof(mc->err));
		if (r < 0)
			return MC_CLOSE;
		if (r > 0)
			break;
		if ((r = frame_start(mc, (char)p[4], payload)) < 0)
			return MC_CLOSE;
		if (r > 0) {
			mc->in_off += MP_FRAME_HDR;
			continue;
		}
		if (avail - MP_FRAME_HDR < payload)
			break;
		mc->in_off += MP_FRAME_HDR + payload;
		if (whole_frame(mc, p + MP_FRAME_HDR, payload) != 0)
			return closed(mc);
	}
	if (mc->in_off == mc->in_len)
		mc->in_off = mc->in_len = 0;
	return mc->phase == MP_PH_CLOSED ? MC_CLOSE : MC_MORE;
}

int
milter_conn_space(struct milter_conn *mc, unsigned char **p, size_t *room)
{
	size_t want = IN_SIZE, have = mc->in_len - mc->in_off;
	unsigned char *grown;

	if (mc->in_off > 0) {
		memmove(mc->in, mc->in + mc->in_off, have);
		mc->in_len = have;
		mc->in_off = 0;
	}
	/* A frame whose length is known is read whole; its length was
	 * checked against max_payload by milter_conn_input(). */
	if (mc->body_left == 0 && have >= MP_FRAME_HDR &&
	    mc->in[4] != SMFIC_BODY && mc->in[4] != SMFIC_BODYEOB &&
	    (size_t)mp_get32(mc->in) + 4 > want)
		want = (size_t)mp_get32(mc->in) + 4;
	if (have == 0 && mc->in_cap > 4 * IN_SIZE) {
		free(mc->in);		/* after a large command */
		mc->in = NULL;
		mc->in_cap = 0;
	}
	if (mc->in_cap < want) {
		if ((grown = realloc(mc->in, want)) == NULL)
			return -1;
		mc->in = grown;
		mc->in_cap = want;
	}
	*p = mc->in + mc->in_len;
	*room = mc->in_cap - mc->in_len;
	return 0;
}

void
milter_conn_output(struct milter_conn *mc, const unsigned char **p,
    size_t *len)
{
	*p = mc->out.p;
	*len = mc->out.len;
}

void
milter_conn_sent(struct milter_conn *mc, size_t n)
{
	if (n >= mc->out.len) {
		mc->out.len = 0;
		return;
	}
	memmove(mc->out.p, mc->out.p + n, mc->out.len - n);
	mc->out.len -= n;
}

/* ---- end-of-message actions ---- */

static int
may(const struct milter_conn *mc, uint32_t action)
{
	return mc->at_eom && (mc->actions & action) != 0;
}

/* A header value as the MTA wants it: with its leading space when the
 * MTA sends values with theirs (it then writes "name:" and our value). */
static char *
header_value(const struct milter_conn *mc, const char *value)
{
	size_t len = strlen(value);
	char *v = malloc(len + 2);

	if (v == NULL)
		return NULL;
	v[0] = ' ';
	memcpy(v + 1, value, len + 1);
	if ((mc->proto & SMFIP_HDR_LEADSPC) == 0)
		memmove(v, v + 1, len + 1);
	return v;
}

static int
put_header(struct milter_conn *mc, char code, long idx, const char *name,
    const char *value)
{
	char *v = header_value(mc, value);
	int rc;

	if (v == NULL)
		return -1;
	rc = mp_put_strings(&mc->out, code, idx, name, v);
	free(v);
	return rc;
}

int
milter_add_header(struct milter_conn *mc, const char *name, const char *value)
{
	if (!may(mc, SMFIF_ADDHDRS))
		return -1;
	return put_header(mc, SMFIR_ADDHEADER, -1, name, value);
}

int
milter_insert_header(struct milter_conn *mc, unsigned idx, const char *name,
    const char *value)
{
	if (!may(mc, SMFIF_ADDHDRS))
		return -1;
	return put_header(mc, SMFIR_INSHEADER, (long)idx, name, value);
}

int
milter_change_header(struct milter_conn *mc, const char *name, unsigned idx,
    const char *value)
{
	if (!may(mc, SMFIF_CHGHDRS))
		return -1;
	if (value == NULL)	/* an empty value deletes */
		return mp_put_strings(&mc->out, SMFIR_CHGHEADER, (long)idx,
		    name, "");
	return put_header(mc, SMFIR_CHGHEADER, (long)idx, name, value);
}

int
milter_quarantine(struct milter_conn *mc, const char *reason)
{
	if (!may(mc, SMFIF_QUARANTINE))
		return -1;
	return mp_put_strings(&mc->out, SMFIR_QUARANTINE, -1, reason, NULL);
}

int
milter_progress(struct milter_conn *mc)
{
	static const unsigned char frame[MP_FRAME_HDR] = { 0, 0, 0, 1,
	    SMFIR_PROGRESS };

	if (!mc->at_eom || mc->send == NULL)
		return -1;
	/* What was owed before this EOM goes first; the edits made so far
	 * wait for the verdict, which may still drop them. */
	if (mc->eom_mark > 0) {
		if (mc->send(mc->send_arg, mc->out.p, mc->eom_mark) != 0)
			return -1;
		milter_conn_sent(mc, mc->eom_mark);
		mc->eom_mark = 0;
	}
	return mc->send(mc->send_arg, frame, sizeof(frame));
}
