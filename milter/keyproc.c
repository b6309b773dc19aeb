/*
 * NAME
 *	keyproc -- private keys in a process of their own (the signer)
 * SYNOPSIS
 *	keyproc_start(cfg->user, cfg->key_dir, err, sizeof(err));
 *	ks = keyproc_load(dir, owner, &errs);	... keyproc_free(ks);
 *	keyproc_sign(k, digest, len, sig, &siglen, err, sizeof(err));
 * DESCRIPTION
 *	The milter process parses what strangers send: milter packets,
 *	headers, DNS answers, through libspf2 and libopendkim too.  None of
 *	that may reach a private key.  So, as OpenSMTPD's ca process does,
 *	the daemon forks a signer before it starts any thread; the signer
 *	loads the key stores and signs digests, and the milter process
 *	only ever sees a store's metadata and the signatures.
 *
 *	The two talk over socketpairs (keyproc_wire.h), one request and
 *	its reply at a time on each; there are as many as worker threads
 *	can use at once (two per CPU), each served by a thread of the
 *	signer, so signing still uses every core.  A thread takes a free
 *	channel, or waits for one.
 *
 *	A reload loads the new store in the signer; a store is forgotten
 *	there when the last message signing with it ends (keyproc_free).
 *	Without a signer (-t, tests, tools), the same calls load and sign
 *	in this process.
 * DIAGNOSTICS
 *	If the signer dies, every signature fails ("the signer process
 *	ended"): messages that need one get the sign-failure action, and
 *	the main loop stops the daemon (runloop.c) for systemd to restart.
 */
#include "buildconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "milter/keyproc.h"
#include "milter/keyproc_wire.h"

#define CHANNELS_MAX 16

static struct {
	pid_t		 pid;
	int		 unconfined;	/* no Landlock in this kernel */
	char		*key_dir;	/* the one the signer may read */
	int		 fd[CHANNELS_MAX];
	int		 idle[CHANNELS_MAX];	/* a stack of free channels */
	size_t		 n, nidle;
	int		 dead;
	pthread_mutex_t	 lock;
	pthread_cond_t	 freed;
} kp = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.freed = PTHREAD_COND_INITIALIZER,
};

