/*
 * cpm_mms - unit tests of cpim.c (CPIM/IMDN parsing, MIME split,
 * resource-lists).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpim.h"
#include "mime.h"
#include "resource_lists.h"
#include "xml_scan.h"

/* exact-size heap copy, so ASan sees any read past len */
static char *dup_exact(const char *s, int len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static void assert_str(cm_str s, const char *z)
{
	int n = (int)strlen(z);

	if (s.len != n || (n && memcmp(s.s, z, n) != 0))
		fail_msg("got '%.*s' (%d), want '%s'", s.len, s.s ? s.s : "",
				s.len, z);
}

static cm_str S(const char *z)
{
	return cm_str_z(z);
}

/* CPIM_IMDN_ENUM.md 3.1 */
static const char ex31[] =
		"From: <tel:+4712345678>\r\n"
		"To: <tel:+358401234567>\r\n"
		"NS: imdn <urn:ietf:params:imdn>\r\n"
		"imdn.Message-ID: Ab12Cd34\r\n"
		"DateTime: 2024-05-01T10:15:00.000Z\r\n"
		"imdn.Disposition-Notification: positive-delivery, "
		"negative-delivery, display\r\n"
		"\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"\r\n"
		"Hi there";

/* CPIM_IMDN_ENUM.md 3.2 */
static const char ex32[] =
		"From: <tel:+358401234567>\r\n"
		"To: <tel:+4712345678>\r\n"
		"NS: imdn <urn:ietf:params:imdn>\r\n"
		"imdn.Message-ID: Zz99Yy88\r\n"
		"DateTime: 2024-05-01T10:16:40.000Z\r\n"
		"\r\n"
		"Content-Type: message/imdn+xml\r\n"
		"Content-Disposition: notification\r\n"
		"\r\n"
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		"<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n"
		"  <message-id>Ab12Cd34</message-id>\r\n"
		"  <datetime>2024-05-01T10:15:00.000Z</datetime>\r\n"
		"  <recipient-uri>tel:+358401234567</recipient-uri>\r\n"
		"  <delivery-notification><status><delivered/></status>"
		"</delivery-notification>\r\n"
		"</imdn>\r\n";

static cpim_msg M;

static int parse_z(const char *z)
{
	return cpim_parse(z, (int)strlen(z), &M);
}

static void test_example_request(void **state)
{
	cm_str d, u;

	assert_int_equal(parse_z(ex31), CPIM_OK);
	assert_int_equal(M.nhdr, 6);
	assert_str(M.hdr[0].name, "From");
	assert_str(M.hdr[5].name, "imdn.Disposition-Notification");
	assert_str(M.from, "<tel:+4712345678>");
	assert_int_equal(M.nto, 1);
	assert_str(M.to[0], "<tel:+358401234567>");
	assert_int_equal(M.ncc, 0);
	assert_str(M.datetime, "2024-05-01T10:15:00.000Z");
	assert_str(M.imdn_message_id, "Ab12Cd34");
	assert_str(M.imdn_disposition,
			"positive-delivery, negative-delivery, display");
	assert_int_equal(M.dispositions, CPIM_DN_POSITIVE_DELIVERY
											 | CPIM_DN_NEGATIVE_DELIVERY
											 | CPIM_DN_DISPLAY);
	assert_int_equal(M.nmime, 1);
	assert_str(M.content_type, "text/plain; charset=utf-8");
	assert_int_equal(M.content_transfer_encoding.len, 0);
	assert_str(M.body, "Hi there");
	assert_int_equal(M.subject.len, 0);
	assert_int_equal(M.nrecord_route, 0);
	assert_str(cpim_get(&M, "NS"), "imdn <urn:ietf:params:imdn>");
	assert_int_equal(cpim_get(&M, "ns").len, 0); /* exact name */
	assert_int_equal(cpim_split_addr(M.from, &d, &u), 0);
	assert_int_equal(d.len, 0);
	assert_str(u, "tel:+4712345678");
}

static void test_example_imdn(void **state)
{
	assert_int_equal(parse_z(ex32), CPIM_OK);
	assert_str(M.imdn_message_id, "Zz99Yy88");
	assert_int_equal(M.imdn_disposition.len, 0);
	assert_int_equal(M.dispositions, 0);
	assert_int_equal(M.nmime, 2);
	assert_str(M.content_type, "message/imdn+xml");
	assert_str(M.mime[1].name, "Content-Disposition");
	assert_str(M.mime[1].value, "notification");
	assert_true(M.body.len > 0);
	assert_memory_equal(M.body.s, "<?xml", 5);
	assert_int_equal(M.body.s + M.body.len, ex32 + strlen(ex32));
}

/* same message with bare LF line ends */
static void test_lf_only(void **state)
{
	char buf[sizeof(ex31)];
	int i, n = 0;

	for (i = 0; ex31[i]; i++)
		if (ex31[i] != '\r')
			buf[n++] = ex31[i];
	assert_int_equal(cpim_parse(buf, n, &M), CPIM_OK);
	assert_str(M.from, "<tel:+4712345678>");
	assert_str(M.imdn_message_id, "Ab12Cd34");
	assert_str(M.content_type, "text/plain; charset=utf-8");
	assert_str(M.body, "Hi there");
}

static void test_ns_prefix(void **state)
{
	/* any prefix bound to the IMDN URN, declared after use */
	assert_int_equal(parse_z("From: <sip:a@x>\r\n"
								 "To: <sip:b@x>\r\n"
								 "foo.Message-ID: m1\r\n"
								 "foo.Disposition-Notification: display\r\n"
								 "foo.IMDN-Record-Route: <sip:iwf@x>\r\n"
								 "foo.IMDN-Record-Route: <sip:iwf2@x>\r\n"
								 "NS: foo <URN:IETF:PARAMS:IMDN>\r\n"
								 "\r\n"
								 "Content-Type: text/plain\r\n\r\nx"),
			CPIM_OK);
	assert_str(M.imdn_message_id, "m1");
	assert_int_equal(M.dispositions, CPIM_DN_DISPLAY);
	assert_int_equal(M.nrecord_route, 2);
	assert_str(M.imdn_record_route[1], "<sip:iwf2@x>");

	/* no NS at all: "imdn." accepted anyway */
	assert_int_equal(parse_z("From: <sip:a@x>\r\n"
								 "imdn.Message-ID: m2\r\n"
								 "imdn.Disposition-Notification: "
								 "Negative-Delivery\r\n"
								 "\r\n\r\nx"),
			CPIM_OK);
	assert_str(M.imdn_message_id, "m2");
	assert_int_equal(M.dispositions, CPIM_DN_NEGATIVE_DELIVERY);

	/* "imdn" bound to another namespace: not IMDN */
	assert_int_equal(parse_z("NS: imdn <urn:example:other>\r\n"
								 "imdn.Message-ID: m3\r\n"
								 "\r\n\r\nx"),
			CPIM_OK);
	assert_int_equal(M.imdn_message_id.len, 0);

	/* an undeclared other prefix is not IMDN */
	assert_int_equal(parse_z("bar.Message-ID: m4\r\n\r\n\r\nx"), CPIM_OK);
	assert_int_equal(M.imdn_message_id.len, 0);

	/* default namespace bound to IMDN */
	assert_int_equal(parse_z("NS: <urn:ietf:params:imdn>\r\n"
								 "Message-ID: m5\r\n"
								 "\r\n\r\nx"),
			CPIM_OK);
	assert_str(M.imdn_message_id, "m5");
}

static void test_lenient_names(void **state)
{
	assert_int_equal(parse_z("from: \"Al\" <sip:a@x>\r\n"
								 "TO: <sip:b@x>\r\n"
								 "to: <sip:c@x>\r\n"
								 "CC: <sip:d@x>\r\n"
								 "Datetime: 2024-01-01T00:00:00Z\r\n"
								 "subject: ;lang=fr Bonjour a tous\r\n"
								 "Subject: second\r\n"
								 "\r\n"
								 "content-type: text/plain\r\n"
								 "Content-Transfer-Encoding:  base64 \r\n"
								 "\r\n"
								 "aGk="),
			CPIM_OK);
	assert_str(M.from, "\"Al\" <sip:a@x>");
	assert_int_equal(M.nto, 2);
	assert_str(M.to[1], "<sip:c@x>");
	assert_int_equal(M.ncc, 1);
	assert_str(M.datetime, "2024-01-01T00:00:00Z");
	assert_str(M.subject, "Bonjour a tous");
	assert_str(M.content_type, "text/plain");
	assert_str(M.content_transfer_encoding, "base64");
	assert_str(M.body, "aGk=");
}

static void test_no_mime_headers(void **state)
{
	/* payload directly after the CPIM headers */
	assert_int_equal(parse_z("From: <sip:a@x>\r\n\r\nHi there\r\n"), CPIM_OK);
	assert_int_equal(M.nmime, 0);
	assert_int_equal(M.content_type.len, 0);
	assert_str(M.body, "Hi there\r\n");

	/* text that looks like a header line stays payload */
	assert_int_equal(parse_z("From: <sip:a@x>\r\n\r\n"
								 "Note: meeting at 5\r\n\r\nsee you"),
			CPIM_OK);
	assert_int_equal(M.nmime, 0);
	assert_str(M.body, "Note: meeting at 5\r\n\r\nsee you");

	/* empty MIME block (RFC form) */
	assert_int_equal(parse_z("From: <sip:a@x>\r\n\r\n\r\nbody"), CPIM_OK);
	assert_int_equal(M.nmime, 0);
	assert_str(M.body, "body");

	/* nothing at all after the CPIM headers */
	assert_int_equal(parse_z("From: <sip:a@x>\r\n\r\n"), CPIM_OK);
	assert_int_equal(M.body.len, 0);

	/* MIME headers, no empty line, no payload */
	assert_int_equal(parse_z("From: <sip:a@x>\r\n\r\n"
								 "Content-Type: text/plain\r\n"),
			CPIM_OK);
	assert_int_equal(M.nmime, 1);
	assert_str(M.content_type, "text/plain");
	assert_int_equal(M.body.len, 0);

	/* NUL in the payload is fine */
	assert_int_equal(cpim_parse("From: <sip:a@x>\r\n\r\nContent-Type: "
								"application/octet-stream\r\n\r\na\0b",
							 (int)sizeof("From: <sip:a@x>\r\n\r\nContent-Type: "
										 "application/octet-stream\r\n\r\na\0b")
									 - 1,
							 &M),
			CPIM_OK);
	assert_int_equal(M.body.len, 3);
	assert_int_equal(M.body.s[1], '\0');
}

static void test_folded_mime(void **state)
{
	cm_str b;

	assert_int_equal(parse_z("From: <sip:a@x>\r\n"
								 "To: <sip:b@x>\r\n"
								 "\r\n"
								 "Content-Type: multipart/mixed;\r\n"
								 "\tboundary=\"b1\"\r\n"
								 "\r\n"
								 "--b1\r\n\r\nx\r\n--b1--\r\n"),
			CPIM_OK);
	assert_str(mime_ct_type(M.content_type), "multipart/mixed");
	b = mime_ct_param(M.content_type, "boundary");
	assert_str(b, "b1");
}

static void test_errors(void **state)
{
	char hdrs[8192];
	int i, n;

	assert_int_equal(cpim_parse(NULL, 10, &M), CPIM_ERR_SYNTAX);
	assert_int_equal(cpim_parse("x", 0, &M), CPIM_ERR_SYNTAX);
	assert_int_equal(cpim_parse("x", -1, &M), CPIM_ERR_SYNTAX);
	/* no empty line */
	assert_int_equal(parse_z("From: <sip:a@x>\r\nTo: <sip:b@x>\r\n"),
			CPIM_ERR_SYNTAX);
	assert_int_equal(parse_z("From: <sip:a@x>"), CPIM_ERR_SYNTAX);
	/* line without colon */
	assert_int_equal(parse_z("From <sip:a@x>\r\n\r\nbody"), CPIM_ERR_SYNTAX);
	assert_int_equal(parse_z(": x\r\n\r\nbody"), CPIM_ERR_SYNTAX);
	assert_int_equal(parse_z("Bad Name: x\r\n\r\nbody"), CPIM_ERR_SYNTAX);
	/* continuation first */
	assert_int_equal(parse_z(" From: x\r\n\r\nbody"), CPIM_ERR_SYNTAX);
	/* NUL in the header block */
	assert_int_equal(cpim_parse("From: a\0b\r\n\r\nx", 14, &M),
			CPIM_ERR_SYNTAX);
	assert_int_equal(M.nhdr, 0);
	/* too many headers */
	n = 0;
	for (i = 0; i < CPIM_MAX_HEADERS + 1; i++)
		n += snprintf(hdrs + n, sizeof(hdrs) - n, "X.H%d: v\r\n", i);
	n += snprintf(hdrs + n, sizeof(hdrs) - n, "\r\nbody");
	assert_int_equal(cpim_parse(hdrs, n, &M), CPIM_ERR_TOO_MANY);
	/* exactly the limit is fine */
	n = 0;
	for (i = 0; i < CPIM_MAX_HEADERS; i++)
		n += snprintf(hdrs + n, sizeof(hdrs) - n, "X.H%d: v\r\n", i);
	n += snprintf(hdrs + n, sizeof(hdrs) - n, "\r\nbody");
	assert_int_equal(cpim_parse(hdrs, n, &M), CPIM_OK);
	assert_int_equal(M.nhdr, CPIM_MAX_HEADERS);
	/* too many recipients */
	n = 0;
	for (i = 0; i < CPIM_MAX_RCPT + 1; i++)
		n += snprintf(hdrs + n, sizeof(hdrs) - n, "To: <sip:%d@x>\r\n", i);
	n += snprintf(hdrs + n, sizeof(hdrs) - n, "\r\nbody");
	assert_int_equal(cpim_parse(hdrs, n, &M), CPIM_ERR_TOO_MANY);
	/* too many MIME headers */
	n = snprintf(hdrs, sizeof(hdrs), "From: <sip:a@x>\r\n\r\n");
	for (i = 0; i < CPIM_MAX_MIME_HEADERS + 1; i++)
		n += snprintf(hdrs + n, sizeof(hdrs) - n, "Content-X%d: v\r\n", i);
	n += snprintf(hdrs + n, sizeof(hdrs) - n, "\r\nbody");
	assert_int_equal(cpim_parse(hdrs, n, &M), CPIM_ERR_TOO_MANY);
}

static void test_truncated(void **state)
{
	int n = (int)strlen(ex32);
	int i, rc;
	char *p;
	int blank = (int)(strstr(ex32, "\r\n\r\n") - ex32);

	/* every prefix: no crash, no overread; error until the empty line
	 * (a CR at the very end counts as a line end) */
	for (i = 0; i <= n; i++) {
		p = dup_exact(ex32, i);
		rc = cpim_parse(p, i, &M);
		if (i < blank + 3)
			assert_int_equal(rc, CPIM_ERR_SYNTAX);
		else
			assert_int_equal(rc, CPIM_OK);
		free(p);
	}
}

static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) & 0x7fff;
}

