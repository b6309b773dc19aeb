/*
 * session.h -- what the MTA told us about one connection and its message.
 */
#ifndef AUTHFILTER_SESSION_H
#define AUTHFILTER_SESSION_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "milter/check.h"
#include "milter/direction.h"
#include "lib/header.h"

struct af_state;
struct signer;
struct dns_hold;


enum hdr_status { HDR_OK, HDR_TOO_MANY, HDR_TOO_BIG, HDR_NOMEM };

/* Postfix's smtpd_recipient_limit defaults to 1000; keep that many. */
#define MESSAGE_MAX_RCPTS 1000

struct message {
	int		 active;	/* between MAIL FROM and end/abort */
	struct af_state	*state;		/* settings this message runs with */
	enum direction	 dir;		/* decided once, at MAIL FROM */
	const char	*dir_why;
	char		*queue_id;
	char		*env_from;
	char		*auth_authen;	/* SASL login, NULL if none */
	size_t		 nrcpts;	/* all recipients, counted */
	char		**rcpts;	/* the first MESSAGE_MAX_RCPTS of them */
	size_t		 nrcpts_kept;
	struct header	*hdrs;
	size_t		 nhdrs, cap;
	size_t		 hdr_bytes;
	enum hdr_status	 hdr_over;	/* a header limit passed: HDR_TOO_* */
	unsigned long long body_bytes;
	struct signer	*signer;	/* outbound and signing */
	const char	*sign_skip;	/* outbound, not signed: why */
	char		 sign_domain[256];	/* the From domain looked up */
	char		*sign_error;	/* signing failed: what happened */
	int		 sender_mismatch;	/* login may not use the From */
	int		 reinjected;	/* from internal_networks with our AR */
	/* Inbound: the checks (check.h), their states and results. */
	int		 unchecked;	/* client in unchecked_clients */
	int		 checked;
	struct dns_hold	*dnshold;	/* the lookups it started */
	void		*cstate[CHECKS_MAX];
	struct check_results res;
};

struct session {
	char		 client_ip[INET6_ADDRSTRLEN];	/* "" if unknown */
	char		*client_name;
	char		*helo;
	char		*daemon_name;
	struct sockaddr_storage client_addr;
	int		 has_addr;
	struct message	 msg;
};

struct session	*session_new(void);
void		 session_free(struct session *);
int		 session_set_client(struct session *, const char *name,
		    const struct sockaddr *addr);
int		 session_set_str(char **field, const char *value);

/* Start a message: drops any previous one and holds `state` (taken
 * over by the message, released by message_end). */
void		 message_begin(struct session *, struct af_state *state);
void		 message_end(struct session *);
int		 message_add_rcpt(struct message *, const char *rcpt);
/* Store one header unless it would pass max_headers/max_header_bytes. */
enum hdr_status	 message_add_header(struct message *, const char *name,
		    const char *value, size_t max_headers, size_t max_bytes);

/* Number of messages between begin and end, in all sessions. */
unsigned	 message_in_progress(void);
/* Shutdown: from now on new sessions and messages are refused. */
void		 session_start_draining(void);
int		 session_draining(void);

#endif
