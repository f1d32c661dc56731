/*
 * cpm_mms - unit tests: IMDN reading/writing (imdn.c), the report tables
 * 6-9 (mapping.c) and the report REQ writer (mm4.c)
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

#include "imdn.h"
#include "mime.h"
#include "xml_scan.h"
#include "cpim.h"
#include "mapping.h"
#include "mm4.h"

#define S(lit) cm_str_z(lit)

static void assert_str(cm_str s, const char *want)
{
	if (s.len != (int)strlen(want) || (s.len && memcmp(s.s, want, s.len)))
		fail_msg("got '%.*s', want '%s'", s.len, s.s ? s.s : "", want);
}

/* exact-size heap copy: ASan catches reads past len */
static char *dup_exact(const char *s, int len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, s, len);
	return p;
}

static int parse_exact(const char *s, int len, imdn_doc *d)
{
	char *p = dup_exact(s, len);
	int rc = imdn_parse((cm_str){p, len}, d);

	/* values point into the copy: check them before it goes */
	if (rc == 0) {
		assert_true(d->message_id.s >= p
				&& d->message_id.s + d->message_id.len <= p + len);
		assert_true(d->message_id.len > 0);
	}
	free(p);
	return rc;
}

static int parse_z(const char *z)
{
	imdn_doc d;

	return parse_exact(z, (int)strlen(z), &d);
}

/* ---- CPIM_IMDN_ENUM.md sec. 3.2 example ---- */

static const char ex_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	"<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n"
	"  <message-id>Ab12Cd34</message-id>\r\n"
	"  <datetime>2024-05-01T10:15:00.000Z</datetime>\r\n"
	"  <recipient-uri>tel:+358401234567</recipient-uri>\r\n"
	"  <delivery-notification><status><delivered/></status>"
	"</delivery-notification>\r\n"
	"</imdn>\r\n";

static const char ex_cpim_head[] =
	"From: <tel:+358401234567>\r\n"
	"To: <tel:+4712345678>\r\n"
	"NS: imdn <urn:ietf:params:imdn>\r\n"
	"imdn.Message-ID: Zz99Yy88\r\n"
	"DateTime: 2024-05-01T10:16:40.000Z\r\n"
	"\r\n"
	"Content-Type: message/imdn+xml\r\n"
	"Content-Disposition: notification\r\n";

/* the example's SIP body (the example has no Content-Length) */
static char *ex_body(int *len)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "%s\r\n%s", ex_cpim_head, ex_xml);
	*len = (int)strlen(buf);
	return buf;
}

static void check_example_doc(const imdn_doc *d)
{
	assert_str(d->message_id, "Ab12Cd34");
	assert_str(d->datetime, "2024-05-01T10:15:00.000Z");
	assert_str(d->recipient_uri, "tel:+358401234567");
	assert_int_equal(d->original_recipient_uri.len, 0);
	assert_int_equal(d->kind, IMDN_KIND_DELIVERY);
	assert_int_equal(d->status, IMDN_ST_DELIVERED);
}

static void test_parse_example(void **state)
{
	imdn_doc d;
	imdn_request r;
	char *body, *p;
	int n;

	assert_int_equal(imdn_parse(S(ex_xml), &d), 0);
	check_example_doc(&d);

	body = ex_body(&n);
	p = dup_exact(body, n);
	assert_int_equal(imdn_from_sip_body(S("message/cpim"),
							 (cm_str){p, n}, &r),
			0);
	check_example_doc(&r.doc);
	assert_str(r.cpim_from, "<tel:+358401234567>");
	assert_str(r.cpim_to, "<tel:+4712345678>");
	assert_str(r.imdn_message_id, "Zz99Yy88");
	assert_str(r.datetime, "2024-05-01T10:16:40.000Z");
	free(p);
}

static void test_parse_prefixed(void **state)
{
	imdn_doc d;
	const char *doc;

	/* a prefix bound to the IMDN namespace, on every element */
	doc = "<i:imdn xmlns:i=\"urn:ietf:params:xml:ns:imdn\">"
		  "<i:message-id> m-1 </i:message-id>"
		  "<i:datetime>\n2024-05-01T10:15:00Z\t</i:datetime>"
		  "<i:recipient-uri>sip:bob@example.net</i:recipient-uri>"
		  "<i:original-recipient-uri>sip:list@example.net"
		  "</i:original-recipient-uri>"
		  "<i:display-notification><i:status><i:displayed/></i:status>"
		  "</i:display-notification></i:imdn>";
	assert_int_equal(imdn_parse(S(doc), &d), 0);
	assert_str(d.message_id, "m-1");
	assert_str(d.datetime, "2024-05-01T10:15:00Z");
	assert_str(d.recipient_uri, "sip:bob@example.net");
	assert_str(d.original_recipient_uri, "sip:list@example.net");
	assert_int_equal(d.kind, IMDN_KIND_DISPLAY);
	assert_int_equal(d.status, IMDN_ST_DISPLAYED);

	/* mixed prefixes, BOM, comments, PIs, odd attributes, extensions
	 * (with their own children, text and CDATA), self-closing status
	 * element with a space, end tags with trailing blanks */
	doc = "\xef\xbb\xbf<?xml version='1.0'?>\n<!-- hi <imdn> -->\n"
		  "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\" a='x>y' b=\"&lt;\"\n"
		  " xmlns:x=\"urn:x\">"
		  "<!-- <message-id>wrong</message-id> -->"
		  "<x:ext><x:deep><x:deeper a=\"1\"/>text &amp; more</x:deep>"
		  "<![CDATA[ <message-id>no</message-id> ]]></x:ext>"
		  "<subject>Hello <!-- c --> there</subject>"
		  "<message-id>Ab12Cd34</message-id >"
		  "<?pi inside?>"
		  "<processing-notification>\n <status>\n  <stored />\n </status>\n"
		  "</processing-notification>"
		  "</imdn  >\n<!-- trailer -->\n<?pi after?>\n";
	assert_int_equal(imdn_parse(S(doc), &d), 0);
	assert_str(d.message_id, "Ab12Cd34");
	assert_int_equal(d.datetime.len, 0); /* missing datetime tolerated */
	assert_int_equal(d.recipient_uri.len, 0);
	assert_int_equal(d.kind, IMDN_KIND_PROCESSING);
	assert_int_equal(d.status, IMDN_ST_STORED);

	/* <status> written with content instead of empty tag */
	doc = "<imdn><message-id>a</message-id><delivery-notification><status>"
		  "<failed></failed></status></delivery-notification></imdn>";
	assert_int_equal(imdn_parse(S(doc), &d), 0);
	assert_int_equal(d.status, IMDN_ST_FAILED);

	/* entities are left as written (zero copy) */
	doc = "<imdn><message-id>a&amp;b</message-id><delivery-notification>"
		  "<status><error/></status></delivery-notification></imdn>";
	assert_int_equal(imdn_parse(S(doc), &d), 0);
	assert_str(d.message_id, "a&amp;b");
	assert_int_equal(d.status, IMDN_ST_ERROR);
}

/* RFC 5438 schema: which status may appear in which notification */
static const struct {
	const char *element;
	imdn_kind kind;
} kinds[] = {
	{"delivery-notification", IMDN_KIND_DELIVERY},
	{"display-notification", IMDN_KIND_DISPLAY},
	{"processing-notification", IMDN_KIND_PROCESSING},
};