/* the raw uri values of a resource list */
static int rl_uris(cm_str xml, cm_str *uris, int max)
{
	rl_entry e[RL_MAX_ENTRIES];
	int n, i;

	n = resource_list_entries(xml, e, max < RL_MAX_ENTRIES ? max
			: RL_MAX_ENTRIES);
	for (i = 0; i < n; i++)
		uris[i] = e[i].uri;
	return n;
}

static void test_fuzz(void **state)
{
	static const char alphabet[] = "ab:.\r\n \t<>\"\\=;,-\0/'!";
	static const char *seeds[] = {ex31, ex32,
			"--b\r\nContent-Type: a\r\n\r\nx\r\n--b--",
			"<rl:entry uri=\"sip:a\"/><!-- <entry uri='x'/> -->"};
	mime_part parts[MIME_MAX_PARTS];
	cm_str uris[8];
	cm_str d, u;
	char buf[600];
	char *p;
	int it, n, k, j;

	for (it = 0; it < 20000; it++) {
		const char *seed = seeds[it % 4];
		n = (int)strlen(seed);
		if (n > (int)sizeof(buf))
			n = sizeof(buf);
		memcpy(buf, seed, n);
		for (k = rnd() % 8; k >= 0; k--) {
			j = rnd() % (n + 1);
			if (j < n)
				buf[j] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		}
		n = rnd() % (n + 1);
		p = dup_exact(buf, n);
		if (cpim_parse(p, n, &M) == CPIM_OK) {
			assert_true(M.body.s >= p && M.body.s + M.body.len == p + n);
			cpim_split_addr(M.from, &d, &u);
			cpim_parse_dispositions(M.imdn_disposition);
			mime_ct_param(M.content_type, "charset");
		}
		mime_split((cm_str){p, n}, S("b"), parts, MIME_MAX_PARTS);
		rl_uris((cm_str){p, n}, uris, 8);
		cpim_split_addr((cm_str){p, n}, &d, &u);
		mime_ct_param((cm_str){p, n}, "b");
		mime_ct_type((cm_str){p, n});
		cpim_parse_dispositions((cm_str){p, n});
		free(p);
	}
}

