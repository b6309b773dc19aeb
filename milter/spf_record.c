/*
 * NAME
 *	spf_record -- an SPF record against the RFC 7208 grammar
 * SYNOPSIS
 *	if (spf_record_is_spf(txt, len) &&
 *	    spf_record_rewrite(txt, len, client_ip6, out, outsz, err,
 *	    sizeof(err)) != 0)
 *		permerror, err says why
 * DESCRIPTION
 *	spf_record_check() reads a record by the ABNF of RFC 7208 section
 *	12 with the rules it refers to (4.6.1 terms, 5 mechanisms, 6
 *	modifiers at most once, 7.1 macros): every domain-spec ends in a
 *	top label or a macro, a top label is not all digits, addresses and
 *	prefix lengths have no leading zeros, a macro is one of %{...},
 *	%%, %_ or %-, the letters c, r and t stay out of a record (they
 *	are for explanation text), only printable ASCII, terms separated
 *	by spaces.  libspf2 accepts much that this refuses; RFC 7208 4.6
 *	makes it a permerror.
 *
 *	spf_record_rewrite() checks the record and writes the same policy
 *	the way libspf2 1.2.10 evaluates it correctly, for a client of
 *	one address family:
 *
 *	-  Prefix length 0 is valid (RFC 7208 5.6), but libspf2 stores 0
 *	   as "no length" and refuses it.  ip4:.../0 and ip6:.../0 become
 *	   two /1 terms that cover the family's address space.  An "a" or
 *	   "mx" whose length for the client's family is 0 becomes the same
 *	   mechanism on <domain>.SPF_RECORD_ANY without a length: spf.c's
 *	   DNS layer answers an address lookup of such a name with the
 *	   client's own address when the real name has any address of that
 *	   family ("matches if any A records are present").  A length of 0
 *	   for the other family is left out; it cannot apply.
 *	-  redirect= goes last: it applies only when no mechanism matched
 *	   (RFC 7208 6.1), wherever it stands; libspf2 runs it in place.
 *	-  exp= and unknown modifiers are left out: unknown ones must be
 *	   ignored (RFC 7208 6), libspf2 refuses names with "." or "_",
 *	   and explanations are never shown here.
 *	-  Macro transformers above 128 become 128 (a name has fewer
 *	   labels; libspf2 refuses more), "R" becomes "r".
 *
 *	Pure: no I/O, bounded by SPF_RECORD_MAX.
 * DIAGNOSTICS
 *	-1 with err naming the term (printable ASCII, at most 60 octets)
 *	and what is wrong with it.
 * SEE ALSO
 *	RFC 7208; spf.c; doc/spf-conformance.md
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "milter/spf_record.h"

#define MACRO_MAX_PARTS	128	/* RFC 7208 7.3: at least 128 supported */

struct wbuf {
	char	*p;
	size_t	 size;
	size_t	 len;
	int	 over;
};

struct parse {
	const char	*term;		/* the term being read, for errors */
	size_t		 termlen;
	int		 client_ip6;
	struct wbuf	*out;		/* NULL: check only */
	const char	*redirect;	/* domain-spec of redirect=, if any */
	size_t		 redirect_len;
	int		 have_exp;
	char		*err;
	size_t		 errsz;
};

enum mech { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS };

static const struct {
	const char	*name;
	enum mech	 mech;
} mechs[] = {
	{ "all", M_ALL }, { "include", M_INCLUDE }, { "a", M_A },
	{ "mx", M_MX }, { "ptr", M_PTR }, { "ip4", M_IP4 }, { "ip6", M_IP6 },
	{ "exists", M_EXISTS },
};

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

