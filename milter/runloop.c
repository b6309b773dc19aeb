/*
 * NAME
 *	runloop -- run libmilter in a worker thread; signals come to main
 * DESCRIPTION
 *	Workaround for a libmilter design choice.  smfi_main() starts a
 *	thread that sigwait()s for SIGHUP, SIGTERM and SIGINT and stops
 *	the milter on any of them (libmilter/signal.c, mi_signal_thread:
 *	"case SIGHUP: case SIGTERM: mi_stop_milters(MILTER_STOP)").
 *	There is no API to turn that off, so a plain libmilter daemon
 *	cannot reload on SIGHUP; OpenDKIM moved its reload to SIGUSR1.
 *
 *	We keep SIGHUP for reload, as admins expect: the main thread
 *	blocks the signals before any other thread exists, starts
 *	smfi_main() in a worker thread, and then waits in sigtimedwait().
 *	For a signal sent to the process Linux wakes the thread-group
 *	leader (our main thread) first whenever it is waiting for that
 *	signal (kernel/signal.c, complete_signal), so libmilter's thread
 *	does not see it.  The main thread does nothing but wait, so it is
 *	always waiting except for the microseconds it spends handling a
 *	signal; t/e2e/signals.t sends bursts of SIGHUP to prove that the
 *	daemon keeps serving.  Should libmilter ever take a signal anyway,
 *	smfi_main() returns, the worker reports RL_MILTER_EXITED and the
 *	daemon exits non-zero with a log line, so the MTA's
 *	milter_default_action (tempfail) keeps the mail.
 *
 *	SIGUSR2 is used internally: the worker sends it to the main
 *	thread when smfi_main() returns.
 */
#include "buildconf.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "milter/log.h"
#include "milter/runloop.h"

static pthread_t main_thread, milter_thread;
static int milter_result;
static sigset_t handled;

static void *
milter_main(void *arg)
{
	(void)arg;
	milter_result = smfi_main();
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

int
runloop_start(void)
{
	int rc;

	sigemptyset(&handled);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGUSR2);
	main_thread = pthread_self();
	/* Threads created from here on inherit the mask. */
	if ((rc = pthread_sigmask(SIG_BLOCK, &handled, NULL)) != 0) {
		log_msg(LOG_ERR, "pthread_sigmask: %s", strerror(rc));
		return -1;
	}
	if ((rc = pthread_create(&milter_thread, NULL, milter_main,
	    NULL)) != 0) {
		log_msg(LOG_ERR, "cannot start the milter thread: %s",
		    strerror(rc));
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
		switch (sig) {
		case SIGHUP:
			return RL_RELOAD;
		case SIGUSR2:
			return RL_MILTER_EXITED;
		default:
			return RL_STOP;
		}
	}
}

int
runloop_stop(void)
{
	smfi_stop();
	pthread_join(milter_thread, NULL);
	return milter_result;
}
