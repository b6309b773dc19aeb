/* Unit test for milter/pubkey_cache.c under threads, as the daemon uses
 * it: many sessions verify signatures of one signer at once, so one
 * cached EVP_PKEY is shared by all of them, while other keys come and go
 * and push keys out of their slots (more keys than slots) under threads
 * that still hold them.  Each thread does what libopendkim does with a
 * key: d2i_PUBKEY_bio() from a read-only memory BIO, EVP_PKEY_get1_RSA(),
 * RSA_verify(), then frees both.  Every verification must succeed and
 * every decoded key be the right one; the ThreadSanitizer build (make
 * check in build-tsan, contrib/test-all) fails on any data race. */
#define OPENSSL_SUPPRESS_DEPRECATED	/* libopendkim's RSA_* calls */
#include "buildconf.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "milter/pubkey_cache.h"
#include "t/tap.h"

#define THREADS	8
#define ROUNDS	300
#define NOTHER	600	/* > PUBKEY_CACHE_SLOTS (512): slots are taken over */

static unsigned char *rsa_der, *other_der[NOTHER];
static int rsa_len, other_len[NOTHER];
static EVP_PKEY *other[NOTHER];
static unsigned char digest[32], sig[512];
static unsigned int siglen;

struct worker {
	int	 id;
	int	 bad_verify, bad_key;
};

static EVP_PKEY *
decode(const unsigned char *der, int len)
{
	BIO *b = BIO_new_mem_buf(der, len);
	EVP_PKEY *k = b != NULL ? d2i_PUBKEY_bio(b, NULL) : NULL;

	BIO_free(b);
	return k;
}

static void *
work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < ROUNDS; i++) {
		EVP_PKEY *k = decode(rsa_der, rsa_len);
		RSA *r = k != NULL ? EVP_PKEY_get1_RSA(k) : NULL;

		if (r == NULL || RSA_verify(NID_sha256, digest, sizeof(digest),
		    sig, siglen, r) != 1)
			w->bad_verify++;
		RSA_free(r);
		EVP_PKEY_free(k);

		int j = (w->id * 7919 + i * 13) % NOTHER;
		k = decode(other_der[j], other_len[j]);
		if (k == NULL || EVP_PKEY_eq(k, other[j]) != 1)
			w->bad_key++;
		EVP_PKEY_free(k);
	}
	return NULL;
}

int
main(void)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	RSA *priv = rsa != NULL ? EVP_PKEY_get1_RSA(rsa) : NULL;
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	unsigned long h0, l0, h1, l1;
	int bad_verify = 0, bad_key = 0, started = 0, made = 1;

	memset(digest, 0x5a, sizeof(digest));
	ok(priv != NULL && RSA_sign(NID_sha256, digest, sizeof(digest), sig,
	    &siglen, priv) == 1 && (rsa_len = i2d_PUBKEY(rsa, &rsa_der)) > 0,
	    "an RSA key, its DER public key and a signature");
	for (int j = 0; j < NOTHER && made; j++)
		made = (other[j] = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    "P-256")) != NULL &&
		    (other_len[j] = i2d_PUBKEY(other[j], &other_der[j])) > 0;
	ok(made, "600 other keys (EC P-256)");

	pubkey_cache_counts(&h0, &l0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i };
		started += pthread_create(&tid[i], NULL, work, &w[i]) == 0;
	}
	ok(started == THREADS, "8 threads");
	for (int i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		bad_verify += w[i].bad_verify;
		bad_key += w[i].bad_key;
	}
	is_int(bad_verify, 0, "2400 verifications with the shared RSA key: "
	    "none failed");
	is_int(bad_key, 0, "2400 decodes of 600 keys in 512 slots: each gave "
	    "its own key");
	pubkey_cache_counts(&h1, &l1);
	is_int(l1 - l0, 2 * THREADS * ROUNDS,
	    "every decode asked the cache, counted once");
	ok(h1 - h0 > 0, "and some were answered from it");

	for (int j = 0; j < NOTHER; j++) {
		EVP_PKEY_free(other[j]);
		OPENSSL_free(other_der[j]);
	}
	OPENSSL_free(rsa_der);
	RSA_free(priv);
	EVP_PKEY_free(rsa);
	return done_testing();
}
