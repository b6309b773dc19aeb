/*
 * callbacks.h -- the libmilter callback table.
 */
#ifndef AUTHFILTER_CALLBACKS_H
#define AUTHFILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

extern struct smfiDesc callbacks_desc;

#endif