/* c is one of set (never NUL, which strchr() would find). */
static int
in_set(int c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

static void
put(struct wbuf *w, const char *s, size_t n)
{
	if (w == NULL || w->over)
		return;
	if (n >= w->size - w->len) {
		w->over = 1;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

static void
put_str(struct wbuf *w, const char *s)
{
	put(w, s, strlen(s));
}

static int fail(struct parse *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct parse *ps, const char *fmt, ...)
{
	char term[64], what[128];
	size_t n = ps->termlen < 60 ? ps->termlen : 60;
	va_list ap;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ps->term[i];
		term[i] = c > 0x20 && c < 0x7f ? (char)c : '?';
	}
	term[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n == 0)
		snprintf(ps->err, ps->errsz, "%s", what);
	else
		snprintf(ps->err, ps->errsz, "'%s%s': %s", term,
		    ps->termlen > n ? "..." : "", what);
	return -1;
}

static char
printable(int c)
{
	return c > 0x20 && c < 0x7f ? (char)c : '?';
}

/* macro-expand at s[0] == '%' (RFC 7208 7.1); its length, or 0. */
static size_t
macro_expand(struct parse *ps, const char *s, size_t n)
{
	unsigned long parts = 0;
	size_t i, digits, delim;
	int rev = 0;
	char num[8];

	if (n >= 2 && in_set(s[1], "%_-")) {
		put(ps->out, s, 2);
		return 2;
	}
	if (n < 2 || s[1] != '{') {
		fail(ps, "'%%' not followed by '{', '%%', '_' or '-'");
		return 0;
	}
	if (n < 3 || !in_set(s[2], "slodiphcrtvSLODIPHCRTV")) {
		fail(ps, "no macro letter after '%%{'");
		return 0;
	}
	/* RFC 7208 7.2: c, r and t only in explanation text. */
	if (in_set(s[2], "crtCRT")) {
		fail(ps, "macro letter '%c' outside explanation text", s[2]);
		return 0;
	}
	for (i = 3; i < n && is_digit(s[i]); i++)
		if (parts <= MACRO_MAX_PARTS)
			parts = parts * 10 + (unsigned long)(s[i] - '0');
	digits = i - 3;
	if (digits > 0 && parts == 0) {	/* RFC 7208 7.3: nonzero */
		fail(ps, "macro transformer 0");
		return 0;
	}
	if (i < n && (s[i] == 'r' || s[i] == 'R')) {
		rev = 1;
		i++;
	}
	for (delim = i; i < n && in_set(s[i], ".-+,/_="); i++)
		;
	if (i >= n || s[i] != '}') {
		fail(ps, "macro not closed by '}'");
		return 0;
	}
	put(ps->out, s, 3);
	if (digits > 0) {
		snprintf(num, sizeof(num), "%lu", parts > MACRO_MAX_PARTS ?
		    (unsigned long)MACRO_MAX_PARTS : parts);
		put_str(ps->out, num);
	}
	if (rev)
		put_str(ps->out, "r");
	put(ps->out, s + delim, i + 1 - delim);
	return i + 1;
}

/* macro-string (RFC 7208 7.1); *tail: where the literal text after the
 * last macro-expand begins. */
static int
macro_string(struct parse *ps, const char *s, size_t n, size_t *tail)
{
	size_t i = 0, len;

	*tail = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if ((len = macro_expand(ps, s + i, n - i)) == 0)
				return -1;
			i += len;
			*tail = i;
			continue;
		}
		if (c < 0x21 || c > 0x7e)
			return fail(ps, "octet 0x%02x", c);
		put(ps->out, s + i, 1);
		i++;
	}
	return 0;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int
toplabel(const char *s, size_t n)
{
	int alpha = 0, dash = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-')
			dash = 1;
		else if (is_alpha(s[i]))
			alpha = 1;
		else if (!is_digit(s[i]))
			return 0;
	}
	if (dash)
		return is_alnum(s[0]) && is_alnum(s[n - 1]);
	return alpha;
}

/* domain-spec = macro-string domain-end;
 * domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static int
domain_spec(struct parse *ps, const char *s, size_t n)
{
	size_t tail, end = n, dot;

	if (n == 0)
		return fail(ps, "empty domain-spec");
	if (macro_string(ps, s, n, &tail) != 0)
		return -1;
	if (tail == n)
		return 0;		/* ends in a macro-expand */
	if (s[end - 1] == '.' && end - 1 > tail)
		end--;
	for (dot = end; dot > tail && s[dot - 1] != '.'; dot--)
		;
	if (dot == tail)
		return fail(ps, "domain-spec without a top label");
	if (!toplabel(s + dot, end - dot))
		return fail(ps, "bad top label '%.*s'", (int)(end - dot),
		    s + dot);
	return 0;
}

/* Read without writing. */
static int
check_only(struct parse *ps, int (*fn)(struct parse *, const char *,
    size_t), const char *s, size_t n)
{
	struct wbuf *out = ps->out;
	int rc;

	ps->out = NULL;
	rc = fn(ps, s, n);
	ps->out = out;
	return rc;
}

static int
any_macro_string(struct parse *ps, const char *s, size_t n)
{
	size_t tail;

	return macro_string(ps, s, n, &tail);
}

