/*
 * NAME
 *	sendmail -- hand a report mail to the local MTA
 * SYNOPSIS
 *	if (rua_sendmail(cfg->report_sendmail, from, msg, len, err,
 *	    sizeof(err)) != 0) ...
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
 * DIAGNOSTICS
 *	-1 and err: the program could not be run, exited non-zero or was
 *	killed, or did not read the whole message.
 * SEE ALSO
 *	sendmail(1), postdrop(1)
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
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

int
rua_sendmail(const char *path, const char *from, const char *msg,
    size_t len, char *err, size_t errsz)
{
	int in[2], ep[2], status, e = 0, werr = 0;
	ssize_t w = 0, r;
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
	close(in[0]);
	close(ep[1]);
	for (size_t off = 0; off < len; off += (size_t)w)
		if ((w = write(in[1], msg + off, len - off)) <= 0) {
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			werr = w < 0 ? errno : EIO;
			break;
		}
	close(in[1]);
	while ((r = read(ep[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	close(ep[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			snprintf(err, errsz, "%s: waitpid: %s", path,
			    strerror(errno));
			return -1;
		}
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
