/*
 * engine.h -- one milter connection: bytes from the MTA in, the calls
 * of the daemon's hooks, replies out.  No I/O of its own.
 */
#ifndef AUTHFILTER_ENGINE_H
#define AUTHFILTER_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "milter/protocol.h"

struct milter_conn;

enum milter_status {
	MS_CONTINUE,
	MS_REJECT,		/* 5xx; with milter_set_reply() its text */
	MS_TEMPFAIL,		/* 4xx; likewise */
	MS_ACCEPT		/* accept without further checks */
};

/*
 * What the daemon does at each stage; any may be NULL.  A verdict other
 * than MS_CONTINUE at a stage negotiated as "no reply" (SMFIP_NR_*) is
 * kept and given at the next stage that replies (end of message at the
 * latest): for the session when reached at CONNECT or HELO, else for the
 * message.  Once a verdict is kept, no hook of its scope is called
 * again; the message's state is given back through `abort`.
 */
struct milter_hooks {
	/* mta_*: what the MTA offers; set *actions and *proto to what we
	 * want (the engine keeps only what was offered). */
	void	(*negotiate)(struct milter_conn *, uint32_t mta_actions,
		    uint32_t mta_proto, uint32_t *actions, uint32_t *proto);
	/* addr: NULL for a unix or unknown client */
	enum milter_status (*connect)(struct milter_conn *, const char *host,
		    const struct sockaddr *addr);
	enum milter_status (*helo)(struct milter_conn *, const char *name);
	enum milter_status (*envfrom)(struct milter_conn *, const char *addr);
	enum milter_status (*envrcpt)(struct milter_conn *, const char *addr);
	enum milter_status (*header)(struct milter_conn *, const char *name,
		    const char *value);
	enum milter_status (*eoh)(struct milter_conn *);
	/* Body bytes as they arrive: a BODY command may come in pieces. */
	enum milter_status (*body)(struct milter_conn *,
		    const unsigned char *data, size_t len);
	/* Header edits (milter_add_header() ...) only from here. */
	enum milter_status (*eom)(struct milter_conn *);
	void	(*abort)(struct milter_conn *);	/* message ends unfinished */
	void	(*close)(struct milter_conn *);	/* session ends (Q, K, EOF) */
	/* Macros wanted at each stage (SMFIM_*), sent to an MTA that
	 * takes SMFIF_SETSYMLIST; NULL: no list for that stage. */
	const char *symlist[SMFIM_LAST + 1];
};

struct milter_conn *milter_conn_new(const struct milter_hooks *,
		    size_t max_command);
/* Ends the session (abort and close hooks as needed) and frees it. */
void		 milter_conn_free(struct milter_conn *);

/* Where to put bytes read from the MTA: *room > 0 bytes at *p.  -1 when
 * out of memory. */
int		 milter_conn_space(struct milter_conn *, unsigned char **p,
		    size_t *room);
enum milter_io {
	MC_MORE,		/* wants more bytes */
	MC_CLOSE		/* done: QUIT, or a protocol error */
};
/* n bytes were put at the place milter_conn_space() gave. */
enum milter_io	 milter_conn_input(struct milter_conn *, size_t n);
/* Replies to send, in order; then milter_conn_sent(). */
void		 milter_conn_output(struct milter_conn *, const unsigned char **p,
		    size_t *len);
void		 milter_conn_sent(struct milter_conn *, size_t n);
/* 1 while a command has come in part: the rest is owed at once. */
int		 milter_conn_partial(const struct milter_conn *);
/* Why the connection ended with MC_CLOSE, or "" after QUIT. */
const char	*milter_conn_error(const struct milter_conn *);
/* How milter_progress() sends at once: send(arg, bytes, len) writes
 * them all or returns -1. */
void		 milter_conn_set_send(struct milter_conn *,
		    int (*send)(void *, const unsigned char *, size_t),
		    void *arg);

/* For the hooks. */
void		*milter_priv(struct milter_conn *);
void		 milter_set_priv(struct milter_conn *, void *);
/* The value of a macro the MTA sent for this stage or an earlier one of
 * the session ("i" and "{i}" are the same name), or NULL. */
const char	*milter_macro(const struct milter_conn *, const char *name);
/* The text of the next MS_REJECT or MS_TEMPFAIL: code "5xx"/"4xx",
 * xcode "5.x.y"/"4.x.y"; ignored when its class does not match. */
void		 milter_set_reply(struct milter_conn *, const char *code,
		    const char *xcode, const char *text);
/* At end of message only; values without the leading space (added when
 * the MTA sends values with theirs, SMFIP_HDR_LEADSPC).  -1 when not
 * negotiated, not at end of message, or out of room. */
int		 milter_add_header(struct milter_conn *, const char *name,
		    const char *value);
int		 milter_insert_header(struct milter_conn *, unsigned idx,
		    const char *name, const char *value);
/* value NULL deletes the idx-th (1-based) header of that name. */
int		 milter_change_header(struct milter_conn *, const char *name,
		    unsigned idx, const char *value);
int		 milter_quarantine(struct milter_conn *, const char *reason);
/* Tell the MTA to keep waiting (SMFIR_PROGRESS), at end of message. */
int		 milter_progress(struct milter_conn *);

#endif