static void test_dispositions(void **state)
{
	assert_int_equal(cpim_parse_dispositions(S("")), 0);
	assert_int_equal(cpim_parse_dispositions(S("display")), CPIM_DN_DISPLAY);
	assert_int_equal(cpim_parse_dispositions(S(" PROCESSING ,, foo, "
											   "positive-delivery,")),
			CPIM_DN_PROCESSING | CPIM_DN_POSITIVE_DELIVERY);
	assert_int_equal(cpim_parse_dispositions(S("display-x, xdisplay")), 0);
}

static void test_split_addr(void **state)
{
	cm_str d, u;

	assert_int_equal(cpim_split_addr(S("\"Alice \\\"A\\\"\" <sip:a@x>;p=1"),
							 &d, &u),
			0);
	assert_str(d, "Alice \\\"A\\\"");
	assert_str(u, "sip:a@x");
	assert_int_equal(cpim_split_addr(S("  Bob  < tel:+4712 > "), &d, &u), 0);
	assert_str(d, "Bob");
	assert_str(u, "tel:+4712");
	assert_int_equal(cpim_split_addr(S("im:c@x"), &d, &u), 0);
	assert_int_equal(d.len, 0);
	assert_str(u, "im:c@x");
	assert_int_equal(cpim_split_addr(S("\"\" <sip:a@x>"), &d, &u), 0);
	assert_int_equal(d.len, 0);
	assert_str(u, "sip:a@x");
	assert_int_equal(cpim_split_addr(S(""), &d, &u), -1);
	assert_int_equal(cpim_split_addr(S("  "), &d, &u), -1);
	assert_int_equal(cpim_split_addr(S("<sip:a@x"), &d, &u), -1);
	assert_int_equal(cpim_split_addr(S("\"unterminated <sip:a@x>"), &d, &u),
			-1);
	assert_int_equal(cpim_split_addr(S("\"A\" junk <sip:a@x>"), &d, &u), -1);
	assert_int_equal(cpim_split_addr(S("\"A\""), &d, &u), -1);
	assert_int_equal(cpim_split_addr(S("<>"), &d, &u), -1);
	assert_int_equal(cpim_split_addr(S("two words"), &d, &u), -1);
}

