/* Unit tests for milter/outbound.c and milter/loginmap.c. */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "milter/loginmap.h"
#include "milter/outbound.h"
#include "t/errs.h"
#include "t/tap.h"

static const char *
plan(const char *from, const char *login, const struct loginmap *map,
    const struct keystore *ks, int subdomains)
{
	static struct outbound_plan p;
	struct message m;

	memset(&m, 0, sizeof(m));
	if (from != NULL)
		message_add_header(&m, "From", from, 100, 10000);
	m.auth_authen = login != NULL ? strdup(login) : NULL;
	outbound_plan(&m, ks, subdomains, map, NULL, &p);
	for (size_t i = 0; i < m.nhdrs; i++) {
		free(m.hdrs[i].name);
		free(m.hdrs[i].value);
	}
	free(m.hdrs);
	free(m.auth_authen);
	return p.skip != NULL ? p.skip : "sign";
}

int
main(void)
{
	struct config_errors errs = { 0 };
	struct loginmap *map;
	struct key keys[2];
	struct keystore ks = { .keys = keys, .n = 2 };
	static char loaded;	/* a key counts as loaded; never used */

	memset(keys, 0, sizeof(keys));
	strcpy(keys[0].domain, "example.org");
	strcpy(keys[0].selector, "r1");
	keys[0].state = KEY_ACTIVE;
	keys[0].pkey = (void *)&loaded;
	strcpy(keys[1].domain, "example.net");
	strcpy(keys[1].selector, "r1");
	keys[1].state = KEY_ACTIVE;
	keys[1].pkey = (void *)&loaded;

	map = loginmap_parse("map", "# comment\n\nalice  example.org, "
	    "Example.NET\nbot *\n   # indented comment\n", &errs);
	ok(map != NULL && errs.n == 0, "login map parses");
	ok(loginmap_allows(map, "alice", "example.org"), "alice: example.org");
	ok(loginmap_allows(map, "alice", "EXAMPLE.net"), "domains ignore case");
	ok(!loginmap_allows(map, "alice", "example.com"), "alice: not .com");
	ok(!loginmap_allows(map, "Alice", "example.org"),
	    "logins are case-sensitive");
	ok(loginmap_allows(map, "bot", "anything.example"), "* allows all");
	ok(!loginmap_allows(map, "mallory", "example.org"),
	    "a login not in the map may use nothing");

	is_str(plan(" a@example.org", "alice", map, &ks, 0), "sign",
	    "allowed login signs");
	is_str(plan(" a@example.net", "alice", map, &ks, 0), "sign",
	    "second allowed domain signs");
	is_str(plan(" ceo@example.net", "mallory", map, &ks, 0),
	    "sender_not_allowed", "unlisted login: not signed");
	is_str(plan(" a@example.org", NULL, map, &ks, 0), "sign",
	    "unauthenticated internal client: the map does not apply");
	is_str(plan(" a@example.org", "mallory", NULL, &ks, 0), "sign",
	    "no map configured: no restriction");
	is_str(plan(NULL, NULL, NULL, &ks, 0), "no_from", "no From");
	is_str(plan(" a@example.org, b@example.org", NULL, NULL, &ks, 0),
	    "several_from_addresses", "two addresses");
	is_str(plan(" \"a@example.org\" <x@evil.test>", NULL, NULL, &ks, 0),
	    "no_active_key", "display-name address is not the domain");
	is_str(plan(" a@news.example.org", NULL, NULL, &ks, 0),
	    "no_active_key", "subdomain, sign_subdomains = no");
	is_str(plan(" a@news.example.org", NULL, NULL, &ks, 1), "sign",
	    "subdomain, sign_subdomains = yes");
	is_str(plan(" undisclosed:;", NULL, NULL, &ks, 0),
	    "from_without_address", "empty group");
	is_str(plan(" <a@example.org", NULL, NULL, &ks, 0), "from_unparseable",
	    "unparseable From");
	loginmap_free(map);

	map = loginmap_parse("m", "alice\nbob bad..domain\nalice x.example\n",
	    &errs);
	ok(map == NULL, "bad map refused");
	ok(errs_has(&errs, "m:1: \"alice\" has no domains", 1), "no domains, line 1");
	ok(errs_has(&errs, "m:2: \"bad..domain\" is not a domain name", 1),
	    "bad domain, line 2");
	config_errors_clear(&errs);
	map = loginmap_parse("m", "alice a.example\nalice b.example\n", &errs);
	ok(map == NULL && errs_has(&errs, "m:2: login \"alice\" is already listed", 1),
	    "duplicate login");
	config_errors_clear(&errs);
	ok(loginmap_load("/nonexistent/map", &errs) == NULL &&
	    errs_has(&errs, "/nonexistent/map: cannot open: No such file or "
	    "directory", 1), "missing map file");
	config_errors_clear(&errs);
	return done_testing();
}
