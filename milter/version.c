/*
 * NAME
 *	version -- authfilter's version and the libraries it runs with
 * DESCRIPTION
 *	Prints the versions reported by the libraries at run time (not
 *	the headers we were built against), so a bug report shows what is
 *	really loaded.  libsystemd has no such call: its line is the
 *	version configure found (or that it is not built in).
 */
#include "buildconf.h"

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <openssl/crypto.h>
#include <opendkim/dkim.h>
#include <spf2/spf.h>
#include <unbound.h>

#include <json-c/json_c_version.h>
#include <libpsl.h>

#include "milter/notify.h"
#include "milter/protocol.h"
#include "milter/version.h"

void
version_print(FILE *fp)
{
	int smj, smn, spl;
	uint32_t dk = dkim_libversion();

	fprintf(fp, "%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
	fprintf(fp, "milter protocol %d (authfilter's own engine)\n",
	    MP_VERSION);
	fprintf(fp, "%s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(fp, "libopendkim %u.%u.%u\n", (unsigned)(dk >> 24),
	    (unsigned)((dk >> 16) & 0xff), (unsigned)((dk >> 8) & 0xff));
	SPF_get_lib_version(&smj, &smn, &spl);
	fprintf(fp, "libspf2 %d.%d.%d\n", smj, smn, spl);
	fprintf(fp, "libunbound %s\n", ub_version());
	fprintf(fp, "libpsl %s\n", psl_get_version());
	fprintf(fp, "json-c %s\n", json_c_version());
	fprintf(fp, "%s\n", notify_library());
}
