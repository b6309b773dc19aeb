/*
 * pubkey_cache.h -- DKIM public keys decoded once (the interposed
 * d2i_PUBKEY_bio() is in pubkey_cache.c).
 */
#ifndef AUTHFILTER_PUBKEY_CACHE_H
#define AUTHFILTER_PUBKEY_CACHE_H

/* Since the start: *lookups, the decodes the cache was asked for (a key
 * in a read-only memory BIO, as libopendkim passes it), and *hits, those
 * it answered. */
void		pubkey_cache_counts(unsigned long *hits,
		    unsigned long *lookups);

#endif
