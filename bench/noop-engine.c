/*
 * NAME
 *	noop-engine -- a milter that does nothing, on authfilter's engine
 * SYNOPSIS
 *	noop-engine unix:/PATH | inet:PORT@HOST
 * DESCRIPTION
 *	The same work as bench/noop-milter.c (every stage before end of
 *	message without a reply, two header inserts at end of message),
 *	served by authfilter's protocol engine and worker pool instead of
 *	libmilter: bench/run shows the cost of the protocol layer alone,
 *	beside libmilter's and beside authfilter's whole.  Never installed.
 */
#include "buildconf.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milter/engine.h"
#include "milter/listen.h"
#include "lib/log.h"
#include "milter/server.h"

#define NR (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
	SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static void
negotiate(struct milter_conn *mc, uint32_t ma, uint32_t mp, uint32_t *a,
    uint32_t *p)
{
	(void)mc;
	(void)ma;
	(void)mp;
	*a = SMFIF_ADDHDRS;
	*p = NR | SMFIP_HDR_LEADSPC | SMFIP_NODATA | SMFIP_NOUNKNOWN;
}

static enum milter_status
eom(struct milter_conn *mc)
{
	milter_insert_header(mc, 0, "X-Noop-1", "one");
	milter_insert_header(mc, 0, "X-Noop-2", "two");
	return MS_CONTINUE;
}

static const struct milter_hooks hooks = {
	.negotiate = negotiate,
	.eom = eom,
};

int
main(int argc, char **argv)
{
	struct server_limits lim = { 2000, 300, 1 << 20 };
	char err[256];
	sigset_t set;
	int fd, sig;

	if (argc != 2) {
		fprintf(stderr, "usage: noop-engine SOCKET\n");
		return 2;
	}
	log_init("noop-engine", 1, LOG_FORMAT_SYSLOG);
	umask(0);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* workers inherit it */
	if ((fd = listen_open(argv[1], 1, err, sizeof(err))) < 0 ||
	    server_start(fd, listen_is_inet(argv[1]), &hooks, &lim, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "noop-engine: %s\n", err);
		return 1;
	}
	sigwait(&set, &sig);
	return 0;
}