static const struct {
	const char *element;
	imdn_status st;
	int ok_delivery, ok_display, ok_processing;
} statuses[] = {
	{"delivered", IMDN_ST_DELIVERED, 1, 0, 0},
	{"failed", IMDN_ST_FAILED, 1, 0, 0},
	{"forbidden", IMDN_ST_FORBIDDEN, 1, 1, 1},
	{"error", IMDN_ST_ERROR, 1, 1, 1},
	{"displayed", IMDN_ST_DISPLAYED, 0, 1, 0},
	{"processed", IMDN_ST_PROCESSED, 0, 0, 1},
	{"stored", IMDN_ST_STORED, 0, 0, 1},
	{"Delivered", IMDN_ST_NONE, 0, 0, 0}, /* XML names are case-sensitive */
	{"deleted", IMDN_ST_NONE, 0, 0, 0},
};

static int status_ok(int si, int ki)
{
	return ki == 0 ? statuses[si].ok_delivery
				   : ki == 1 ? statuses[si].ok_display
							 : statuses[si].ok_processing;
}

static void test_parse_statuses(void **state)
{
	char doc[512];
	imdn_doc d;
	int ki, si, rc;

	for (ki = 0; ki < 3; ki++)
		for (si = 0; si < (int)(sizeof(statuses) / sizeof(statuses[0]));
				si++) {
			snprintf(doc, sizeof(doc),
					"<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">"
					"<message-id>x</message-id>"
					"<datetime>2024-05-01T10:15:00Z</datetime>"
					"<%s><status><%s/></status></%s></imdn>",
					kinds[ki].element, statuses[si].element,
					kinds[ki].element);
			rc = parse_exact(doc, (int)strlen(doc), &d);
			if (status_ok(si, ki)) {
				assert_int_equal(rc, 0);
				assert_int_equal(d.kind, kinds[ki].kind);
				assert_int_equal(d.status, statuses[si].st);
			} else {
				if (rc != -1)
					fail_msg("%s in %s accepted", statuses[si].element,
							kinds[ki].element);
				assert_int_equal(d.kind, IMDN_KIND_NONE);
				assert_int_equal(d.message_id.len, 0);
			}
		}
}

#define HEAD "<imdn><message-id>x</message-id>"
#define DN "<delivery-notification><status><delivered/></status>" \
		   "</delivery-notification>"

static void test_parse_malformed(void **state)
{
	static const char *bad[] = {
		"",
		" ",
		"<",
		"<>",
		"< imdn/>",
		"<imdn/>",
		"<imdn></imdn>",
		/* no message-id / empty one */
		"<imdn>" DN "</imdn>",
		"<imdn><message-id> </message-id>" DN "</imdn>",
		"<imdn><message-id/>" DN "</imdn>",
		/* no notification, no status, empty status */
		HEAD "</imdn>",
		HEAD "<delivery-notification/></imdn>",
		HEAD "<delivery-notification></delivery-notification></imdn>",
		HEAD "<delivery-notification><status/></delivery-notification></imdn>",
		HEAD "<delivery-notification><status></status>"
			 "</delivery-notification></imdn>",
		/* two notifications, two statuses, two status elements */
		HEAD DN DN "</imdn>",
		HEAD DN "<display-notification><status><displayed/></status>"
				"</display-notification></imdn>",
		HEAD "<delivery-notification><status><delivered/><failed/></status>"
			 "</delivery-notification></imdn>",
		HEAD "<delivery-notification><status><delivered/></status>"
			 "<status><failed/></status></delivery-notification></imdn>",
		/* status outside <status> */
		HEAD "<delivery-notification><delivered/></delivery-notification>"
			 "</imdn>",
		/* an unknown status */
		HEAD "<delivery-notification><status><x:read/></status>"
			 "</delivery-notification></imdn>",
		/* duplicate values */
		HEAD "<message-id>y</message-id>" DN "</imdn>",
		HEAD "<datetime>a</datetime><datetime>b</datetime>" DN "</imdn>",
		/* wrong root, two roots, text outside the root */
		"<imdnx><message-id>x</message-id>" DN "</imdnx>",
		"<x:notimdn><message-id>x</message-id>" DN "</x:notimdn>",
		HEAD DN "</imdn><imdn/>",
		HEAD DN "</imdn>" HEAD DN "</imdn>",
		"junk" HEAD DN "</imdn>",
		HEAD DN "</imdn>junk",
		/* mismatched / stray end tags */
		HEAD DN "</imdx>",
		HEAD DN "</i:imdn>",
		HEAD "</message-id>" DN "</imdn>",
		"<imdn><message-id>x</datetime>" DN "</imdn>",
		HEAD DN "</imdn></imdn>",
		"</imdn>",
		HEAD DN "</imdn x>",
		HEAD DN "</>",
		/* markup in a value */
		"<imdn><message-id>x<b/></message-id>" DN "</imdn>",
		"<imdn><message-id>x<!-- c --></message-id>" DN "</imdn>",
		"<imdn><message-id><![CDATA[x]]></message-id>" DN "</imdn>",
		"<imdn><message-id>x<?pi?></message-id>" DN "</imdn>",
		/* DOCTYPE / entity declarations */
		"<!DOCTYPE imdn [<!ENTITY a \"b\">]>" HEAD DN "</imdn>",
		HEAD "<!ENTITY a \"b\">" DN "</imdn>",
		/* unterminated constructs */
		"<!-- " HEAD DN "</imdn>",
		"<?xml " HEAD DN "</imdn>",
		HEAD DN "<![CDATA[ </imdn>",
		"<imdn a=\"" HEAD DN "</imdn>",
		"<imdn a='>" HEAD DN "</imdn>",
		/* '<' inside a tag */
		"<imdn <message-id>x</message-id>" DN "</imdn>",
		/* CDATA outside the root */
		"<![CDATA[x]]>" HEAD DN "</imdn>",
		/* '<' in an attribute value, bad references, undeclared entity */
		"<imdn a='<'><message-id>x</message-id>" DN "</imdn>",
		"<imdn><message-id>a&b</message-id>" DN "</imdn>",
		"<imdn><message-id>a&#0;</message-id>" DN "</imdn>",
		"<imdn><message-id>a&#xD800;</message-id>" DN "</imdn>",
		"<imdn><message-id>a&nbsp;</message-id>" DN "</imdn>",
		/* the notification in another namespace is not one */
		"<imdn xmlns:o='urn:other'><message-id>x</message-id>"
		"<o:delivery-notification><status><delivered/></status>"
		"</o:delivery-notification></imdn>",
		"<o:imdn xmlns:o='urn:other'><message-id>x</message-id>" DN
		"</o:imdn>",
	};
	imdn_doc d;
	int i;

	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		if (parse_z(bad[i]) != -1)
			fail_msg("accepted bad[%d]: %s", i, bad[i]);
	}
	/* NUL byte anywhere */
	{
		char doc[] = HEAD DN "</imdn>";
		int n = (int)strlen(doc);

		assert_int_equal(parse_exact(doc, n, &d), 0);
		doc[3] = '\0';
		assert_int_equal(parse_exact(doc, n, &d), -1);
	}
	assert_int_equal(imdn_parse((cm_str){NULL, 5}, &d), -1);
	assert_int_equal(imdn_parse((cm_str){"<imdn/>", -1}, &d), -1);
	assert_int_equal(imdn_parse(S(ex_xml), NULL), -1);
}