static void test_ct(void **state)
{
	cm_str ct = S("multipart/mixed ; Boundary=\"a;b \\\"c\" ;charset=UTF-8;"
				  "flag; x = y");

	assert_str(mime_ct_type(ct), "multipart/mixed");
	assert_str(mime_ct_param(ct, "boundary"), "a;b \\\"c");
	assert_str(mime_ct_param(ct, "CHARSET"), "UTF-8");
	assert_str(mime_ct_param(ct, "x"), "y");
	assert_int_equal(mime_ct_param(ct, "flag").len, 0);
	assert_int_equal(mime_ct_param(ct, "missing").len, 0);
	assert_int_equal(mime_ct_param(S("text/plain"), "charset").len, 0);
	assert_str(mime_ct_type(S(" text/plain")), "text/plain");
	assert_int_equal(mime_ct_type(S("")).len, 0);
	assert_str(mime_ct_param(S("a/b; q=\"open"), "q"), "open");
}

/* RFC 5365 style URI-list MESSAGE body */
static const char rl_body[] =
		"preamble, ignored\r\n"
		"--boundary1\r\n"
		"Content-Type: message/cpim\r\n"
		"\r\n"
		"From: <sip:a@x>\r\n"
		"\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"Hello\r\n"
		"--boundary1\r\n"
		"Content-Type: application/resource-lists+xml\r\n"
		"Content-Disposition: recipient-list\r\n"
		"\r\n"
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		"<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\r\n"
		" <list>\r\n"
		"  <entry uri=\"tel:+4712345678\"/>\r\n"
		"  <entry uri='sip:+358401234567@ims.example.net;user=phone'/>\r\n"
		"  <!-- <entry uri=\"sip:commented@x\"/> -->\r\n"
		"  <entry copyControl=\"bcc\" uri = \"tel:+15551234\" "
		"anonymize=\"true\"/>\r\n"
		"  <entry-x uri=\"sip:not@x\"/>\r\n"
		"  <entry myuri=\"sip:not@x\"/>\r\n"
		" </list>\r\n"
		"</resource-lists>\r\n"
		"--boundary1--\r\n"
		"epilogue\r\n";

