/*
 * mime.h -- an aggregate report as an e-mail (RFC 9990 section 3.2):
 * the XML gzip'd, base64'd, in a multipart/mixed message.
 */
#ifndef AUTHFILTER_RUA_MIME_H
#define AUTHFILTER_RUA_MIME_H

#include <stddef.h>
#include <time.h>

/* Every report mail carries this header field (and Auto-Submitted:
 * auto-generated): mail that has it, submitted locally, is our own
 * report and not inbound DMARC data. */
#define RUA_MAIL_HEADER		"X-Authfilter-Report"

/* in as a gzip file (RFC 1952) into *out (malloc'd): 0, or -1 + err. */
int	rua_gzip(const void *in, size_t len, unsigned char **out,
	    size_t *outlen, char *err, size_t errsz);

struct rua_mail {
	const char	*from;		/* report_email */
	const char	*to;		/* the destination's address */
	const char	*subject;	/* UTF-8; encoded (RFC 2047) if needed */
	const char	*message_id;	/* without <> */
	time_t		 date;
	const char	*text;		/* the text/plain part, ASCII */
	const char	*filename;	/* the attachment's */
	const unsigned char *att;	/* the attachment: application/gzip */
	size_t		 attlen;
};

/* The message, LF line ends (what sendmail -t reads), into *out
 * (malloc'd, NUL-terminated): 0, or -1 + err. */
int	rua_mime_message(const struct rua_mail *, char **out, size_t *outlen,
	    char *err, size_t errsz);

/* "Report Domain: D Submitter: S Report-ID: <ID>" (RFC 9990 3.2.1). */
void	rua_mime_subject(char *out, size_t outsz, const char *domain,
	    const char *submitter, const char *report_id);

#endif