static void test_parse_deep(void **state)
{
	char doc[4096];
	int depth, i, n, rc;
	imdn_doc d;

	/* extension nesting up to the limit is fine, beyond it is refused
	 * (root + 30 = 31 open; + status 3 levels = well within 32) */
	for (depth = 1; depth <= 40; depth++) {
		n = snprintf(doc, sizeof(doc), "%s", HEAD);
		for (i = 0; i < depth; i++)
			n += snprintf(doc + n, sizeof(doc) - n, "<e>");
		for (i = 0; i < depth; i++)
			n += snprintf(doc + n, sizeof(doc) - n, "</e>");
		n += snprintf(doc + n, sizeof(doc) - n, "%s</imdn>", DN);
		rc = parse_exact(doc, n, &d);
		assert_int_equal(rc, depth + 1 <= 32 ? 0 : -1);
	}
	/* a huge flat run of opening tags does not recurse or overflow */
	{
		int big = 200000;
		char *p = malloc(big);

		assert_non_null(p);
		for (i = 0; i + 3 <= big; i += 3)
			memcpy(p + i, "<a>", 3);
		memcpy(p, "<imdn>", 6);
		assert_int_equal(imdn_parse((cm_str){p, i}, &d), -1);
		/* and many siblings are fine (linear) */
		n = 0;
		n += snprintf(p, big, "%s", HEAD);
		while (n + 8 < big - 200)
			n += snprintf(p + n, big - n, "<e/>");
		n += snprintf(p + n, big - n, "%s</imdn>", DN);
		assert_int_equal(parse_exact(p, n, &d), 0);
		free(p);
	}
}

/* every prefix of a valid document, parsed from an exact-size copy */
static void test_parse_truncated(void **state)
{
	int n = (int)strlen(ex_xml);
	int root_end = (int)(strstr(ex_xml, "</imdn>") - ex_xml) + 7;
	imdn_doc d;
	imdn_request r;
	char *body, *p;
	int i, rc, bn, xml_at;

	for (i = 0; i <= n; i++) {
		p = dup_exact(ex_xml, i);
		rc = imdn_parse((cm_str){p, i}, &d);
		assert_int_equal(rc, i >= root_end ? 0 : -1);
		if (rc == 0)
			check_example_doc(&d);
		else
			assert_int_equal(d.message_id.len, 0);
		free(p);
	}
	/* the same through the CPIM wrapper */
	body = ex_body(&bn);
	xml_at = bn - n;
	for (i = 0; i <= bn; i++) {
		p = dup_exact(body, i);
		rc = imdn_from_sip_body(S("message/cpim"), (cm_str){p, i}, &r);
		assert_int_equal(rc, i >= xml_at + root_end ? 0 : -1);
		if (rc != 0) {
			assert_int_equal(r.cpim_from.len, 0);
			assert_int_equal(r.doc.message_id.len, 0);
		}
		free(p);
	}
}

static unsigned rnd_state = 4242;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) & 0x7fff;
}

static void test_parse_fuzz(void **state)
{
	static const char alphabet[] = "<>/!?-[]:\"' \r\nab=&\0";
	static const char *seeds[] = {ex_xml,
			"<i:imdn><i:message-id>x</i:message-id><!-- c -->"
			"<i:display-notification><i:status><i:displayed/></i:status>"
			"</i:display-notification><x a='>'><![CDATA[<]]></x></i:imdn>"};
	char buf[1024];
	imdn_request r;
	imdn_doc d;
	char *p;
	int it, n, k, j;

	for (it = 0; it < 30000; it++) {
		const char *seed = seeds[it % 2];

		n = (int)strlen(seed);
		memcpy(buf, seed, n);
		for (k = rnd() % 6; k >= 0; k--) {
			j = rnd() % (n + 1);
			if (j < n)
				buf[j] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		}
		if (rnd() % 4 == 0)
			n = rnd() % (n + 1);
		p = dup_exact(buf, n);
		if (imdn_parse((cm_str){p, n}, &d) == 0) {
			assert_true(d.message_id.len > 0);
			assert_true(d.kind != IMDN_KIND_NONE);
			assert_true(d.status != IMDN_ST_NONE);
			assert_true(d.datetime.len == 0
					|| (d.datetime.s >= p
							&& d.datetime.s + d.datetime.len <= p + n));
		}
		imdn_from_sip_body(S("message/imdn+xml"), (cm_str){p, n}, &r);
		imdn_from_sip_body(S("message/cpim"), (cm_str){p, n}, &r);
		free(p);
	}
}

static void test_from_sip_body(void **state)
{
	imdn_request r;
	char buf[2048];
	char *p;
	int n;

	/* bare message/imdn+xml: no CPIM fields */
	n = (int)strlen(ex_xml);
	p = dup_exact(ex_xml, n);
	assert_int_equal(imdn_from_sip_body(S("Message/IMDN+XML ; charset=UTF-8"),
							 (cm_str){p, n}, &r),
			0);
	check_example_doc(&r.doc);
	assert_int_equal(r.cpim_from.len, 0);
	assert_int_equal(r.cpim_to.len, 0);
	assert_int_equal(r.imdn_message_id.len, 0);
	assert_int_equal(r.datetime.len, 0);
	free(p);

	/* any case of the SIP type and of the payload type; name-addr with
	 * a display name stays raw; a CPIM NS prefix other than imdn */
	n = snprintf(buf, sizeof(buf),
			"From: \"Bob\" <sip:bob@example.net>\r\n"
			"To: <sip:alice@example.net>\r\n"
			"NS: x <urn:ietf:params:imdn>\r\n"
			"x.Message-ID: n-1\r\n"
			"DateTime: 2024-05-01T10:16:40Z\r\n"
			"\r\n"
			"Content-Type: MESSAGE/Imdn+Xml; charset=utf-8\r\n"
			"\r\n%s",
			ex_xml);
	p = dup_exact(buf, n);
	assert_int_equal(imdn_from_sip_body(S(" Message/CPIM "), (cm_str){p, n},
							 &r),
			0);
	assert_str(r.cpim_from, "\"Bob\" <sip:bob@example.net>");
	assert_str(r.cpim_to, "<sip:alice@example.net>");
	assert_str(r.imdn_message_id, "n-1");
	assert_str(r.datetime, "2024-05-01T10:16:40Z");
	check_example_doc(&r.doc);
	free(p);

	/* CPIM whose payload is not an IMDN */
	n = snprintf(buf, sizeof(buf),
			"From: <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\n"
			"Content-Type: text/plain\r\n\r\n%s", ex_xml);
	p = dup_exact(buf, n);
	assert_int_equal(imdn_from_sip_body(S("message/cpim"), (cm_str){p, n},
							 &r),
			-1);
	/* not an IMDN SIP type at all */
	assert_int_equal(imdn_from_sip_body(S("text/plain"), (cm_str){p, n}, &r),
			-1);
	assert_int_equal(imdn_from_sip_body(S(""), (cm_str){p, n}, &r), -1);
	assert_int_equal(imdn_from_sip_body(S("message/imdn+xmlx"),
							 (cm_str){p, n}, &r),
			-1);
	assert_int_equal(r.cpim_from.len, 0);
	free(p);

	/* CPIM without a payload Content-Type */
	n = snprintf(buf, sizeof(buf),
			"From: <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\n\r\n%s", ex_xml);
	p = dup_exact(buf, n);
	assert_int_equal(imdn_from_sip_body(S("message/cpim"), (cm_str){p, n},
							 &r),
			-1);
	free(p);

	/* an IMDN payload that is not a valid IMDN */
	n = snprintf(buf, sizeof(buf),
			"From: <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\n"
			"Content-Type: message/imdn+xml\r\n\r\n<imdn/>");
	p = dup_exact(buf, n);
	assert_int_equal(imdn_from_sip_body(S("message/cpim"), (cm_str){p, n},
							 &r),
			-1);
	free(p);

	/* empty / NULL */
	assert_int_equal(imdn_from_sip_body(S("message/cpim"), S(""), &r), -1);
	assert_int_equal(imdn_from_sip_body(S("message/imdn+xml"),
							 (cm_str){NULL, 0}, &r),
			-1);
	assert_int_equal(imdn_from_sip_body(S("message/cpim"), S(ex_xml), NULL),
			-1);
}

