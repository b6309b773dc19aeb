/* Unit tests for milter/protocol.c: frames, every command and its
 * malformed forms, the order of commands, reply encoding. */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "milter/protocol.h"
#include "t/tap.h"

static char err[256];

/* Decode cmd with data given as a C literal of n bytes (NULs inside). */
static int
dec(char cmd, const char *lit, size_t n, struct mp_cmd *c)
{
	static unsigned char buf[512];

	memcpy(buf, lit, n);
	err[0] = '\0';
	return mp_decode(cmd, buf, n, c, err, sizeof(err));
}
#define DEC(cmd, lit, c) dec((cmd), (lit), sizeof(lit) - 1, (c))

static void
test_frames(void)
{
	unsigned char b[8] = { 0, 0, 0, 5, 'L', 0, 0, 0 };
	size_t payload = 99;

	is_int(mp_frame(b, 3, 100, &payload, err, sizeof(err)), 1,
	    "frame: 3 bytes, more needed");
	is_int(mp_frame(b, 4, 100, &payload, err, sizeof(err)), 1,
	    "frame: length only, more needed");
	is_int(mp_frame(b, 5, 100, &payload, err, sizeof(err)), 0,
	    "frame: header whole");
	is_int(payload, 4, "frame: payload is length - 1");
	memcpy(b, "\0\0\0\0", 4);
	is_int(mp_frame(b, 4, 100, &payload, err, sizeof(err)), -1,
	    "frame: length 0 is an error");
	memcpy(b, "\0\0\0\x66", 4);	/* 102: payload 101 */
	is_int(mp_frame(b, 4, 100, &payload, err, sizeof(err)), -1,
	    "frame: longer than the limit is an error at once");
	ok(strstr(err, "milter_max_command") != NULL,
	    "frame: the error names the setting");
	memcpy(b, "\xff\xff\xff\xff", 4);
	is_int(mp_frame(b, 4, 1 << 20, &payload, err, sizeof(err)), -1,
	    "frame: 4 GiB length is an error");
	is_int(mp_frame_check('Z', 0, err, sizeof(err)), -1,
	    "frame check: unknown command");
	is_int(mp_frame_check(SMFIC_OPTNEG, 11, err, sizeof(err)), -1,
	    "frame check: OPTNEG of 11 bytes");
	is_int(mp_frame_check(SMFIC_OPTNEG, 12, err, sizeof(err)), 0,
	    "frame check: OPTNEG of 12 bytes");
	is_int(mp_frame_check(SMFIC_EOH, 1, err, sizeof(err)), -1,
	    "frame check: EOH with data");
	is_int(mp_frame_check(SMFIC_BODY, 65535, err, sizeof(err)), 0,
	    "frame check: a body chunk");
}

