/*
 * rua_xml_in.c -- reading DMARC aggregate reports (rua/xml_in.c,
 * rua/unpack.c, rua/mime_in.c): every sample of t/data/dmarc-reports
 * with the values read by hand from its XML, and the hostile inputs
 * (entities, a 1 GB gzip bomb, an oversize or encrypted zip member,
 * missing or malformed elements).  Reads $AF_SRCDIR/t/data.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zip.h>
#include <zlib.h>

#include "rua/mime_in.h"
#include "rua/unpack.h"
#include "rua/xml_in.h"
#include "rua/xml_out.h"
#include "t/data.h"
#include "t/tap.h"

static unsigned char *
slurp(const char *name, size_t *len)
{
	char path[300];

	snprintf(path, sizeof(path), "dmarc-reports/%s", name);
	return t_data(path, len);
}

/* A file as import reads it: e-mail, then .gz/.zip/.xml, then XML. */
static int
read_report(const unsigned char *buf, size_t len, struct rua_feedback *fb,
    char *err, size_t errsz)
{
	unsigned char *att = NULL;
	char *xml = NULL;
	size_t xlen;
	int rc = -1;

	memset(fb, 0, sizeof(*fb));
	if (rua_unpack_kind(buf, len) == RUA_KIND_OTHER) {
		if (rua_mime_report(buf, len, &att, &len, err, errsz) != 0)
			return -1;
		buf = att;
	}
	if (rua_unpack(buf, len, &xml, &xlen, err, errsz) == 0)
		rc = rua_xml_read(xml, xlen, fb, err, errsz);
	free(xml);
	free(att);
	return rc;
}

static uint64_t
messages(const struct rua_feedback *fb)
{
	uint64_t n = 0;

	for (size_t i = 0; i < fb->nrec; i++)
		n += fb->rec[i].count;
	return n;
}

/* Read by hand from each sample's XML. */
static const struct sample {
	const char *file, *org, *id;
	int64_t begin, end;
	const char *domain, *p;
	size_t nrec;
	uint64_t msgs;
	const char *ip0, *disp0, *dkim0, *spf0, *from0;
	size_t ndkim0, nspf0;
	int rfc9990;
	const char *version;
} samples[] = {
	{ "+large-example.com+1711897200+1711983600.xml",
	  "accurateplastics.com", "example.com:1711897200", 1711897200,
	  1711983600, "example.com", "none", 2286, 2286, "12.20.121.1",
	  "none", "fail", "fail", "example.com", 0, 1, 0, "" },
	{ "Report_domain-_borschow.com_Submitter-_google.com_Report-ID-_"
	  "949348866075514174.eml", "google.com", "949348866075514174",
	  1549929600, 1550015999, "borschow.com", "reject", 1, 1,
	  "92.53.116.102", "reject", "fail", "fail", "borschow.com", 0, 1,
	  0, "" },
	{ "empty_reason.xml", "example.org", "20240125141224705995",
	  1706159544, 1706185733, "example.com", "quarantine", 1, 2,
	  "198.51.100.123", "none", "pass", "fail", "example.com", 1, 1, 0,
	  "1.0" },
	{ "estadocuenta1.infonacot.gob.mx+example.com+1536853302+1536939702"
	  "+2940.xml.zip", "XYZ Corporation", "2940", 1536853302,
	  1536939702, "example.com", "none", 1, 1, "148.243.137.254", "none",
	  "fail", "fail", "example.com", 0, 0, 0, "" },
	{ "fastmail.com+example.com+1516060800+1516147199+102675056.xml.gz",
	  "FastMail Pty Ltd", "102675056", 1516060800, 1516147199,
	  "indemed.com", "none", 1, 1, "104.195.80.20", "none", "fail",
	  "fail", "example.com", 0, 1, 0, "1.0" },
	{ "mimecast-weird-gzip.eml", "Mimecast",
	  "157a5fe30ec76f4bc0d8bccfc96c118a167a1280fee7c7465af5115e73082e5e",
	  1693353600, 1693439999, "ab.id.au", "reject", 1, 1, "40.93.199.22",
	  "none", "pass", "pass", "ab.id.au", 1, 1, 0, "" },
	{ "old_draft_from_wiki.xml", "acme.com", "9391651994964116463",
	  1335571200, 1335657599, "example.com", "none", 1, 2,
	  "72.150.241.94", "none", "fail", "pass", "example.com", 1, 1, 0,
	  "" },
	{ "protection.outlook.com+example.com+1711756800+1711843200.xml",
	  "Outlook.com", "cfeafefe4129445e8c81018bd9177197", 1711756800,
	  1711843200, "example.com", "none", 1, 1, "100.24.188.149", "none",
	  "fail", "fail", "example.com", 0, 1, 0, "1.0" },
	{ "rfc9990-example.net+example.com+1700000000+1700086399.xml",
	  "example.net", "dmarcbis-test-report-001", 1700000000, 1700086399,
	  "example.com", "reject", 2, 7, "198.51.100.1", "none", "pass",
	  "pass", "example.com", 1, 1, 0, "2.0" },
	{ "rfc9990-sample.xml", "Sample Reporter", "3v98abbp8ya9n3va8yr8oa3ya",
	  302832000, 302918399, "example.com", "quarantine", 1, 123,
	  "192.0.2.123", "pass", "pass", "fail", "example.com", 1, 1, 1,
	  "1.0" },
};

