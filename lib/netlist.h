/*
 * netlist.h -- lists of IPv4/IPv6 networks in CIDR form.
 */
#ifndef AUTHFILTER_NETLIST_H
#define AUTHFILTER_NETLIST_H

#include <stddef.h>
#include <sys/socket.h>

struct netlist;

/* Parse "192.0.2.0/24, [2001:db8::]/32 ::1" (commas and/or spaces).
 * Returns NULL and fills err on the first bad entry. */
struct netlist *netlist_parse(const char *text, char *err, size_t errsz);
void	netlist_free(struct netlist *);
size_t	netlist_count(const struct netlist *);

/* 1 when addr (AF_INET or AF_INET6; v4-mapped v6 counts as v4) is inside. */
int	netlist_match(const struct netlist *, const struct sockaddr *addr);
int	netlist_match_str(const struct netlist *, const char *ip);

/* "127.0.0.1:9090" or "[::1]:9090" (an address, never a name) into ss;
 * 0, or -1 with err. */
int	netaddr_parse_hostport(const char *text, struct sockaddr_storage *ss,
	    socklen_t *len, char *err, size_t errsz);

#endif
