/*
 * data.h -- a file of t/data for a C unit test: $AF_SRCDIR/t/data/NAME
 * read whole (a NUL after its bytes), or the test bails out.
 */
#ifndef AUTHFILTER_T_DATA_H
#define AUTHFILTER_T_DATA_H

#include <stdio.h>
#include <stdlib.h>

static unsigned char *
t_data(const char *name, size_t *len)
{
	const char *src = getenv("AF_SRCDIR");
	char path[1024];
	unsigned char *buf;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/t/data/%s", src ? src : ".", name);
	if ((fp = fopen(path, "rb")) == NULL || fseek(fp, 0, SEEK_END) != 0 ||
	    (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	fclose(fp);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

#endif
