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
 *
 *	Stopping: libmilter's accept loop holds its listener mutex across
 *	a poll() of up to 5 seconds (MI_CHK_TIME), and smfi_stop() sets
 *	the stop flag and then waits for that mutex, so a plain
 *	smfi_stop() takes up to 5 seconds to return.  runloop_stop() calls
 *	smfi_stop() from a helper thread and meanwhile sends WAKE_SIGNAL,
 *	a real-time signal with an empty handler, to the listener thread
 *	alone: its poll() returns EINTR, the loop releases the mutex,
 *	sees the flag and returns.
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

/* Interrupts libmilter's select(); only ever sent to the listener. */
#define WAKE_SIGNAL (SIGRTMIN + 1)
/* Bound on how long a stop waits for libmilter's loop to notice. */
#define STOP_WAIT_MS 10000

static pthread_t main_thread, milter_thread;
static int milter_result;
static sigset_t handled;

static void
wake_handler(int sig)
{
	(void)sig;
}

static void *
milter_main(void *arg)
{
	sigset_t wake;

	(void)arg;
	sigemptyset(&wake);
	sigaddset(&wake, WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	milter_result = smfi_main();
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

int
runloop_start(void)
{
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler;	/* no SA_RESTART: select() -> EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(WAKE_SIGNAL, &sa, NULL);
	sigemptyset(&handled);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGUSR2);
	sigaddset(&handled, WAKE_SIGNAL);	/* unblocked by the listener */
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

static void *
stopper(void *arg)
{
	(void)arg;
	smfi_stop();
	return NULL;
}

int
runloop_stop(void)
{
	struct timespec ts;
	pthread_t helper;
	int have_helper;

	have_helper = pthread_create(&helper, NULL, stopper, NULL) == 0;
	if (!have_helper)
		smfi_stop();
	for (int waited = 0; waited < STOP_WAIT_MS; waited += 50) {
		pthread_kill(milter_thread, WAKE_SIGNAL);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(milter_thread, NULL, &ts) == 0) {
			if (have_helper)
				pthread_join(helper, NULL);
			return milter_result;
		}
	}
	log_msg(LOG_WARNING, "libmilter did not stop within %d ms",
	    STOP_WAIT_MS);
	return MI_FAILURE;
}
