/*
 * runloop.h -- run libmilter in a worker thread; signals come to main.
 */
#ifndef AUTHFILTER_RUNLOOP_H
#define AUTHFILTER_RUNLOOP_H

enum runloop_event {
	RL_RELOAD,		/* SIGHUP */
	RL_STOP,		/* SIGTERM or SIGINT */
	RL_MILTER_EXITED,	/* smfi_main() returned on its own */
	RL_TICK			/* timeout of runloop_wait() */
};

/* Block the signals we handle, then start smfi_main() in a thread. */
int			runloop_start(void);
/* Wait for the next event (timeout_ms < 0: forever). */
enum runloop_event	runloop_wait(int timeout_ms);

#endif