static void test_mime_split(void **state)
{
	mime_part parts[MIME_MAX_PARTS];
	cm_str uris[8];
	char lf[sizeof(rl_body)];
	int i, n = 0;

	assert_int_equal(mime_split(S(rl_body), S("boundary1"), parts,
							 MIME_MAX_PARTS),
			2);
	assert_str(parts[0].content_type, "message/cpim");
	assert_str(parts[0].headers, "Content-Type: message/cpim\r\n");
	assert_str(parts[0].body,
			"From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\n\r\nHello");
	assert_str(parts[1].content_type, "application/resource-lists+xml");
	assert_int_equal(cpim_parse(parts[0].body.s, parts[0].body.len, &M),
			CPIM_OK);
	assert_str(M.body, "Hello");

	assert_int_equal(rl_uris(parts[1].body, uris, 8), 3);
	assert_str(uris[0], "tel:+4712345678");
	assert_str(uris[1], "sip:+358401234567@ims.example.net;user=phone");
	assert_str(uris[2], "tel:+15551234");
	assert_int_equal(rl_uris(parts[1].body, uris, 2), -1);

	/* LF only */
	for (i = 0; rl_body[i]; i++)
		if (rl_body[i] != '\r')
			lf[n++] = rl_body[i];
	assert_int_equal(mime_split((cm_str){lf, n}, S("boundary1"), parts,
							 MIME_MAX_PARTS),
			2);
	assert_str(parts[0].body, "From: <sip:a@x>\n\nContent-Type: text/plain\n\nHello");
	assert_str(parts[1].content_type, "application/resource-lists+xml");

	/* too many parts for the array */
	assert_int_equal(mime_split(S(rl_body), S("boundary1"), parts, 1), -1);
	/* wrong boundary, or a longer one sharing the prefix */
	assert_int_equal(mime_split(S(rl_body), S("boundary"), parts, 4), -1);
	assert_int_equal(mime_split(S(rl_body), S("zzz"), parts, 4), -1);
	assert_int_equal(mime_split(S(rl_body), S(""), parts, 4), -1);
}