/* ---- writing ---- */

static imdn_out example_out(void)
{
	imdn_out o;

	memset(&o, 0, sizeof(o));
	o.from_uri = S("tel:+358401234567");
	o.to_uri = S("tel:+4712345678");
	o.imdn_message_id = S("Zz99Yy88");
	o.datetime = S("2024-05-01T10:16:40.000Z");
	o.orig_message_id = S("Ab12Cd34");
	o.orig_datetime = S("2024-05-01T10:15:00.000Z");
	o.recipient_uri = S("tel:+358401234567");
	o.kind = IMDN_KIND_DELIVERY;
	o.status = IMDN_ST_DELIVERED;
	return o;
}

/* every line ends in CRLF, no bare CR/LF, no NUL */
static void assert_crlf_only(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			fail_msg("NUL at %d", i);
		if (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n'))
			fail_msg("bare CR at %d", i);
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			fail_msg("bare LF at %d", i);
	}
}

/* write o, then read the result back as the CPM side would; the caller
 * frees b */
static void write_and_parse(const imdn_out *o, cm_buf *b, imdn_request *r,
		cpim_msg *m)
{
	cm_str cl;
	const char *x;

	cm_buf_init(b);
	assert_int_equal(imdn_write_cpim(b, o), 0);
	assert_crlf_only(b->s, b->len);
	assert_int_equal(cpim_parse(b->s, b->len, m), CPIM_OK);
	/* never asks for IMDNs itself */
	assert_int_equal(m->imdn_disposition.len, 0);
	assert_int_equal(m->dispositions, 0);
	assert_str(mime_ct_type(m->content_type), "message/imdn+xml");
	/* Content-Length is the exact XML length */
	cl = cm_str_z(NULL);
	for (int i = 0; i < m->nmime; i++)
		if (cm_str_ieqz(m->mime[i].name, "Content-Length"))
			cl = m->mime[i].value;
	assert_true(cl.len > 0);
	assert_int_equal(atoi(cl.s), m->body.len);
	x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		"<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n";
	assert_true(m->body.len > (int)strlen(x));
	assert_memory_equal(m->body.s, x, strlen(x));
	assert_int_equal(imdn_from_sip_body(S("message/cpim"),
							 (cm_str){b->s, b->len}, r),
			0);
}

