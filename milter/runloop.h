/*
 * runloop.h -- the main thread takes the signals the daemon handles.
 */
#ifndef AUTHFILTER_RUNLOOP_H
#define AUTHFILTER_RUNLOOP_H

enum runloop_event {
	RL_RELOAD,		/* SIGHUP */
	RL_STOP,		/* SIGTERM or SIGINT */
	RL_TICK,		/* timeout of runloop_wait() */
	RL_CHILD		/* SIGCHLD: the signer process ended */
};

/* Block the signals we handle in this thread and every thread started
 * after it.  0, or -1 (logged). */
int			runloop_block(void);
/* Wait for the next signal (timeout_ms < 0: forever). */
enum runloop_event	runloop_wait(int timeout_ms);

#endif