static void
test_optneg_connect(void)
{
	struct mp_cmd c;

	is_int(DEC('O', "\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff", &c), 0,
	    "O: Postfix's negotiation");
	ok(c.u.optneg.version == 6 && c.u.optneg.actions == 0x1ff &&
	    c.u.optneg.protocol == 0x1fffff, "O: version, actions, protocol");
	is_int(DEC('O', "\0\0\0\x01\0\0\0\0\0\0\0\0", &c), -1,
	    "O: version 1 is refused");
	is_int(DEC('O', "\0\0\0\x06\0\0\0\0\0\0\0", &c), -1,
	    "O: 11 bytes");

	is_int(DEC('C', "mx.example\0" "4\x61\xa8" "192.0.2.1\0", &c), 0,
	    "C: inet");
	ok(strcmp(c.u.connect.host, "mx.example") == 0 &&
	    c.u.connect.family == '4' && c.u.connect.port == 25000 &&
	    strcmp(c.u.connect.addr, "192.0.2.1") == 0,
	    "C: host, family, port, address");
	is_int(DEC('C', "h\0" "6\0\x19" "IPv6:2001:db8::1\0", &c), 0,
	    "C: inet6 in Sendmail's IPv6: form");
	is_str(c.u.connect.addr, "2001:db8::1", "C: IPv6: prefix dropped");
	is_int(DEC('C', "h\0" "6\0\x19" "2001:db8::1\0", &c), 0,
	    "C: inet6 as Postfix sends it");
	is_int(DEC('C', "[192.0.2.1]\0U", &c), 0, "C: unknown family");
	ok(c.u.connect.family == 'U' && c.u.connect.addr[0] == '\0',
	    "C: unknown family has no address");
	is_int(DEC('C', "localhost\0L\0\0/run/x.sock\0", &c), 0,
	    "C: unix socket client");
	is_int(DEC('C', "h\0" "4\0\x19" "192.0.2.300\0", &c), -1,
	    "C: not an IPv4 address");
	is_int(DEC('C', "h\0" "6\0\x19" "192.0.2.1\0", &c), -1,
	    "C: IPv4 given as inet6");
	is_int(DEC('C', "h\0" "4\0\x19" "192.0.2.1", &c), -1,
	    "C: address without NUL");
	is_int(DEC('C', "h\0" "4\0\x19" "192.0.2.1\0x\0", &c), -1,
	    "C: bytes after the address");
	is_int(DEC('C', "h\0" "4\0", &c), -1, "C: port cut short");
	is_int(DEC('C', "h\0" "X\0\x19" "1\0", &c), -1, "C: unknown family");
	is_int(DEC('C', "h", &c), -1, "C: host without NUL");
	is_int(DEC('C', "h\0", &c), -1, "C: no family");
}

static void
test_strings(void)
{
	struct mp_cmd c;

	is_int(DEC('H', "client.example\0", &c), 0, "H: one string");
	is_str(c.u.str.s, "client.example", "H: the name");
	is_int(DEC('H', "\0", &c), 0, "H: empty name (non-SMTP mail)");
	is_int(DEC('H', "a\0b\0", &c), -1, "H: two strings");
	is_int(DEC('H', "abc", &c), -1, "H: no NUL");
	is_int(DEC('H', "", &c), -1, "H: no data");
	is_int(DEC('U', "XFOO\0", &c), 0, "U: one string");

	is_int(DEC('M', "<a@example.org>\0SIZE=100\0BODY=8BITMIME\0", &c), 0,
	    "M: address and ESMTP args");
	ok(strcmp(c.u.args.addr, "<a@example.org>") == 0 &&
	    c.u.args.argc == 3, "M: address first, three strings");
	is_int(DEC('M', "\0", &c), 0, "M: the null sender without brackets");
	is_int(DEC('M', "<a@example.org>", &c), -1, "M: no NUL");
	is_int(DEC('M', "", &c), -1, "M: no data");
	is_int(DEC('R', "<b@example.net>\0", &c), 0, "R: one address");

	is_int(DEC('L', "Subject\0 hello\0", &c), 0, "L: name and value");
	ok(strcmp(c.u.header.name, "Subject") == 0 &&
	    strcmp(c.u.header.value, " hello") == 0, "L: split");
	is_int(DEC('L', "X-Empty\0\0", &c), 0, "L: empty value");
	is_int(DEC('L', "\0 value\0", &c), -1, "L: empty name");
	is_int(DEC('L', "Subject\0", &c), -1, "L: no value");
	is_int(DEC('L', "Subject\0 a", &c), -1, "L: value without NUL");
	is_int(DEC('L', "Subject\0 a\0b\0", &c), 0,
	    "L: NUL inside the value");
	is_str(c.u.header.value, " a", "L: value read up to the first NUL");
}

