/*
 * rua_eval.h -- one inbound message's DMARC evaluation as aggregate
 * report data (RFC 9990).
 */
#ifndef AUTHFILTER_RUA_EVAL_H
#define AUTHFILTER_RUA_EVAL_H

#include <time.h>

#include "rua/feedback.h"

struct session;
struct eom_plan;

/* 1 with ev filled when the message is report data: inbound, DMARC
 * evaluated against a record (pass or fail), and accepted, tagged,
 * quarantined or rejected (a tempfailed message comes again); else 0.
 * Pure: no I/O. */
int	rua_eval_build(const struct session *, const struct eom_plan *,
	    time_t now, struct rua_eval *ev);

#endif
