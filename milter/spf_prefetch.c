/*
 * NAME
 *	spf_prefetch -- start the DNS lookups an SPF check will make
 * SYNOPSIS
 *	spf_prefetch(dns, "example.org", 0);
 * DESCRIPTION
 *	At MAIL FROM the SPF domains (MAIL FROM, HELO) are known; the check
 *	itself runs at end of message (spf.c, libspf2).  This walks the
 *	record ahead of it: the TXT record is fetched, and when it arrives
 *	(in the resolver's thread, dns_prefetch_then()) the names its terms
 *	name are fetched too: include: and redirect= records (followed in
 *	turn), the addresses of a and mx (the MX answer's hosts), exists:.
 *	Names with macros (%{...}) depend on the check and are left to it.
 *	By end of message the check finds the answers in the resolver's
 *	cache, or joins queries still in flight.
 *
 *	This is no evaluation: a wrong guess costs a query, never a
 *	verdict.  Bounded: at most WALK_MAX_QUERIES queries per walk and
 *	WALK_MAX_DEPTH levels of include:/redirect=, RFC 7208's limits.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/dns.h"
#include "milter/spf_prefetch.h"
#include "milter/spf_record.h"

#define WALK_MAX_QUERIES 30	/* 10 terms, their MX hosts, with room */
#define WALK_MAX_DEPTH	10
#define WALK_MAX_HOSTS	10	/* RFC 7208 4.6.4: MX names looked at */

#define T_A	1
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28

/* One walk, shared by the steps in flight. */
struct walk {
	unsigned	 refs;		/* atomic */
	int		 left;		/* atomic: queries still allowed */
	int		 ipv6;
};

/* One query of a walk, the argument of its continuation. */
struct step {
	struct walk	*w;
	int		 depth;
	char		 domain[256];
};

static void
walk_unref(struct walk *w)
{
	if (__atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(w);
}

static int
take_query(struct walk *w)
{
	return __atomic_sub_fetch(&w->left, 1, __ATOMIC_RELAXED) >= 0;
}

static void on_txt(struct dns *, void *, enum dns_status, size_t,
    unsigned char *const *, const size_t *);
static void on_mx(struct dns *, void *, enum dns_status, size_t,
    unsigned char *const *, const size_t *);

static void
follow(struct dns *d, struct walk *w, int depth, const char *domain, int type,
    dns_then_fn fn)
{
	struct step *s;

	if (strchr(domain, '%') != NULL || domain[0] == '\0' ||
	    depth > WALK_MAX_DEPTH || !take_query(w))
		return;
	if (fn == NULL) {
		dns_prefetch(d, domain, type);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return;
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
	s->w = w;
	s->depth = depth;
	snprintf(s->domain, sizeof(s->domain), "%s", domain);
	dns_prefetch_then(d, domain, type, fn, s);
}

/* The domain-spec of a term ("a:x.example/24" -> "x.example"), or the
 * current domain when there is none. */
static void
term_domain(const char *arg, size_t len, const char *current, char *out,
    size_t outsz)
{
	size_t n = 0;

	while (n < len && arg[n] != '/')
		n++;
	if (n == 0 || n >= outsz) {
		snprintf(out, outsz, "%s", n == 0 ? current : "");
		return;
	}
	memcpy(out, arg, n);
	out[n] = '\0';
}

static int
prefix(const char *term, size_t len, const char *word, char sep)
{
	size_t w = strlen(word);

	return len >= w && strncasecmp(term, word, w) == 0 &&
	    (len == w || term[w] == sep || (sep == ':' && term[w] == '/'));
}

/* Prefetch what one term of a record names. */
static void
term(struct dns *d, struct step *s, const char *t, size_t len)
{
	char name[256];
	int addr = s->w->ipv6 ? T_AAAA : T_A;

	if (len > 0 && strchr("+-~?", t[0]) != NULL) {
		t++;
		len--;
	}
	if (prefix(t, len, "include", ':') && len > 8) {
		term_domain(t + 8, len - 8, "", name, sizeof(name));
		follow(d, s->w, s->depth + 1, name, T_TXT, on_txt);
	} else if (prefix(t, len, "redirect", '=') && len > 9) {
		term_domain(t + 9, len - 9, "", name, sizeof(name));
		follow(d, s->w, s->depth + 1, name, T_TXT, on_txt);
	} else if (prefix(t, len, "a", ':')) {
		term_domain(len > 2 && t[1] == ':' ? t + 2 : "", len > 2 &&
		    t[1] == ':' ? len - 2 : 0, s->domain, name, sizeof(name));
		follow(d, s->w, s->depth, name, addr, NULL);
	} else if (prefix(t, len, "mx", ':')) {
		term_domain(len > 3 && t[2] == ':' ? t + 3 : "", len > 3 &&
		    t[2] == ':' ? len - 3 : 0, s->domain, name, sizeof(name));
		follow(d, s->w, s->depth, name, T_MX, on_mx);
	} else if (prefix(t, len, "exists", ':') && len > 7) {
		term_domain(t + 7, len - 7, "", name, sizeof(name));
		follow(d, s->w, s->depth, name, T_A, NULL);
	}
}

static void
on_txt(struct dns *d, void *arg, enum dns_status st, size_t n,
    unsigned char *const *data, const size_t *len)
{
	struct step *s = arg;
	char **txt = NULL, err[300];

	if (d != NULL && st == DNS_OK && dns_then_txt(s->domain, n, data, len,
	    &txt, err, sizeof(err)) == DNS_OK) {
		for (size_t i = 0; i < n; i++) {
			const char *p = txt[i];
			if (!spf_record_is_spf(p, strlen(p)))
				continue;
			for (p += 6; *p != '\0';) {
				size_t l;
				while (*p == ' ')
					p++;
				l = strcspn(p, " ");
				if (l > 0)
					term(d, s, p, l);
				p += l;
			}
			break;	/* two records are a permerror anyway */
		}
		dns_txt_free(txt);
	}
	walk_unref(s->w);
	free(s);
}

static void
on_mx(struct dns *d, void *arg, enum dns_status st, size_t n,
    unsigned char *const *data, const size_t *len)
{
	struct step *s = arg;
	char host[256];

	for (size_t i = 0; d != NULL && st == DNS_OK && i < n &&
	    i < WALK_MAX_HOSTS; i++)
		if (len[i] > 2 && dns_name_text(data[i] + 2, len[i] - 2, host,
		    sizeof(host)) == 0 && host[0] != '\0')
			follow(d, s->w, s->depth, host, s->w->ipv6 ? T_AAAA :
			    T_A, NULL);
	walk_unref(s->w);
	free(s);
}

void
spf_prefetch(struct dns *d, const char *domain, int ipv6)
{
	struct walk *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return;
	w->refs = 1;
	w->left = WALK_MAX_QUERIES;
	w->ipv6 = ipv6;
	follow(d, w, 0, domain, T_TXT, on_txt);
	walk_unref(w);
}
