/*
 * NAME
 *	keygen -- make DKIM keys and the DNS records that publish them
 * DESCRIPTION
 *	Keys come from OpenSSL (EVP_PKEY_Q_keygen) and are written as
 *	PKCS#8 PEM, which libopendkim reads for RSA and Ed25519 alike.
 *	The record for RSA carries the DER SubjectPublicKeyInfo (RFC 6376
 *	3.6.1); for Ed25519 the raw 32-byte public key (RFC 8463 4.2).
 *	keygen_record_matches() reads a published record the way a
 *	verifier does: tags separated by ";", white space inside p=
 *	ignored, k= defaulting to rsa.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keys/keygen.h"
#include "lib/tagval.h"

char *
keygen_new(enum key_alg alg, unsigned bits, char *err, size_t errsz)
{
	EVP_PKEY *pkey;
	BIO *bio;
	BUF_MEM *mem;
	char *pem = NULL;

	if (alg == KEY_RSA && bits < KEY_RSA_MIN_BITS) {
		snprintf(err, errsz, "RSA keys need at least %u bits "
		    "(RFC 8301; 2048 is the default)", KEY_RSA_MIN_BITS);
		return NULL;
	}
	if (alg == KEY_RSA && bits > 8192) {
		snprintf(err, errsz, "RSA keys over 8192 bits do not fit DNS "
		    "well; use 2048 to 4096");
		return NULL;
	}
	pkey = alg == KEY_RSA ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)bits) : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		snprintf(err, errsz, "key generation failed");
		return NULL;
	}
	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
		BIO_get_mem_ptr(bio, &mem);
		if ((pem = malloc(mem->length + 1)) != NULL) {
			memcpy(pem, mem->data, mem->length);
			pem[mem->length] = '\0';
		}
	}
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	if (pem == NULL)
		snprintf(err, errsz, "cannot write the key as PEM");
	return pem;
}

static char *
b64(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

char *
keygen_public_b64(const char *pem, size_t len, char *err, size_t errsz)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL,
	    key_no_passphrase, NULL) : NULL;
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof(raw);
	char *out = NULL;
	int derlen;

	BIO_free(bio);
	if (pkey == NULL) {
		snprintf(err, errsz, "not a PEM private key");
		return NULL;
	}
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) == 1)
			out = b64(raw, rawlen);
	} else if ((derlen = i2d_PUBKEY(pkey, &der)) > 0) {
		out = b64(der, (size_t)derlen);
		OPENSSL_free(der);
	}
	EVP_PKEY_free(pkey);
	if (out == NULL)
		snprintf(err, errsz, "cannot encode the public key");
	return out;
}

int
keygen_bits(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL,
	    key_no_passphrase, NULL) : NULL;
	int bits = pkey != NULL ? EVP_PKEY_get_bits(pkey) : -1;

	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return bits;
}

char *
keygen_record(enum key_alg alg, const char *p)
{
	size_t n = strlen(p) + 40;
	char *out = malloc(n);

	if (out != NULL)
		snprintf(out, n, "v=DKIM1; k=%s; p=%s", key_alg_short(alg), p);
	return out;
}

char *
keygen_zone_line(const char *domain, const char *selector, const char *record)
{
	size_t len = strlen(record), n = len + len / 255 * 4 +
	    strlen(domain) + strlen(selector) + 64;
	char *out = malloc(n);
	size_t o;

	if (out == NULL)
		return NULL;
	o = (size_t)snprintf(out, n, "%s._domainkey.%s. IN TXT (", selector,
	    domain);
	for (size_t i = 0; i < len; i += 255) {
		size_t chunk = len - i < 255 ? len - i : 255;
		o += (size_t)snprintf(out + o, n - o, " \"%.*s\"", (int)chunk,
		    record + i);
	}
	snprintf(out + o, n - o, " )");
	return out;
}

int
keygen_record_matches(const char *txt, enum key_alg alg, const char *p)
{
	char got[4096], k[32];
	size_t len = strlen(txt);
	int kr;

	if (tagval_get(txt, len, "p", got, sizeof(got)) != 1 ||
	    strcmp(got, p) != 0)
		return 0;
	if ((kr = tagval_get(txt, len, "k", k, sizeof(k))) < 0)
		return 0;
	if (kr == 0)
		strcpy(k, "rsa");	/* RFC 6376 3.6.1: the default */
	return strcmp(k, key_alg_short(alg)) == 0;
}
