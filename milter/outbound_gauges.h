/*
 * outbound_gauges.h -- what `authfilter report --outbound` shows, per
 * reporting organisation, as Prometheus gauges.
 */
#ifndef AUTHFILTER_OUTBOUND_GAUGES_H
#define AUTHFILTER_OUTBOUND_GAUGES_H

#include <stdio.h>

struct rua_store;

/* Count the imported reports in st again (the report writer's thread,
 * every few minutes). */
void	outbound_gauges_refresh(struct rua_store *st);
/* The gauges, for /metrics (nothing before the first refresh). */
void	outbound_gauges_write(FILE *);

#endif