static void test_mime_split_edge(void **state)
{
	mime_part parts[4];

	/* no close delimiter: truncated */
	assert_int_equal(mime_split(S("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"),
							 S("b"), parts, 4),
			-1);
	/* part without headers, padding after delimiters, folded type */
	assert_int_equal(mime_split(S("--b  \r\n\r\nplain\r\n--b\r\n"
								  "Content-type: text/html;\r\n charset=x\r\n"
								  "\r\n<p>\r\n\r\n--b-- \r\n"),
							 S("b"), parts, 4),
			2);
	assert_int_equal(parts[0].content_type.len, 0);
	assert_int_equal(parts[0].headers.len, 0);
	assert_str(parts[0].body, "plain");
	assert_str(mime_ct_type(parts[1].content_type), "text/html");
	assert_str(mime_ct_param(parts[1].content_type, "charset"), "x");
	assert_str(parts[1].body, "<p>\r\n");
	/* "--bx" is not a delimiter of "b" */
	assert_int_equal(mime_split(S("--b\r\n\r\n--bx\r\n--b--"), S("b"), parts,
							 4),
			1);
	assert_str(parts[0].body, "--bx");
	/* close right away: no part */
	assert_int_equal(mime_split(S("--b--\r\n"), S("b"), parts, 4), 0);
	/* boundary with a CR is refused */
	assert_int_equal(mime_split(S("--b\r--b--"), S("b\r"), parts, 4), -1);
	/* headers only, no empty line */
	assert_int_equal(mime_split(S("--b\r\nContent-Type: a/b\r\n--b--"),
							 S("b"), parts, 4),
			1);
	assert_str(parts[0].content_type, "a/b");
	assert_int_equal(parts[0].body.len, 0);
}