static void
test_macros_and_empty(void)
{
	struct mp_cmd c;

	is_int(DEC('D', "C{daemon_name}\0smtpd\0j\0mx\0", &c), 0,
	    "D: two pairs for CONNECT");
	ok(c.u.macro.stage == MP_STAGE_CONNECT && c.u.macro.npairs == 2,
	    "D: stage and count");
	is_int(DEC('D', "M", &c), 0, "D: no pairs (all macros undefined)");
	ok(c.u.macro.stage == MP_STAGE_MAIL && c.u.macro.npairs == 0,
	    "D: empty MAIL set");
	/* The session of the libmilter crash: a name with no value. */
	is_int(DEC('D', "C{daemon_name}\0", &c), -1,
	    "D: a macro name without a value");
	ok(strstr(err, "without a value") != NULL, "D: says so");
	is_int(DEC('D', "Ca\0b\0c\0", &c), -1, "D: three strings");
	is_int(DEC('D', "C\0v\0", &c), -1, "D: empty macro name");
	is_int(DEC('D', "Ca\0b", &c), -1, "D: value without NUL");
	is_int(DEC('D', "Za\0b\0", &c), -1, "D: unknown stage");
	is_int(DEC('D', "", &c), -1, "D: no stage");
	is_int(DEC('D', "Li\0Q1\0", &c), 0, "D: header macros (Postfix)");
	is_int(c.u.macro.stage, MP_NSTAGES, "D: header macros kept nowhere");
	is_int(DEC('D', "Ei\0Q1\0", &c), 0, "D: EOM macros");
	is_int(c.u.macro.stage, MP_STAGE_EOM, "D: EOM stage");

	is_int(DEC('B', "body\0bytes", &c), 0, "B: any bytes");
	is_int(c.u.body.len, 10, "B: NUL bytes kept");
	is_int(DEC('E', "", &c), 0, "E: no data");
	is_int(DEC('E', "tail", &c), 0, "E: the last body bytes");
	is_int(DEC('N', "", &c), 0, "N: empty");
	is_int(DEC('N', "x", &c), -1, "N: with data");
	is_int(DEC('A', "x", &c), -1, "A: with data");
	is_int(DEC('Q', "", &c), 0, "Q");
	is_int(DEC('K', "", &c), 0, "K");
	is_int(DEC('T', "", &c), 0, "T");
	is_int(DEC('z', "", &c), -1, "unknown command");
}

/* Run cmds through mp_order from START; the index of the first that is
 * refused, -1 if none; *aborts counts MP_ORDER_ABORT_FIRST. */
static int
run_order(const char *cmds, enum mp_phase *ph, int *aborts)
{
	*ph = MP_PH_START;
	*aborts = 0;
	for (int i = 0; cmds[i] != '\0'; i++) {
		enum mp_order o = mp_order(ph, cmds[i], err, sizeof(err));
		if (o == MP_ORDER_BAD)
			return i;
		*aborts += o == MP_ORDER_ABORT_FIRST;
	}
	return -1;
}

static void
test_order(void)
{
	enum mp_phase ph;
	int aborts;

	/* Postfix: D before most commands; A after every message. */
	is_int(run_order("ODCDHDMDRDTLLLNBBEAMRLNEAQ", &ph, &aborts), -1,
	    "order: a Postfix session with two messages");
	ok(ph == MP_PH_CLOSED && aborts == 0, "order: closed, no abort");
	is_int(run_order("OCHMRLNBE" "K" "CHMRLNE" "Q", &ph, &aborts), -1,
	    "order: QUIT_NC, then a new session");
	is_int(run_order("OCMRNE", &ph, &aborts), -1,
	    "order: no HELO, no headers, no body");
	is_int(run_order("OCHMRLNB", &ph, &aborts), -1, "order: in body");
	is_int(ph, MP_PH_BODY, "order: phase body");
	is_int(run_order("OCHMRLHMRLNEQ", &ph, &aborts), -1,
	    "order: HELO and MAIL again inside a message");
	is_int(aborts, 1, "order: HELO ended the message (MAIL did not "
	    "need to)");
	is_int(run_order("OCHMRLNBKCQ", &ph, &aborts), -1,
	    "order: QUIT_NC inside a message");
	is_int(aborts, 1, "order: which ends it first");
	is_int(run_order("OAACAHA", &ph, &aborts), -1,
	    "order: ABORT anywhere after negotiation");
	is_int(run_order("OCHUMURUQ", &ph, &aborts), -1,
	    "order: UNKNOWN between envelope commands");

	is_int(run_order("C", &ph, &aborts), 0, "order: CONNECT first");
	ok(strstr(err, "before negotiation") != NULL, "order: says where");
	is_int(run_order("OO", &ph, &aborts), 1, "order: second OPTNEG");
	is_int(run_order("D", &ph, &aborts), 0, "order: macros first");
	is_int(run_order("OH", &ph, &aborts), 1, "order: HELO before CONNECT");
	is_int(run_order("OCC", &ph, &aborts), 2, "order: second CONNECT");
	is_int(run_order("OCHL", &ph, &aborts), 3, "order: header before MAIL");
	is_int(run_order("OCHMR", &ph, &aborts), -1, "order: envelope");
	is_int(run_order("OCHMLN", &ph, &aborts), 4,
	    "order: header right after MAIL");
	is_int(run_order("OCHMRLE", &ph, &aborts), 6,
	    "order: EOM among the headers");
	is_int(run_order("OCHMRLB", &ph, &aborts), 6,
	    "order: body among the headers");
	is_int(run_order("OCHMRLNL", &ph, &aborts), 7,
	    "order: header after end of headers");
	is_int(run_order("OCHMRNBR", &ph, &aborts), 7,
	    "order: RCPT in the body");
	is_int(run_order("OCHE", &ph, &aborts), 3, "order: EOM without MAIL");
	is_int(run_order("OCHMRNEB", &ph, &aborts), 7,
	    "order: body after end of message");
	is_int(run_order("OCHMRNT", &ph, &aborts), 6, "order: DATA after EOH");
	is_int(run_order("OCHMRLNUQ", &ph, &aborts), 7,
	    "order: UNKNOWN in the content");
	is_int(run_order("OQC", &ph, &aborts), 2, "order: after QUIT");
	is_int(run_order("OKH", &ph, &aborts), 2,
	    "order: HELO after QUIT_NC without CONNECT");
}

