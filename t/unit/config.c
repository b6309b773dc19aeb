/* Unit tests for lib/config.c: the authfilter.conf parser. */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/netlist.h"
#include "t/errs.h"
#include "t/tap.h"

static struct config *
parse(const char *text, struct config_errors *errs)
{
	return config_parse("test.conf", text, strlen(text), errs);
}

static char *
nondefault(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	config_print_nondefault(cfg, fp);
	fclose(fp);
	return buf;
}

int
main(void)
{
	struct config_errors errs = { 0 };
	struct config *cfg;
	char host[256], *out;
	unsigned secs;
	size_t size;

	/* Defaults. */
	cfg = parse("", &errs);
	ok(cfg != NULL && errs.n == 0, "empty file is valid");
	is_str(cfg->milter_socket, "inet:8891@127.0.0.1", "default socket");
	is_int(cfg->policy_mode, POLICY_MONITOR, "default policy_mode");
	is_int(cfg->log_format, LOG_FORMAT_SYSLOG, "default log_format");
	gethostname(host, sizeof(host));
	is_str(cfg->authserv_id, host, "authserv_id defaults to host name");
	ok(netlist_match_str(cfg->internal_networks, "127.0.0.1"),
	    "default internal_networks has 127.0.0.1");
	ok(netlist_match_str(cfg->internal_networks, "::1"),
	    "default internal_networks has ::1");
	ok(!netlist_match_str(cfg->internal_networks, "192.0.2.1"),
	    "default internal_networks is loopback only");
	is_int(cfg->max_headers, 1000, "default max_headers");
	is_int(cfg->max_header_bytes, 1024 * 1024, "default max_header_bytes");
	out = nondefault(cfg);
	is_str(out, "", "-n prints nothing for defaults");
	free(out);
	config_free(cfg);

	/* A full file with comments and a continuation line. */
	cfg = parse("# comment\n"
	    "milter_socket = unix:/run/authfilter/a.sock\n"
	    "\n"
	    "   # indented comment\n"
	    "authserv_id = MX.example.org\n"
	    "internal_networks = 192.0.2.0/24,\n"
	    "    [2001:db8::]/32\n"
	    "policy_mode=enforce\n"
	    "log_format = json\n"
	    "submission_daemons = submission, smtps\n"
	    "max_header_bytes = 64k\n"
	    "drain_timeout = 2m\n", &errs);
	ok(cfg != NULL, "full file parses");
	if (cfg == NULL)
		return done_testing();
	is_str(cfg->milter_socket, "unix:/run/authfilter/a.sock", "unix socket");
	is_str(cfg->authserv_id, "MX.example.org", "authserv_id as written");
	ok(netlist_match_str(cfg->internal_networks, "2001:db8::5"),
	    "continuation line joined into the network list");
	ok(!netlist_match_str(cfg->internal_networks, "127.0.0.1"),
	    "setting replaces the default list");
	is_int(cfg->policy_mode, POLICY_ENFORCE, "policy_mode=enforce "
	    "without spaces");
	is_int(cfg->submission_daemons.n, 2, "two submission daemons");
	is_str(cfg->submission_daemons.w[1], "smtps", "second daemon");
	is_int(cfg->max_header_bytes, 65536, "64k");
	is_int(cfg->drain_timeout, 120, "2m");
	out = nondefault(cfg);
	is_str(out, "milter_socket = unix:/run/authfilter/a.sock\n"
	    "authserv_id = MX.example.org\n"
	    "internal_networks = 192.0.2.0/24, [2001:db8::]/32\n"
	    "submission_daemons = submission, smtps\n"
	    "policy_mode = enforce\n"
	    "log_format = json\n"
	    "max_header_bytes = 64k\n"
	    "drain_timeout = 2m\n", "-n lists what differs, in table order");
	free(out);
	config_free(cfg);

	/* Setting a default explicitly is not "non-default". */
	cfg = parse("policy_mode = monitor\n", &errs);
	out = nondefault(cfg);
	is_str(out, "", "-n omits a setting equal to its default");
	free(out);
	config_free(cfg);

	/* Every problem is reported with its line. */
	cfg = parse("milter_socket = inet:8891\n"
	    "polcy_mode = enforce\n"
	    "policy_mode = enforcing\n"
	    "log_format = json\n"
	    "log_format = syslog\n"
	    "just some words\n"
	    "max_headers = 0\n"
	    "dns_resolver = 127.0.0.1@99999\n"
	    "  continued\n"
	    "internal_networks = 10.1.2.3/8\n"
	    "key_dir = relative/keys\n"
	    "authserv_id = mx example\n"
	    "user = no-such-user-here\n"
	    "drain_timeout = 5x\n", &errs);
	ok(cfg == NULL, "a bad file gives no config");
	ok(errs_has(&errs, "test.conf:1: milter_socket: \"inet:8891\": "
	    "name the address to listen on, e.g. inet:8891@127.0.0.1", 1),
	    "inet socket without host is refused");
	ok(errs_has(&errs, "test.conf:2: unknown setting \"polcy_mode\"", 1),
	    "unknown setting named with its line");
	ok(errs_has(&errs, "test.conf:3: policy_mode: \"enforcing\" is not "
	    "one of: monitor, enforce", 1), "bad enum value");
	ok(errs_has(&errs, "test.conf:5: log_format is already set at "
	    "line 4", 1), "duplicate setting");
	ok(errs_has(&errs, "test.conf:6: expected \"name = value\"", 1),
	    "line without =");
	ok(errs_has(&errs, "test.conf:7: max_headers: \"0\": expected a "
	    "number from 1 to 100000", 1), "count out of range");
	ok(errs_has(&errs, "test.conf:8: dns_resolver: \"127.0.0.1@99999 "
	    "continued\": expected an IP address, optionally @PORT (e.g. "
	    "127.0.0.1@5353), or empty for the system resolver", 1),
	    "bad resolver, reported at the start of its logical line");
	ok(errs_has(&errs, "test.conf:10: internal_networks: \"10.1.2.3/8\":"
	    " address has bits set beyond the /8 prefix", 1), "host bits set");
	ok(errs_has(&errs, "test.conf:11: key_dir: \"relative/keys\": must "
	    "be an absolute path", 1), "relative key_dir");
	ok(errs_has(&errs, "test.conf:12: authserv_id: \"mx example\": use "
	    "a host name (letters, digits, '.', '-', '_')", 1), "bad authserv_id");
	ok(errs_has(&errs, "test.conf:13: user: no such user "
	    "\"no-such-user-here\"", 1), "unknown user");
	ok(errs_has(&errs, "test.conf:14: drain_timeout: \"5x\": expected a "
	    "duration from 0s to 3600s (suffix s, m, h, d or w)", 1), "bad duration");
	is_int(errs.n, 12, "twelve problems, all reported");
	config_errors_clear(&errs);

	/* Policy and DNS settings added with SPF, DMARC and the engine. */
	cfg = parse("spf_fail_action = reject\ntemperror_action = tempfail\n"
	    "trusted_networks = 192.0.2.0/24\n"
	    "allow_from_domains = a.example, b.example\n"
	    "dns_retries = 1\nquarantine_tag = yes\n", &errs);
	ok(cfg != NULL && cfg->spf_fail_action == SPF_FAIL_REJECT &&
	    cfg->temperror_action == TEMPERROR_TEMPFAIL &&
	    cfg->allow_from_domains.n == 2 &&
	    strcmp(cfg->allow_from_domains.w[1], "b.example") == 0 &&
	    cfg->dns_retries == 1 && cfg->quarantine_tag == 1 &&
	    netlist_match_str(cfg->trusted_networks, "192.0.2.9") == 1,
	    "policy and DNS settings parse");
	config_free(cfg);
	cfg = parse("spf_fail_action = bounce\ndns_retries = 11\n"
	    "policy_overrides = rel/path\n", &errs);
	ok(cfg == NULL && errs_has(&errs, "test.conf:1: spf_fail_action: "
	    "\"bounce\" is not one of: accept, tag, quarantine, reject", 1) &&
	    errs_has(&errs, "test.conf:2: dns_retries: \"11\": expected a "
	    "number from 1 to 10", 1) && errs_has(&errs, "test.conf:3: "
	    "policy_overrides: \"rel/path\": must be an absolute path", 1),
	    "bad policy and DNS values, each reported");
	config_errors_clear(&errs);
	/* libunbound refuses outbound-msg-retry 0: the parser does first. */
	cfg = parse("dns_retries = 0\n", &errs);
	ok(cfg == NULL && errs_has(&errs, "test.conf:1: dns_retries: \"0\": "
	    "expected a number from 1 to 10", 1), "dns_retries = 0 refused "
	    "with FILE:LINE");
	config_errors_clear(&errs);

	cfg = parse("user = root\n", &errs);
	ok(cfg == NULL && errs_has(&errs, "test.conf:1: user: \"root\": the "
	    "daemon must not run as root", 1), "user = root refused");
	config_errors_clear(&errs);

	cfg = parse("  indented = 1\n", &errs);
	ok(cfg == NULL && errs_has(&errs, "test.conf:1: continuation line "
	    "with nothing to continue (remove the leading white space)", 1),
	    "leading continuation line");
	config_errors_clear(&errs);

	cfg = config_parse("nul.conf", "# x\na = b\0c\n", 11, &errs);
	ok(cfg == NULL && errs_has(&errs, "nul.conf:2: contains a NUL byte; "
	    "not a text file", 1), "NUL byte refused, with its line");
	config_errors_clear(&errs);

	/* A file past the size limit: the line where it passes it. */
	{
		char path[] = "/tmp/af-config-big-XXXXXX";
		int fd = mkstemp(path);
		FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
		for (int i = 0; fp != NULL && i < 40000; i++)
			fprintf(fp, "# a comment line of some thirty bytes\n");
		if (fp != NULL)
			fclose(fp);
		cfg = config_load(path, &errs);
		unlink(path);
		ok(cfg == NULL && errs_has(&errs, ":27595: larger than 1048576 "
		    "bytes; not a config file", 0),
		    "a file over 1 MiB: refused at the line that passes it");
		config_errors_clear(&errs);
	}

	/* Control bytes from the file never reach the terminal as such. */
	cfg = parse("x\x1b[31m\rred = 1\n", &errs);
	ok(cfg == NULL && errs_has(&errs, "test.conf:1: unknown setting "
	    "\"x\\x1b[31m\\x0dred\"", 1), "unknown setting: ESC and CR "
	    "shown as \\xNN");
	config_errors_clear(&errs);

	cfg = config_load("/nonexistent/authfilter.conf", &errs);
	ok(cfg == NULL && errs_has(&errs, "/nonexistent/authfilter.conf: "
	    "cannot open: No such file or directory", 1), "missing file");
	config_errors_clear(&errs);

	/* authfilter doctor: addresses and a host name, checked. */
	cfg = parse("doctor_outbound_ips = 192.0.2.25, 2001:db8::25\n"
	    "doctor_helo_name = mail.example.org\n", &errs);
	ok(cfg != NULL && cfg->doctor_outbound_ips.n == 2 &&
	    strcmp(cfg->doctor_outbound_ips.w[1], "2001:db8::25") == 0 &&
	    strcmp(cfg->doctor_helo_name, "mail.example.org") == 0,
	    "doctor_outbound_ips and doctor_helo_name read");
	config_free(cfg);
	cfg = parse("doctor_outbound_ips = 192.0.2.25 mail.example.org\n"
	    "doctor_helo_name = mail example\n", &errs);
	ok(cfg == NULL && errs_has(&errs, "test.conf:1: doctor_outbound_ips: "
	    "\"mail.example.org\" is not an IPv4 or IPv6 address", 0) &&
	    errs_has(&errs, "test.conf:2: doctor_helo_name: \"mail example\" "
	    "is not a host name", 0), "a name among the addresses, a HELO "
	    "name with a space: refused with file and line");
	config_errors_clear(&errs);

	/* Units. */
	ok(config_parse_duration("90", &secs) == 0 && secs == 90, "90 = 90s");
	ok(config_parse_duration("1d", &secs) == 0 && secs == 86400, "1d");
	ok(config_parse_duration("-1", &secs) != 0, "negative refused");
	ok(config_parse_duration("99999999999d", &secs) != 0, "overflow");
	ok(config_parse_size("1M", &size) == 0 && size == 1048576, "1M");
	ok(config_parse_size("1.5m", &size) != 0, "fraction refused");
	return done_testing();
}
