/*
 * NAME
 *	runloop -- run libmilter in a worker thread; signals come to main
 * DESCRIPTION
 *	Works around two properties of libmilter (8.17, Debian 12).
 *
 *	1. SIGHUP stops the milter: smfi_main() starts a thread that
 *	sigwait()s for SIGHUP, SIGTERM and SIGINT and stops on any of them,
 *	with no API to turn that off (OpenDKIM moved its reload to SIGUSR1
 *	for this reason).  We keep SIGHUP for reload, as admins expect: the
 *	main thread blocks the signals before any other thread exists,
 *	starts smfi_main() in a worker thread, and takes every signal in
 *	sigtimedwait(); milter_sigwait.c parks libmilter's signal thread so
 *	that it never takes one.  Should smfi_main() return anyway, the
 *	worker reports RL_MILTER_EXITED and the daemon exits non-zero with
 *	a log line; the MTA's milter_default_action (tempfail) keeps the
 *	mail.
 *
 *	2. Stopping libmilter is racy.  smfi_stop() locks the listener
 *	mutex (mi_closener) while the listener thread, on seeing the stop
 *	flag, destroys that mutex (found by ThreadSanitizer: "use of an
 *	invalid mutex" in mi_stop_milters).  So authfilter never stops
 *	libmilter: main.c drains (new sessions get 451, messages in
 *	progress finish) and then the process exits.
 *
 *	SIGUSR2 is used internally: the worker sends it to the main thread
 *	when smfi_main() returns.
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

static pthread_t main_thread;
static sigset_t handled;

static void *
milter_main(void *arg)
{
	(void)arg;
	if (smfi_main() != MI_SUCCESS)
		log_msg(LOG_ERR, "smfi_main() failed");
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

int
runloop_start(void)
{
	pthread_attr_t attr;
	pthread_t tid;
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
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, milter_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
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
