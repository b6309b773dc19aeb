/* Unit tests for keys/keyimport.c: what import takes and what it refuses. */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keys/keygen.h"
#include "keys/keyimport.h"
#include "t/tap.h"

enum form { PKCS8, PKCS1, PKCS8_ENC, PKCS1_ENC, PUBLIC };

/* key written as form; caller frees */
static char *
pem_of(EVP_PKEY *key, enum form form)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *out;

	switch (form) {
	case PKCS8:
		PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
		break;
	case PKCS1:
		PEM_write_bio_PrivateKey_traditional(b, key, NULL, NULL, 0,
		    NULL, NULL);
		break;
	case PKCS8_ENC:
		PEM_write_bio_PrivateKey(b, key, EVP_aes_128_cbc(),
		    (unsigned char *)"secret", 6, NULL, NULL);
		break;
	case PKCS1_ENC:
		PEM_write_bio_PrivateKey_traditional(b, key, EVP_aes_128_cbc(),
		    (unsigned char *)"secret", 6, NULL, NULL);
		break;
	case PUBLIC:
		PEM_write_bio_PUBKEY(b, key);
		break;
	}
	BIO_get_mem_ptr(b, &m);
	out = strndup(m->data, m->length);
	BIO_free(b);
	return out;
}

/* keyimport_decode of text: 0 or -1, and err. */
static int
decode(const char *text, struct keyimport *ki, char *err, size_t errsz)
{
	err[0] = '\0';
	return keyimport_decode(text, strlen(text), ki, err, errsz);
}

int
main(void)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct keyimport ki;
	char err[512], *pem, *p1, *p2;

	/* PKCS#1 (opendkim-genkey with OpenSSL 1.x) comes out as PKCS#8,
	 * the same key. */
	pem = pem_of(rsa, PKCS1);
	ok(strstr(pem, "BEGIN RSA PRIVATE KEY") != NULL, "test key is PKCS#1");
	is_int(decode(pem, &ki, err, sizeof(err)), 0, "PKCS#1 RSA 2048 taken");
	is_int(ki.alg, KEY_RSA, "  RSA");
	is_int(ki.bits, 2048, "  2048 bits");
	ok(ki.pem != NULL && strncmp(ki.pem, "-----BEGIN PRIVATE KEY-----",
	    27) == 0, "  written as PKCS#8");
	p1 = keygen_public_b64(pem, strlen(pem), err, sizeof(err));
	p2 = ki.pem ? keygen_public_b64(ki.pem, strlen(ki.pem), err,
	    sizeof(err)) : NULL;
	ok(p1 != NULL && p2 != NULL && strcmp(p1, p2) == 0,
	    "  the same public key");
	free(p1);
	free(p2);
	keyimport_clear(&ki);
	ok(ki.pem == NULL, "keyimport_clear frees");
	free(pem);

	pem = pem_of(rsa, PKCS8);
	is_int(decode(pem, &ki, err, sizeof(err)), 0, "PKCS#8 RSA taken");
	keyimport_clear(&ki);
	free(pem);

	pem = pem_of(ed, PKCS8);
	is_int(decode(pem, &ki, err, sizeof(err)), 0, "Ed25519 taken");
	is_int(ki.alg, KEY_ED25519, "  Ed25519");
	keyimport_clear(&ki);
	free(pem);

	pem = pem_of(weak, PKCS1);
	ok(decode(pem, &ki, err, sizeof(err)) == -1 &&
	    strstr(err, "1024 bits") != NULL, "1024-bit RSA refused");
	printf("# %s\n", err);
	ok(ki.pem == NULL, "  nothing kept");
	free(pem);

	pem = pem_of(rsa, PKCS8_ENC);
	ok(decode(pem, &ki, err, sizeof(err)) == -1 &&
	    strstr(err, "encrypted") != NULL, "encrypted PKCS#8 refused");
	printf("# %s\n", err);
	free(pem);
	pem = pem_of(rsa, PKCS1_ENC);
	ok(strstr(pem, "Proc-Type: 4,ENCRYPTED") != NULL &&
	    decode(pem, &ki, err, sizeof(err)) == -1 &&
	    strstr(err, "encrypted") != NULL,
	    "encrypted PKCS#1 (Proc-Type) refused");
	free(pem);

	pem = pem_of(rsa, PUBLIC);
	ok(decode(pem, &ki, err, sizeof(err)) == -1 &&
	    strstr(err, "public key") != NULL, "public key refused");
	free(pem);

	pem = pem_of(ec, PKCS8);
	ok(decode(pem, &ki, err, sizeof(err)) == -1 &&
	    strstr(err, "EC key") != NULL, "EC key refused");
	printf("# %s\n", err);
	free(pem);

	ok(decode("hello\n", &ki, err, sizeof(err)) == -1 &&
	    strstr(err, "not PEM") != NULL, "not a key refused");
	ok(decode("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    &ki, err, sizeof(err)) == -1 && strstr(err, "certificate") != NULL,
	    "certificate refused");
	ok(decode("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	    &ki, err, sizeof(err)) == -1 && strstr(err, "not a PEM private "
	    "key") != NULL, "damaged PEM refused");
	{
		char *big = malloc(KEY_FILE_MAX + 2);
		memset(big, 'A', KEY_FILE_MAX + 1);
		big[KEY_FILE_MAX + 1] = '\0';
		ok(decode(big, &ki, err, sizeof(err)) == -1 &&
		    strstr(err, "not a DKIM key") != NULL, "64 KiB + 1 refused");
		free(big);
	}
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(weak);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec);
	return done_testing();
}