static void test_write_example(void **state)
{
	imdn_out o = example_out();
	cm_buf b;
	char want[2048];
	imdn_request r;
	cpim_msg m;

	snprintf(want, sizeof(want),
			"%sContent-Length: %d\r\n\r\n%s", ex_cpim_head,
			(int)strlen(ex_xml), ex_xml);
	write_and_parse(&o, &b, &r, &m);
	if (strcmp(b.s, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", b.s, want);
	check_example_doc(&r.doc);
	assert_str(r.cpim_from, "<tel:+358401234567>");
	assert_str(r.cpim_to, "<tel:+4712345678>");
	assert_str(r.imdn_message_id, "Zz99Yy88");
	assert_str(r.datetime, "2024-05-01T10:16:40.000Z");
	cm_buf_free(&b);

	/* appends to what is in the buffer */
	cm_buf_init(&b);
	cm_buf_adds(&b, "X");
	assert_int_equal(imdn_write_cpim(&b, &o), 0);
	assert_int_equal(b.s[0], 'X');
	assert_string_equal(b.s + 1, want);
	cm_buf_free(&b);
}

static void test_write_optional(void **state)
{
	imdn_out o = example_out();
	cm_buf b;
	imdn_request r;
	cpim_msg m;

	/* original-recipient-uri and a two-entry route; brackets already
	 * there are kept, name-addr values too */
	o.from_uri = S(" <tel:+358401234567> ");
	o.to_uri = S("\"Alice\" <sip:alice@example.net>");
	o.original_recipient_uri = S("sip:list@example.net");
	o.imdn_route = S("<sip:iwf@iwf.example;lr>, sip:b@c ,, \"x,y\" <sip:d>");
	write_and_parse(&o, &b, &r, &m);
	assert_str(r.cpim_from, "<tel:+358401234567>");
	assert_str(r.cpim_to, "\"Alice\" <sip:alice@example.net>");
	assert_str(r.doc.original_recipient_uri, "sip:list@example.net");
	assert_non_null(strstr(b.s,
			"DateTime: 2024-05-01T10:16:40.000Z\r\n"
			"imdn.IMDN-Route: <sip:iwf@iwf.example;lr>\r\n"
			"imdn.IMDN-Route: <sip:b@c>\r\n"
			"imdn.IMDN-Route: \"x,y\" <sip:d>\r\n\r\n"));
	assert_non_null(strstr(b.s,
			"  <recipient-uri>tel:+358401234567</recipient-uri>\r\n"
			"  <original-recipient-uri>sip:list@example.net"
			"</original-recipient-uri>\r\n"
			"  <delivery-notification>"));
	/* the CPIM parser sees them as headers of the imdn namespace */
	assert_int_equal(m.nhdr, 8);
	cm_buf_free(&b);

	/* up to CPIM_MAX_RCPT route entries; more is refused */
	{
		char routes[64 * 16];
		int n = 0, k;

		o = example_out();
		for (k = 0; k < CPIM_MAX_RCPT; k++)
			n += snprintf(routes + n, sizeof(routes) - n, "%s<sip:r%d>",
					k ? ", " : "", k);
		o.imdn_route = (cm_str){routes, n};
		write_and_parse(&o, &b, &r, &m);
		assert_int_equal(m.nhdr, 5 + CPIM_MAX_RCPT);
		assert_str(m.hdr[5 + CPIM_MAX_RCPT - 1].value, "<sip:r31>");
		cm_buf_free(&b);
		n += snprintf(routes + n, sizeof(routes) - n, ",sip:one-more");
		o.imdn_route = (cm_str){routes, n};
		cm_buf_init(&b);
		assert_int_equal(imdn_write_cpim(&b, &o), -1);
		assert_int_equal(b.len, 0);
		cm_buf_free(&b);
	}

	/* no route: no such line; blank optional values are omitted */
	o = example_out();
	o.imdn_route = S(" \r\n ");
	o.original_recipient_uri = S("  ");
	write_and_parse(&o, &b, &r, &m);
	assert_null(strstr(b.s, "IMDN-Route"));
	assert_null(strstr(b.s, "original-recipient-uri"));
	assert_int_equal(m.nhdr, 5);
	cm_buf_free(&b);
}

static void test_write_kinds(void **state)
{
	imdn_out o = example_out();
	cm_buf b;
	imdn_request r;
	cpim_msg m;
	char el[128];
	int ki, si;

	for (ki = 0; ki < 3; ki++)
		for (si = 0; si < (int)(sizeof(statuses) / sizeof(statuses[0]));
				si++) {
			if (statuses[si].st == IMDN_ST_NONE)
				continue;
			o.kind = kinds[ki].kind;
			o.status = statuses[si].st;
			if (!status_ok(si, ki)) {
				cm_buf_init(&b);
				assert_int_equal(imdn_write_cpim(&b, &o), -1);
				assert_int_equal(b.len, 0); /* nothing half-written */
				cm_buf_free(&b);
				continue;
			}
			write_and_parse(&o, &b, &r, &m);
			assert_int_equal(r.doc.kind, kinds[ki].kind);
			assert_int_equal(r.doc.status, statuses[si].st);
			snprintf(el, sizeof(el), "  <%s><status><%s/></status></%s>\r\n"
					"</imdn>\r\n", kinds[ki].element, statuses[si].element,
					kinds[ki].element);
			assert_true(b.len > (int)strlen(el));
			assert_string_equal(b.s + b.len - strlen(el), el);
			cm_buf_free(&b);
		}
	/* no kind, no status, out of range */
	cm_buf_init(&b);
	o = example_out();
	o.kind = IMDN_KIND_NONE;
	assert_int_equal(imdn_write_cpim(&b, &o), -1);
	o = example_out();
	o.status = IMDN_ST_NONE;
	assert_int_equal(imdn_write_cpim(&b, &o), -1);
	o.kind = (imdn_kind)99;
	o.status = IMDN_ST_DELIVERED;
	assert_int_equal(imdn_write_cpim(&b, &o), -1);
	o = example_out();
	o.status = (imdn_status)99;
	assert_int_equal(imdn_write_cpim(&b, &o), -1);
	assert_int_equal(b.len, 0);
	cm_buf_free(&b);
}

static void test_write_mandatory(void **state)
{
	static const char *const blanks[] = {"", " ", "\r\n", "\t \r\n\0"};
	imdn_out o;
	cm_str *f[7];
	cm_buf b;
	int i, k;

	for (i = 0; i < 7; i++)
		for (k = 0; k < 4; k++) {
			o = example_out();
			f[0] = &o.from_uri;
			f[1] = &o.to_uri;
			f[2] = &o.imdn_message_id;
			f[3] = &o.datetime;
			f[4] = &o.orig_message_id;
			f[5] = &o.orig_datetime;
			f[6] = &o.recipient_uri;
			f[i]->s = (char *)blanks[k];
			f[i]->len = k == 3 ? 5 : (int)strlen(blanks[k]);
			cm_buf_init(&b);
			if (imdn_write_cpim(&b, &o) != -1)
				fail_msg("field %d blank %d accepted", i, k);
			assert_int_equal(b.len, 0);
			cm_buf_free(&b);
			/* NULL with a length */
			o = example_out();
			f[i]->s = NULL;
			cm_buf_init(&b);
			assert_int_equal(imdn_write_cpim(&b, &o), -1);
			cm_buf_free(&b);
		}
	cm_buf_init(&b);
	o = example_out();
	assert_int_equal(imdn_write_cpim(NULL, &o), -1);
	assert_int_equal(imdn_write_cpim(&b, NULL), -1);
	b.failed = 1;
	assert_int_equal(imdn_write_cpim(&b, &o), -1);
	cm_buf_free(&b);
}

static void test_write_escaping(void **state)
{
	imdn_out o = example_out();
	cm_buf b;
	imdn_request r;
	cpim_msg m;

	o.orig_message_id = S("a&b<c>d\"e'f");
	o.orig_datetime = S("2024-05-01T10:15:00Z</datetime><x>");
	o.recipient_uri = S("sip:a@b?x=1&y=<2>");
	o.original_recipient_uri = S("'\"&&amp;");
	write_and_parse(&o, &b, &r, &m);
	assert_non_null(strstr(b.s,
			"<message-id>a&amp;b&lt;c&gt;d&quot;e&apos;f</message-id>"));
	/* entities stay encoded when read back (zero copy) */
	assert_str(r.doc.message_id, "a&amp;b&lt;c&gt;d&quot;e&apos;f");
	assert_str(r.doc.datetime,
			"2024-05-01T10:15:00Z&lt;/datetime&gt;&lt;x&gt;");
	assert_str(r.doc.recipient_uri, "sip:a@b?x=1&amp;y=&lt;2&gt;");
	assert_str(r.doc.original_recipient_uri, "&apos;&quot;&amp;&amp;amp;");
	cm_buf_free(&b);

	/* UTF-8 passes unchanged */
	o = example_out();
	o.orig_message_id = S("\xc3\xa6\xc3\xb8\xc3\xa5");
	write_and_parse(&o, &b, &r, &m);
	assert_str(r.doc.message_id, "\xc3\xa6\xc3\xb8\xc3\xa5");
	cm_buf_free(&b);
}

static void test_write_injection(void **state)
{
	imdn_out o = example_out();
	cm_buf b;
	imdn_request r;
	cpim_msg m;
	char nul_id[] = "Zz\0\r\n\r\nContent-Type: text/plain\r\n\r\nhi";
	int i;

	/* CR/LF/NUL in CPIM values cannot add headers or start the payload */
	o.from_uri = S("tel:+1\r\nimdn.Disposition-Notification: display");
	o.to_uri = S("tel:+2\nTo: <tel:+666>");
	o.imdn_message_id = (cm_str){nul_id, (int)sizeof(nul_id) - 1};
	o.datetime = S("2024-05-01T10:16:40Z\r\n\r\n<imdn>");
	o.imdn_route = S("<sip:a>\r\nNS: evil <urn:x>, <sip:b\r\n>");
	/* and in the XML: no way out of the element */
	o.orig_message_id = S("x</message-id><message-id>y\r\n");
	o.recipient_uri = S("sip:a\r\n</recipient-uri></imdn>");
	write_and_parse(&o, &b, &r, &m);
	/* From, To, NS, imdn.Message-ID, DateTime, 2 routes */
	assert_int_equal(m.nhdr, 7);
	assert_int_equal(m.nto, 1);
	assert_str(m.hdr[0].name, "From");
	assert_str(m.hdr[1].name, "To");
	assert_str(m.hdr[2].name, "NS");
	assert_str(m.hdr[3].name, "imdn.Message-ID");
	assert_str(m.hdr[4].name, "DateTime");
	assert_str(m.hdr[5].name, "imdn.IMDN-Route");
	assert_str(m.hdr[6].name, "imdn.IMDN-Route");
	assert_str(m.hdr[0].value,
			"<tel:+1imdn.Disposition-Notification: display>");
	/* already has <...>: kept, on one line */
	assert_str(m.hdr[1].value, "tel:+2To: <tel:+666>");
	assert_str(m.hdr[3].value, "ZzContent-Type: text/plainhi");
	assert_str(m.hdr[4].value, "2024-05-01T10:16:40Z<imdn>");
	assert_str(m.hdr[5].value, "<sip:a>NS: evil <urn:x>");
	assert_str(m.hdr[6].value, "<sip:b>");
	assert_int_equal(m.dispositions, 0);
	assert_int_equal(m.nmime, 3);
	assert_str(r.doc.message_id,
			"x&lt;/message-id&gt;&lt;message-id&gt;y");
	assert_str(r.doc.recipient_uri,
			"sip:a&lt;/recipient-uri&gt;&lt;/imdn&gt;");
	/* no raw control bytes made it into the XML */
	for (i = 0; i < m.body.len; i++)
		if ((unsigned char)m.body.s[i] < 0x20)
			assert_true(m.body.s[i] == '\r' || m.body.s[i] == '\n');
	cm_buf_free(&b);
}

static void test_status_name(void **state)
{
	assert_string_equal(imdn_status_name(IMDN_ST_DELIVERED), "delivered");
	assert_string_equal(imdn_status_name(IMDN_ST_FAILED), "failed");
	assert_string_equal(imdn_status_name(IMDN_ST_FORBIDDEN), "forbidden");
	assert_string_equal(imdn_status_name(IMDN_ST_ERROR), "error");
	assert_string_equal(imdn_status_name(IMDN_ST_DISPLAYED), "displayed");
	assert_string_equal(imdn_status_name(IMDN_ST_PROCESSED), "processed");
	assert_string_equal(imdn_status_name(IMDN_ST_STORED), "stored");
	assert_string_equal(imdn_status_name(IMDN_ST_NONE), "none");
	assert_string_equal(imdn_status_name((imdn_status)77), "none");
}

/* ---- Tables 6-9 ---- */

#define POS CPIM_DN_POSITIVE_DELIVERY
#define NEG CPIM_DN_NEGATIVE_DELIVERY
#define DISP CPIM_DN_DISPLAY
#define PROC CPIM_DN_PROCESSING
#define ALL (POS | NEG | DISP | PROC)

static void test_table6(void **state)
{
	static const struct {
		const char *token;
		int requested;
		imdn_status want;
	} rows[] = {
		{"Retrieved", POS, IMDN_ST_DELIVERED},
		{"Retrieved", ALL, IMDN_ST_DELIVERED},
		{"Retrieved", NEG | DISP | PROC, IMDN_ST_NONE},
		{"Retrieved", 0, IMDN_ST_NONE},
		{"Forwarded", POS, IMDN_ST_DELIVERED},
		{"Forwarded", NEG, IMDN_ST_NONE},
		{"Expired", NEG, IMDN_ST_FAILED},
		{"Expired", POS | DISP | PROC, IMDN_ST_NONE},
		{"Rejected", NEG, IMDN_ST_FAILED},
		{"Rejected", POS, IMDN_ST_NONE},
		{"Unrecognised", NEG, IMDN_ST_FAILED},
		{"Unrecognised", POS, IMDN_ST_NONE},
		{"Unreachable", NEG, IMDN_ST_FAILED},
		{"Unreachable", POS, IMDN_ST_NONE},
		{"Deferred", ALL, IMDN_ST_NONE},
		{"Indeterminate", ALL, IMDN_ST_NONE},
		{"Foo", NEG, IMDN_ST_ERROR},
		{"Foo", POS | DISP | PROC, IMDN_ST_NONE},
		{"", NEG, IMDN_ST_ERROR},
		{"Retrieved-ish", NEG, IMDN_ST_ERROR},
		{"Retrieved-ish", POS, IMDN_ST_NONE},
		/* case-insensitive, trimmed */
		{"retrieved", POS, IMDN_ST_DELIVERED},
		{" RETRIEVED\t", POS, IMDN_ST_DELIVERED},
		{"eXpIrEd", NEG, IMDN_ST_FAILED},
		{"deferred", NEG, IMDN_ST_NONE},
		{"INDETERMINATE", NEG, IMDN_ST_NONE},
		{"Unrecognized", NEG, IMDN_ST_FAILED},
	};
	int i;
	imdn_status got;

	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		got = map_mm_status_to_imdn(S(rows[i].token), rows[i].requested);
		if (got != rows[i].want)
			fail_msg("row %d '%s'/%d: got %s want %s", i, rows[i].token,
					rows[i].requested, imdn_status_name(got),
					imdn_status_name(rows[i].want));
	}
	assert_int_equal(map_mm_status_to_imdn((cm_str){NULL, 0}, NEG),
			IMDN_ST_ERROR);
}

static void test_table8(void **state)
{
	static const struct {
		const char *token;
		int requested;
		imdn_status want;
	} rows[] = {
		{"Read", DISP, IMDN_ST_DISPLAYED},
		{"Read", ALL, IMDN_ST_DISPLAYED},
		{"Read", POS | NEG | PROC, IMDN_ST_NONE},
		{"Read", 0, IMDN_ST_NONE},
		{" read ", DISP, IMDN_ST_DISPLAYED},
		{"READ", DISP, IMDN_ST_DISPLAYED},
		{"Deleted without being read", ALL, IMDN_ST_NONE},
		{"deleted WITHOUT being READ", DISP, IMDN_ST_NONE},
		{"Unread", DISP, IMDN_ST_NONE},
		{"", ALL, IMDN_ST_NONE},
	};
	int i;
	imdn_status got;

	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		got = map_read_status_to_imdn(S(rows[i].token), rows[i].requested);
		if (got != rows[i].want)
			fail_msg("row %d '%s'/%d: got %s want %s", i, rows[i].token,
					rows[i].requested, imdn_status_name(got),
					imdn_status_name(rows[i].want));
	}
}