static void
test_replies(void)
{
	struct mp_buf b = { NULL, 0, 0, 1 << 20 };
	const char *sym[SMFIM_LAST + 1] = { [SMFIM_CONNECT] = "{daemon_name}",
	    [SMFIM_EOH] = "i" };

	ok(mp_put(&b, SMFIR_CONTINUE, NULL, 0) == 0 && b.len == 5 &&
	    memcmp(b.p, "\0\0\0\1c", 5) == 0, "reply: continue");
	b.len = 0;
	ok(mp_put_strings(&b, SMFIR_INSHEADER, 0, "X-A", " v") == 0 &&
	    b.len == 5 + 4 + 4 + 3 &&
	    memcmp(b.p, "\0\0\0\x0c" "i\0\0\0\0X-A\0 v\0", 16) == 0,
	    "reply: insert header with its index");
	b.len = 0;
	ok(mp_put_strings(&b, SMFIR_CHGHEADER, 2, "Authentication-Results",
	    "") == 0 && b.p[4] == 'm' && mp_get32(b.p + 5) == 2 &&
	    b.p[b.len - 1] == '\0' && b.p[b.len - 2] == '\0',
	    "reply: delete = change to an empty value");
	b.len = 0;
	ok(mp_put_optneg(&b, 6, 0x131, 0x1ff3c0, sym, SMFIM_LAST + 1) == 0,
	    "reply: OPTNEG with macro lists");
	is_int(b.len, 5 + 12 + (4 + 14) + (4 + 2), "reply: OPTNEG length");
	ok(memcmp(b.p + 5 + 12, "\0\0\0\0{daemon_name}\0" "\0\0\0\x06i\0",
	    24) == 0, "reply: lists as stage index and names");
	b.len = 0;
	ok(mp_put_replycode(&b, "550", "5.7.1", "100% bad\r\nX: y") == 0,
	    "reply: reply code");
	is_str((char *)b.p + 5, "550 5.7.1 100%% bad  X: y",
	    "reply: one line, % doubled (the MTA reads a format)");
	b.len = 0;
	b.max = 16;
	is_int(mp_put(&b, SMFIR_CONTINUE, "0123456789ab", 12), -1,
	    "reply: past the buffer's limit");
	mp_buf_free(&b);
}

int
main(void)
{
	test_frames();
	test_optneg_connect();
	test_strings();
	test_macros_and_empty();
	test_order();
	test_replies();
	return done_testing();
}
