/* Unit tests for milter/session.c: message context and header limits. */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "milter/session.h"
#include "milter/state.h"
#include "t/tap.h"

static struct af_state *
make_state(void)
{
	struct config_errors errs = { 0 };
	struct af_state *st = calloc(1, sizeof(*st));

	st->cfg = config_parse("t", "", 0, &errs);
	st->refs = 1;
	return st;
}

int
main(void)
{
	struct session *s = session_new();
	struct af_state *st = make_state();
	struct sockaddr_in6 sin6;
	char big[2000];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::25", &sin6.sin6_addr);
	session_set_client(s, "mx.example", (struct sockaddr *)&sin6);
	is_str(s->client_ip, "2001:db8::25", "client IPv6 recorded");
	session_set_client(s, "x", NULL);
	ok(!s->has_addr && s->client_ip[0] == '\0', "no address: unknown");

	st->refs++;		/* one for the message, one for us */
	message_begin(s, st);
	is_int(message_in_progress(), 1, "one message in progress");
	is_int(message_add_header(&s->msg, "From", " a@b", 3, 100), HDR_OK,
	    "first header");
	is_int(message_add_header(&s->msg, "", "", 3, 100), HDR_OK,
	    "empty name stored as given (malformed, not fatal)");
	is_int(message_add_header(&s->msg, "X", "y", 3, 100), HDR_OK, "third");
	is_int(message_add_header(&s->msg, "X", "y", 3, 100), HDR_TOO_MANY,
	    "fourth header passes max_headers");
	is_int(s->msg.nhdrs, 3, "nothing stored past the limit");
	message_end(s);
	is_int(message_in_progress(), 0, "message ended");
	is_int(st->refs, 1, "message released its state");
	message_end(s);
	is_int(message_in_progress(), 0, "second end is harmless");

	st->refs++;
	message_begin(s, st);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(message_add_header(&s->msg, "Subject", big, 1000, 1024),
	    HDR_TOO_BIG, "one header larger than max_header_bytes");
	big[600] = '\0';
	is_int(message_add_header(&s->msg, "Subject", big, 1000, 1024),
	    HDR_OK, "600 bytes fit");
	is_int(message_add_header(&s->msg, "Subject", big, 1000, 1024),
	    HDR_TOO_BIG, "the total is bounded too");
	message_add_rcpt(&s->msg, "<a@example>");
	message_add_rcpt(&s->msg, "<b@example>");
	is_int(s->msg.nrcpts, 2, "recipients counted");
	is_str(s->msg.rcpts[1], "<b@example>", "recipients kept in order");
	for (int i = 0; i < MESSAGE_MAX_RCPTS + 5; i++)
		message_add_rcpt(&s->msg, "<c@example>");
	is_int(s->msg.nrcpts, MESSAGE_MAX_RCPTS + 7, "all recipients counted");
	is_int(s->msg.nrcpts_kept, MESSAGE_MAX_RCPTS, "storage is bounded");

	/* A new MAIL FROM drops the previous message's state (RSET, M5). */
	st->refs++;
	message_begin(s, st);
	is_int(s->msg.nhdrs, 0, "new message starts empty");
	ok(s->msg.rcpts == NULL && s->msg.nrcpts == 0,
	    "no recipient leaks into the next");
	is_int(message_in_progress(), 1, "still one in progress");
	session_free(s);
	is_int(message_in_progress(), 0, "close ends the message");
	is_int(st->refs, 1, "all references returned");
	state_release(st);
	return done_testing();
}