static void
test_samples(void)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		struct rua_feedback fb;
		char err[512] = "", name[300];
		size_t len;
		unsigned char *buf = slurp(s->file, &len);
		int rc = read_report(buf, len, &fb, err, sizeof(err));

		snprintf(name, sizeof(name), "%.200s: read", s->file);
		ok(rc == 0, name);
		if (rc != 0)
			printf("# %s\n", err);
#define FIELD(got, want, what) do {					\
		snprintf(name, sizeof(name), "%.200s: %s", s->file, what); \
		is_str(got, want, name);				\
} while (0)
#define NUM(got, want, what) do {					\
		snprintf(name, sizeof(name), "%.200s: %s", s->file, what); \
		is_int(got, want, name);				\
} while (0)
		FIELD(fb.org_name, s->org, "org_name");
		FIELD(fb.report_id, s->id, "report_id");
		NUM(fb.begin, s->begin, "begin");
		NUM(fb.end, s->end, "end");
		FIELD(fb.pub.domain, s->domain, "policy domain");
		FIELD(fb.pub.p, s->p, "p");
		NUM(fb.nrec, s->nrec, "records");
		NUM(messages(&fb), s->msgs, "messages");
		NUM(fb.rfc9990, s->rfc9990, "RFC 9990 namespace");
		FIELD(fb.version, s->version, "version");
		if (fb.nrec > 0) {
			FIELD(fb.rec[0].source_ip, s->ip0, "first source_ip");
			FIELD(fb.rec[0].disposition, s->disp0, "disposition");
			FIELD(fb.rec[0].dkim, s->dkim0, "policy dkim");
			FIELD(fb.rec[0].spf, s->spf0, "policy spf");
			FIELD(fb.rec[0].header_from, s->from0, "header_from");
			NUM(fb.rec[0].ndkim, s->ndkim0, "dkim results");
			NUM(fb.rec[0].nspf, s->nspf0, "spf results");
		}
		rua_feedback_free(&fb);
		free(buf);
	}
}

