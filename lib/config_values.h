/*
 * config_values.h -- checks of single setting values (config_values.c),
 * for the parser in config.c.
 */
#ifndef AUTHFILTER_CONFIG_VALUES_H
#define AUTHFILTER_CONFIG_VALUES_H

#include <stddef.h>

/* Each: 0, or -1 with err saying what is wrong with v. */
int	check_socket(const char *v, char *err, size_t errsz);
int	check_authserv(const char *v, char *err, size_t errsz);
int	check_resolver(const char *v, char *err, size_t errsz);
int	check_addresses(char **w, size_t n, char *err, size_t errsz);
int	check_hostname(const char *v, char *err, size_t errsz);
int	check_db(const char *v, char *err, size_t errsz);
int	check_text(const char *v, char *err, size_t errsz);
int	check_email(const char *v, char *err, size_t errsz);
/* "a, b c" into a malloc'd list of n words; free_words() it. */
char	**split_words(const char *v, size_t *n);
void	free_words(char **list, size_t n);

#endif
