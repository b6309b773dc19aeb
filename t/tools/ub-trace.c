/*
 * NAME
 *	ub-trace -- count the lookups authfilter hands to libunbound
 * SYNOPSIS
 *	cc -shared -fPIC -o ub-trace.so t/tools/ub-trace.c -ldl
 *	AF_UB_TRACE=FILE LD_PRELOAD=./ub-trace.so authfilter -f -c CONF
 * DESCRIPTION
 *	authfilter's answer cache (milter/dns.c) sits in front of
 *	libunbound's own cache, so a DNS server never sees the difference
 *	between the two: a lookup answered by either reaches no server.
 *	This preload library records, as one line "NAME TYPE" appended to
 *	FILE, every ub_resolve_async() call, i.e. every lookup that got
 *	past authfilter's cache, then passes the call on unchanged.  It
 *	answers nothing itself.  FILE must exist and be writable by the
 *	daemon's user (it is opened per call, after the privilege drop).
 *	Built by t/e2e/dns-cache.t, never linked into authfilter.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <unbound.h>

static int (*next)(struct ub_ctx *, const char *, int, int, void *,
    ub_callback_type, int *);

/* Before any thread exists: no race on next. */
__attribute__((constructor)) static void
find_next(void)
{
	*(void **)&next = dlsym(RTLD_NEXT, "ub_resolve_async");
}

int
ub_resolve_async(struct ub_ctx *ctx, const char *name, int rrtype,
    int rrclass, void *mydata, ub_callback_type callback, int *async_id)
{
	const char *path = getenv("AF_UB_TRACE");
	char line[300];
	int fd, n;

	if (path != NULL && (fd = open(path, O_WRONLY | O_APPEND)) >= 0) {
		/* One write per line: O_APPEND keeps threads' lines whole. */
		n = snprintf(line, sizeof(line), "%s %d\n", name, rrtype);
		if (n > 0 && (size_t)n < sizeof(line) &&
		    write(fd, line, (size_t)n) < 0)
			perror("ub-trace");
		close(fd);
	}
	return next(ctx, name, rrtype, rrclass, mydata, callback, async_id);
}
