/*
 * NAME
 *	keystore -- DKIM keys on disk, shared by the daemon and authfilter-keys
 * SYNOPSIS
 *	ks = keystore_load(cfg->key_dir, 1, daemon_uid, &errs);
 *	n = keystore_signers(ks, "example.org", 0, keys, max);
 * DESCRIPTION
 *	Layout: key_dir/DOMAIN/SELECTOR.pem holds the private key (PKCS#8
 *	PEM, mode 0600, owned by the daemon's user) and
 *	key_dir/DOMAIN/SELECTOR.state its life: "name = value" lines for
 *	algorithm, bits, state (pending, active, retiring, revoked) and
 *	the times it was created, activated, retired and revoked.  Only
 *	active keys sign.  Every write goes to a temporary file that is
 *	fsynced and renamed, so a crash leaves the old or the new file.
 *
 *	Loose private keys are refused, as OpenDKIM and ssh do: a key that
 *	others can read is no longer a secret.
 * DIAGNOSTICS
 *	Each problem names the file: "key_dir/example.org/s1.pem: mode 0644,
 *	must not be readable by group or others".
 */
#include "buildconf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keys/keystore.h"
#include "lib/from.h"
#include "lib/safefile.h"

int
key_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

const char *
key_alg_name(enum key_alg a)
{
	return a == KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

const char *
key_alg_short(enum key_alg a)
{
	return a == KEY_ED25519 ? "ed25519" : "rsa";
}

static const char *state_names[] = { "pending", "active", "retiring",
    "revoked" };

const char *
key_state_name(enum key_state s)
{
	return state_names[s];
}

int
key_valid_selector(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > KEY_SELECTOR_MAX || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_')
			label++;
		else
			return 0;
	}
	return 1;
}

