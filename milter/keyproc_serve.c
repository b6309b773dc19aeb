/*
 * NAME
 *	keyproc_serve -- the signer process: holds the private keys, signs
 * SYNOPSIS
 *	keyproc_serve(fds, n, user, key_dir);	in the child, never returns
 * DESCRIPTION
 *	Forked by keyproc_start() before the daemon has any thread.  First
 *	it closes every descriptor but its channels and stdio, leaves the
 *	session (a terminal's ^C and SIGHUP, and systemd's SIGTERM, are
 *	for the milter process: we must sign what it drains), switches to
 *	`user`, and then cannot be traced or dumped (PR_SET_DUMPABLE 0, no
 *	core file), cannot gain privileges (PR_SET_NO_NEW_PRIVS), and with
 *	Landlock (Linux 5.13 and later) may only read below key_dir: no
 *	file written, nothing executed, and with Landlock ABI 4 (Linux 6.7)
 *	no TCP connection or bind either.  Where the kernel has no
 *	Landlock, the milter process logs it once at start.
 *
 *	One thread per channel reads a request and writes its reply.  The
 *	stores loaded are kept by number; a signature takes a reference to
 *	its key, so a store forgotten meanwhile is freed safely.  EOF on a
 *	channel means the milter process has gone: so do we.
 */
#include "buildconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "milter/daemon.h"
#include "milter/keyproc.h"
#include "milter/keyproc_wire.h"

static struct {
	pthread_mutex_t	 lock;
	struct keystore	**ks;
	size_t		 n;
	unsigned long	 next;
} held = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char whoami[64];		/* "as user authfilter: ..." */
/* The key_dir Landlock confines us to, as it was at start. */
static struct {
	int	 confined;		/* Landlock in force */
	int	 existed;		/* key_dir existed then */
	dev_t	 dev;
	ino_t	 ino;
} start_dir;

/* Made (or replaced: a restore, a mv) since we were confined: Landlock
 * lets us read the directory that was there, not this one. */
static int
not_the_start_dir(const char *dir)
{
	struct stat st;

	if (!start_dir.confined || stat(dir, &st) != 0)
		return 0;
	return !start_dir.existed || st.st_dev != start_dir.dev ||
	    st.st_ino != start_dir.ino;
}

