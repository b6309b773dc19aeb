/*
 * odkconf.h -- read OpenDKIM's configuration for import-opendkim.
 */
#ifndef AUTHFILTER_ODKCONF_H
#define AUTHFILTER_ODKCONF_H

#include <stddef.h>

#include "lib/config.h"

/* The settings of opendkim.conf that say what is signed, and how.  Each
 * string is the value as written (NULL: not set); line its line. */
enum odk_setting { ODK_KEYTABLE, ODK_SIGNINGTABLE, ODK_DOMAIN, ODK_SELECTOR,
	ODK_KEYFILE, ODK_INTERNALHOSTS, ODK_EXTERNALIGNORE, ODK_MULTIPLESIGS,
	ODK_SUBDOMAINS, ODK_SIGNHEADERS, ODK_OVERSIGNHEADERS, ODK_NSETTINGS };

struct odk_conf {
	char		*value[ODK_NSETTINGS];
	unsigned	 line[ODK_NSETTINGS];
};

/* opendkim.conf(5) text (changed in place) into conf; path names it in
 * errs.  Settings that change what is signed and cannot be carried over
 * (Include, SetupPolicyScript, SignatureAlgorithm other than
 * rsa-sha256, ...) are errors "PATH:LINE: ...".  0, or -1. */
int	odk_conf_parse(const char *path, char *text, struct odk_conf *,
	    struct config_errors *errs);
void	odk_conf_free(struct odk_conf *);
/* An opendkim.conf Boolean: first byte T t Y y 1. */
int	odk_bool(const char *);

/* Data sets (opendkim(8) DATA SETS). */
enum odk_ds { ODK_DS_FILE, ODK_DS_REFILE, ODK_DS_CSL, ODK_DS_OTHER };
/* The kind of a data set and where its file name or list starts. */
enum odk_ds odk_dataset(const char *spec, const char **rest);

struct odk_entry {
	char		*key;		/* pattern, key name or host */
	char		*value;		/* "" when none */
	unsigned	 line;		/* 0 in a csl: list */
};
struct odk_list {
	struct odk_entry *e;
	size_t		  n;
};
/* The entries of a flat file or refile text (the key up to the first
 * white space, the rest the value; "#" starts a comment), or of a
 * comma-separated list (csl).  0, or -1 (out of memory). */
int	odk_list_parse(const char *text, int csl, struct odk_list *out);
void	odk_list_free(struct odk_list *);

/* A SigningTable key as a signing_table PATTERN ("user@example.net",
 * "example.net", ".example.net" or "*"): refile wildcards
 * ("*@example.net", "*@*.example.net", "*") or the keys of a flat file
 * (OpenDKIM looks up user@host, host, .domain and *).  0, or -1 with err
 * saying why it has no equivalent. */
int	odk_pattern(const char *key, int refile, char *out, size_t outsz,
	    char *err, size_t errsz);
/* 1 when every From address that pattern b matches is matched by a too
 * (both as odk_pattern() writes them): under first-match order, b after
 * a can never be used. */
int	odk_pattern_covers(const char *a, const char *b);

/* A KeyTable value "DOMAIN:SELECTOR:KEYPATH" into its parts (domain
 * normalised).  0, or -1 with err. */
int	odk_keytable_value(const char *value, char *domain, size_t domsz,
	    char *selector, size_t selsz, char *path, size_t pathsz,
	    char *err, size_t errsz);

/* An InternalHosts / ExternalIgnoreList entry as an internal_networks
 * entry: 0 with out set (an address or CIDR network), or -1 with err
 * (a host or domain name, a "!" exclusion, a netmask authfilter cannot
 * read). */
int	odk_host_network(const char *entry, char *out, size_t outsz,
	    char *err, size_t errsz);

#endif