static void test_table7_9(void **state)
{
	static const struct {
		imdn_status st;
		const char *t7; /* X-Mms-MM-Status-Code or NULL */
		const char *t9; /* X-Mms-Read-Status or NULL */
	} rows[] = {
		{IMDN_ST_DELIVERED, "Retrieved", NULL},
		{IMDN_ST_FAILED, "Rejected", NULL},
		{IMDN_ST_FORBIDDEN, "Indeterminate", NULL},
		{IMDN_ST_ERROR, "Indeterminate", NULL},
		{IMDN_ST_STORED, "Deferred", NULL},
		{IMDN_ST_PROCESSED, NULL, NULL},
		{IMDN_ST_DISPLAYED, NULL, "Read"},
		{IMDN_ST_NONE, NULL, NULL},
		{(imdn_status)99, NULL, NULL},
	};
	const char *got;
	int i;

	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		got = map_imdn_to_mm_status(rows[i].st);
		if (rows[i].t7)
			assert_string_equal(got, rows[i].t7);
		else
			assert_null(got);
		got = map_imdn_to_read_status(rows[i].st);
		if (rows[i].t9)
			assert_string_equal(got, rows[i].t9);
		else
			assert_null(got);
	}
}

/* the tables agree with a report written and read back: MM4 -> IMDN ->
 * MM4 keeps the meaning of the final statuses */