/* A prefix length without its "/": "0" or no leading zero, <= max. */
static int
cidr_value(const char *s, size_t n, int max)
{
	int v = 0;

	if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* ip4-network = qnum "." qnum "." qnum "." qnum */
static int
ip4_network(const char *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return 0;
			start = ++i;
		}
		while (i < n && is_digit(s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || (s[start] == '0' && i - start > 1) ||
		    v > 255)
			return 0;
	}
	return i == n;
}

/* ip6-network: RFC 4291 section 2.2, as inet_pton() reads it. */
static int
ip6_network(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* ip4 / ip6 = name ":" network [ "/" length ] */
static int
ip_mech(struct parse *ps, const char *q, int ip6, const char *rest,
    size_t rl)
{
	const char *addr = rest + 1, *slash;
	size_t al = rl - 1, nl;
	int cidr = -1;

	if (rl == 0 || rest[0] != ':')
		return fail(ps, "no ':' and address");
	slash = memchr(addr, '/', al);
	nl = slash != NULL ? (size_t)(slash - addr) : al;
	if (!(ip6 ? ip6_network(addr, nl) : ip4_network(addr, nl)))
		return fail(ps, "bad IPv%c address", ip6 ? '6' : '4');
	if (slash != NULL && (cidr = cidr_value(slash + 1, al - nl - 1,
	    ip6 ? 128 : 32)) < 0)
		return fail(ps, "bad prefix length");
	if (cidr != 0) {
		put(ps->out, ps->term, ps->termlen);
		return 0;
	}
	/* Prefix length 0: the family's whole space as two halves. */
	put_str(ps->out, q);
	put_str(ps->out, ip6 ? "ip6:::/1 " : "ip4:0.0.0.0/1 ");
	put_str(ps->out, q);
	put_str(ps->out, ip6 ? "ip6:8000::/1" : "ip4:128.0.0.0/1");
	return 0;
}

/* A trailing "/" length (after "//" when dbl) of rest[0..*rl): its
 * value, taken off *rl; -1 if there is none, -2 if it is bad. */
static int
trailing_cidr(const char *rest, size_t *rl, int dbl, int max)
{
	size_t j = *rl, marks = dbl ? 2 : 1;
	int v;

	while (j > 0 && is_digit(rest[j - 1]))
		j--;
	if (j == *rl || j < marks || rest[j - 1] != '/' ||
	    (dbl && rest[j - 2] != '/'))
		return -1;
	if ((v = cidr_value(rest + j, *rl - j, max)) < 0)
		return -2;
	*rl = j - marks;
	return v;
}

/* a / mx = name [ ":" domain-spec ] [ dual-cidr-length ] */
static int
a_mx(struct parse *ps, const char *q, const char *name, size_t nlen,
    const char *rest, size_t rl)
{
	int c6 = trailing_cidr(rest, &rl, 1, 128), c4 = -1, mine;
	char num[16];

	if (c6 == -2 || (c4 = trailing_cidr(rest, &rl, 0, 32)) == -2)
		return fail(ps, "bad prefix length");
	if (rl > 0 && rest[0] != ':')
		return fail(ps, "'%c' after the mechanism name",
		    printable(rest[0]));
	mine = ps->client_ip6 ? c6 : c4;
	put_str(ps->out, q);
	put(ps->out, name, nlen);
	if (mine == 0) {
		/* Any address of the family: see DESCRIPTION. */
		put_str(ps->out, ":");
		if (rl > 0 && domain_spec(ps, rest + 1, rl - 1) != 0)
			return -1;
		if (rl == 0)
			put_str(ps->out, "%{d}");
		put_str(ps->out, "." SPF_RECORD_ANY);
		return 0;
	}
	if (rl > 0) {
		put_str(ps->out, ":");
		if (domain_spec(ps, rest + 1, rl - 1) != 0)
			return -1;
	}
	if (c4 > 0) {
		snprintf(num, sizeof(num), "/%d", c4);
		put_str(ps->out, num);
	}
	if (c6 > 0) {
		snprintf(num, sizeof(num), "//%d", c6);
		put_str(ps->out, num);
	}
	return 0;
}

/* directive = [ qualifier ] mechanism */
static int
directive(struct parse *ps, const char *t, size_t n)
{
	char q[2] = "";
	const char *name, *rest;
	size_t nl = 0, rl, i;

	if (n > 0 && in_set(t[0], "+-?~")) {
		q[0] = t[0];
		t++;
		n--;
	}
	name = t;
	while (nl < n && is_alnum(name[nl]))
		nl++;
	rest = name + nl;
	rl = n - nl;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == nl &&
		    strncasecmp(mechs[i].name, name, nl) == 0)
			break;
	if (i == sizeof(mechs) / sizeof(mechs[0]))
		return fail(ps, "unknown mechanism");
	switch (mechs[i].mech) {
	case M_ALL:
		if (rl > 0)
			return fail(ps, "'all' takes no argument");
		put(ps->out, ps->term, ps->termlen);
		return 0;
	case M_INCLUDE:
	case M_EXISTS:
		if (rl == 0 || rest[0] != ':')
			return fail(ps, "no ':' and domain-spec");
		put(ps->out, ps->term, (size_t)(rest + 1 - ps->term));
		return domain_spec(ps, rest + 1, rl - 1);
	case M_PTR:
		put(ps->out, ps->term, (size_t)(rest - ps->term));
		if (rl == 0)
			return 0;
		if (rest[0] != ':')
			return fail(ps, "'%c' after 'ptr'", printable(rest[0]));
		put_str(ps->out, ":");
		return domain_spec(ps, rest + 1, rl - 1);
	case M_IP4:
	case M_IP6:
		return ip_mech(ps, q, mechs[i].mech == M_IP6, rest, rl);
	case M_A:
	case M_MX:
		return a_mx(ps, q, name, nl, rest, rl);
	}
	return fail(ps, "unknown mechanism");
}

