/*
 * ar-parse -- print Authentication-Results header values as our parser
 * reads them; used by end-to-end tests to check what a message carries.
 *
 *	ar-parse < header-values	(one value per line, unfolded)
 *
 * Output per input line: "authserv-id" then "method=result
 * ptype.property=value..." lines, or "PARSE-ERROR".
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "milter/ar.h"

static struct ar_header hdr;

int
main(void)
{
	char line[65536];
	int rc = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (ar_parse(line, strlen(line), &hdr) != 0) {
			printf("PARSE-ERROR %s\n", line);
			rc = 1;
			continue;
		}
		printf("authserv-id=%s\n", hdr.authserv_id);
		if (hdr.none)
			printf("none\n");
		for (size_t i = 0; i < hdr.nres; i++) {
			printf("%s=%s", hdr.res[i].method, hdr.res[i].result);
			for (size_t j = 0; j < hdr.res[i].nprops; j++)
				printf(" %s.%s=%s", hdr.res[i].props[j].ptype,
				    hdr.res[i].props[j].property,
				    hdr.res[i].props[j].value);
			printf("\n");
		}
	}
	return rc;
}
