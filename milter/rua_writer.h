/*
 * rua_writer.h -- the thread that writes DMARC evaluations to the report
 * store, so that recording never slows or fails mail.
 */
#ifndef AUTHFILTER_RUA_WRITER_H
#define AUTHFILTER_RUA_WRITER_H

#include <stddef.h>

#include "rua/feedback.h"

/* Start the thread (after privileges are dropped: it creates the store
 * as the daemon's user).  url "" records nothing.  0, or -1 with err. */
int	rua_writer_start(const char *url, size_t queue_max, char *err,
	    size_t errsz);
/* A reload: another store or queue size from now on. */
void	rua_writer_configure(const char *url, size_t queue_max);
/* Room for one evaluation (NULL when nothing is recorded, or out of
 * memory), to fill and then
 * hand to rua_writer_submit() or rua_writer_discard(). */
struct rua_eval *rua_writer_slot(void);
void	rua_writer_discard(struct rua_eval *ev);
/* Queue ev (from rua_writer_slot()); never waits: dropped (and counted)
 * when the queue is full or nothing is recorded. */
void	rua_writer_submit(struct rua_eval *ev);
/* Write what is queued, for at most timeout_ms, and end the thread;
 * what is left is dropped and logged. */
void	rua_writer_stop(unsigned timeout_ms);

#endif
