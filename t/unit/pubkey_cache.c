/* Unit test for milter/pubkey_cache.c: d2i_PUBKEY_bio() of the same
 * bytes twice gives the key decoded the first time (one more
 * reference), consumes the same bytes from the BIO as OpenSSL does,
 * and leaves every other call to OpenSSL. */
#include "buildconf.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "milter/pubkey_cache.h"
#include "t/tap.h"

static unsigned long
hits(void)
{
	unsigned long h, l;

	pubkey_cache_counts(&h, &l);
	return h;
}

/* d2i_PUBKEY_bio() of len bytes at der as libopendkim calls it; *left
 * gets what the BIO still holds. */
static EVP_PKEY *
decode(const unsigned char *der, int len, int *left)
{
	BIO *b = BIO_new_mem_buf(der, len);
	EVP_PKEY *k = d2i_PUBKEY_bio(b, NULL);

	*left = (int)BIO_pending(b);
	BIO_free(b);
	return k;
}

int
main(void)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *k1, *k2, *k3;
	unsigned char *der = NULL, *der2 = NULL, buf[4096];
	int len, len2, left;

	ok(rsa != NULL && ec != NULL, "test keys");
	len = i2d_PUBKEY(rsa, &der);
	len2 = i2d_PUBKEY(ec, &der2);
	ok(len > 0 && len2 > 0, "their DER public keys");

	unsigned long h0 = hits();
	k1 = decode(der, len, &left);
	ok(k1 != NULL && EVP_PKEY_eq(k1, rsa) == 1 && left == 0,
	    "a first decode gives the key and takes all its bytes");
	ok(hits() == h0, "from OpenSSL");
	k2 = decode(der, len, &left);
	ok(k2 == k1 && left == 0, "the same bytes again: the key decoded "
	    "before, its bytes taken");
	ok(hits() == h0 + 1, "from the cache");
	EVP_PKEY_free(k1);
	ok(EVP_PKEY_eq(k2, rsa) == 1,
	    "the caller's EVP_PKEY_free() drops only its own reference");
	EVP_PKEY_free(k2);

	k3 = decode(der2, len2, &left);
	ok(k3 != NULL && k3 != k1 && EVP_PKEY_eq(k3, ec) == 1,
	    "other bytes: another key");
	EVP_PKEY_free(k3);

	/* bytes after the key stay in the BIO, hit or miss */
	memcpy(buf, der, (size_t)len);
	memcpy(buf + len, "tail", 4);
	k1 = decode(buf, len + 4, &left);
	ok(k1 != NULL && left == 4 && EVP_PKEY_eq(k1, rsa) == 1,
	    "a key followed by other bytes: those are left in the BIO");
	EVP_PKEY_free(k1);

	/* a key differing in one byte is not mistaken for the cached one */
	memcpy(buf, der, (size_t)len);
	buf[len - 1] ^= 0x01;
	k1 = decode(buf, len, &left);
	ok(k1 == NULL || EVP_PKEY_eq(k1, rsa) != 1,
	    "one byte changed: not the cached key");
	EVP_PKEY_free(k1);

	/* garbage fails every time, and is not kept */
	h0 = hits();
	ok(decode((const unsigned char *)"\x30\x03\x02\x01\x01", 5,
	    &left) == NULL && decode((const unsigned char *)
	    "\x30\x03\x02\x01\x01", 5, &left) == NULL &&
	    hits() == h0, "bytes that are no key: NULL, twice");
	ok(decode((const unsigned char *)"", 0, &left) == NULL,
	    "no bytes: NULL");

	/* a writable memory BIO goes to OpenSSL as it is */
	BIO *w = BIO_new(BIO_s_mem());
	BIO_write(w, der, len);
	h0 = hits();
	k1 = d2i_PUBKEY_bio(w, NULL);
	ok(k1 != NULL && EVP_PKEY_eq(k1, rsa) == 1 &&
	    hits() == h0, "a writable BIO: decoded, not cached");
	EVP_PKEY_free(k1);
	BIO_free(w);

	OPENSSL_free(der);
	OPENSSL_free(der2);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	return done_testing();
}
