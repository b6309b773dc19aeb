/*
 * pubkey_cache.h -- DKIM public keys decoded once (the interposed
 * d2i_PUBKEY_bio() is in pubkey_cache.c).
 */
#ifndef AUTHFILTER_PUBKEY_CACHE_H
#define AUTHFILTER_PUBKEY_CACHE_H

/* Decodes answered from the cache since the start. */
unsigned long	pubkey_cache_hits(void);

#endif