static void test_tables_round_trip(void **state)
{
	assert_string_equal(map_imdn_to_mm_status(map_mm_status_to_imdn(
								S("Retrieved"), POS)),
			"Retrieved");
	assert_string_equal(map_imdn_to_mm_status(map_mm_status_to_imdn(
								S("Rejected"), NEG)),
			"Rejected");
	assert_string_equal(map_imdn_to_read_status(map_read_status_to_imdn(
								S("Read"), DISP)),
			"Read");
}

/* Table 7, expiry row: when the IWF's own Expired report is due */
static void test_expired_due(void **state)
{
	const long long now = 1714558500, row_end = now + 604800;

	/* asked for, X-Mms-Expiry in an hour: then */
	assert_int_equal(map_expired_report_due(1, 1, now, 3600, row_end),
			now + 3600);
	/* no X-Mms-Expiry: the end of the correlation row */
	assert_int_equal(map_expired_report_due(1, 1, now, -1, row_end), row_end);
	/* an X-Mms-Expiry after the row's end: the row's end */
	assert_int_equal(map_expired_report_due(1, 1, now, 604801, row_end),
			row_end);
	/* expiring now (0 s) is still due, and due is never 0 */
	assert_int_equal(map_expired_report_due(1, 1, now, 0, row_end), now);
	assert_int_equal(map_expired_report_due(1, 1, 0, 0, 5), 1);
	/* not asked for, switched off, or no row: never */
	assert_int_equal(map_expired_report_due(0, 1, now, 3600, row_end), 0);
	assert_int_equal(map_expired_report_due(1, 0, now, 3600, row_end), 0);
	assert_int_equal(map_expired_report_due(1, 1, now, 3600, 0), 0);
	assert_string_equal(MAP_MM_STATUS_EXPIRED, "Expired");
	/* the token is one Table 6 reads back as a failure */
	assert_int_equal(map_mm_status_to_imdn(S(MAP_MM_STATUS_EXPIRED), NEG),
			IMDN_ST_FAILED);
}

/* ---- MM4_delivery_report.REQ / MM4_read_reply_report.REQ ---- */

#define T_DR ((time_t)1714558600) /* 2024-05-01T10:16:40Z */

static mm4_report_req dr_req(void)
{
	mm4_report_req r;

	memset(&r, 0, sizeof(r));
	r.type = MM4_DELIVERY_REPORT_REQ;
	r.version = S("6.16.0");
	r.transaction_id = S("b-dr-5521");
	r.message_id = S("iwf-7f3a9c@mms.mnc001.mcc242.gprs");
	r.to = S("+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs");
	r.from = S("+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs");
	r.date = T_DR;
	r.mm_status = S("Retrieved");
	r.forward_to_ua = 1;
	r.ack_request = 1;
	r.originator_system = S("system-user@mms.mnc009.mcc244.gprs");
	r.rfc822_message_id = S("dr-5521@mms.mnc009.mcc244.gprs");
	return r;
}

static void check_headers(cm_buf *b, const char *const (*want)[2], int n)
{
	static mm4_msg m;
	int i;

	assert_crlf_only(b->s, b->len);
	/* no body: the header block ends the mail */
	assert_true(b->len >= 4);
	assert_memory_equal(b->s + b->len - 4, "\r\n\r\n", 4);
	assert_int_equal(mm4_parse(b->s, b->len, &m), MM4_OK);
	assert_int_equal(m.body.len, 0);
	if (m.nhdr != n) {
		for (i = 0; i < m.nhdr; i++)
			print_message("%.*s: %.*s\n", m.hdr[i].name.len,
					m.hdr[i].name.s, m.hdr[i].value.len, m.hdr[i].value.s);
		fail_msg("%d headers, want %d", m.nhdr, n);
	}
	for (i = 0; i < n; i++) {
		assert_str(m.hdr[i].name, want[i][0]);
		assert_str(m.hdr[i].value, want[i][1]);
	}
}

static void test_write_dr(void **state)
{
	static const char *const want[][2] = {
		{"X-Mms-3GPP-MMS-Version", "6.16.0"},
		{"X-Mms-Message-Type", "MM4_delivery_report.REQ"},
		{"X-Mms-Transaction-ID", "\"b-dr-5521\""},
		{"X-Mms-Message-ID", "\"iwf-7f3a9c@mms.mnc001.mcc242.gprs\""},
		{"To", "+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs"},
		{"From", "+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs"},
		{"Date", "Wed, 01 May 2024 10:16:40 +0000"},
		{"X-Mms-MM-Status-Code", "Retrieved"},
		{"X-Mms-Forward-To-Originator-UA", "Yes"},
		{"X-Mms-Ack-Request", "Yes"},
		{"X-Mms-Originator-System", "system-user@mms.mnc009.mcc244.gprs"},
		{"Sender", "system-user@mms.mnc009.mcc244.gprs"},
		{"Message-ID", "<dr-5521@mms.mnc009.mcc244.gprs>"},
	};
	static const char *const want2[][2] = {
		{"X-Mms-3GPP-MMS-Version", "6.16.0"},
		{"X-Mms-Message-Type", "MM4_delivery_report.REQ"},
		{"X-Mms-Transaction-ID", "\"b-dr-5521\""},
		{"X-Mms-Message-ID", "\"iwf-7f3a9c@mms.mnc001.mcc242.gprs\""},
		{"To", "+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs"},
		{"From", "+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs"},
		{"Date", "Wed, 01 May 2024 10:16:40 +0000"},
		{"X-Mms-MM-Status-Code", "Rejected"},
		{"X-Mms-Status-Text", "=?UTF-8?B?bm8gw6Z4?="},
		{"X-Mms-Forward-To-Originator-UA", "No"},
		{"X-Mms-Ack-Request", "No"},
		{"X-Mms-Originator-System", "system-user@mms.mnc009.mcc244.gprs"},
		{"Sender", "system-user@mms.mnc009.mcc244.gprs"},
		{"Message-ID", "<dr-5521@mms.mnc009.mcc244.gprs>"},
	};
	static const char *const want3[][2] = {
		{"X-Mms-3GPP-MMS-Version", "6.16.0"},
		{"X-Mms-Message-Type", "MM4_delivery_report.REQ"},
		{"X-Mms-Transaction-ID", "\"b-dr-5521\""},
		{"X-Mms-Message-ID", "\"iwf-7f3a9c@mms.mnc001.mcc242.gprs\""},
		{"To", "+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs"},
		{"From", "+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs"},
		{"Date", "Wed, 01 May 2024 10:16:40 +0000"},
		{"X-Mms-MM-Status-Code", "Retrieved"},
		{"X-Mms-Status-Text", "x  Sender: evil"},
		{"X-Mms-Ack-Request", "Yes"},
		{"X-Mms-Originator-System", "system-user@mms.mnc009.mcc244.gprs"},
		{"Sender", "system-user@mms.mnc009.mcc244.gprs"},
		{"Message-ID", "<dr-5521@mms.mnc009.mcc244.gprs>"},
	};
	mm4_report_req r = dr_req();
	cm_buf b;

	/* MM4.md 6.3 */
	cm_buf_init(&b);
	assert_int_equal(mm4_write_report_req(&b, &r), 0);
	check_headers(&b, want, 13);
	cm_buf_free(&b);

	/* status text (RFC 2047 when not ASCII), Forward-To-UA: No,
	 * Ack-Request: No; the read status is ignored in a DR */
	r.mm_status = S("Rejected");
	r.status_text = S("no \xc3\xa6x");
	r.forward_to_ua = 0;
	r.ack_request = 0;
	r.read_status = S("Read");
	cm_buf_init(&b);
	assert_int_equal(mm4_write_report_req(&b, &r), 0);
	check_headers(&b, want2, 14);
	cm_buf_free(&b);

	/* Forward-To-UA omitted; CR/LF cannot add a header */
	r = dr_req();
	r.forward_to_ua = -1;
	r.status_text = S("x\r\nSender: evil");
	cm_buf_init(&b);
	assert_int_equal(mm4_write_report_req(&b, &r), 0);
	check_headers(&b, want3, 13);
	cm_buf_free(&b);
}

