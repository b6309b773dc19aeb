/*
 * keys_cli.h -- what the commands of authfilter-keys share (keys_cli.c):
 * the command context and the helpers (store, DNS, daemon) that both
 * authfilter_keys.c and the rotation commands (keys_rotate_cmd.c) use.
 */
#ifndef AUTHFILTER_KEYS_CLI_H
#define AUTHFILTER_KEYS_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "keys/keypub.h"
#include "keys/keystore.h"
#include "lib/config.h"

struct dns;

struct ctx {
	struct config	*cfg;
	const char	*key_dir;
	uid_t		 owner;
};

void		 usage(void) __attribute__((noreturn));
/* Print "authfilter-keys: ..." on stderr; returns 1 (the exit code). */
int		 fail(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* "authfilter-keys: KIND..." and a newline on stderr ("" or "note: "). */
void		 vsay(const char *kind, const char *fmt, va_list ap)
		    __attribute__((format(printf, 2, 0)));
int		 norm_domain(const char *in, char *out, size_t outsz);
/* Pending (or retiring) key k made active when DNS serves its record,
 * or regardless with force (logged): what "activate" and "import
 * --activate" share.  ACT_NOT_SERVED and ACT_ERROR fill err. */
enum act { ACT_DONE, ACT_NOT_SERVED, ACT_ERROR };
enum act	 activate_key(struct ctx *, struct dns *, struct key *k,
		    int force, char *err, size_t errsz);
void		 tell_daemon(const struct ctx *);
void		 crash_point(void);
int		 create_key(struct ctx *, struct keystore *, const char *domain,
		    enum key_alg, unsigned bits, const char *sel_arg,
		    struct key *out);
struct keystore	*load_or_fail(struct ctx *);
struct key	*load_key(struct ctx *, const char *dom_arg, const char *sel,
		    struct keystore **ks);
struct dns	*resolver(struct ctx *);

/* keys_rotate_cmd.c: the lock, and the commands authfilter_keys.c
 * dispatches to. */
int		 take_lock(struct ctx *);
int		 cmd_rotate(struct ctx *, int argc, char **argv);
int		 cmd_manual(struct ctx *, const char *cmd, int argc,
		    char **argv);

/* keys_import.c: one key file into the store (import, and each key of
 * import-opendkim). */
struct imp_req {
	const char	*domain;	/* normalised */
	const char	*selector;	/* valid */
	const char	*file;
	int		 activate;	/* when DNS serves it */
	int		 same_ok;	/* the same key already there is no
					 * error (import-opendkim again) */
};
struct imp_res {
	struct key	 key;		/* as now in the store (no pkey) */
	char		*zone;		/* its DNS record; free() */
	int		 loose;		/* FILE was readable by others */
	char		 err[768];
};
enum imp { IMP_ACTIVE, IMP_PENDING, IMP_NOT_SERVED, IMP_SAME, IMP_ERROR };
enum imp	 import_key(struct ctx *, struct keystore *, struct dns *,
		    const struct imp_req *, struct imp_res *);
int		 cmd_import(struct ctx *, int argc, char **argv);
/* keys_opendkim.c */
int		 cmd_import_opendkim(struct ctx *, int argc, char **argv);

#endif
