/*
 * NAME
 *	runloop -- signals come to the main thread, one at a time
 * DESCRIPTION
 *	The main thread blocks SIGHUP, SIGTERM, SIGINT and SIGCHLD (the
 *	signer process, keyproc.c, ended) before any other
 *	thread exists, so every thread inherits the mask and only the main
 *	thread, waiting in sigwaitinfo()/sigtimedwait(), ever takes them:
 *	no handler runs in the middle of a session, and a burst of SIGHUPs
 *	is a series of reloads, one after the other.  SIGPIPE is ignored:
 *	a write to an MTA that went away fails with EPIPE instead.
 */
#include "buildconf.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "milter/runloop.h"

static sigset_t handled;

int
runloop_block(void)
{
	int rc;

	sigemptyset(&handled);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGCHLD);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = pthread_sigmask(SIG_BLOCK, &handled, NULL)) != 0) {
		log_msg(LOG_ERR, "pthread_sigmask: %s", strerror(rc));
		return -1;
	}
	return 0;
}

enum runloop_event
runloop_wait(int timeout_ms)
{
	struct timespec ts;
	int sig;

	for (;;) {
		if (timeout_ms < 0)
			sig = sigwaitinfo(&handled, NULL);
		else {
			ts.tv_sec = timeout_ms / 1000;
			ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
			sig = sigtimedwait(&handled, NULL, &ts);
		}
		if (sig < 0 && errno == EAGAIN)
			return RL_TICK;
		if (sig < 0)
			continue;	/* EINTR */
		return sig == SIGHUP ? RL_RELOAD : sig == SIGCHLD ? RL_CHILD :
		    RL_STOP;
	}
}