static void test_resource_list_edge(void **state)
{
	cm_str uris[4];
	char text[64];

	/* not a (complete) document */
	assert_int_equal(rl_uris(S(""), uris, 4), -1);
	assert_int_equal(rl_uris(S("<entry uri=\"a\">"), uris, 4), -1);
	assert_int_equal(rl_uris(S("<entry uri=\"a\"/>"), uris, 4), 1);
	assert_str(uris[0], "a");
	/* unterminated value, tag, comment */
	assert_int_equal(rl_uris(S("<entry uri=\"a>"), uris, 4), -1);
	assert_int_equal(rl_uris(S("<entry uri=\"a\""), uris, 4), -1);
	assert_int_equal(rl_uris(S("<l><!-- <entry uri='a'/></l>"), uris, 4),
			-1);
	/* '>' inside another attribute's value does not end the tag */
	assert_int_equal(rl_uris(S("<entry display-name=\"a>b\" "
							   "uri=\"sip:x\"/>"),
							 uris, 4),
			1);
	assert_str(uris[0], "sip:x");
	/* uri inside another attribute's value is not the attribute */
	assert_int_equal(rl_uris(S("<entry n=\" uri='no'\"/>"), uris, 4), 0);
	/* CDATA is text, not markup; the value is raw, xml_decode gives the
	 * URI */
	assert_int_equal(rl_uris(S("<l><![CDATA[<entry uri='z'/>]]>"
							   "<x:entry\nuri='sip:a?b=1&amp;c'/></l>"),
							 uris, 4),
			1);
	assert_str(uris[0], "sip:a?b=1&amp;c");
	assert_int_equal(xml_decode(uris[0], text, sizeof(text)), 11);
	assert_string_equal(text, "sip:a?b=1&c");
	/* markup outside the root, a bare '&', a DTD, a second root */
	assert_int_equal(rl_uris(S("<![CDATA[x]]><entry uri='z'/>"), uris, 4),
			-1);
	assert_int_equal(rl_uris(S("<entry uri='sip:a?b=1&c'/>"), uris, 4), -1);
	assert_int_equal(rl_uris(S("<!DOCTYPE l [<!ENTITY x 'y'>]>"
							   "<entry uri='&x;'/>"), uris, 4), -1);
	assert_int_equal(rl_uris(S("<entry uri='a'/><entry uri='b'/>"), uris,
							 4), -1);
	/* an <entry> of another namespace is not a resource-lists entry */
	assert_int_equal(rl_uris(S("<resource-lists xmlns='urn:ietf:params:xml:"
							   "ns:resource-lists' xmlns:o='urn:other'>"
							   "<o:entry uri='x'/><entry uri='y'/>"
							   "</resource-lists>"), uris, 4), 1);
	assert_str(uris[0], "y");
	assert_int_equal(rl_uris(S("<l xmlns='urn:other'><entry uri='x'/></l>"),
							 uris, 4), 0);
}