/* Details of two samples beyond the table. */
static void
test_details(void)
{
	struct rua_feedback fb;
	char err[512];
	size_t len;
	unsigned char *buf;

	buf = slurp("rfc9990-example.net+example.com+1700000000+1700086399.xml",
	    &len);
	ok(read_report(buf, len, &fb, err, sizeof(err)) == 0, "rfc9990: read");
	is_str(fb.pub.np, "reject", "rfc9990: np");
	is_str(fb.pub.testing, "y", "rfc9990: testing");
	is_str(fb.pub.discovery_method, "treewalk", "rfc9990: discovery");
	is_str(fb.pub.adkim, "s", "rfc9990: adkim");
	is_str(fb.rec[1].source_ip, "203.0.113.10", "rfc9990: 2nd ip");
	is_int(fb.rec[1].count, 2, "rfc9990: 2nd count");
	is_int(fb.rec[1].nreason, 1, "rfc9990: reason");
	is_str(fb.rec[1].reason[0].type, "other", "rfc9990: reason type");
	is_str(fb.rec[1].reason[0].comment, "sender not authorized",
	    "rfc9990: reason comment");
	is_str(fb.rec[1].spf_res[0].domain, "spoofed.example.com",
	    "rfc9990: spf domain");
	is_str(fb.rec[1].envelope_from, "spoofed.example.com",
	    "rfc9990: envelope_from");
	rua_feedback_free(&fb);
	free(buf);

	buf = slurp("empty_reason.xml", &len);
	ok(read_report(buf, len, &fb, err, sizeof(err)) == 0, "empty_reason");
	is_str(fb.rec[0].dkim_res[0].selector, "example", "dkim selector");
	is_str(fb.rec[0].dkim_res[0].human_result, "2048-bit key",
	    "dkim human_result");
	is_str(fb.rec[0].spf_res[0].scope, "mfrom", "spf scope");
	is_str(fb.rec[0].envelope_to, "example.net", "envelope_to");
	is_str(fb.extra_contact_info, "https://support.example.org/dmarc",
	    "extra_contact_info");
	rua_feedback_free(&fb);
	free(buf);
}

static void
refused(const unsigned char *buf, size_t len, const char *want,
    const char *name)
{
	struct rua_feedback fb;
	char err[512] = "";
	int rc = read_report(buf, len, &fb, err, sizeof(err));

	ok(rc == -1 && strstr(err, want) != NULL, name);
	printf("#   error \"%s\", wanted \"%s\"\n", err, want);
	rua_feedback_free(&fb);
}

static void
test_invalid_samples(void)
{
	size_t len;
	unsigned char *buf;

	buf = slurp("invalid_xml.xml", &len);
	refused(buf, len, "XML line 5:", "invalid_xml.xml: not well-formed");
	free(buf);
	buf = slurp("invalid_utf_8.xml", &len);
	refused(buf, len, "UTF-8", "invalid_utf_8.xml: bad UTF-8, no recovery");
	free(buf);
}

/* A minimal valid report; tests cut pieces out of it. */
static const char good[] =
    "<feedback><report_metadata><org_name>o.example</org_name>"
    "<email>r@o.example</email><report_id>r1</report_id>"
    "<date_range><begin>100</begin><end>200</end></date_range>"
    "</report_metadata><policy_published><domain>example.com</domain>"
    "<p>none</p></policy_published><record><row>"
    "<source_ip>192.0.2.1</source_ip><count>3</count></row></record>"
    "</feedback>";

/* good with `from` replaced by `to`. */
static void
mutant(const char *from, const char *to, const char *want, const char *name)
{
	char buf[2048];
	const char *at = strstr(good, from);

	if (at == NULL) {
		ok(0, name);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, to,
	    at + strlen(from));
	refused((const unsigned char *)buf, strlen(buf), want, name);
}

/* bad-input D3, CVE-2020-12460 (OpenDMARC overflowed a buffer by one
 * byte on an overlong field of a report): an overlong policy domain or
 * org_name is refused; an overlong <email> (optional) is cut to fit,
 * NUL-terminated (ASan watches the copies). */
static void
test_overlong(void)
{
	struct rua_feedback fb;
	char big[1200], xml[2048], err[256];
	const char *at = strstr(good, "r@o.example</email>");
	int rc;

	memset(big, 'a', 300);
	big[300] = '\0';
	strcat(big, "</domain>");
	mutant("example.com</domain>", big, "too long",
	    "a 300-character policy domain: refused");
	memset(big, 'o', 300);
	big[300] = '\0';
	strcat(big, "</org_name>");
	mutant("o.example</org_name>", big, "too long",
	    "a 300-character org_name: refused");
	memset(big, 'r', 1000);
	big[1000] = '\0';
	snprintf(xml, sizeof(xml), "%.*s%s%s", (int)(at - good), good, big,
	    at + 1);
	rc = rua_xml_read(xml, strlen(xml), &fb, err, sizeof(err));
	ok(rc == 0 && strlen(fb.email) == sizeof(fb.email) - 1 &&
	    fb.email[0] == 'r', "a 1000-character email: cut to fit its "
	    "256 bytes");
	if (rc == 0)
		rua_feedback_free(&fb);
}