static void test_write_rr(void **state)
{
	static const char *const want[][2] = {
		{"X-Mms-3GPP-MMS-Version", "6.16.0"},
		{"X-Mms-Message-Type", "MM4_read_reply_report.REQ"},
		{"X-Mms-Transaction-ID", "\"b-rr-0091\""},
		{"X-Mms-Message-ID", "\"iwf-7f3a9c@mms.mnc001.mcc242.gprs\""},
		{"To", "+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs"},
		{"From", "+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs"},
		{"Date", "Wed, 01 May 2024 10:20:05 +0000"},
		{"X-Mms-Read-Status", "Read"},
		{"X-Mms-Ack-Request", "Yes"},
		{"X-Mms-Originator-System", "system-user@mms.mnc009.mcc244.gprs"},
		{"Sender", "system-user@mms.mnc009.mcc244.gprs"},
		{"Message-ID", "<rr-0091@mms.mnc009.mcc244.gprs>"},
	};
	static const char *const want2[][2] = {
		{"X-Mms-3GPP-MMS-Version", "6.16.0"},
		{"X-Mms-Message-Type", "MM4_read_reply_report.REQ"},
		{"X-Mms-Transaction-ID", "\"b-rr-0091\""},
		{"X-Mms-Message-ID", "\"iwf-7f3a9c@mms.mnc001.mcc242.gprs\""},
		{"To", "+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs"},
		{"From", "+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs"},
		{"Date", "Wed, 01 May 2024 10:20:05 +0000"},
		{"X-Mms-Read-Status", "Deleted without being read"},
		{"X-Mms-Status-Text", "gone"},
		{"X-Mms-Ack-Request", "No"},
		{"X-Mms-Originator-System", "system-user@mms.mnc009.mcc244.gprs"},
		{"Sender", "system-user@mms.mnc009.mcc244.gprs"},
		{"Message-ID", "<rr-0091@mms.mnc009.mcc244.gprs>"},
	};
	mm4_report_req r = dr_req();
	cm_buf b;

	/* MM4.md 6.5: no Forward-To-Originator-UA in a read reply, and
	 * the MM status is ignored */
	r.type = MM4_READ_REPLY_REPORT_REQ;
	r.transaction_id = S("b-rr-0091");
	r.rfc822_message_id = S("rr-0091@mms.mnc009.mcc244.gprs");
	r.date = (time_t)1714558805;
	r.read_status = S("Read");
	r.forward_to_ua = 1;
	cm_buf_init(&b);
	assert_int_equal(mm4_write_report_req(&b, &r), 0);
	check_headers(&b, want, 12);
	cm_buf_free(&b);

	r.read_status = S("Deleted without being read");
	r.status_text = S("gone");
	r.ack_request = 0;
	r.mm_status = S("");
	cm_buf_init(&b);
	assert_int_equal(mm4_write_report_req(&b, &r), 0);
	check_headers(&b, want2, 13);
	cm_buf_free(&b);
}

static void test_write_report_errors(void **state)
{
	mm4_report_req r;
	cm_buf b;
	cm_str *f[8];
	int i, t;

	for (t = 0; t < 2; t++)
		for (i = 0; i < 8; i++) {
			r = dr_req();
			if (t) {
				r.type = MM4_READ_REPLY_REPORT_REQ;
				r.read_status = S("Read");
			}
			f[0] = &r.version;
			f[1] = &r.transaction_id;
			f[2] = &r.message_id;
			f[3] = &r.to;
			f[4] = &r.from;
			f[5] = t ? &r.read_status : &r.mm_status;
			f[6] = &r.originator_system;
			f[7] = &r.rfc822_message_id;
			*f[i] = S("");
			cm_buf_init(&b);
			if (mm4_write_report_req(&b, &r) != -1)
				fail_msg("type %d field %d empty accepted", t, i);
			assert_int_equal(b.len, 0);
			cm_buf_free(&b);
			f[i]->s = NULL;
			f[i]->len = 3;
			cm_buf_init(&b);
			assert_int_equal(mm4_write_report_req(&b, &r), -1);
			cm_buf_free(&b);
		}
	/* blank addresses / statuses */
	cm_buf_init(&b);
	r = dr_req();
	r.to = S("  ");
	assert_int_equal(mm4_write_report_req(&b, &r), -1);
	r = dr_req();
	r.mm_status = S(" \t");
	assert_int_equal(mm4_write_report_req(&b, &r), -1);
	/* a DR without MM status even if it has a read status */
	r = dr_req();
	r.mm_status = S("");
	r.read_status = S("Read");
	assert_int_equal(mm4_write_report_req(&b, &r), -1);
	/* types that are not a report REQ */
	r = dr_req();
	r.type = MM4_FORWARD_REQ;
	assert_int_equal(mm4_write_report_req(&b, &r), -1);
	r.type = MM4_DELIVERY_REPORT_RES;
	assert_int_equal(mm4_write_report_req(&b, &r), -1);
	r.type = MM4_UNKNOWN;
	assert_int_equal(mm4_write_report_req(&b, &r), -1);
	assert_int_equal(b.len, 0);
	r = dr_req();
	assert_int_equal(mm4_write_report_req(NULL, &r), -1);
	assert_int_equal(mm4_write_report_req(&b, NULL), -1);
	b.failed = 1;
	assert_int_equal(mm4_write_report_req(&b, &r), -1);
	cm_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_example),
		cmocka_unit_test(test_parse_prefixed),
		cmocka_unit_test(test_parse_statuses),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_deep),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_fuzz),
		cmocka_unit_test(test_from_sip_body),
		cmocka_unit_test(test_write_example),
		cmocka_unit_test(test_write_optional),
		cmocka_unit_test(test_write_kinds),
		cmocka_unit_test(test_write_mandatory),
		cmocka_unit_test(test_write_escaping),
		cmocka_unit_test(test_write_injection),
		cmocka_unit_test(test_status_name),
		cmocka_unit_test(test_table6),
		cmocka_unit_test(test_table8),
		cmocka_unit_test(test_table7_9),
		cmocka_unit_test(test_tables_round_trip),
		cmocka_unit_test(test_expired_due),
		cmocka_unit_test(test_write_dr),
		cmocka_unit_test(test_write_rr),
		cmocka_unit_test(test_write_report_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
