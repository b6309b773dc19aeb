/*
 * callbacks.h -- the daemon's hooks for the milter protocol engine.
 */
#ifndef AUTHFILTER_CALLBACKS_H
#define AUTHFILTER_CALLBACKS_H

#include "milter/engine.h"

extern const struct milter_hooks callbacks_hooks;

#endif
