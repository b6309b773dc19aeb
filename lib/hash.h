/*
 * hash.h -- FNV-1a, the one string hash of authfilter's small tables.
 */
#ifndef AUTHFILTER_HASH_H
#define AUTHFILTER_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT	2166136261u

/* Continue hash h over n bytes of p. */
static inline uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

#endif