static void
test_required(void)
{
	struct rua_feedback fb;
	char err[256];

	ok(rua_xml_read(good, strlen(good), &fb, err, sizeof(err)) == 0,
	    "the minimal report reads");
	rua_feedback_free(&fb);
	mutant("<org_name>o.example</org_name><email>r@o.example</email>", "",
	    "no <org_name>", "no org_name and no email");
	mutant("<report_id>r1</report_id>", "", "no <report_id>",
	    "no report_id");
	mutant("<date_range><begin>100</begin><end>200</end></date_range>",
	    "", "no <date_range>", "no date_range");
	mutant("<begin>100</begin>", "", "no <begin>", "no begin");
	mutant("<begin>100</begin>", "<begin>300</begin>", "after <end>",
	    "begin after end");
	mutant("<end>200</end>", "<end>9223372036854775808</end>",
	    "too large", "end beyond int64");
	mutant("<domain>example.com</domain>", "", "no <domain>",
	    "no policy domain");
	mutant("<source_ip>192.0.2.1</source_ip>", "", "record 1: no "
	    "<source_ip>", "no source_ip");
	mutant("192.0.2.1", "192.0.2.300", "not an IP address",
	    "source_ip not an address");
	mutant("<count>3</count>", "", "record 1: no <count>", "no count");
	mutant("<count>3</count>", "<count>-3</count>", "not a number",
	    "negative count");
	mutant("<count>3</count>", "<count>18446744073709551616</count>",
	    "too large", "count beyond uint64");
	mutant("</feedback>", "<record><identifiers/></record></feedback>",
	    "record 2: no <row>", "a second record without row");
	refused((const unsigned char *)"<report/>", 9, "not <feedback>",
	    "wrong root");
	mutant("o.example</org_name>", "o.exa\tmple</org_name>",
	    "control character", "control character in org_name");
	test_overlong();
}

