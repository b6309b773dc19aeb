/*
 * tap.h -- a tiny TAP producer for C unit tests run by prove.
 *
 *	ok(cond, "name");
 *	is_str(got, want, "name");    is_int(got, want, "name");
 *	return done_testing();
 *
 * A failing check prints what it expected and what it got as TAP
 * diagnostics ("# ..."), so prove -v shows why.
 */
#ifndef AUTHFILTER_TAP_H
#define AUTHFILTER_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int
tap_ok(int cond, const char *name, const char *file, int line)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static inline void
tap_diag_str(const char *got, const char *want)
{
	printf("#          got: %s%s%s\n", got ? "\"" : "", got ? got : "NULL",
	    got ? "\"" : "");
	printf("#     expected: %s%s%s\n", want ? "\"" : "",
	    want ? want : "NULL", want ? "\"" : "");
}

#define ok(cond, name) tap_ok((cond) != 0, (name), __FILE__, __LINE__)

#define is_str(got, want, name) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int c_ = (g_ == NULL && w_ == NULL) ||				\
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);		\
	if (!tap_ok(c_, (name), __FILE__, __LINE__))			\
		tap_diag_str(g_, w_);					\
} while (0)

#define is_int(got, want, name) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (!tap_ok(g_ == w_, (name), __FILE__, __LINE__))		\
		printf("#          got: %lld\n#     expected: %lld\n",	\
		    g_, w_);						\
} while (0)

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed > 0 ? 1 : 0;
}

#endif