/* RFC 5364 copy control, the RFC's section 6 example shape */
static void test_resource_list_copy_control(void **state)
{
	static const char doc[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		"<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"\r\n"
		"    xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\">\r\n"
		" <list>\r\n"
		"  <entry uri=\"tel:+4790000001\" cp:copyControl=\"to\"/>\r\n"
		"  <entry cp:copyControl=\"cc\" uri=\"tel:+4790000002\"/>\r\n"
		"  <entry uri=\"tel:+4790000003\" cp:copyControl='bcc'/>\r\n"
		"  <entry uri=\"tel:+4790000004\"/>\r\n"
		"  <entry uri=\"tel:+4790000005\" cp:copyControl=\"to\"\r\n"
		"         cp:anonymize=\"true\"/>\r\n"
		"  <entry uri=\"tel:+4790000006\" x:copyControl = \"BCC\" "
		"x:anonymize=\"0\"/>\r\n"
		"  <entry copyControl=\"cc\" display-name=\"uri='no'\"/>\r\n"
		" </list>\r\n"
		"</resource-lists>\r\n";
	rl_entry e[8];

	assert_int_equal(resource_list_entries(S(doc), e, 8), 6);
	assert_str(e[0].uri, "tel:+4790000001");
	assert_int_equal(e[0].copy, RL_COPY_TO);
	assert_int_equal(e[0].anonymize, 0);
	assert_str(e[1].uri, "tel:+4790000002");
	assert_int_equal(e[1].copy, RL_COPY_CC);
	assert_str(e[2].uri, "tel:+4790000003");
	assert_int_equal(e[2].copy, RL_COPY_BCC);
	/* absent: to */
	assert_str(e[3].uri, "tel:+4790000004");
	assert_int_equal(e[3].copy, RL_COPY_TO);
	assert_int_equal(e[4].copy, RL_COPY_TO);
	assert_int_equal(e[4].anonymize, 1);
	assert_int_equal(e[5].copy, RL_COPY_BCC);
	assert_int_equal(e[5].anonymize, 0);
	assert_int_equal(resource_list_entries(S(doc), e, 5), -1);
	/* values outside the schema make the list invalid */
	assert_int_equal(resource_list_entries(S("<entry uri=\"a\" "
											 "cp:copyControl=\"from\"/>"),
							 e, 8),
			-1);
	assert_int_equal(resource_list_entries(S("<entry uri=\"a\" "
											 "cp:copyControl=\"\"/>"),
							 e, 8),
			-1);
	assert_int_equal(resource_list_entries(S("<entry uri=\"a\" "
											 "cp:anonymize=\"yes\"/>"),
							 e, 8),
			-1);
	assert_int_equal(resource_list_entries(S("<entry uri=\"a\" "
											 "cp:copyControl=bcc/>"),
							 e, 8),
			-1);
	assert_int_equal(resource_list_entries(S("<entry uri=\"a\" "
											 "cp:copyControl=\"bcc/>"),
							 e, 8),
			-1);
	/* copyControl of another element is not the entry's */
	assert_int_equal(resource_list_entries(S("<list cp:copyControl=\"bcc\">"
											 "<entry uri=\"a\"/></list>"),
							 e, 8),
			1);
	assert_int_equal(e[0].copy, RL_COPY_TO);
	/* a stray quoted string is not an attribute: not well formed */
	assert_int_equal(resource_list_entries(S("<entry \"uri='x'\" uri='y'/>"),
							 e, 8),
			-1);
	assert_int_equal(resource_list_entries(S("<entry/>"), e, 8), 0);
	assert_int_equal(resource_list_entries((cm_str){NULL, 0}, e, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_request),
		cmocka_unit_test(test_example_imdn),
		cmocka_unit_test(test_lf_only),
		cmocka_unit_test(test_ns_prefix),
		cmocka_unit_test(test_lenient_names),
		cmocka_unit_test(test_no_mime_headers),
		cmocka_unit_test(test_folded_mime),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_dispositions),
		cmocka_unit_test(test_split_addr),
		cmocka_unit_test(test_ct),
		cmocka_unit_test(test_mime_split),
		cmocka_unit_test(test_mime_split_edge),
		cmocka_unit_test(test_resource_list_edge),
		cmocka_unit_test(test_resource_list_copy_control),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