int
keyproc_sign_here(const struct key *k, const unsigned char *dg,
    size_t dglen, unsigned char *sig, size_t *siglen)
{
	EVP_PKEY_CTX *pc = NULL;
	EVP_MD_CTX *mc = NULL;
	int ok;

	if (k->alg == KEY_ED25519) {
		ok = (mc = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestSignInit(mc, NULL, NULL, NULL, k->pkey) == 1 &&
		    EVP_DigestSign(mc, sig, siglen, dg, dglen) == 1;
		EVP_MD_CTX_free(mc);
		return ok ? 0 : -1;
	}
	ok = (pc = EVP_PKEY_CTX_new(k->pkey, NULL)) != NULL &&
	    EVP_PKEY_sign_init(pc) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
	    EVP_PKEY_sign(pc, sig, siglen, dg, dglen) == 1;
	EVP_PKEY_CTX_free(pc);
	return ok ? 0 : -1;
}

static int
reply_err(int fd, const char *msg)
{
	return kp_send(fd, KP_ERR, msg, strlen(msg), NULL, 0);
}

static int
do_load(int fd, const char *buf, size_t len)
{
	struct config_errors errs = { 0 };
	struct kp_loaded l = { 0 };
	struct kp_load req;
	struct keystore *ks = NULL, **grown;
	char *out = NULL, *dir;
	size_t outlen = 0;
	FILE *fp;
	int rc;

	if (len <= sizeof(req) || memchr(buf + sizeof(req), '\0',
	    len - sizeof(req)) != NULL)
		return reply_err(fd, "bad LOAD request");
	memcpy(&req, buf, sizeof(req));
	dir = (char *)buf + sizeof(req);
	if (not_the_start_dir(dir)) {
		l.flags |= KP_LOADED_RESTART;
		config_errors_add(&errs, "%s was made or replaced after "
		    "authfilter started: the signer process, confined with "
		    "Landlock to the key_dir that existed then, cannot read "
		    "it; restart authfilter (systemctl restart authfilter)",
		    dir);
	} else
		ks = keystore_load(dir, 1, (uid_t)req.owner, &errs);
	if ((fp = open_memstream(&out, &outlen)) == NULL) {
		keystore_free(ks);
		config_errors_clear(&errs);
		return reply_err(fd, "out of memory");
	}
	/* Once held, the store may be freed by another channel's FREE:
	 * not before the milter process has this reply, but the order is
	 * one ThreadSanitizer cannot see, so it is read under the lock. */
	pthread_mutex_lock(&held.lock);
	if (ks != NULL) {
		grown = realloc(held.ks, (held.n + 1) * sizeof(*grown));
		if (grown != NULL) {
			held.ks = grown;
			held.ks[held.n++] = ks;
			ks->store = l.store = ++held.next;
		} else {
			keystore_free(ks);
			ks = NULL;
			config_errors_add(&errs, "%s: out of memory", dir);
		}
	}
	l.nkeys = ks != NULL ? (uint32_t)ks->n : 0;
	l.nerrs = (uint32_t)errs.n;
	fwrite(&l, sizeof(l), 1, fp);
	for (size_t i = 0; i < l.nkeys; i++) {
		struct key k = ks->keys[i];
		k.pkey = NULL;		/* not even where it is */
		fwrite(&k, sizeof(k), 1, fp);
	}
	pthread_mutex_unlock(&held.lock);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(fp, "as user %s: %s%c", whoami, errs.msg[i], '\0');
	config_errors_clear(&errs);
	rc = fclose(fp) == 0 ? kp_send(fd, KP_OK, out, outlen, NULL, 0) :
	    reply_err(fd, "out of memory");
	free(out);
	return rc;
}

static int
do_sign(int fd, const char *buf, size_t len)
{
	struct kp_sign req;
	struct key k = { 0 };
	unsigned char sig[KEYPROC_SIG_MAX];
	size_t siglen = sizeof(sig);
	int rc;

	if (len != sizeof(req))
		return reply_err(fd, "bad SIGN request");
	memcpy(&req, buf, sizeof(req));
	if (req.dglen == 0 || req.dglen > sizeof(req.dg))
		return reply_err(fd, "bad digest length");
	pthread_mutex_lock(&held.lock);
	for (size_t i = 0; i < held.n; i++)
		if (held.ks[i]->store == req.store && req.idx < held.ks[i]->n) {
			k = held.ks[i]->keys[req.idx];
			if (k.pkey != NULL && EVP_PKEY_up_ref(k.pkey) != 1)
				k.pkey = NULL;
			break;
		}
	pthread_mutex_unlock(&held.lock);
	if (k.pkey == NULL)
		return reply_err(fd, "no such key, or not active");
	rc = keyproc_sign_here(&k, req.dg, req.dglen, sig, &siglen) == 0 ?
	    kp_send(fd, KP_OK, sig, siglen, NULL, 0) :
	    reply_err(fd, "OpenSSL could not sign");
	/* The reference is dropped, and a store freed (do_free), under the
	 * lock: the key's parts that signing made (the Montgomery
	 * contexts, cached in the key) are then freed after this thread's
	 * use in an order ThreadSanitizer sees too.  OpenSSL's reference
	 * count orders it anyway, but with atomics inside libcrypto, which
	 * is not instrumented. */
	pthread_mutex_lock(&held.lock);
	EVP_PKEY_free(k.pkey);
	pthread_mutex_unlock(&held.lock);
	return rc;
}

static int
do_free(int fd, const char *buf, size_t len)
{
	struct keystore *ks = NULL;
	uint64_t store;

	if (len != sizeof(store))
		return reply_err(fd, "bad FREE request");
	memcpy(&store, buf, sizeof(store));
	pthread_mutex_lock(&held.lock);
	for (size_t i = 0; i < held.n; i++)
		if (held.ks[i]->store == store) {
			ks = held.ks[i];
			held.ks[i] = held.ks[--held.n];
			break;
		}
	keystore_free(ks);		/* keys in use stay until signed */
	pthread_mutex_unlock(&held.lock);
	return kp_send(fd, KP_OK, NULL, 0, NULL, 0);
}

static void *
serve_channel(void *arg)
{
	int fd = (int)(intptr_t)arg, rc;
	struct kp_hdr h;
	char *buf;

	for (;;) {
		if (kp_recv(fd, &h, &buf, KP_REQUEST_MAX) != 0)
			_exit(0);	/* the milter process has gone */
		switch (h.type) {
		case KP_LOAD: rc = do_load(fd, buf, h.len); break;
		case KP_SIGN: rc = do_sign(fd, buf, h.len); break;
		case KP_FREE: rc = do_free(fd, buf, h.len); break;
		default: rc = reply_err(fd, "unknown request");
		}
		free(buf);
		if (rc != 0)
			_exit(0);
	}
	return NULL;
}

/* Every descriptor but stdio and the channels is closed. */
static void
close_others(const int *fds, size_t n)
{
	int shut[64], nshut, fd;
	DIR *dp;
	struct dirent *de;

	do {			/* a walk at a time: closing changes the dir */
		if ((dp = opendir("/proc/self/fd")) == NULL)
			return;
		nshut = 0;
		while ((de = readdir(dp)) != NULL && nshut < 64) {
			int mine = 0;
			if ((fd = atoi(de->d_name)) < 3 || fd == dirfd(dp))
				continue;
			for (size_t i = 0; i < n; i++)
				mine |= fds[i] == fd;
			if (!mine)
				shut[nshut++] = fd;
		}
		closedir(dp);
		for (int i = 0; i < nshut; i++)
			close(shut[i]);
	} while (nshut > 0);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* Test builds: the sanitizers' reports may be written where their
 * log_path says, so that a report from the signer is not lost. */
static void
sanitizer_logs(int rs, long abi)
{
	static const char *const vars[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
	    "TSAN_OPTIONS" };
	/* [0]: the executable's directory */
	static const char *const readable[] = { "", "/usr", "/lib", "/lib64",
	    "/proc" };
	struct landlock_path_beneath_attr pb = {
		.allowed_access = LANDLOCK_ACCESS_FS_WRITE_FILE |
		    LANDLOCK_ACCESS_FS_MAKE_REG,
	};
	char dir[1024], *p, *slash;
	const char *v;

	if (abi >= 3)
		pb.allowed_access |= 1ULL << 14;	/* truncate */
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if ((v = getenv(vars[i])) == NULL ||
		    (v = strstr(v, "log_path=")) == NULL)
			continue;
		snprintf(dir, sizeof(dir), "%s", v + 9);
		if ((p = strchr(dir, ':')) != NULL)
			*p = '\0';
		if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
			continue;
		*slash = '\0';
		if ((pb.parent_fd = open(dir, O_PATH | O_CLOEXEC)) >= 0) {
			syscall(__NR_landlock_add_rule, rs,
			    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
			close(pb.parent_fd);
		}
	}
	/* And read what symbolizes a report (the binary, the libraries,
	 * /proc/self/maps), or the suppressions, which match function
	 * names, cannot match one from here. */
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR;
	for (size_t i = 0; i < sizeof(readable) / sizeof(readable[0]); i++) {
		char path[1024];
		ssize_t n;

		if (i == 0) {
			if ((n = readlink("/proc/self/exe", path,
			    sizeof(path) - 1)) <= 0)
				continue;
			path[n] = '\0';
			if ((slash = strrchr(path, '/')) != NULL)
				*slash = '\0';
		} else
			snprintf(path, sizeof(path), "%s", readable[i]);
		if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) >= 0) {
			syscall(__NR_landlock_add_rule, rs,
			    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
			close(pb.parent_fd);
		}
	}
}
#endif

/* Landlock: read below key_dir, nothing else.  0, 1 when the kernel has
 * no Landlock, -1 with why. */
static int
landlock(const char *key_dir, char *why, size_t whysz)
{
	struct { __u64 fs, net, scoped; } attr = { 0 };
	struct landlock_path_beneath_attr pb = {
		.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_READ_DIR,
	};
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	size_t size = sizeof(attr.fs);
	int rs, dfd;

	if (abi < 1)
		return 1;
	attr.fs = (1ULL << 13) - 1;		/* ABI 1: execute .. make_sym */
	if (abi >= 2)
		attr.fs |= 1ULL << 13;		/* refer */
	if (abi >= 3)
		attr.fs |= 1ULL << 14;		/* truncate */
	if (abi >= 5)
		attr.fs |= 1ULL << 15;		/* ioctl_dev */
	if (abi >= 4) {
		attr.net = 3;			/* bind_tcp, connect_tcp */
		size = 2 * sizeof(__u64);
	}
	if (abi >= 6) {
		attr.scoped = 3;		/* abstract unix, signal */
		size = sizeof(attr);
	}
	if ((rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0)) <
	    0) {
		snprintf(why, whysz, "landlock_create_ruleset: %s",
		    strerror(errno));
		return -1;
	}
	/* A key_dir made later is not readable: a restart is needed. */
	if ((dfd = open(key_dir, O_PATH | O_CLOEXEC)) >= 0) {
		struct stat st;
		if (fstat(dfd, &st) == 0) {
			start_dir.existed = 1;
			start_dir.dev = st.st_dev;
			start_dir.ino = st.st_ino;
		}
		pb.parent_fd = dfd;
		if (syscall(__NR_landlock_add_rule, rs,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
			snprintf(why, whysz, "landlock_add_rule %s: %s",
			    key_dir, strerror(errno));
			close(dfd);
			close(rs);
			return -1;
		}
		close(dfd);
	}
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	sanitizer_logs(rs, abi);
#endif
	if (syscall(__NR_landlock_restrict_self, rs, 0) != 0) {
		snprintf(why, whysz, "landlock_restrict_self: %s",
		    strerror(errno));
		close(rs);
		return -1;
	}
	close(rs);
	start_dir.confined = 1;
	return 0;
}

static int
sandbox(const int *fds, size_t n, const char *user, const char *key_dir,
    char *why, size_t whysz)
{
	static const int ignored[] = { SIGHUP, SIGINT, SIGTERM, SIGPIPE,
	    SIGUSR1, SIGUSR2 };
	struct rlimit none = { 0, 0 };
	struct passwd *pw;
	sigset_t all;
	int rc, devnull;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setsid();
	close_others(fds, n);
	/* Nothing to read or print: stdin and stdout of whoever started
	 * the daemon are not held open (a shell waiting on them). */
	if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		if (devnull > 2)
			close(devnull);
	}
	/* OpenSSL reads its configuration before the walls go up. */
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	if (daemon_drop_privileges(user, why, whysz) != 0)
		return -1;
	if ((pw = getpwuid(geteuid())) != NULL)
		snprintf(whoami, sizeof(whoami), "%s", pw->pw_name);
	else
		snprintf(whoami, sizeof(whoami), "%u", (unsigned)geteuid());
	if (setrlimit(RLIMIT_CORE, &none) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(why, whysz, "prctl: %s", strerror(errno));
		return -1;
	}
	if ((rc = landlock(key_dir, why, whysz)) < 0)
		return -1;
	return rc;	/* 1: no Landlock */
}

void
keyproc_serve(const int *fds, size_t n, const char *user, const char *key_dir)
{
	pthread_attr_t attr;
	pthread_t tid;
	char why[512] = "";
	int rc = sandbox(fds, n, user, key_dir, why, sizeof(why));

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (size_t i = 1; rc >= 0 && i < n; i++)
		if (pthread_create(&tid, &attr, serve_channel,
		    (void *)(intptr_t)fds[i]) != 0) {
			snprintf(why, sizeof(why), "cannot start a thread");
			rc = -1;
		}
	/* The first word on channel 0 says how the start went. */
	if (rc < 0) {
		reply_err(fds[0], why);
		_exit(1);
	}
	if (kp_send(fds[0], KP_OK, rc == 1 ? "no-landlock" : "", rc == 1 ?
	    11 : 0, NULL, 0) != 0)
		_exit(1);
	serve_channel((void *)(intptr_t)fds[0]);
	_exit(0);
}
