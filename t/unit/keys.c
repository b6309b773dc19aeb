/* Unit tests for keys/keystore.c and keys/keygen.c. */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keys/keygen.h"
#include "keys/keystore.h"
#include "t/errs.h"
#include "t/tap.h"

static char dir[] = "/tmp/af-keys-XXXXXX";

static void
put_key(const char *domain, const char *sel, enum key_alg alg,
    enum key_state state, const char *pem)
{
	struct key k;
	char err[256];

	memset(&k, 0, sizeof(k));
	snprintf(k.domain, sizeof(k.domain), "%s", domain);
	snprintf(k.selector, sizeof(k.selector), "%s", sel);
	k.alg = alg;
	k.state = state;
	k.created = 1700000000;
	if (keystore_write_private(dir, &k, pem, (uid_t)-1, err,
	    sizeof(err)) != 0 ||
	    keystore_write_state(dir, &k, (uid_t)-1, err, sizeof(err)) != 0)
		printf("# put_key: %s\n", err);
}

static char *
weak_rsa_pem(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *out;

	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	BIO_get_mem_ptr(b, &m);
	out = strndup(m->data, m->length);
	BIO_free(b);
	EVP_PKEY_free(k);
	return out;
}

int
main(void)
{
	struct config_errors errs = { 0 };
	struct keystore *ks;
	const struct key *sig[8];
	char err[256], path[512], *rsa, *ed, *p, *line, *rec;

	/* Records. */
	ok(keygen_record_matches("v=DKIM1; k=rsa; p=AB CD\tEF", KEY_RSA,
	    "ABCDEF"), "p= with white space matches (RFC 6376 3.6.1)");
	ok(keygen_record_matches("v=DKIM1; p=ABC", KEY_RSA, "ABC"),
	    "k= absent means rsa");
	ok(!keygen_record_matches("v=DKIM1; p=ABC", KEY_ED25519, "ABC"),
	    "k= absent is not ed25519");
	ok(!keygen_record_matches("v=DKIM1; k=rsa; p=", KEY_RSA, "ABC"),
	    "revoked (empty p=) does not match");
	ok(!keygen_record_matches("v=DKIM1; k=rsa; p=ABD", KEY_RSA, "ABC"),
	    "different key does not match");
	ok(!keygen_record_matches("v=DKIM1; k=rsa; xp=ABC", KEY_RSA, "ABC"),
	    "a tag ending in p is not p");
	char big[601];
	memset(big, 'A', 600);
	big[600] = '\0';
	line = keygen_zone_line("example.org", "s1", big);
	is_int(strlen(line), strlen("s1._domainkey.example.org. IN TXT (") +
	    3 * 3 + 600 + 2, "600 bytes -> three quoted strings");
	ok(strstr(line, "\"" ) != NULL && strlen(strchr(line, '"') + 1) > 255,
	    "zone line written");
	free(line);

	/* Keys and their public halves. */
	rsa = keygen_new(KEY_RSA, 2048, err, sizeof(err));
	ed = keygen_new(KEY_ED25519, 0, err, sizeof(err));
	ok(rsa != NULL && ed != NULL, "RSA and Ed25519 keys generated");
	ok(keygen_new(KEY_RSA, 1024, err, sizeof(err)) == NULL &&
	    strstr(err, "2048") != NULL, "1024-bit RSA refused");
	p = keygen_public_b64(ed, strlen(ed), err, sizeof(err));
	is_int(strlen(p), 44, "Ed25519 p= is the raw 32-byte key (RFC 8463)");
	rec = keygen_record(KEY_ED25519, p);
	ok(keygen_record_matches(rec, KEY_ED25519, p), "own record matches");
	free(rec);
	free(p);

	/* A store. */
	if (mkdtemp(dir) == NULL)
		return 1;
	put_key("example.org", "r1", KEY_RSA, KEY_ACTIVE, rsa);
	put_key("example.org", "e1", KEY_ED25519, KEY_ACTIVE, ed);
	put_key("example.org", "old", KEY_RSA, KEY_RETIRING, rsa);
	put_key("pending.example", "p1", KEY_RSA, KEY_PENDING, rsa);
	ks = keystore_load(dir, 1, geteuid(), &errs);
	ok(ks != NULL, "store loads");
	is_int(ks ? ks->n : 0, 4, "four keys");
	is_int(keystore_signers(ks, "example.org", 0, sig, 8), 2,
	    "two active keys sign for example.org");
	ok(sig[0]->pkey != NULL && strcmp(sig[0]->selector, "e1") == 0,
	    "sorted by selector, private key loaded");
	is_int(keystore_signers(ks, "EXAMPLE.org", 0, sig, 8), 0,
	    "lookups are by normalised (lower-case) domain");
	is_int(keystore_signers(ks, "pending.example", 0, sig, 8), 0,
	    "a pending key never signs");
	is_int(keystore_signers(ks, "a.b.example.org", 0, sig, 8), 0,
	    "subdomain without sign_subdomains: none");
	is_int(keystore_signers(ks, "a.b.example.org", 1, sig, 8), 2,
	    "subdomain with sign_subdomains: the parent's keys");
	is_int(keystore_signers(ks, "other.org", 1, sig, 8), 0,
	    "never up to the top-level domain");
	keystore_free(ks);

	/* An encrypted key is refused, never a passphrase prompt. */
	{
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		BIO *b = BIO_new(BIO_s_mem());
		BUF_MEM *bm;
		PEM_write_bio_PrivateKey(b, k, EVP_aes_128_cbc(), NULL, 0, NULL,
		    (void *)"secret");
		BIO_get_mem_ptr(b, &bm);
		char *enc = strndup(bm->data, bm->length);
		put_key("enc.example", "x1", KEY_ED25519, KEY_ACTIVE, enc);
		ok(keystore_load(dir, 1, geteuid(), &errs) == NULL &&
		    errs_has(&errs, "x1.pem: not an unencrypted PEM private key", 0),
		    "encrypted key refused without prompting");
		config_errors_clear(&errs);
		snprintf(path, sizeof(path), "rm -rf %s/enc.example", dir);
		if (system(path) != 0)
			return 1;
		free(enc);
		BIO_free(b);
		EVP_PKEY_free(k);
	}

	/* Loose, foreign, weak and broken keys are refused. */
	snprintf(path, sizeof(path), "%s/example.org/r1.pem", dir);
	chmod(path, 0640);
	ok(keystore_load(dir, 1, geteuid(), &errs) == NULL &&
	    errs_has(&errs, "r1.pem: mode 0640, must not be readable by group or "
	    "others", 0), "group-readable key refused (C3)");
	config_errors_clear(&errs);
	ok((ks = keystore_load(dir, 0, geteuid(), &errs)) != NULL,
	    "without private keys (the CLI's list) the store still loads");
	keystore_free(ks);
	chmod(path, 0600);
	ok(keystore_load(dir, 1, geteuid() + 1, &errs) == NULL &&
	    errs_has(&errs, "must be owned by the daemon's user", 0),
	    "key owned by another user refused");
	config_errors_clear(&errs);
	char *weak = weak_rsa_pem();
	put_key("weak.example", "w1", KEY_RSA, KEY_ACTIVE, weak);
	ok(keystore_load(dir, 1, geteuid(), &errs) == NULL &&
	    errs_has(&errs, "RSA key of 1024 bits; at least 2048", 0),
	    "1024-bit RSA key refused at load (RFC 8301)");
	config_errors_clear(&errs);
	snprintf(path, sizeof(path), "%s/weak.example/w1.state", dir);
	FILE *fp = fopen(path, "a");
	fputs("color = blue\n", fp);
	fclose(fp);
	ok(keystore_load(dir, 0, geteuid(), &errs) == NULL &&
	    errs_has(&errs, "w1.state:12: unknown name \"color\"", 0),
	    "unknown name in a state file named with its line");
	config_errors_clear(&errs);
	snprintf(path, sizeof(path), "%s/weak.example", dir);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
	if (system(cmd) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/Upper.Example", dir);
	mkdir(path, 0755);
	ok(keystore_load(dir, 0, geteuid(), &errs) == NULL &&
	    errs_has(&errs, "not a domain name in lower case", 0), "odd directory");
	config_errors_clear(&errs);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/link.example", dir);
	if (symlink("/etc", path) != 0)
		return 1;
	ok(keystore_load(dir, 0, geteuid(), &errs) == NULL &&
	    errs_has(&errs, "is a symbolic link", 0), "symlinked domain refused (C3)");
	config_errors_clear(&errs);
	unlink(path);
	ok((ks = keystore_load("/nonexistent/keys", 1, 0, &errs)) != NULL &&
	    ks->n == 0, "missing key_dir: an empty store");
	keystore_free(ks);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	/* The parser alone, over a buffer (the fuzzer's entry point). */
	char text[] = "algorithm = ed25519-sha256\r\nstate=retiring\n"
	    "# note\n\nretired = 2024-01-02T03:04:05Z\n";
	struct key pk;
	memset(&pk, 0, sizeof(pk));
	ok(keystore_parse_state("b.state", text, &pk, &errs) == 0 &&
	    pk.alg == KEY_ED25519 && pk.state == KEY_RETIRING &&
	    pk.retired == 1704164645, "a state file parsed from a buffer");
	config_errors_clear(&errs);
	char nostate[] = "algorithm = rsa-sha256\n";
	ok(keystore_parse_state("n.state", nostate, &pk, &errs) != 0 &&
	    errs_has(&errs, "n.state: needs algorithm and state", 0),
	    "a buffer without a state is refused");
	config_errors_clear(&errs);
	free(weak);
	free(rsa);
	free(ed);
	return done_testing();
}
