/*
 * keys_cli.h -- what the commands of authfilter-keys share (keys_cli.c):
 * the command context and the helpers (store, DNS, daemon) that both
 * authfilter_keys.c and the rotation commands (keys_rotate_cmd.c) use.
 */
#ifndef AUTHFILTER_KEYS_CLI_H
#define AUTHFILTER_KEYS_CLI_H

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
int		 norm_domain(const char *in, char *out, size_t outsz);
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

#endif
