/*
 * NAME
 *	milter_sigwait -- keep libmilter's signal thread from taking signals
 * DESCRIPTION
 *	smfi_main() starts a thread that calls sigwait() on exactly
 *	{SIGHUP, SIGTERM, SIGINT} and stops the milter when any of them
 *	arrives (libmilter/signal.c, mi_signal_thread).  A process-directed
 *	signal goes to any thread that waits for it, so a SIGHUP that
 *	arrives while our main thread is busy reloading would stop the
 *	milter instead of reloading it (t/e2e/signals.t caught this with a
 *	burst of 200 SIGHUPs).
 *
 *	This definition of sigwait() in the executable interposes on
 *	libmilter's call (the dynamic linker finds the executable's symbol
 *	first).  A call waiting on exactly libmilter's set parks its thread
 *	for good, with the signals still blocked there, so only our main
 *	thread (runloop.c, sigtimedwait) ever takes them.  Every other call
 *	goes to the C library's sigwait().
 */
#include "buildconf.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>

static int
is_libmilter_set(const sigset_t *set)
{
	for (int sig = 1; sig < NSIG; sig++) {
		int want = sig == SIGHUP || sig == SIGTERM || sig == SIGINT;
		if (sigismember(set, sig) != want)
			return 0;
	}
	return 1;
}

int
sigwait(const sigset_t *restrict set, int *restrict sig)
{
	static int (*next)(const sigset_t *restrict, int *restrict);

	if (is_libmilter_set(set))
		for (;;)
			pause();	/* the set stays blocked: never returns */
	if (next == NULL)
		*(void **)&next = dlsym(RTLD_NEXT, "sigwait");
	if (next == NULL)
		return ENOSYS;
	return next(set, sig);
}