/* modifier = redirect / explanation / unknown-modifier; t[nl] == '=' */
static int
modifier(struct parse *ps, const char *t, size_t n, size_t nl)
{
	const char *value = t + nl + 1;
	size_t vl = n - nl - 1;

	if (nl == 8 && strncasecmp(t, "redirect", 8) == 0) {
		if (ps->redirect != NULL)	/* RFC 7208 6 */
			return fail(ps, "second redirect=");
		ps->redirect = value;
		ps->redirect_len = vl;
		return check_only(ps, domain_spec, value, vl);
	}
	if (nl == 3 && strncasecmp(t, "exp", 3) == 0) {
		if (ps->have_exp)
			return fail(ps, "second exp=");
		ps->have_exp = 1;
		return check_only(ps, domain_spec, value, vl);
	}
	return check_only(ps, any_macro_string, value, vl);
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
static size_t
modifier_name(const char *t, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_alpha(t[0]))
		return 0;
	while (i < n && (is_alnum(t[i]) || in_set(t[i], "-_.")))
		i++;
	return i;
}

/* record = version terms *SP; terms = *( 1*SP ( directive / modifier ) ) */
static int
parse(struct parse *ps, const char *buf, size_t len)
{
	size_t i = 6, start, nl;

	if (len > SPF_RECORD_MAX)
		return fail(ps, "record longer than %d octets", SPF_RECORD_MAX);
	if (!spf_record_is_spf(buf, len))
		return fail(ps, "not an SPF record");
	put(ps->out, buf, 6);
	for (;;) {
		while (i < len && buf[i] == ' ')
			i++;
		if (i == len)
			break;
		for (start = i; i < len && buf[i] != ' '; i++)
			;
		ps->term = buf + start;
		ps->termlen = i - start;
		nl = modifier_name(ps->term, ps->termlen);
		if (nl > 0 && nl < ps->termlen && ps->term[nl] == '=') {
			if (modifier(ps, ps->term, ps->termlen, nl) != 0)
				return -1;
			continue;
		}
		put(ps->out, " ", 1);
		if (directive(ps, ps->term, ps->termlen) != 0)
			return -1;
	}
	if (ps->redirect != NULL) {
		put_str(ps->out, " redirect=");
		(void)domain_spec(ps, ps->redirect, ps->redirect_len);
	}
	ps->termlen = 0;
	if (ps->out != NULL && ps->out->over)
		return fail(ps, "record too long to rewrite");
	return 0;
}

int
spf_record_is_spf(const char *buf, size_t len)
{
	return len >= 6 && strncasecmp(buf, "v=spf1", 6) == 0 &&
	    (len == 6 || buf[6] == ' ');
}

int
spf_record_check(const char *buf, size_t len, char *err, size_t errsz)
{
	struct parse ps;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.errsz = errsz;
	return parse(&ps, buf, len);
}

int
spf_record_rewrite(const char *buf, size_t len, int client_ip6, char *out,
    size_t outsz, char *err, size_t errsz)
{
	struct parse ps;
	struct wbuf w;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.errsz = errsz;
	ps.client_ip6 = client_ip6;
	w.p = out;
	w.size = outsz;
	w.len = 0;
	w.over = outsz == 0;
	if (outsz > 0)
		out[0] = '\0';
	ps.out = &w;
	return parse(&ps, buf, len);
}