static int
parse_time(const char *v, time_t *out)
{
	struct tm tm;
	const char *end;

	if (*v == '\0') {
		*out = 0;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*out = timegm(&tm);
	return 0;
}

static void
format_time(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;

	if (t == 0) {
		buf[0] = '\0';
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Whoever may write a file or directory of the store decides a key's
 * state: only root or the daemon's user, and nobody else through the
 * group or other bits.  0, or -1 with the error added. */
static int
trusted(const char *path, const struct stat *st, uid_t owner, mode_t deny,
    struct config_errors *errs)
{
	if (st->st_uid != 0 && st->st_uid != owner) {
		config_errors_add(errs, "%s: owned by uid %u, must be owned by "
		    "root or the daemon's user (uid %u)", path,
		    (unsigned)st->st_uid, (unsigned)owner);
		return -1;
	}
	if ((st->st_mode & deny) != 0) {
		config_errors_add(errs, "%s: mode %04o, must not be writable by "
		    "%s", path, (unsigned)(st->st_mode & 07777), deny & 020 ?
		    "group or others" : "others");
		return -1;
	}
	return 0;
}

/* A .state file: a few lines; anything bigger is no state file. */
#define STATE_MAX	4096
#define STATE_LINE_MAX	255

/* The text of SELECTOR.state, opened without following a link or
 * blocking on a FIFO, checked (a regular file of root or the daemon's
 * user, not writable by others); NULL with the error added. */
static char *
state_text(const char *path, uid_t owner, struct config_errors *errs)
{
	char err[128], *buf;
	struct stat st;
	ssize_t got;
	int fd;

	if ((fd = safefile_open(path, STATE_MAX, 1, err, sizeof(err))) < 0) {
		config_errors_add(errs, "%s: %s", path, err);
		return NULL;
	}
	if (fstat(fd, &st) != 0 || trusted(path, &st, owner, 022, errs) != 0 ||
	    (buf = malloc(STATE_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	got = read(fd, buf, STATE_MAX);
	close(fd);
	if (got < 0 || memchr(buf, '\0', (size_t)got) != NULL) {
		config_errors_add(errs, "%s: %s", path, got < 0 ?
		    strerror(errno) : "a NUL byte: not a state file");
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	return buf;
}

/* The text of a .state file into k: whole lines of at most
 * STATE_LINE_MAX bytes, each one known, or an error (a long line cut in
 * two could carry a line of its own).  text is cut up in place. */
int
keystore_parse_state(const char *path, char *text, struct key *k,
    struct config_errors *errs)
{
	char *next, *line, *eq, *name, *val, *e;
	unsigned lineno = 0;
	int have_state = 0, have_alg = 0, bad = 0;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strlen(line) > STATE_LINE_MAX) {
			config_errors_add(errs, "%s:%u: longer than %d bytes",
			    path, lineno, STATE_LINE_MAX);
			bad = 1;
			continue;
		}
		line[strcspn(line, "\r")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((eq = strchr(line, '=')) == NULL)
			goto badline;
		*eq = '\0';
		name = line;
		val = eq + 1;
		for (e = eq; e > name && isspace((unsigned char)e[-1]); e--)
			e[-1] = '\0';
		while (isspace((unsigned char)*val))
			val++;
		if (strcmp(name, "algorithm") == 0) {
			if (strcmp(val, "rsa-sha256") == 0)
				k->alg = KEY_RSA;
			else if (strcmp(val, "ed25519-sha256") == 0)
				k->alg = KEY_ED25519;
			else
				goto badline;
			have_alg = 1;
		} else if (strcmp(name, "state") == 0) {
			size_t i;
			for (i = 0; i < 4 && strcmp(val, state_names[i]); i++)
				;
			if (i == 4)
				goto badline;
			k->state = (enum key_state)i;
			have_state = 1;
		} else if (strcmp(name, "bits") == 0)
			k->bits = (unsigned)strtoul(val, NULL, 10);
		else if (strcmp(name, "forced") == 0)
			k->forced = strcmp(val, "yes") == 0;
		else if (strcmp(name, "created") == 0) {
			if (parse_time(val, &k->created) != 0)
				goto badline;
		} else if (strcmp(name, "activated") == 0) {
			if (parse_time(val, &k->activated) != 0)
				goto badline;
		} else if (strcmp(name, "retired") == 0) {
			if (parse_time(val, &k->retired) != 0)
				goto badline;
		} else if (strcmp(name, "revoked") == 0) {
			if (parse_time(val, &k->revoked) != 0)
				goto badline;
		} else if (strcmp(name, "published") == 0) {
			if (parse_time(val, &k->published) != 0)
				goto badline;
		} else if (strcmp(name, "ttl") == 0)
			k->ttl = (unsigned)strtoul(val, NULL, 10);
		else {
			config_errors_add(errs, "%s:%u: unknown name \"%.32s\"",
			    path, lineno, name);
			bad = 1;
		}
		continue;
badline:
		config_errors_add(errs, "%s:%u: bad line", path, lineno);
		bad = 1;
	}
	if (!bad && (!have_alg || !have_state)) {
		config_errors_add(errs, "%s: needs algorithm and state", path);
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* Read SELECTOR.state into k. */
static int
read_state(const char *path, struct key *k, uid_t owner,
    struct config_errors *errs)
{
	char *text = state_text(path, owner, errs);
	int rc;

	if (text == NULL)
		return -1;
	rc = keystore_parse_state(path, text, k, errs);
	free(text);
	return rc;
}

/* Read and check the private key of k. */
static int
read_private(const char *path, struct key *k, uid_t owner,
    struct config_errors *errs)
{
	struct stat st;
	ssize_t got;
	unsigned char *pem = NULL;
	EVP_PKEY *pkey;
	BIO *bio;
	int fd, ok = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		config_errors_add(errs, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link; refusing it" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		config_errors_add(errs, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		config_errors_add(errs, "%s: mode %04o, must not be readable "
		    "by group or others (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_uid != owner) {
		config_errors_add(errs, "%s: owned by uid %u, must be owned by "
		    "the daemon's user (uid %u)", path, (unsigned)st.st_uid,
		    (unsigned)owner);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > KEY_FILE_MAX) {
		config_errors_add(errs, "%s: size %lld is not a DKIM key", path,
		    (long long)st.st_size);
		goto out;
	}
	if ((pem = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	got = read(fd, pem, (size_t)st.st_size);
	if (got != st.st_size) {
		config_errors_add(errs, "%s: short read", path);
		goto out;
	}
	pem[got] = '\0';
	bio = BIO_new_mem_buf(pem, (int)got);
	pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL,
	    key_no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (pkey == NULL) {
		config_errors_add(errs, "%s: not an unencrypted PEM private "
		    "key", path);
		goto out;
	}
	if ((k->alg == KEY_RSA && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) ||
	    (k->alg == KEY_ED25519 &&
	    EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519)) {
		config_errors_add(errs, "%s: key type does not match algorithm "
		    "%s in its state file", path, key_alg_name(k->alg));
		EVP_PKEY_free(pkey);
		goto out;
	}
	k->bits = (unsigned)EVP_PKEY_get_bits(pkey);
	k->pkey = pkey;		/* decoded once, signs every message */
	if (k->alg == KEY_RSA && k->bits < KEY_RSA_MIN_BITS) {
		config_errors_add(errs, "%s: RSA key of %u bits; at least %u "
		    "are required", path, k->bits, KEY_RSA_MIN_BITS);
		goto out;
	}
	ok = 0;
out:
	if (pem != NULL)
		OPENSSL_cleanse(pem, (size_t)st.st_size);
	free(pem);
	close(fd);
	return ok;
}

/* The private key of k, freed (OpenSSL wipes it). */
static void
key_release(struct key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

static int
add_key(struct keystore *ks, const struct key *k)
{
	struct key *grown = realloc(ks->keys, (ks->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	ks->keys = grown;
	ks->keys[ks->n++] = *k;
	return 0;
}

static int
load_domain(struct keystore *ks, const char *domain, int private, uid_t owner,
    struct config_errors *errs)
{
	char dpath[4096], path[4200], sel[KEY_SELECTOR_MAX + 1];
	struct dirent *de;
	struct stat st;
	DIR *dp;
	size_t before = errs->n;

	if (strlen(domain) > KEY_DOMAIN_MAX || snprintf(dpath, sizeof(dpath),
	    "%s/%s", ks->dir, domain) >= (int)sizeof(dpath) ||
	    (dp = opendir(dpath)) == NULL) {
		config_errors_add(errs, "%s: %s", dpath, strerror(errno));
		return -1;
	}
	if (fstat(dirfd(dp), &st) != 0 ||
	    trusted(dpath, &st, owner, 002, errs) != 0) {
		closedir(dp);
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		size_t len = strlen(de->d_name);
		struct key k;

		if (len <= 6 || strcmp(de->d_name + len - 6, ".state") != 0)
			continue;
		if (len - 6 > KEY_SELECTOR_MAX) {
			config_errors_add(errs, "%s/%s: a selector longer than "
			    "%d characters", dpath, de->d_name,
			    KEY_SELECTOR_MAX);
			continue;
		}
		memcpy(sel, de->d_name, len - 6);
		sel[len - 6] = '\0';
		if (!key_valid_selector(sel)) {
			config_errors_add(errs, "%s/%s: not a valid selector",
			    dpath, de->d_name);
			continue;
		}
		memset(&k, 0, sizeof(k));
		/* Both were length-checked above (domain by the caller). */
		memcpy(k.domain, domain, strlen(domain) + 1);
		memcpy(k.selector, sel, strlen(sel) + 1);
		if (snprintf(path, sizeof(path), "%s/%s", dpath, de->d_name) >=
		    (int)sizeof(path) || read_state(path, &k, owner, errs) != 0)
			continue;
		if (private && k.state == KEY_ACTIVE) {
			if (snprintf(path, sizeof(path), "%s/%s.pem", dpath,
			    sel) >= (int)sizeof(path) ||
			    read_private(path, &k, owner, errs) != 0) {
				key_release(&k);
				continue;
			}
		}
		if (add_key(ks, &k) != 0)
			key_release(&k);
	}
	closedir(dp);
	return errs->n > before ? -1 : 0;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);

	return c != 0 ? c : strcmp(x->selector, y->selector);
}

struct keystore *
keystore_load(const char *dir, int private, uid_t owner,
    struct config_errors *errs)
{
	struct keystore *ks;
	struct dirent *de;
	struct stat st;
	char path[4096], norm[KEY_DOMAIN_MAX + 1];
	size_t before = errs->n;
	DIR *dp;

	if ((ks = calloc(1, sizeof(*ks))) == NULL ||
	    (ks->dir = strdup(dir)) == NULL) {
		free(ks);
		config_errors_add(errs, "out of memory");
		return NULL;
	}
	if ((dp = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return ks;		/* no keys: nothing signs */
		config_errors_add(errs, "%s: %s", dir, strerror(errno));
		keystore_free(ks);
		return NULL;
	}
	if (fstat(dirfd(dp), &st) != 0 ||
	    trusted(dir, &st, owner, 002, errs) != 0) {
		closedir(dp);
		keystore_free(ks);
		return NULL;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0)
			continue;	/* removed meanwhile */
		if (!S_ISDIR(st.st_mode)) {
			if (S_ISLNK(st.st_mode))
				config_errors_add(errs, "%s: is a symbolic "
				    "link; domains must be directories inside "
				    "key_dir", path);
			continue;
		}
		if (domain_normalise(de->d_name, strlen(de->d_name), norm,
		    sizeof(norm)) != 0 || strcmp(norm, de->d_name) != 0) {
			config_errors_add(errs, "%s: not a domain name in "
			    "lower case", path);
			continue;
		}
		load_domain(ks, de->d_name, private, owner, errs);
	}
	closedir(dp);
	if (errs->n > before) {
		keystore_free(ks);
		return NULL;
	}
	if (ks->n > 1)		/* keys is NULL for an empty store */
		qsort(ks->keys, ks->n, sizeof(*ks->keys), key_cmp);
	return ks;
}

void
keystore_free(struct keystore *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->n; i++)
		key_release(&ks->keys[i]);
	free(ks->keys);
	free(ks->dir);
	free(ks);
}

size_t
keystore_signers(const struct keystore *ks, const char *domain, int parents,
    const struct key **out, size_t max)
{
	const char *d = domain;
	size_t n = 0;

	while (d != NULL && *d != '\0') {
		for (size_t i = 0; ks != NULL && i < ks->n && n < max; i++) {
			const struct key *k = &ks->keys[i];

			/* Loaded here, or held by the signer process. */
			if (k->state == KEY_ACTIVE &&
			    (k->pkey != NULL || k->store != 0) &&
			    strcmp(k->domain, d) == 0)
				out[n++] = k;
		}
		/* The closest domain with keys signs; never a public suffix
		 * guess: stop at the first parent that has keys. */
		if (n > 0 || !parents)
			break;
		d = strchr(d, '.');
		if (d != NULL)
			d++;
		if (d != NULL && strchr(d, '.') == NULL)
			break;		/* never a top-level domain */
	}
	return n;
}

struct key *
keystore_find(struct keystore *ks, const char *domain, const char *selector)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->keys[i].domain, domain) == 0 &&
		    strcmp(ks->keys[i].selector, selector) == 0)
			return &ks->keys[i];
	return NULL;
}

/* Write data to dir/name atomically with mode and owner. */
static int
write_atomic(const char *dir, const char *name, const char *data,
    mode_t mode, uid_t owner, char *err, size_t errsz)
{
	char path[4096], tmp[4096];
	size_t len = strlen(data);
	int fd, dfd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) != 0 ||
	    (owner != (uid_t)-1 && fchown(fd, owner, (gid_t)-1) != 0) ||
	    fsync(fd) != 0) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		snprintf(err, errsz, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/*
 * mkdir of one directory of the store.  One we create gets its mode
 * whatever the caller's umask (authfilter-keys as root under umask 027
 * made root:root 0750 directories the daemon's user could not enter:
 * every reload failed, then the start) and, when owner is known, the
 * daemon's user as owner, as tmpfiles.d makes key_dir.  One that exists
 * is left as it is: its owner and mode are the admin's.
 */
static int
make_dir(const char *path, mode_t mode, uid_t owner, char *err,
    size_t errsz)
{
	int fd;

	if (mkdir(path, mode) != 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* The directory just made, not what a link put there since. */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || fchmod(fd, mode) != 0 || (owner != (uid_t)-1 &&
	    fchown(fd, owner, (gid_t)-1) != 0)) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* mkdir -p: key_dir and any missing parents (a first key on a new host):
 * parents 0755, key_dir 0750 owned by `owner` (0755 when unknown). */
int
keystore_make_dirs(const char *dir, uid_t owner, char *err, size_t errsz)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len >= sizeof(path)) {
		snprintf(err, errsz, "%s: path too long", dir);
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (c != '\0' ? make_dir(path, 0755, (uid_t)-1, err,
		    errsz) != 0 : make_dir(path, owner == (uid_t)-1 ? 0755 :
		    0750, owner, err, errsz) != 0)
			return -1;
		*p = c;
		if (c == '\0')
			return 0;
	}
}

static int
domain_dir(const char *dir, const char *domain, uid_t owner, char *out,
    size_t outsz, char *err, size_t errsz)
{
	if (keystore_make_dirs(dir, owner, err, errsz) != 0)
		return -1;
	snprintf(out, outsz, "%s/%s", dir, domain);
	return make_dir(out, 0755, owner, err, errsz);
}

int
keystore_write_state(const char *dir, const struct key *k, uid_t owner,
    char *err, size_t errsz)
{
	char ddir[4096], name[KEY_SELECTOR_MAX + 8], buf[1024];
	char c[32], a[32], r[32], v[32], p[32];

	if (domain_dir(dir, k->domain, owner, ddir, sizeof(ddir), err,
	    errsz) != 0)
		return -1;
	format_time(k->created, c, sizeof(c));
	format_time(k->activated, a, sizeof(a));
	format_time(k->retired, r, sizeof(r));
	format_time(k->revoked, v, sizeof(v));
	format_time(k->published, p, sizeof(p));
	snprintf(buf, sizeof(buf), "# written by authfilter-keys; do not "
	    "edit\nalgorithm = %s\nbits = %u\nstate = %s\ncreated = %s\n"
	    "activated = %s\nretired = %s\nrevoked = %s\nforced = %s\n"
	    "published = %s\nttl = %u\n",
	    key_alg_name(k->alg), k->bits, key_state_name(k->state), c, a, r,
	    v, k->forced ? "yes" : "no", p, k->ttl);
	snprintf(name, sizeof(name), "%s.state", k->selector);
	return write_atomic(ddir, name, buf, 0644, owner, err, errsz);
}

int
keystore_write_private(const char *dir, const struct key *k, const char *pem,
    uid_t owner, char *err, size_t errsz)
{
	char ddir[4096], name[KEY_SELECTOR_MAX + 8];

	if (domain_dir(dir, k->domain, owner, ddir, sizeof(ddir), err,
	    errsz) != 0)
		return -1;
	snprintf(name, sizeof(name), "%s.pem", k->selector);
	return write_atomic(ddir, name, pem, 0600, owner, err, errsz);
}

int
keystore_remove(const char *dir, const struct key *k, char *err, size_t errsz)
{
	char path[4096];
	int dfd;

	snprintf(path, sizeof(path), "%s/%s/%s.state", dir, k->domain,
	    k->selector);
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s.pem", dir, k->domain,
	    k->selector);
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, k->domain);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
