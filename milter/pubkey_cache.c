/*
 * NAME
 *	pubkey_cache -- decode each DKIM public key once, not once per
 *	signature
 * SYNOPSIS
 *	Interposes on d2i_PUBKEY_bio().
 * DESCRIPTION
 *	libopendkim verifies an RSA signature by decoding the p= value of
 *	the key record with d2i_PUBKEY_bio() on every signature it checks.
 *	With OpenSSL 3.0 that decode goes through the provider decoder
 *	framework: about 100 us on one thread, 300 us of CPU when two
 *	threads decode at once, nearly all of it in read locks of
 *	OpenSSL's name map (perf, bench/run inbound).  That was more CPU
 *	than the rest of an inbound message together, and it grew with
 *	concurrency.  libopendkim has no hook to hand it a key that is
 *	already decoded.
 *
 *	So this definition in the executable interposes on libopendkim's
 *	call (the dynamic linker finds the executable's symbol first) and
 *	keeps the decoded keys, looked up by their exact bytes: the same
 *	bytes always decode to the same key, so a cached key is never
 *	stale, and a changed record is a different entry.  A hit returns
 *	the cached EVP_PKEY with one more reference (the caller's
 *	EVP_PKEY_free() drops it) and consumes the same bytes from the
 *	BIO as a decode would.  OpenSSL keys may be used by several
 *	threads at once for verifying.  Every caller in the process gets
 *	the shared key, so none may change it: libopendkim only reads it
 *	(EVP_PKEY_get1_RSA, _get_id, _get_size), and authfilter itself
 *	never calls d2i_PUBKEY_bio().
 *
 *	The slot hash has no secret: someone who publishes many crafted
 *	keys can evict others' keys, which costs one decode each, as
 *	without the cache.
 *
 *	The cache has PUBKEY_CACHE_SLOTS entries, placed by a hash of the
 *	bytes; a new key takes its slot from the key there.  Keys that
 *	fail to decode are not kept.  Only read-only memory BIOs (what
 *	libopendkim uses: BIO_new_mem_buf) with no object to reuse are
 *	cached; every other call goes to OpenSSL unchanged.
 *
 *	The daemon logs the counters when it stops ("pubkey_cache: H of L
 *	key decodes answered from the cache"), so a cache that is not used
 *	(libopendkim bound to libcrypto's symbol, the file left out) shows.
 * SEE ALSO
 *	t/unit/pubkey_cache.c, t/unit/pubkey_cache_threads.c,
 *	t/e2e/keycache.t
 */
#include "buildconf.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/hash.h"
#include "milter/pubkey_cache.h"

/* Distinct keys seen in a while: the senders of most mail use a few
 * hundred selectors; a miss costs one decode. */
#define PUBKEY_CACHE_SLOTS 512

/* A DER public key larger than this (RSA-16384 is ~2 KiB) is not kept. */
#define PUBKEY_MAX_DER 4096

struct slot {
	unsigned char	*der;	/* NULL: empty */
	size_t		 len;
	EVP_PKEY	*pkey;
};

static struct slot slots[PUBKEY_CACHE_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long hits, lookups;

static EVP_PKEY *(*next_d2i)(BIO *, EVP_PKEY **);
static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void
resolve(void)
{
	*(void **)&next_d2i = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
}

static size_t
slot_of(const unsigned char *p, size_t len)
{
	return fnv1a(FNV1A_INIT, p, len) % PUBKEY_CACHE_SLOTS;
}

/* The cached key whose bytes begin the BIO's data, with one more
 * reference, or NULL. */
static EVP_PKEY *
lookup(const unsigned char *data, size_t avail, size_t *used)
{
	EVP_PKEY *k = NULL;
	size_t i;

	/* The slot is found by the key's own bytes, so try the lengths
	 * of what each slot could hold: the DER length is in its first
	 * bytes (SEQUENCE, long form). */
	if (avail < 4 || data[0] != 0x30)
		return NULL;
	if (data[1] == 0x82)
		i = 4 + ((size_t)data[2] << 8 | data[3]);
	else if (data[1] == 0x81)
		i = 3 + (size_t)data[2];
	else if (data[1] < 0x80)
		i = 2 + (size_t)data[1];
	else
		return NULL;
	if (i > avail || i > PUBKEY_MAX_DER)
		return NULL;
	*used = i;
	struct slot *s = &slots[slot_of(data, i)];
	pthread_mutex_lock(&lock);
	lookups++;
	if (s->der != NULL && s->len == i && memcmp(s->der, data, i) == 0 &&
	    EVP_PKEY_up_ref(s->pkey) == 1) {
		k = s->pkey;
		hits++;
	}
	pthread_mutex_unlock(&lock);
	return k;
}

static void
store(const unsigned char *der, size_t len, EVP_PKEY *pkey)
{
	unsigned char *copy;
	struct slot old;

	if (len > PUBKEY_MAX_DER || (copy = malloc(len)) == NULL)
		return;
	if (EVP_PKEY_up_ref(pkey) != 1) {
		free(copy);
		return;
	}
	memcpy(copy, der, len);
	struct slot *s = &slots[slot_of(der, len)];
	pthread_mutex_lock(&lock);
	old = *s;
	*s = (struct slot){ copy, len, pkey };
	pthread_mutex_unlock(&lock);
	free(old.der);
	EVP_PKEY_free(old.pkey);
}

EVP_PKEY *
d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	char *data = NULL;
	long avail;
	size_t used = 0;
	EVP_PKEY *k;

	pthread_once(&resolved, resolve);
	if (next_d2i == NULL)
		return NULL;
	if (a != NULL || bp == NULL || BIO_method_type(bp) != BIO_TYPE_MEM ||
	    !BIO_test_flags(bp, BIO_FLAGS_MEM_RDONLY) ||
	    (avail = BIO_get_mem_data(bp, &data)) <= 0 || data == NULL)
		return next_d2i(bp, a);
	if ((k = lookup((const unsigned char *)data, (size_t)avail,
	    &used)) != NULL) {
		/* consume the key's bytes, as a decode would */
		unsigned char skip[512];
		size_t left = used;
		while (left > 0) {
			int n = BIO_read(bp, skip, left < sizeof(skip) ?
			    (int)left : (int)sizeof(skip));
			if (n <= 0)
				break;
			left -= (size_t)n;
		}
		return k;
	}
	k = next_d2i(bp, NULL);
	/* cache only what the decoder took whole: the bytes it read */
	if (k != NULL && used > 0 && (long)used == avail -
	    (long)BIO_pending(bp))
		store((const unsigned char *)data, used, k);
	return k;
}

void
pubkey_cache_counts(unsigned long *h, unsigned long *l)
{
	pthread_mutex_lock(&lock);
	*h = hits;
	*l = lookups;
	pthread_mutex_unlock(&lock);
}
