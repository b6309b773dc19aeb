/*
 * version.h -- what "authfilter -V" prints.
 */
#ifndef AUTHFILTER_VERSION_H
#define AUTHFILTER_VERSION_H

#include <stdio.h>

void	version_print(FILE *fp);

#endif
