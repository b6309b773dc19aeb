/*
 * NAME
 *	keyimport -- check a private key brought from elsewhere
 * SYNOPSIS
 *	struct keyimport ki;
 *	if (keyimport_decode(text, len, &ki, err, sizeof(err)) == 0) {
 *		... keystore_write_private(dir, &k, ki.pem, ...) ...
 *		keyimport_clear(&ki);
 *	}
 * DESCRIPTION
 *	"authfilter-keys import" brings keys made by opendkim-genkey or
 *	openssl: PKCS#1 ("BEGIN RSA PRIVATE KEY", OpenSSL 1.x) or PKCS#8
 *	("BEGIN PRIVATE KEY", OpenSSL 3) PEM.  The store holds PKCS#8 only,
 *	so the key is decoded and written out again; the checks are the
 *	daemon's (RSA >= KEY_RSA_MIN_BITS, RFC 8301; Ed25519, RFC 8463)
 *	plus OpenSSL's consistency check, so a key that imports is one
 *	the daemon loads.  Works on buffers: no file, no DNS.
 * DIAGNOSTICS
 *	err says what the text is instead: "encrypted", "a public key",
 *	"a certificate", "an RSA key of 1024 bits", "an EC key", ...
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keys/keyimport.h"

static int
has(const char *text, size_t len, const char *needle)
{
	return memmem(text, len, needle, strlen(needle)) != NULL;
}

/* What a PEM text that is no usable private key is, for the error. */
static const char *
not_a_key(const char *text, size_t len)
{
	if (has(text, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
	    has(text, len, "Proc-Type: 4,ENCRYPTED"))
		return "is encrypted; authfilter cannot ask for a passphrase: "
		    "write a decrypted copy (openssl pkey -in FILE -out "
		    "PLAIN) and import that";
	if (has(text, len, "PUBLIC KEY-----"))
		return "is a public key; import needs the private key";
	if (has(text, len, "-----BEGIN CERTIFICATE"))
		return "is a certificate, not a private key";
	if (!has(text, len, "-----BEGIN "))
		return "is not PEM (a DER key? convert it: openssl pkey "
		    "-inform DER -in FILE -out FILE.pem)";
	return "is not a PEM private key OpenSSL can read";
}

int
keyimport_decode(const char *text, size_t len, struct keyimport *out,
    char *err, size_t errsz)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BIO *in = NULL, *mem = NULL;
	BUF_MEM *buf;
	int rc = -1, id;

	memset(out, 0, sizeof(*out));
	if (len > (size_t)KEY_FILE_MAX) {
		snprintf(err, errsz, "is %zu bytes: not a DKIM key", len);
		return -1;
	}
	/* Refused before OpenSSL sees them: it would not read a public
	 * key as a private one anyway, but the message is clearer. */
	if (has(text, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
	    has(text, len, "Proc-Type: 4,ENCRYPTED") ||
	    has(text, len, "PUBLIC KEY-----") ||
	    (in = BIO_new_mem_buf(text, (int)len)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(in, NULL, key_no_passphrase,
	    NULL)) == NULL) {
		snprintf(err, errsz, "%s", not_a_key(text, len));
		goto out;
	}
	id = EVP_PKEY_get_base_id(pkey);
	out->bits = (unsigned)EVP_PKEY_get_bits(pkey);
	if (id == EVP_PKEY_RSA) {
		out->alg = KEY_RSA;
		if (out->bits < KEY_RSA_MIN_BITS) {
			snprintf(err, errsz, "is an RSA key of %u bits; "
			    "authfilter signs with at least %u (RFC 8301): "
			    "make a new key (authfilter-keys new)", out->bits,
			    KEY_RSA_MIN_BITS);
			goto out;
		}
	} else if (id == EVP_PKEY_ED25519) {
		out->alg = KEY_ED25519;
	} else {
		snprintf(err, errsz, "is an %s key; DKIM signs with RSA or "
		    "Ed25519 (RFC 6376, RFC 8463)",
		    EVP_PKEY_get0_type_name(pkey));
		goto out;
	}
	/* A damaged RSA key signs, but nobody can verify what it signs. */
	if ((pctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL ||
	    EVP_PKEY_private_check(pctx) != 1) {
		snprintf(err, errsz, "fails OpenSSL's consistency check: a "
		    "damaged key");
		goto out;
	}
	if ((mem = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1) {
		snprintf(err, errsz, "cannot write the key as PKCS#8 PEM");
		goto out;
	}
	BIO_get_mem_ptr(mem, &buf);
	if ((out->pem = malloc(buf->length + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	memcpy(out->pem, buf->data, buf->length);
	out->pem[buf->length] = '\0';
	rc = 0;
out:
	if (mem != NULL && BIO_get_mem_ptr(mem, &buf) == 1 && buf != NULL)
		OPENSSL_cleanse(buf->data, buf->length);
	BIO_free(mem);
	BIO_free(in);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pkey);
	return rc;
}

void
keyimport_clear(struct keyimport *ki)
{
	if (ki->pem != NULL) {
		OPENSSL_cleanse(ki->pem, strlen(ki->pem));
		free(ki->pem);
	}
	ki->pem = NULL;
}