static void
test_entities(void)
{
	static const char laughs[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n"
	    " <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
	    " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	    " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
	    " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
	    " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
	    " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
	    " <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
	    " <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
	    " <!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">\n"
	    "]>\n<feedback><report_metadata><org_name>&i;</org_name>"
	    "</report_metadata></feedback>\n";
	static const char ext[] =
	    "<!DOCTYPE feedback SYSTEM \"file:///etc/passwd\">"
	    "<feedback/>";
	/* "<!DOCTYPE f []><f/>" in UTF-16LE, which a byte scan misses. */
	char u16[64];
	const char *a = "<!DOCTYPE f []><feedback/>";
	size_t n = 0;

	refused((const unsigned char *)laughs, strlen(laughs), "DOCTYPE",
	    "billion laughs: a DOCTYPE with entities is refused");
	refused((const unsigned char *)ext, strlen(ext), "DOCTYPE",
	    "an external DTD is refused");
	u16[n++] = '\xff';
	u16[n++] = '\xfe';
	for (; *a != '\0'; a++) {
		u16[n++] = *a;
		u16[n++] = '\0';
	}
	{
		struct rua_feedback fb;
		char err[256] = "";
		int rc = rua_xml_read(u16, n, &fb, err, sizeof(err));
		ok(rc == -1 && strstr(err, "DOCTYPE") != NULL,
		    "a UTF-16 DOCTYPE is refused after parsing");
		if (rc != -1)
			printf("# %s\n", err);
		rua_feedback_free(&fb);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A gzip stream of `units` copies of chunk, built without compressing
 * them all: raw deflate blocks ending in a full flush refer to nothing
 * before them, so one compressed unit repeats.  The trailer's CRC is
 * wrong; a reader with limits stops long before it.
 */
static unsigned char *
gzip_repeat(const unsigned char *chunk, size_t clen, size_t units,
    size_t *outlen)
{
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0,
	    0, 3 };
	size_t ucap = compressBound(clen) + 64, ulen, n = 0;
	unsigned char *unit = malloc(ucap), *out;
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (unit == NULL ||
	    deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	z.next_in = (unsigned char *)(uintptr_t)chunk;
	z.avail_in = (unsigned)clen;
	z.next_out = unit;
	z.avail_out = (unsigned)ucap;
	deflate(&z, Z_FULL_FLUSH);
	ulen = ucap - z.avail_out;
	deflateEnd(&z);
	if ((out = malloc(sizeof(hdr) + ulen * units + 16)) == NULL)
		return NULL;
	memcpy(out, hdr, sizeof(hdr));
	n = sizeof(hdr);
	for (size_t i = 0; i < units; i++, n += ulen)
		memcpy(out + n, unit, ulen);
	memcpy(out + n, "\x03\x00\0\0\0\0\0\0\0\0", 10);	/* last block */
	*outlen = n + 10;
	free(unit);
	return out;
}

static void
test_bombs(void)
{
	unsigned char *zeros = calloc(1, 1024 * 1024), *text, *gz;
	char *out = NULL, err[256] = "";
	size_t gzlen, outlen;
	uint32_t x = 1;
	double t0;
	int rc;

	/* 1 GB of zeros in about 1 MB. */
	gz = gzip_repeat(zeros, 1024 * 1024, 1024, &gzlen);
	ok(gz != NULL, "the 1 GB gzip bomb is built");
	t0 = now();
	rc = rua_gunzip(gz, gzlen, &out, &outlen, err, sizeof(err));
	ok(rc == -1 && strstr(err, "bomb") != NULL,
	    "1 GB of zeros gzip'd: refused as a bomb");
	printf("# %s (%zu bytes in, %.3f s)\n", err, gzlen, now() - t0);
	ok(now() - t0 < 1.0, "the bomb is refused in under a second");
	free(gz);

	/* 64 MB of XML-like text at about 10:1, under the ratio: the cap
	 * on output stops it. */
	text = malloc(1024 * 1024 + 128);
	for (size_t i = 0; i < 1024 * 1024; ) {
		x = x * 1103515245u + 12345u;
		i += (size_t)sprintf((char *)text + i, "<row><source_ip>192.0.2."
		    "%u</source_ip><count>%u</count></row>\n", (x >> 8) % 256,
		    (x >> 16) % 100);
	}
	gz = gzip_repeat(text, 1024 * 1024, 64, &gzlen);
	err[0] = '\0';
	rc = rua_gunzip(gz, gzlen, &out, &outlen, err, sizeof(err));
	ok(rc == -1 && strstr(err, "bytes uncompressed") != NULL,
	    "64 MB of text gzip'd: refused by the output cap");
	printf("# %s (%zu bytes in)\n", err, gzlen);
	free(gz);

	free(text);
	free(zeros);
}

/* A zip holding one member `name` of len bytes (data), encrypted with
 * a password when pw is not NULL; the archive's bytes, or NULL. */
static unsigned char *
make_zip(const char *name, const void *data, size_t len, const char *pw,
    size_t *ziplen)
{
	char path[] = "/tmp/rua_xml_in.XXXXXX";
	int fd = mkstemp(path), err;
	zip_t *za;
	zip_source_t *src;
	zip_int64_t idx;
	unsigned char *buf = NULL;
	FILE *fp;
	long n;

	if (fd < 0)
		return NULL;
	close(fd);
	if ((za = zip_open(path, ZIP_TRUNCATE, &err)) == NULL ||
	    (src = zip_source_buffer(za, data, len, 0)) == NULL ||
	    (idx = zip_file_add(za, name, src, 0)) < 0 ||
	    (pw != NULL && zip_file_set_encryption(za, (zip_uint64_t)idx,
	    ZIP_EM_AES_256, pw) != 0) || zip_close(za) != 0)
		goto out;
	if ((fp = fopen(path, "rb")) != NULL) {
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		if (n > 0 && (buf = malloc((size_t)n)) != NULL &&
		    fread(buf, 1, (size_t)n, fp) == (size_t)n)
			*ziplen = (size_t)n;
		fclose(fp);
	}
out:
	unlink(path);
	return buf;
}

static void
test_zip(void)
{
	size_t big = RUA_XML_MAX + 1, zlen = 0, outlen;
	char *zeros = calloc(1, big), *out = NULL, err[256] = "";
	unsigned char *z;
	int rc;

	z = make_zip("big.xml", zeros, big, NULL, &zlen);
	ok(z != NULL, "a zip with a 50 MB + 1 member is built");
	rc = rua_unzip(z, zlen, &out, &outlen, err, sizeof(err));
	ok(rc == -1 && strstr(err, "declares more than") != NULL,
	    "zip: an oversize declared member is refused");
	printf("# %s (%zu bytes)\n", err, zlen);
	free(z);

	z = make_zip("report.txt", good, strlen(good), NULL, &zlen);
	rc = rua_unzip(z, zlen, &out, &outlen, err, sizeof(err));
	ok(rc == -1 && strstr(err, "no .xml member") != NULL,
	    "zip: no .xml member");
	free(z);

	z = make_zip("report.xml", good, strlen(good), NULL, &zlen);
	rc = rua_unzip(z, zlen, &out, &outlen, err, sizeof(err));
	ok(rc == 0 && outlen == strlen(good) && memcmp(out, good, outlen) == 0,
	    "zip: a small member reads back");
	if (rc == 0)
		free(out);
	free(z);

	if (!zip_encryption_method_supported(ZIP_EM_AES_256, 1)) {
		ok(1, "# SKIP libzip cannot encrypt");
	} else {
		z = make_zip("report.xml", good, strlen(good), "secret", &zlen);
		rc = rua_unzip(z, zlen, &out, &outlen, err, sizeof(err));
		ok(rc == -1 && strstr(err, "encrypted") != NULL,
		    "zip: an encrypted member is refused");
		free(z);
	}
	z = (unsigned char *)"PK\3\4 not really a zip";
	rc = rua_unzip(z, 22, &out, &outlen, err, sizeof(err));
	ok(rc == -1 && strncmp(err, "zip: ", 5) == 0, "zip: garbage refused");
	free(zeros);
}

/* A nested multipart with a quoted-printable text/xml report. */
static void
test_mime(void)
{
	char msg[4096];
	struct rua_feedback fb;
	char err[256] = "";
	int rc;

	snprintf(msg, sizeof(msg),
	    "From: r@o.example\r\nTo: rua@example.com\r\n"
	    "Subject: Report domain: example.com\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"out\"\r\n\r\n"
	    "--out\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	    "--out\r\nContent-Type: multipart/alternative; boundary=\"in\""
	    "\r\n\r\n--in\r\nContent-Type: text/xml; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n"
	    "--in--\r\n--out--\r\n",
	    "<feedback><report_metadata><org_name>qp.example</org_name><rep=\r\n"
	    "ort_id>r=3D1</report_id><date_range><begin>1</begin><end>2</end>"
	    "=\r\n</date_range></report_metadata><policy_published><domain>"
	    "example.com</domain></policy_published><record><row><source_ip>"
	    "2001:db8::1</source_ip><count>4</count></row></record></feedback>");
	rc = read_report((unsigned char *)msg, strlen(msg), &fb, err,
	    sizeof(err));
	ok(rc == 0, "mime: nested multipart, quoted-printable text/xml");
	if (rc != 0)
		printf("# %s\n", err);
	is_str(fb.report_id, "r=1", "mime: QP decoded");
	is_str(fb.nrec ? fb.rec[0].source_ip : "", "2001:db8::1",
	    "mime: IPv6 source");
	rua_feedback_free(&fb);

	/* 40 nested multiparts: the search stops at depth 16. */
	{
		char deep[8192];
		size_t n = (size_t)snprintf(deep, sizeof(deep), "From: a@b.example"
		    "\r\nMIME-Version: 1.0\r\n");
		for (int i = 0; i < 40; i++)
			n += (size_t)snprintf(deep + n, sizeof(deep) - n,
			    "Content-Type: multipart/mixed; boundary=\"b%d\""
			    "\r\n\r\n--b%d\r\n", i, i);
		n += (size_t)snprintf(deep + n, sizeof(deep) - n,
		    "Content-Type: text/xml\r\n\r\n%s\r\n", good);
		refused((unsigned char *)deep, n, "no report attached",
		    "mime: a report 40 multiparts deep is not searched for");
	}
	snprintf(msg, sizeof(msg), "From: a@b.example\r\nSubject: hi\r\n\r\n"
	    "just text\r\n");
	refused((unsigned char *)msg, strlen(msg), "no report attached",
	    "mime: a message without a report");
}

/* RUA_RECORDS_MAX + 1 minimal records: refused. */
static void
test_too_many(void)
{
	static const char rec[] = "<record><row><source_ip>192.0.2.1"
	    "</source_ip><count>1</count></row></record>";
	const char *tail = strstr(good, "<record>");
	size_t head = (size_t)(tail - good), n = RUA_RECORDS_MAX + 1;
	size_t len = head + n * (sizeof(rec) - 1) + sizeof("</feedback>");
	char *xml = malloc(len), *p = xml, err[256] = "";
	struct rua_feedback fb;
	int rc;

	memcpy(p, good, head);
	p += head;
	for (size_t i = 0; i < n; i++, p += sizeof(rec) - 1)
		memcpy(p, rec, sizeof(rec) - 1);
	memcpy(p, "</feedback>", sizeof("</feedback>"));
	rc = rua_xml_read(xml, strlen(xml), &fb, err, sizeof(err));
	ok(rc == -1 && strstr(err, "more than 20000 records") != NULL,
	    "RUA_RECORDS_MAX + 1 records: refused");
	printf("# %s\n", err);
	ok(fb.nrec == 0, "... before any was read");
	rua_feedback_free(&fb);
	free(xml);
}

/* What authfilter-reports send writes (rua/xml_out.c), read back: the
 * same report, field for field, for every sample. */
static void
test_round_trip(void)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct rua_feedback a, b;
		char err[512] = "", name[300], *xml = NULL;
		size_t len, xlen;
		unsigned char *buf = slurp(samples[i].file, &len);
		int same;

		if (read_report(buf, len, &a, err, sizeof(err)) != 0 ||
		    rua_xml_write(&a, 0, a.nrec, &xml, &xlen, err,
		    sizeof(err)) != 0 ||
		    rua_xml_read(xml, xlen, &b, err, sizeof(err)) != 0) {
			snprintf(name, sizeof(name), "%.200s: round trip",
			    samples[i].file);
			ok(0, name);
			printf("# %s\n", err);
			continue;
		}
		same = a.nrec == b.nrec && strcmp(a.org_name, b.org_name) == 0 &&
		    strcmp(a.report_id, b.report_id) == 0 &&
		    a.begin == b.begin && a.end == b.end &&
		    memcmp(&a.pub, &b.pub, sizeof(a.pub)) == 0;
		for (size_t r = 0; same && r < a.nrec; r++)
			same = memcmp(&a.rec[r], &b.rec[r], sizeof(a.rec[r])) == 0;
		snprintf(name, sizeof(name), "%.200s: written by xml_out, read "
		    "back the same", samples[i].file);
		ok(same, name);
		free(xml);
		free(buf);
		rua_feedback_free(&a);
		rua_feedback_free(&b);
	}
}

int
main(void)
{
	test_samples();
	test_details();
	test_invalid_samples();
	test_required();
	test_entities();
	test_round_trip();
	test_too_many();
	test_bombs();
	test_zip();
	test_mime();
	return done_testing();
}
