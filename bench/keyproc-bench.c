/*
 * NAME
 *	keyproc-bench -- what the signer process costs per signature
 * SYNOPSIS
 *	bench/keyproc-bench USER KEY_DIR [SECONDS]
 * DESCRIPTION
 *	Signs SHA-256 digests with every active key of KEY_DIR (owned by
 *	USER, as the daemon's are) two ways: with the key in this process
 *	(as before the signer existed) and through the signer process
 *	(milter/keyproc.c), with one thread and with two.  For each it
 *	prints the wall time and the CPU time (ours plus the signer's) per
 *	signature, and what the signer adds; and first the floor of any
 *	such design, a bare round trip to another process.  Run by
 *	bench/run ("signer").
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "keys/keystore.h"
#include "milter/keyproc.h"

struct run {
	const struct key *k;
	double		 until;		/* CLOCK_MONOTONIC seconds */
	unsigned long	 n;
	int		 failed;
};

static double
now(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The signer's CPU seconds (utime + stime). */
static double
signer_cpu(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)keyproc_pid());
	if (keyproc_pid() == 0 || (fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%lu %lu", &ut, &st);
	fclose(fp);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void *
signing(void *arg)
{
	struct run *r = arg;
	unsigned char dg[32], sig[KEYPROC_SIG_MAX];
	char err[256];

	memset(dg, 0x5a, sizeof(dg));
	while (now(CLOCK_MONOTONIC) < r->until) {
		for (int i = 0; i < 16; i++) {
			size_t siglen = sizeof(sig);
			dg[0] = (unsigned char)r->n;
			if (keyproc_sign(r->k, dg, sizeof(dg), sig, &siglen,
			    err, sizeof(err)) != 0) {
				fprintf(stderr, "sign: %s\n", err);
				r->failed = 1;
				return NULL;
			}
			r->n++;
		}
	}
	return NULL;
}

/* Signatures per thread for `secs`; per-signature wall and CPU us. */
static int
measure(const struct key *k, int threads, double secs, double *wall_us,
    double *cpu_us)
{
	struct run r[2] = { { k, 0, 0, 0 }, { k, 0, 0, 0 } };
	pthread_t tid[2];
	struct rusage ru;
	double t0 = now(CLOCK_MONOTONIC), c0, s0 = signer_cpu(), c1;
	unsigned long n = 0;

	getrusage(RUSAGE_SELF, &ru);
	c0 = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	for (int i = 0; i < threads; i++) {
		r[i].until = t0 + secs;
		pthread_create(&tid[i], NULL, signing, &r[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		n += r[i].n;
		if (r[i].failed)
			return -1;
	}
	getrusage(RUSAGE_SELF, &ru);
	c1 = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	*wall_us = (now(CLOCK_MONOTONIC) - t0) * 1e6 * threads / (double)n;
	*cpu_us = ((c1 - c0) + (signer_cpu() - s0)) * 1e6 / (double)n;
	return 0;
}

/* The floor: a bare round trip of 8 bytes to another process over a
 * socketpair, as the signer's channels are. */
static double
round_trip_us(void)
{
	int sv[2], n = 20000;
	char b[8] = { 0 };
	double t0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || (pid = fork()) < 0)
		return 0;
	if (pid == 0) {
		close(sv[0]);
		while (read(sv[1], b, sizeof(b)) == (ssize_t)sizeof(b) &&
		    write(sv[1], b, sizeof(b)) == (ssize_t)sizeof(b))
			;
		_exit(0);
	}
	close(sv[1]);
	t0 = now(CLOCK_MONOTONIC);
	for (int i = 0; i < n; i++)
		if (write(sv[0], b, sizeof(b)) != (ssize_t)sizeof(b) ||
		    read(sv[0], b, sizeof(b)) != (ssize_t)sizeof(b))
			break;
	t0 = (now(CLOCK_MONOTONIC) - t0) * 1e6 / n;
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return t0;
}

int
main(int argc, char **argv)
{
	struct config_errors errs = { 0 };
	struct keystore *here, *there;
	struct passwd *pw;
	double secs = argc > 3 ? atof(argv[3]) : 3.0;
	char err[512];

	if (argc < 3 || (pw = getpwnam(argv[1])) == NULL) {
		fprintf(stderr, "usage: keyproc-bench USER KEY_DIR [SECONDS]\n");
		return 2;
	}
	printf("a bare round trip to another process (socketpair): %.1f us\n",
	    round_trip_us());
	/* The signer first: this process has no thread yet. */
	if (keyproc_start(argv[1], argv[2], err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if ((here = keystore_load(argv[2], 1, pw->pw_uid, &errs)) == NULL ||
	    (there = keyproc_load(argv[2], pw->pw_uid, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		return 1;
	}
	printf("%-14s %7s | %9s %9s | %9s %9s | %9s %9s\n", "key", "threads",
	    "here wall", "here cpu", "proc wall", "proc cpu", "+wall us",
	    "+cpu us");
	for (size_t i = 0; i < here->n && i < there->n; i++) {
		const struct key *a = &here->keys[i], *b = &there->keys[i];

		if (a->state != KEY_ACTIVE)
			continue;
		for (int t = 1; t <= 2; t++) {
			double hw, hc, pw_, pc;

			if (measure(a, t, secs, &hw, &hc) != 0 ||
			    measure(b, t, secs, &pw_, &pc) != 0)
				return 1;
			printf("%-14s %7d | %9.1f %9.1f | %9.1f %9.1f | %9.1f "
			    "%9.1f\n", key_alg_name(a->alg), t, hw, hc, pw_, pc,
			    pw_ - hw, pc - hc);
		}
	}
	keystore_free(here);
	keyproc_free(there);
	return 0;
}
