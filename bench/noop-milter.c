/*
 * NAME
 *	noop-milter -- a libmilter milter that does nothing, for bench/run
 * SYNOPSIS
 *	noop-milter inet:PORT@127.0.0.1 | unix:/PATH
 * DESCRIPTION
 *	The floor of the design authfilter had before its own protocol
 *	engine: libmilter, every stage before end of message negotiated as
 *	"no reply", two header inserts at end of message, nothing else.
 *	bench/run builds it (cc ... -lmilter) and shows its CPU per message
 *	beside authfilter's.  Not part of authfilter; never installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define NR (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
	SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static sfsistat
negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1,
    unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = f1 & (NR | SMFIP_HDR_LEADSPC | SMFIP_NODATA | SMFIP_NOUNKNOWN);
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
eom(SMFICTX *ctx)
{
	smfi_insheader(ctx, 0, "X-Noop-1", " one");
	smfi_insheader(ctx, 0, "X-Noop-2", " two");
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "noop",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_eom = eom,
	.xxfi_negotiate = negotiate,
};

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: noop-milter SOCKET\n");
		return 2;
	}
	if (strncmp(argv[1], "unix:", 5) == 0)
		unlink(argv[1] + 5);
	if (smfi_register(desc) == MI_FAILURE ||
	    smfi_setconn(argv[1]) == MI_FAILURE)
		return 1;
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
