/*
 * NAME
 *	sendmail -- hand a report mail to the local MTA
 * SYNOPSIS
 *	if (rua_sendmail(cfg->report_sendmail, from, msg, len,
 *	    cfg->report_sendmail_timeout, err, sizeof(err)) != 0) ...
 * DESCRIPTION
 *	fork() and execv() report_sendmail with "-t -i -f FROM": the
 *	recipients come from To: (-t), a line of one "." does not end the
 *	message (-i), and bounces go to report_email (-f).  No shell sees
 *	any of it.  The message goes down a pipe; the child's exit status
 *	decides: sendmail(1) exits 0 once the MTA has the message (Postfix's
 *	sendmail: once it is in the maildrop queue).
 *
 *	The child's standard output is our standard error, so that
 *	authfilter-reports' standard output keeps one line per report.
 *
 *	A sendmail that hangs (a full disk, a stuck postdrop) must not
 *	hang the daily timer's run for ever: the child gets `timeout`
 *	seconds to read the message and exit, then it and every process it
 *	started (its own process group) are killed.
 * DIAGNOSTICS
 *	-1 and err: the program could not be run, exited non-zero or was
 *	killed, did not read the whole message, or did not finish in
 *	time.
 * SEE ALSO
 *	sendmail(1), postdrop(1)
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rua/sendmail.h"

/* In the child: exec, or tell the parent why not through the pipe of
 * errors (closed on exec), then _exit. */
static void
child(const char *path, const char *from, int in, int errfd)
{
	char *const argv[] = { (char *)path, "-t", "-i", "-f", (char *)from,
	    NULL };
	int e;

	setpgid(0, 0);		/* killed as a group when it hangs */
	/* dup2() onto itself would keep close-on-exec. */
	if ((in == STDIN_FILENO ? fcntl(in, F_SETFD, 0) :
	    dup2(in, STDIN_FILENO)) == -1 ||
	    dup2(STDERR_FILENO, STDOUT_FILENO) == -1) {
		e = errno;
		(void)!write(errfd, &e, sizeof(e));
		_exit(127);
	}
	if (in != STDIN_FILENO)
		close(in);
	execv(path, argv);
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before the deadline, 0 when passed. */
static int
left_ms(long long deadline)
{
	long long n = deadline - now_ms();

	return n <= 0 ? 0 : n > 60000 ? 60000 : (int)n;
}

/* Write all of msg to the (non-blocking) pipe before the deadline:
 * 0, or the errno (ETIMEDOUT when time ran out). */
static int
feed(int fd, const char *msg, size_t len, long long deadline)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };
	ssize_t w;

	for (size_t off = 0; off < len; ) {
		if ((w = write(fd, msg + off, len - off)) > 0) {
			off += (size_t)w;
			continue;
		}
		if (w == 0)
			return EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno;
		if (left_ms(deadline) == 0)
			return ETIMEDOUT;
		if (poll(&pfd, 1, left_ms(deadline)) < 0 && errno != EINTR)
			return errno;
	}
	return 0;
}

/* Reap pid before the deadline: 0 with *status, or -1 (time ran out
 * or waitpid failed; errno says which). */
static int
reap(pid_t pid, int *status, long long deadline)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	pid_t r;

	for (;;) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			break;
		if (r < 0 && errno != EINTR)
			break;
		if (left_ms(deadline) == 0) {
			errno = ETIMEDOUT;
			r = -1;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { pfd, POLLIN, 0 };
			(void)poll(&p, 1, left_ms(deadline));
		} else {
			/* No pidfd (a kernel before 5.3): look again soon. */
			struct timespec ts = { 0, 20 * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return r == pid ? 0 : -1;
}

int
rua_sendmail(const char *path, const char *from, const char *msg,
    size_t len, unsigned timeout, char *err, size_t errsz)
{
	int in[2], ep[2], status, e = 0, werr;
	long long deadline = now_ms() + (long long)timeout * 1000;
	ssize_t r;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) == -1) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) == -1) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		close(in[1]);
		close(ep[0]);
		child(path, from, in[0], ep[1]);
	}
	setpgid(pid, pid);	/* as the child does: no race either way */
	close(in[0]);
	close(ep[1]);
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	werr = feed(in[1], msg, len, deadline);
	close(in[1]);
	if (werr == ETIMEDOUT || reap(pid, &status, deadline) != 0) {
		int why = werr == ETIMEDOUT ? ETIMEDOUT : errno;
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		close(ep[0]);
		if (why == ETIMEDOUT)
			snprintf(err, errsz, "%s did not finish within "
			    "report_sendmail_timeout (%us): killed", path,
			    timeout);
		else
			snprintf(err, errsz, "%s: waitpid: %s", path,
			    strerror(why));
		return -1;
	}
	/* The child has exited: the pipe of errors is at its end. */
	while ((r = read(ep[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	close(ep[0]);
	if (r == (ssize_t)sizeof(e)) {
		snprintf(err, errsz, "%s: cannot run: %s", path, strerror(e));
		return -1;
	}
	if (WIFSIGNALED(status)) {
		snprintf(err, errsz, "%s killed by signal %d", path,
		    WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(err, errsz, "%s exited %d", path, WEXITSTATUS(status));
		return -1;
	}
	if (werr != 0) {
		snprintf(err, errsz, "%s did not read the whole message: %s",
		    path, strerror(werr));
		return -1;
	}
	return 0;
}