static int
read_full(int fd, void *p, size_t len)
{
	char *c = p;

	while (len > 0) {
		ssize_t r = read(fd, c, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		len -= (size_t)r;
	}
	return 0;
}

int
kp_send(int fd, uint32_t type, const void *a, size_t alen, const void *b,
    size_t blen)
{
	struct kp_hdr h = { type, (uint32_t)(alen + blen) };
	struct iovec iov[3] = { { &h, sizeof(h) }, { (void *)a, alen },
	    { (void *)b, blen } };
	struct iovec *v = iov;
	int nv = 3;

	if (alen + blen > KP_REPLY_MAX)
		return -1;
	/* One system call: the reader wakes once, with the whole message. */
	while (nv > 0) {
		ssize_t w = writev(fd, v, nv);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (nv > 0 && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			nv--;
		}
		if (nv > 0) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int
kp_recv(int fd, struct kp_hdr *h, char **buf, size_t max)
{
	char first[4096];
	size_t got;
	ssize_t r;

	/* One request or reply at a time on a channel: a first read
	 * usually brings all of it. */
	*buf = NULL;
	do
		r = read(fd, first, sizeof(first));
	while (r < 0 && errno == EINTR);
	if (r <= 0 || ((size_t)r < sizeof(*h) &&
	    read_full(fd, first + r, sizeof(*h) - (size_t)r) != 0))
		return -1;
	got = (size_t)r < sizeof(*h) ? 0 : (size_t)r - sizeof(*h);
	memcpy(h, first, sizeof(*h));
	if (h->len > max || got > h->len ||
	    (*buf = malloc((size_t)h->len + 1)) == NULL)
		return -1;
	memcpy(*buf, first + sizeof(*h), got);
	if (read_full(fd, *buf + got, h->len - got) != 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[h->len] = '\0';
	return 0;
}

/* The signer's first word: how its start went. */
static int
started(pid_t pid, char *err, size_t errsz)
{
	struct kp_hdr h;
	char *msg;
	int status;

	if (kp_recv(kp.fd[0], &h, &msg, KP_REQUEST_MAX) != 0 ||
	    h.type != KP_OK) {
		snprintf(err, errsz, "signer process: %s", msg != NULL &&
		    h.type == KP_ERR ? msg : "ended at start");
		free(msg);
		waitpid(pid, &status, 0);
		return -1;
	}
	kp.unconfined = strcmp(msg, "no-landlock") == 0;
	free(msg);
	return 0;
}

int
keyproc_start(const char *user, const char *key_dir, char *err,
    size_t errsz)
{
	int pair[CHANNELS_MAX][2], theirs[CHANNELS_MAX];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus < 1 ? 2 : (size_t)cpus * 2;
	pid_t pid;

	if (n > CHANNELS_MAX)
		n = CHANNELS_MAX;
	for (size_t i = 0; i < n; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    pair[i]) != 0) {
			snprintf(err, errsz, "signer process: socketpair: %s",
			    strerror(errno));
			while (i-- > 0) {
				close(pair[i][0]);
				close(pair[i][1]);
			}
			return -1;
		}
	if ((pid = fork()) < 0) {
		snprintf(err, errsz, "signer process: fork: %s",
		    strerror(errno));
		for (size_t i = 0; i < n; i++) {
			close(pair[i][0]);
			close(pair[i][1]);
		}
		return -1;
	}
	if (pid == 0) {
		for (size_t i = 0; i < n; i++) {
			close(pair[i][0]);
			theirs[i] = pair[i][1];
		}
		keyproc_serve(theirs, n, user, key_dir);
	}
	for (size_t i = 0; i < n; i++) {
		close(pair[i][1]);
		kp.fd[i] = pair[i][0];
		kp.idle[i] = (int)i;
	}
	if (started(pid, err, errsz) != 0) {
		for (size_t i = 0; i < n; i++)
			close(kp.fd[i]);
		return -1;
	}
	kp.n = kp.nidle = n;
	kp.pid = pid;
	kp.key_dir = strdup(key_dir);
	return 0;
}

int
keyproc_unconfined(void)
{
	return kp.unconfined;
}

pid_t
keyproc_pid(void)
{
	return kp.pid;
}

/* A free channel, or -1 once the signer is gone. */
static int
channel_take(void)
{
	int c = -1;

	pthread_mutex_lock(&kp.lock);
	while (kp.nidle == 0 && !kp.dead)
		pthread_cond_wait(&kp.freed, &kp.lock);
	if (!kp.dead)
		c = kp.idle[--kp.nidle];
	pthread_mutex_unlock(&kp.lock);
	return c;
}

/* ok == 0: the channel failed, and with it the signer. */
static void
channel_give(int c, int ok)
{
	int said;

	pthread_mutex_lock(&kp.lock);
	said = kp.dead;
	if (ok)
		kp.idle[kp.nidle++] = c;
	else
		kp.dead = 1;
	pthread_cond_broadcast(&kp.freed);
	pthread_mutex_unlock(&kp.lock);
	if (!ok && !said)
		log_msg(LOG_ERR, "the signer process (pid %ld) ended: no "
		    "message can be signed until authfilter restarts",
		    (long)kp.pid);
}

/* One request and its reply.  0 with *reply (caller frees), or -1. */
static int
call(uint32_t type, const void *a, size_t alen, const void *b, size_t blen,
    struct kp_hdr *h, char **reply, char *err, size_t errsz)
{
	int c = channel_take(), ok;

	if (c < 0) {
		snprintf(err, errsz, "the signer process ended");
		return -1;
	}
	ok = kp_send(kp.fd[c], type, a, alen, b, blen) == 0 &&
	    kp_recv(kp.fd[c], h, reply, KP_REPLY_MAX) == 0;
	channel_give(c, ok);
	if (!ok) {
		snprintf(err, errsz, "the signer process ended");
		return -1;
	}
	if (h->type == KP_ERR) {
		snprintf(err, errsz, "signer: %s", *reply);
		free(*reply);
		*reply = NULL;
		return -1;
	}
	return 0;
}

/* The reply to KP_LOAD into a store of metadata (and errs). */
static struct keystore *
loaded(const char *dir, const char *p, size_t len, struct config_errors *errs)
{
	struct kp_loaded l;
	struct keystore *ks;
	const char *end = p + len;

	if (len < sizeof(l))
		goto garbled;
	memcpy(&l, p, sizeof(l));
	p += sizeof(l);
	if (l.nkeys > (size_t)(end - p) / sizeof(struct key))
		goto garbled;
	if ((ks = calloc(1, sizeof(*ks))) == NULL ||
	    (ks->dir = strdup(dir)) == NULL ||
	    (l.nkeys > 0 &&
	    (ks->keys = calloc(l.nkeys, sizeof(struct key))) == NULL)) {
		keystore_free(ks);
		config_errors_add(errs, "%s: out of memory", dir);
		return NULL;
	}
	for (uint32_t i = 0; i < l.nkeys; i++, p += sizeof(struct key)) {
		memcpy(&ks->keys[i], p, sizeof(struct key));
		ks->keys[i].pkey = NULL;
		ks->keys[i].domain[KEY_DOMAIN_MAX] = '\0';
		ks->keys[i].selector[KEY_SELECTOR_MAX] = '\0';
		ks->keys[i].store = l.store;
		ks->keys[i].idx = i;
	}
	ks->n = l.nkeys;
	ks->store = l.store;
	for (uint32_t i = 0; i < l.nerrs && p < end; i++) {
		config_errors_add(errs, "%s", p);
		p += strlen(p) + 1;
	}
	if (l.store == 0) {
		if (l.nerrs > 0 && !(l.flags & KP_LOADED_RESTART))
			config_errors_add(errs, "every reload (SIGHUP) reads "
			    "key_dir the same way, in the signer process: it "
			    "must be readable by that user");
		keystore_free(ks);
		return NULL;
	}
	if (l.nerrs > 0) {
		keyproc_free(ks);
		return NULL;
	}
	return ks;
garbled:
	config_errors_add(errs, "%s: the signer process answered garbage", dir);
	return NULL;
}

struct keystore *
keyproc_load(const char *dir, uid_t owner, struct config_errors *errs)
{
	struct kp_load req = { (uint32_t)owner };
	struct kp_hdr h;
	struct keystore *ks;
	char *reply, err[256];

	if (kp.pid == 0)
		return keystore_load(dir, 1, owner, errs);
	if (strlen(dir) >= KP_REQUEST_MAX - sizeof(req)) {
		config_errors_add(errs, "%s: path too long", dir);
		return NULL;
	}
	if (call(KP_LOAD, &req, sizeof(req), dir, strlen(dir), &h, &reply,
	    err, sizeof(err)) != 0) {
		config_errors_add(errs, "%s: %s", dir, err);
		return NULL;
	}
	ks = loaded(dir, reply, h.len, errs);
	free(reply);
	if (ks == NULL && !kp.unconfined && kp.key_dir != NULL &&
	    strcmp(kp.key_dir, dir) != 0)
		config_errors_add(errs, "key_dir %s: the signer process reads "
		    "only the key_dir it started with (%s): restart authfilter "
		    "to change key_dir", dir, kp.key_dir);
	return ks;
}

void
keyproc_free(struct keystore *ks)
{
	struct kp_hdr h;
	char *reply = NULL, err[256];
	uint64_t store;

	if (ks == NULL)
		return;
	if (kp.pid != 0 && (store = ks->store) != 0 &&
	    call(KP_FREE, &store, sizeof(store), NULL, 0, &h, &reply, err,
	    sizeof(err)) == 0)
		free(reply);
	keystore_free(ks);
}

int
keyproc_sign(const struct key *k, const unsigned char *dg, size_t dglen,
    unsigned char *sig, size_t *siglen, char *err, size_t errsz)
{
	struct kp_sign req = { .store = k->store, .idx = k->idx,
	    .dglen = (uint32_t)dglen };
	struct kp_hdr h;
	char *reply;

	if (k->pkey != NULL) {
		if (keyproc_sign_here(k, dg, dglen, sig, siglen) == 0)
			return 0;
		snprintf(err, errsz, "OpenSSL could not sign");
		return -1;
	}
	if (kp.pid == 0 || k->store == 0 || dglen > sizeof(req.dg)) {
		snprintf(err, errsz, "private key not loaded");
		return -1;
	}
	memcpy(req.dg, dg, dglen);
	if (call(KP_SIGN, &req, sizeof(req), NULL, 0, &h, &reply, err,
	    errsz) != 0)
		return -1;
	if (h.len == 0 || h.len > *siglen) {
		snprintf(err, errsz, "signer: a signature of %u bytes", h.len);
		free(reply);
		return -1;
	}
	memcpy(sig, reply, h.len);
	*siglen = h.len;
	free(reply);
	return 0;
}
