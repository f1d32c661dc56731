/*
 * cpm_mms - unit tests: MMS -> CPM, Table 4 (map_mm4_to_cpm) and the
 * decoders it uses (mm4.c), Table 5 rank (map_res_status_rank)
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

#include "mapping.h"
#include "charset.h"
#include "fail_alloc.h"

#define S(lit) cm_str_z(lit)
#define NOW ((time_t)1714558505)  /* 2024-05-01T10:15:05Z */
#define T_DATE ((time_t)1714558500) /* Date of the mails below */
#define DOMAIN "mms.iwf.test"
#define RCPT "+4712345678/TYPE=PLMN@" DOMAIN
#define UNIQUE "0123456789abcdef0123456789abcdef"

#define H_VER "X-Mms-3GPP-MMS-Version: 6.16.0\r\n"
#define H_TYPE "X-Mms-Message-Type: MM4_forward.REQ\r\n"
#define H_TID "X-Mms-Transaction-ID: \"tx-1\"\r\n"
#define H_MID "X-Mms-Message-ID: \"mid-1@mms.b.example\"\r\n"
#define H_FROM "From: +358401234567/TYPE=PLMN@mms.b.example\r\n"
#define H_TO "To: " RCPT "\r\n"
#define H_DATE "Date: Wed, 01 May 2024 10:15:00 +0000\r\n"
#define BASE_NOFROM H_VER H_TYPE H_TID H_MID H_TO H_DATE
#define BASE BASE_NOFROM H_FROM
#define TEXT_BODY "Content-Type: text/plain; charset=utf-8\r\n\r\nHi there\r\n"

static void assert_str(cm_str s, const char *want)
{
	if (s.len != (int)strlen(want) || (s.len && memcmp(s.s, want, s.len)))
		fail_msg("got '%.*s', want '%s'", s.len, s.s ? s.s : "", want);
}

static mm4_in_config cfg(void)
{
	mm4_in_config c;

	memset(&c, 0, sizeof(c));
	c.domain = S(DOMAIN);
	c.uri_form = MAP_URI_TEL;
	c.iwf_uri = S("<sip:iwf@iwf.test>");
	c.max_body_size = 0;
	c.max_forward_counter = 10;
	return c;
}

/* mm4_parse works in place: the mail is copied first, and freed before
 * the result is looked at (cpm_out must own everything it holds) */
static int run_full(const char *mail, const mm4_in_config *c, cm_str rcpt,
		cm_str unique, cpm_out *o)
{
	int len = (int)strlen(mail), rc;
	char *buf = malloc(len + 1);
	mm4_msg *m = calloc(1, sizeof(*m));

	assert_non_null(buf);
	assert_non_null(m);
	memcpy(buf, mail, len + 1);
	assert_int_equal(mm4_parse(buf, len, m), MM4_OK);
	rc = map_mm4_to_cpm(m, rcpt, c, unique, NOW, o);
	memset(buf, 'X', len);
	free(buf);
	free(m);
	if (rc == 0) {
		assert_null(o->res_status);
		assert_non_null(o->body.s);
		assert_int_equal((int)strlen(o->body.s), o->body.len);
	} else {
		assert_int_equal(rc, -1);
		assert_non_null(o->res_status);
		assert_non_null(o->res_text);
		assert_null(o->body.s);
	}
	return rc;
}

static int run_cfg(const char *mail, const mm4_in_config *c, cpm_out *o)
{
	return run_full(mail, c, S(RCPT), S(UNIQUE), o);
}

static int run(const char *mail, cpm_out *o)
{
	mm4_in_config c = cfg();

	return run_cfg(mail, &c, o);
}

static char *cat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	assert_non_null(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/* BASE + extra header lines + tail (Content-Type..., empty line, body) */
static int run_with(const char *extra, const char *tail, cpm_out *o)
{
	char *a = cat(BASE, extra), *mail = cat(a, tail);
	int rc = run(mail, o);

	free(a);
	free(mail);
	return rc;
}

static void expect_fail(const char *mail, const char *status,
		const char *text)
{
	cpm_out o;

	if (run(mail, &o) != -1)
		fail_msg("mapped, want %s", status);
	assert_string_equal(o.res_status, status);
	if (text)
		assert_string_equal(o.res_text, text);
	cpm_out_free(&o);
}

static void expect_fail_with(const char *extra, const char *tail,
		const char *status, const char *text)
{
	char *a = cat(BASE, extra), *mail = cat(a, tail);

	expect_fail(mail, status, text);
	free(a);
	free(mail);
}

/* the CPIM body parsed back (the body outlives the result) */
static void cpim_of(const cpm_out *o, cpim_msg *c)
{
	assert_int_equal(cpim_parse(o->body.s, o->body.len, c), CPIM_OK);
}

static int has_line(const cpm_out *o, const char *line)
{
	char *want = cat("\r\n", line);
	int r;

	r = strncmp(o->body.s, line, strlen(line)) == 0
		|| strstr(o->body.s, want) != NULL;
	free(want);
	return r;
}

/* ---- MM4.md 6.1, every Table 4 output at once ---- */

static const char req_61[] =
	"X-Mms-3GPP-MMS-Version: 6.16.0\r\n"
	"X-Mms-Message-Type: MM4_forward.REQ\r\n"
	"X-Mms-Transaction-ID: \"iwf-tx-000123\"\r\n"
	"X-Mms-Message-ID: \"iwf-7f3a9c@mms.mnc001.mcc242.gprs\"\r\n"
	"X-Mms-Ack-Request: Yes\r\n"
	"X-Mms-Originator-System: system-user@mms.mnc001.mcc242.gprs\r\n"
	"Sender: system-user@mms.mnc001.mcc242.gprs\r\n"
	"Message-ID: <20240501101500.7f3a9c@mms.mnc001.mcc242.gprs>\r\n"
	"From: +4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs\r\n"
	"To: +358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs\r\n"
	"Date: Wed, 01 May 2024 10:15:00 +0000\r\n"
	"Subject: Hello\r\n"
	"X-Mms-Message-Class: Personal\r\n"
	"X-Mms-Priority: Normal\r\n"
	"X-Mms-Delivery-Report: Yes\r\n"
	"X-Mms-Read-Reply: Yes\r\n"
	"X-Mms-Sender-Visibility: Show\r\n"
	"X-Mms-Forward-Counter: 1\r\n"
	"X-Mms-Expiry: Wed, 08 May 2024 10:15:00 +0000\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"--b1\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-ID: <text1>\r\n"
	"\r\n"
	"Hi there\r\n"
	"--b1--\r\n";

static const char cpim_61[] =
	"From: <tel:+4712345678>\r\n"
	"To: <tel:+358401234567>\r\n"
	"NS: imdn <urn:ietf:params:imdn>\r\n"
	"imdn.Message-ID: " UNIQUE "\r\n"
	"DateTime: 2024-05-01T10:15:00Z\r\n"
	"imdn.Disposition-Notification: positive-delivery, negative-delivery, "
	"display\r\n"
	"imdn.IMDN-Record-Route: <sip:iwf@iwf.test>\r\n"
	"Subject: Hello\r\n"
	"\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"Hi there";

static void test_example_61(void **state)
{
	mm4_in_config c = cfg();
	cpm_out o;
	cpim_msg cp;

	c.domain = S("mms.mnc009.mcc244.gprs");
	assert_int_equal(run_full(req_61, &c,
			S("+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs"), S(UNIQUE),
			&o), 0);
	assert_string_equal(o.ruri, "tel:+358401234567");
	assert_string_equal(o.from_uri, "tel:+4712345678");
	assert_string_equal(o.from_display, "");
	assert_int_equal(o.anonymous, 0);
	assert_string_equal(o.pai, "tel:+4712345678");
	assert_string_equal(o.subject, "Hello");
	assert_string_equal(o.priority, "normal");
	assert_int_equal(o.expires, 7 * 86400 - 5);
	assert_int_equal(o.max_forwards, 69);
	assert_string_equal(o.sip_date, "Wed, 01 May 2024 10:15:00 GMT");
	assert_string_equal(o.imdn_message_id, UNIQUE);
	assert_int_equal(o.dispositions, CPIM_DN_POSITIVE_DELIVERY
			| CPIM_DN_NEGATIVE_DELIVERY | CPIM_DN_DISPLAY);
	assert_int_equal(o.ack_request, 1);
	assert_int_equal(o.delivery_report, 1);
	assert_int_equal(o.rs_delivery_report, 0);
	assert_int_equal(o.read_reply, 1);
	assert_int_equal(strlen(o.conversation_id), 36);
	assert_int_equal(strlen(o.contribution_id), 36);
	assert_str(o.body, cpim_61);

	/* and the CPIM parser of the other direction reads it back */
	cpim_of(&o, &cp);
	assert_str(cp.from, "<tel:+4712345678>");
	assert_int_equal(cp.nto, 1);
	assert_str(cp.to[0], "<tel:+358401234567>");
	assert_str(cp.imdn_message_id, UNIQUE);
	assert_int_equal(cp.dispositions, o.dispositions);
	assert_int_equal(cp.nrecord_route, 1);
	assert_str(cp.imdn_record_route[0], "<sip:iwf@iwf.test>");
	assert_str(cp.subject, "Hello");
	assert_str(cp.content_type, "text/plain; charset=utf-8");
	assert_str(cp.body, "Hi there");
	cpm_out_free(&o);
	cpm_out_free(&o); /* twice is harmless */
	assert_null(o.body.s);
	assert_int_equal(o.body.len, 0);
}

/* ---- row RCPT TO ---- */

static void test_rcpt(void **state)
{
	mm4_in_config c = cfg();
	cpm_out o;

	assert_int_equal(run_full(BASE TEXT_BODY, &c, S("<" RCPT ">"), S(UNIQUE),
			&o), 0);
	assert_string_equal(o.ruri, "tel:+4712345678");
	assert_true(has_line(&o, "To: <tel:+4712345678>"));
	cpm_out_free(&o);
	/* no domain, no '+' */
	assert_int_equal(run_full(BASE TEXT_BODY, &c, S("4712345678/TYPE=PLMN"),
			S(UNIQUE), &o), 0);
	assert_string_equal(o.ruri, "tel:+4712345678");
	cpm_out_free(&o);

	/* sip: form, host from cpm_domain, else the MMS domain */
	c.uri_form = MAP_URI_SIP_PHONE;
	c.cpm_domain = S("ims.iwf.test");
	assert_int_equal(run_cfg(BASE TEXT_BODY, &c, &o), 0);
	assert_string_equal(o.ruri, "sip:+4712345678@ims.iwf.test;user=phone");
	assert_string_equal(o.from_uri,
			"sip:+358401234567@ims.iwf.test;user=phone");
	assert_true(has_line(&o, "To: <sip:+4712345678@ims.iwf.test;user=phone>"));
	cpm_out_free(&o);
	c.cpm_domain = S("");
	assert_int_equal(run_cfg(BASE TEXT_BODY, &c, &o), 0);
	assert_string_equal(o.ruri, "sip:+4712345678@" DOMAIN ";user=phone");
	cpm_out_free(&o);
	c.cpm_domain = S("bad host>");
	assert_int_equal(run_cfg(BASE TEXT_BODY, &c, &o), -1);
	assert_string_equal(o.res_status, "Error-unspecified");
	cpm_out_free(&o);
}

static int count_lines(const cpm_out *o, const char *prefix)
{
	const char *p = o->body.s;
	int n = 0, len = (int)strlen(prefix);

	while (p && *p && !(p[0] == '\r' && p[1] == '\n')) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		p = strstr(p, "\r\n");
		if (p)
			p += 2;
	}
	return n;
}

/* Table 4, rows To / Cc: a group MMS shows the other To/Cc recipients as
 * CPIM cc (in the CPIM header block, after To); the recipient itself and
 * Bcc (envelope-only) recipients never */
static void test_group_cc(void **state)
{
	static const char extra[] =
		"To: +4790000001/TYPE=PLMN@mms.b.example, " RCPT "\r\n"
		"Cc: \"Ann, A.\" <+4790000002/TYPE=PLMN@mms.c.example>,\r\n"
		" bob@mail.example, 1.2.3.4/TYPE=IPv4@mms.c.example,\r\n"
		" +4790000001/TYPE=PLMN@mms.b.example, undisclosed-recipients:;\r\n";
	char *a = cat(BASE, extra), *mail = cat(a, TEXT_BODY);
	mm4_in_config c = cfg();
	cpm_out o;

	assert_int_equal(run_full(mail, &c, S(RCPT), S(UNIQUE), &o), 0);
	assert_true(has_line(&o, "To: <tel:+4712345678>\r\n"
			"cc: <tel:+4790000001>\r\n"
			"cc: <tel:+4790000002>\r\n"
			"cc: <mailto:bob@mail.example>\r\n"
			"NS: imdn"));
	assert_int_equal(count_lines(&o, "cc:"), 3);
	assert_int_equal(count_lines(&o, "To:"), 1);
	cpm_out_free(&o);

	/* a Bcc recipient (in the envelope only) sees everybody in To/Cc,
	 * and its own address is in no header */
	assert_int_equal(run_full(mail, &c, S("+4799999999/TYPE=PLMN@" DOMAIN),
			S(UNIQUE), &o), 0);
	assert_int_equal(count_lines(&o, "cc:"), 4);
	assert_true(has_line(&o, "cc: <tel:+4712345678>"));
	assert_true(has_line(&o, "To: <tel:+4799999999>"));
	assert_int_equal(count_lines(&o, "cc: <tel:+4799999999>"), 0);
	cpm_out_free(&o);

	/* sip: form like the To */
	c.uri_form = MAP_URI_SIP_PHONE;
	c.cpm_domain = S("ims.iwf.test");
	assert_int_equal(run_full(mail, &c, S(RCPT), S(UNIQUE), &o), 0);
	assert_true(has_line(&o, "cc: <sip:+4790000001@ims.iwf.test;user=phone>"));
	cpm_out_free(&o);
	free(a);
	free(mail);

	/* one recipient: no cc; an unbalanced list is left out, not fatal */
	c = cfg();
	assert_int_equal(run_cfg(BASE TEXT_BODY, &c, &o), 0);
	assert_int_equal(count_lines(&o, "cc:"), 0);
	cpm_out_free(&o);
	assert_int_equal(run_with("Cc: \"x <+4790000001/TYPE=PLMN@b>\r\n",
			TEXT_BODY, &o), 0);
	assert_int_equal(count_lines(&o, "cc:"), 0);
	cpm_out_free(&o);
}

static void test_rcpt_not_plmn(void **state)
{
	static const char *const bad[] = {
		"bob@mail.example", "1.2.3.4/TYPE=IPv4@" DOMAIN,
		"+1234567890123456/TYPE=PLMN@" DOMAIN, "", "+/TYPE=PLMN@" DOMAIN,
	};
	mm4_in_config c = cfg();
	cpm_out o;
	int i;

	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		assert_int_equal(run_full(BASE TEXT_BODY, &c, S(bad[i]), S(UNIQUE),
				&o), -1);
		assert_string_equal(o.res_status, "Error-sending-address-unresolved");
		cpm_out_free(&o);
	}
}

/* ---- row From ---- */

static void from_case(const char *from_hdr, const char *want)
{
	char *a = cat(BASE_NOFROM, from_hdr), *mail = cat(a, TEXT_BODY);
	cpm_out o;

	if (run(mail, &o) != 0)
		fail_msg("%s: %s %s", from_hdr, o.res_status, o.res_text);
	assert_string_equal(o.from_uri, want);
	assert_string_equal(o.pai, want);
	cpm_out_free(&o);
	free(a);
	free(mail);
}

static void test_from(void **state)
{
	from_case("From: +4798765432/TYPE=PLMN@mms.b.example\r\n",
			"tel:+4798765432");
	/* seen in the wild: no @domain */
	from_case("From: +15550001/TYPE=PLMN\r\n", "tel:+15550001");
	from_case("From: 15550001/type=plmn@x\r\n", "tel:+15550001");
	from_case("From: <+4798765432/TYPE=PLMN@mms.b.example>\r\n",
			"tel:+4798765432");
	from_case("From: \"Kari\" <+4798765432/TYPE=PLMN@mms.b.example>\r\n",
			"tel:+4798765432");
	/* e-mail originators */
	from_case("From: alice@mail.example\r\n", "mailto:alice@mail.example");
	from_case("From: Alice <alice.b+x@mail.example>\r\n",
			"mailto:alice.b+x@mail.example");
	from_case("From: a/b=c@mail.example\r\n", "mailto:a%2Fb%3Dc@mail.example");
}

static void test_from_bad(void **state)
{
	static const char *const bad[] = {
		"From: Alice\r\n", "From: @mail.example\r\n", "From: alice@\r\n",
		"From: +1234567890123456/TYPE=PLMN@mms.b.example\r\n",
		"From: alice@mail example\r\n", "From: <alice@x;y>\r\n",
	};
	int i;

	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		char *a = cat(BASE_NOFROM, bad[i]), *mail = cat(a, TEXT_BODY);

		expect_fail(mail, "Error-message-format-corrupt", NULL);
		free(a);
		free(mail);
	}
}

/* ---- row X-Mms-Sender-Visibility ---- */

static void test_sender_hidden(void **state)
{
	cpm_out o;
	cpim_msg cp;

	assert_int_equal(run_with("X-Mms-Sender-Visibility: hide\r\n", TEXT_BODY,
			&o), 0);
	assert_int_equal(o.anonymous, 1);
	assert_string_equal(o.from_display, "Anonymous");
	assert_string_equal(o.from_uri, "sip:anonymous@anonymous.invalid");
	assert_string_equal(o.pai, "tel:+358401234567"); /* glue adds Privacy */
	assert_true(has_line(&o,
			"From: \"Anonymous\" <sip:anonymous@anonymous.invalid>"));
	assert_null(strstr(o.body.s, "358401234567"));
	cpim_of(&o, &cp);
	assert_int_equal(map_sender_hidden(cp.from, S("")), 1);
	cpm_out_free(&o);

	assert_int_equal(run_with("X-Mms-Sender-Visibility: Show\r\n", TEXT_BODY,
			&o), 0);
	assert_int_equal(o.anonymous, 0);
	assert_string_equal(o.from_display, "");
	assert_string_equal(o.from_uri, "tel:+358401234567");
	cpm_out_free(&o);
}

/* ---- the SIP side of Table 4: header fields, From, To ---- */

static void test_sip_head(void **state)
{
	cpm_out o;
	map_sip_head h;
	const char *want;
	mm4_in_config c = cfg();

	c.domain = S("mms.mnc009.mcc244.gprs");
	assert_int_equal(run_full(req_61, &c,
			S("+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs"), S(UNIQUE),
			&o), 0);
	assert_int_equal(map_cpm_out_sip(&o, "tel:+358401234567", &h), 0);
	want = "P-Asserted-Identity: <tel:+4712345678>\r\n"
		"Subject: Hello\r\n"
		"Priority: normal\r\n"
		"Expires: 604795\r\n"
		"Max-Forwards: 69\r\n"
		"Date: Wed, 01 May 2024 10:15:00 GMT\r\n"
		"Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service"
		".ims.icsi.oma.cpm.msg\"\r\n"
		"P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg\r\n";
	assert_int_equal(strncmp(h.hdrs.s, want, strlen(want)), 0);
	assert_non_null(strstr(h.hdrs.s, "\r\nConversation-ID: "));
	assert_non_null(strstr(h.hdrs.s, "\r\nContribution-ID: "));
	assert_non_null(strstr(h.hdrs.s, "\r\nContent-Type: message/cpim\r\n"));
	assert_null(strstr(h.hdrs.s, "Privacy"));
	assert_string_equal(h.from, "<tel:+4712345678>");
	assert_string_equal(h.to, "<tel:+358401234567>");
	cm_buf_free(&h.hdrs);
	cpm_out_free(&o);

	/* hidden sender: anonymous From, the real one only in PAI + Privacy */
	assert_int_equal(run_with("X-Mms-Sender-Visibility: hide\r\n", TEXT_BODY,
			&o), 0);
	assert_int_equal(map_cpm_out_sip(&o, "tel:+4712345678", &h), 0);
	assert_string_equal(h.from,
			"\"Anonymous\" <sip:anonymous@anonymous.invalid>");
	assert_non_null(strstr(h.hdrs.s,
			"P-Asserted-Identity: <tel:+358401234567>\r\nPrivacy: id\r\n"));
	cm_buf_free(&h.hdrs);
	cpm_out_free(&o);

	/* a mailto: originator is not an RFC 3325 identity; no Subject, no
	 * Expires, no Priority: no such header fields */
	memset(&o, 0, sizeof(o));
	snprintf(o.pai, sizeof(o.pai), "mailto:a@b.example");
	snprintf(o.from_uri, sizeof(o.from_uri), "mailto:a@b.example");
	o.expires = -1;
	o.max_forwards = 70;
	assert_int_equal(map_cpm_out_sip(&o, "sip:+4712345678@cpm.test;user=phone",
			&h), 0);
	assert_null(strstr(h.hdrs.s, "P-Asserted-Identity"));
	assert_null(strstr(h.hdrs.s, "Subject"));
	assert_null(strstr(h.hdrs.s, "Expires"));
	assert_null(strstr(h.hdrs.s, "Priority"));
	assert_int_equal(strncmp(h.hdrs.s, "Max-Forwards: 70\r\n", 18), 0);
	assert_string_equal(h.from, "<mailto:a@b.example>");
	assert_string_equal(h.to, "<sip:+4712345678@cpm.test;user=phone>");
	cm_buf_free(&h.hdrs);
}

static void test_imdn_sip_head(void **state)
{
	map_sip_head h;

	assert_int_equal(map_imdn_sip("tel:+4712345678", "sip:alice@cpm.test",
			&h), 0);
	assert_string_equal(h.hdrs.s,
			"P-Asserted-Identity: <tel:+4712345678>\r\n"
			"P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg\r\n"
			"Content-Type: message/cpim\r\n");
	assert_string_equal(h.from, "<tel:+4712345678>");
	assert_string_equal(h.to, "<sip:alice@cpm.test>");
	cm_buf_free(&h.hdrs);
}

/* ---- mandatory headers, quirks ---- */

static void test_mandatory(void **state)
{
	expect_fail(H_VER H_TYPE H_MID H_FROM H_TO H_DATE TEXT_BODY,
			"Error-message-format-corrupt", NULL);
	expect_fail(H_VER H_TYPE "X-Mms-Transaction-ID: \"\"\r\n" H_MID H_FROM
			H_TO H_DATE TEXT_BODY,
			"Error-message-format-corrupt", NULL);
	expect_fail(H_VER H_TYPE H_TID H_FROM H_TO H_DATE TEXT_BODY,
			"Error-message-format-corrupt", NULL);
	expect_fail(H_VER H_TYPE H_TID H_MID H_TO H_DATE TEXT_BODY,
			"Error-message-format-corrupt", "missing mandatory header");
	expect_fail(H_VER H_TYPE H_TID H_MID "From: \r\n" H_TO H_DATE TEXT_BODY,
			"Error-message-format-corrupt", NULL);
	/* not a forward REQ */
	expect_fail(H_VER "X-Mms-Message-Type: MM4_delivery_report.REQ\r\n" H_TID
			H_MID H_FROM H_TO H_DATE TEXT_BODY,
			"Error-unsupported-message", NULL);
}

static void test_quirks(void **state)
{
	cpm_out o;

	/* Mbuni: version 5.5.0, ids quoted, no To/Cc (envelope only), odd
	 * header name case, no Date */
	assert_int_equal(run("X-Mms-3GPP-MMS-Version: 5.5.0\r\n"
			"x-mms-message-type: mm4_forward.req\r\n"
			"X-Mms-Transaction-Id: \"001\"\r\n"
			"X-MMS-Message-ID: \"abc@mbuni\"\r\n"
			"from: +15550001/TYPE=PLMN\r\n"
			TEXT_BODY, &o), 0);
	assert_string_equal(o.from_uri, "tel:+15550001");
	assert_string_equal(o.sip_date, "Wed, 01 May 2024 10:15:05 GMT");
	assert_true(has_line(&o, "DateTime: 2024-05-01T10:15:05Z"));
	cpm_out_free(&o);
	/* no version at all is tolerated too */
	assert_int_equal(run(H_TYPE H_TID H_MID H_FROM TEXT_BODY, &o), 0);
	cpm_out_free(&o);
}

static void test_lf_only(void **state)
{
	cpm_out o;
	cpim_msg cp;

	assert_int_equal(run("X-Mms-3GPP-MMS-Version: 6.16.0\n"
			"X-Mms-Message-Type: MM4_forward.REQ\n"
			"X-Mms-Transaction-ID: tx-9\n"
			"X-Mms-Message-ID: mid-9\n"
			"From: +4798765432/TYPE=PLMN@mms.b.example\n"
			"Subject: line\n ends\n"
			"Content-Type: multipart/related; type=\"application/smil\";\n"
			"\tboundary=zz\n"
			"\n"
			"--zz\n"
			"Content-Type: application/smil\n"
			"\n"
			"<smil/>\n"
			"--zz\n"
			"Content-Type: text/plain\n"
			"\n"
			"one\ntwo\n"
			"--zz--\n", &o), 0);
	assert_string_equal(o.subject, "line ends");
	cpim_of(&o, &cp);
	assert_str(cp.content_type, "text/plain; charset=utf-8");
	assert_str(cp.body, "one\r\ntwo");
	cpm_out_free(&o);
}

/* ---- row Subject ---- */

static void subject_case(const char *hdr, const char *want)
{
	cpm_out o;
	char *line;

	if (run_with(hdr, TEXT_BODY, &o) != 0)
		fail_msg("%s: %s", hdr, o.res_text);
	assert_string_equal(o.subject, want);
	if (want[0]) {
		line = cat("Subject: ", want);
		assert_true(has_line(&o, line));
		free(line);
	} else {
		assert_null(strstr(o.body.s, "Subject:"));
	}
	cpm_out_free(&o);
}

static void test_subject(void **state)
{
	subject_case("Subject: Hello  world\r\n", "Hello  world");
	subject_case("", "");
	subject_case("Subject:   \r\n", "");
	/* B and Q, UTF-8 */
	subject_case("Subject: =?UTF-8?B?SGVpIHDDpSBkZWc=?=\r\n", "Hei p\xc3\xa5 deg");
	subject_case("Subject: =?utf-8?q?caf=C3=A9_au_lait?=\r\n",
			"caf\xc3\xa9 au lait");
	/* ISO-8859-1 converted */
	subject_case("Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n",
			"Gr\xc3\xbc\xc3\x9f" "e");
	subject_case("Subject: =?iso-8859-1?B?5uj4?=\r\n", "\xc3\xa6\xc3\xa8\xc3\xb8");
	/* folded: the whitespace between two words goes, around text stays */
	subject_case("Subject: Re: =?UTF-8?B?SGVp?=\r\n =?UTF-8?Q?_p=C3=A5?= deg\r\n",
			"Re: Hei p\xc3\xa5 deg");
	/* any charset iconv knows (charset.c); broken words stay as written */
	subject_case("Subject: =?KOI8-R?B?8NLJ18XU?= x\r\n",
			"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 x");
	subject_case("Subject: =?GB2312?B?1tDOxA==?=\r\n =?Big5?B?wrKwVA==?=\r\n",
			"\xe4\xb8\xad\xe6\x96\x87\xe7\xb0\xa1\xe8\xa8\x8a"); /* 中文簡訊 */
	subject_case("Subject: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\n",
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"); /* 日本語 */
	subject_case("Subject: =?UTF-16?B?/v8ASABpACAnEw==?=\r\n", "Hi \xe2\x9c\x93");
	subject_case("Subject: =?UTF-8?B?#####?=\r\n", "=?UTF-8?B?#####?=");
	subject_case("Subject: =?UTF-8?Q?a=ZZ?=\r\n", "=?UTF-8?Q?a=ZZ?=");
	subject_case("Subject: 2+2=?\r\n", "2+2=?");
	/* encoded CR, LF and NUL are dropped, TAB is a space */
	subject_case("Subject: =?UTF-8?Q?a=0D=0Ab=00c=09d?=\r\n", "abc d");
	/* raw 8-bit: UTF-8 kept, else the value is windows-1252; C1 -> '?' */
	subject_case("Subject: K\xc3\xb8ln\r\n", "K\xc3\xb8ln");
	subject_case("Subject: K\xf8ln \x85\r\n", "K\xc3\xb8ln \xe2\x80\xa6");
	subject_case("Subject: \x80 \x81 =?UTF-8?Q?=C2=9F?=\r\n", "\xe2\x82\xac ? ?");
	subject_case("Subject: K\xf8ln =?UTF-8?Q?=E2=9C=93?=\r\n",
			"K\xc3\xb8ln \xe2\x9c\x93");
}

/* a Subject that cannot be converted: the MM is refused, the RES says why */
static void test_subject_charset_bad(void **state)
{
	expect_fail_with("Subject: =?x-no-such?Q?a?=\r\n", TEXT_BODY,
			"Error-content-not-accepted",
			"Subject in an unknown charset: x-no-such");
	expect_fail_with("Subject: ok =?UTF-8?B?/w==?=\r\n", TEXT_BODY,
			"Error-content-not-accepted",
			"Subject not valid in charset: UTF-8");
	expect_fail_with("Subject: =?Shift_JIS*ja?Q?=93?=\r\n", TEXT_BODY,
			"Error-content-not-accepted",
			"Subject not valid in charset: Shift_JIS");
}

static void test_subject_truncated(void **state)
{
	char hdr[2000];
	cpm_out o;
	int i, n;

	/* 700 x U+00E9 (2 bytes): cut at 510 bytes, never inside one */
	n = snprintf(hdr, sizeof(hdr), "Subject: ");
	for (i = 0; i < 700; i++)
		n += snprintf(hdr + n, sizeof(hdr) - n, "\xc3\xa9");
	snprintf(hdr + n, sizeof(hdr) - n, "\r\n");
	assert_int_equal(run_with(hdr, TEXT_BODY, &o), 0);
	assert_int_equal(strlen(o.subject), 510);
	assert_int_equal((unsigned char)o.subject[509], 0xa9);
	cpm_out_free(&o);
	/* 3-byte characters: 170 fit (510 bytes) */
	n = snprintf(hdr, sizeof(hdr), "Subject: a");
	for (i = 0; i < 300; i++)
		n += snprintf(hdr + n, sizeof(hdr) - n, "\xe2\x82\xac");
	snprintf(hdr + n, sizeof(hdr) - n, "\r\n");
	assert_int_equal(run_with(hdr, TEXT_BODY, &o), 0);
	assert_int_equal(strlen(o.subject), 1 + 170 * 3);
	cpm_out_free(&o);
}

/* ---- row Date ---- */

static void test_date(void **state)
{
	cpm_out o;

	assert_int_equal(run(H_VER H_TYPE H_TID H_MID H_FROM
			"Date: Thu, 2 May 2024 01:00:00 +0200\r\n" TEXT_BODY, &o), 0);
	assert_string_equal(o.sip_date, "Wed, 01 May 2024 23:00:00 GMT");
	assert_true(has_line(&o, "DateTime: 2024-05-01T23:00:00Z"));
	cpm_out_free(&o);
	/* unreadable: now */
	assert_int_equal(run(H_VER H_TYPE H_TID H_MID H_FROM
			"Date: yesterday\r\n" TEXT_BODY, &o), 0);
	assert_string_equal(o.sip_date, "Wed, 01 May 2024 10:15:05 GMT");
	cpm_out_free(&o);
}

/* ---- row X-Mms-Expiry ---- */

static void test_expiry(void **state)
{
	cpm_out o;

	assert_int_equal(run_with("", TEXT_BODY, &o), 0);
	assert_int_equal(o.expires, -1);
	cpm_out_free(&o);
	assert_int_equal(run_with("X-Mms-Expiry: Wed, 01 May 2024 11:15:05 +0000\r\n",
			TEXT_BODY, &o), 0);
	assert_int_equal(o.expires, 3600);
	cpm_out_free(&o);
	/* relative seconds (tolerated on input) */
	assert_int_equal(run_with("X-Mms-Expiry: 86400\r\n", TEXT_BODY, &o), 0);
	assert_int_equal(o.expires, 86400);
	cpm_out_free(&o);
	assert_int_equal(run_with("X-Mms-Expiry: 99999999999999999999\r\n",
			TEXT_BODY, &o), 0);
	assert_int_equal(o.expires, 0x7fffffff);
	cpm_out_free(&o);
	/* unreadable: no Expires */
	assert_int_equal(run_with("X-Mms-Expiry: soon\r\n", TEXT_BODY, &o), 0);
	assert_int_equal(o.expires, -1);
	cpm_out_free(&o);
	/* already past */
	expect_fail_with("X-Mms-Expiry: Wed, 01 May 2024 10:15:04 +0000\r\n",
			TEXT_BODY, "Error-unspecified", "message expired");
	expect_fail_with("X-Mms-Expiry: Wed, 01 May 2024 10:15:05 +0000\r\n",
			TEXT_BODY, "Error-unspecified", "message expired");
	expect_fail_with("X-Mms-Expiry: 0\r\n", TEXT_BODY, "Error-unspecified",
			"message expired");
}

/* ---- row X-Mms-Ack-Request with mm4_ack_default 1 ---- */

static void ack_case(const mm4_in_config *c, const char *hdr, int want)
{
	char *mail = cat(BASE, hdr), *full = cat(mail, TEXT_BODY);
	cpm_out o;

	assert_int_equal(run_cfg(full, c, &o), 0);
	if (o.ack_request != want)
		fail_msg("'%s': ack %d, want %d", hdr, o.ack_request, want);
	cpm_out_free(&o);
	free(mail);
	free(full);
}

static void test_ack_default(void **state)
{
	mm4_in_config c = cfg();

	c.ack_default = 1;
	ack_case(&c, "", 1);
	ack_case(&c, "X-Mms-Ack-Request: other\r\n", 1);
	ack_case(&c, "X-Mms-Ack-Request: No\r\n", 0);
	ack_case(&c, "X-Mms-Ack-Request: 0\r\n", 0);
	ack_case(&c, "X-Mms-Ack-Request: Yes\r\n", 1);
	c.ack_default = 0;
	ack_case(&c, "", 0);
	ack_case(&c, "X-Mms-Ack-Request: YES\r\n", 1);
	/* the pure row the listener uses for every REQ type */
	assert_int_equal(map_ack_requested(S(""), 0), 0);
	assert_int_equal(map_ack_requested(S(""), 1), 1);
	assert_int_equal(map_ack_requested((cm_str){NULL, 0}, 0), 0);
	assert_int_equal(map_ack_requested(S(" No "), 1), 0);
	assert_int_equal(map_ack_requested(S("1"), 0), 1);
	assert_int_equal(map_ack_requested(S("Yess"), 0), 0);
}

/* ---- row X-Mms-Priority ---- */

static void test_priority(void **state)
{
	static const char *const in[] = {"Low", "normal", "HIGH", " High ",
		"urgent", ""};
	static const char *const want[] = {"non-urgent", "normal", "urgent",
		"urgent", NULL, NULL};
	char hdr[64];
	cpm_out o;
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(hdr, sizeof(hdr), "X-Mms-Priority: %s\r\n", in[i]);
		assert_int_equal(run_with(hdr, TEXT_BODY, &o), 0);
		if (want[i])
			assert_string_equal(o.priority, want[i]);
		else
			assert_null(o.priority);
		cpm_out_free(&o);
	}
}

/* ---- row X-Mms-Forward-Counter ---- */

static void test_forward_counter(void **state)
{
	mm4_in_config c = cfg();
	cpm_out o;

	assert_int_equal(run_with("", TEXT_BODY, &o), 0);
	assert_int_equal(o.max_forwards, 70);
	cpm_out_free(&o);
	assert_int_equal(run_with("X-Mms-Forward-Counter: 1\r\n", TEXT_BODY, &o),
			0);
	assert_int_equal(o.max_forwards, 69);
	cpm_out_free(&o);
	assert_int_equal(run_with("X-Mms-Forward-Counter: 10\r\n", TEXT_BODY, &o),
			0);
	assert_int_equal(o.max_forwards, 60);
	cpm_out_free(&o);
	assert_int_equal(run_with("X-Mms-Forward-Counter: x\r\n", TEXT_BODY, &o),
			0);
	assert_int_equal(o.max_forwards, 70);
	cpm_out_free(&o);
	expect_fail_with("X-Mms-Forward-Counter: 11\r\n", TEXT_BODY,
			"Error-service-denied", "forwarding loop");
	expect_fail_with("X-Mms-Forward-Counter: 99999999999999999999\r\n",
			TEXT_BODY, "Error-service-denied", "forwarding loop");
	/* no limit */
	c.max_forward_counter = 0;
	assert_int_equal(run_cfg(BASE "X-Mms-Forward-Counter: 500\r\n" TEXT_BODY,
			&c, &o), 0);
	assert_int_equal(o.max_forwards, 1);
	cpm_out_free(&o);
}

/* ---- rows Delivery-Report, Read-Reply, Ack-Request, Message-Class ---- */

static void reports_case(const char *hdrs, int dn, int dr, int rs, int rr,
		int ack)
{
	cpm_out o;
	cpim_msg cp;

	if (run_with(hdrs, TEXT_BODY, &o) != 0)
		fail_msg("%s: %s", hdrs, o.res_text);
	assert_int_equal(o.dispositions, dn);
	assert_int_equal(o.delivery_report, dr);
	assert_int_equal(o.rs_delivery_report, rs);
	assert_int_equal(o.read_reply, rr);
	assert_int_equal(o.ack_request, ack);
	cpim_of(&o, &cp);
	assert_int_equal(cp.dispositions, dn);
	assert_int_equal(cp.nrecord_route, dn ? 1 : 0);
	if (!dn)
		assert_null(strstr(o.body.s, "Disposition-Notification"));
	assert_true(has_line(&o, "NS: imdn <urn:ietf:params:imdn>"));
	cpm_out_free(&o);
}

#define DN_DEL (CPIM_DN_POSITIVE_DELIVERY | CPIM_DN_NEGATIVE_DELIVERY)

static void test_reports(void **state)
{
	reports_case("", 0, 0, 0, 0, 0);
	reports_case("X-Mms-Delivery-Report: Yes\r\n", DN_DEL, 1, 0, 0, 0);
	reports_case("X-Mms-Delivery-Report: No\r\nX-Mms-Read-Reply: No\r\n", 0,
			0, 0, 0, 0);
	reports_case("X-Mms-Originator-R/S-Delivery-Report: Yes\r\n", DN_DEL, 0,
			1, 0, 0);
	reports_case("X-Mms-Read-Reply: yes\r\n", CPIM_DN_DISPLAY, 0, 0, 1, 0);
	/* what real MMSCs send */
	reports_case("X-Mms-Read-Report: Yes\r\n", CPIM_DN_DISPLAY, 0, 0, 1, 0);
	reports_case("X-Mms-Delivery-Report: 1\r\nX-Mms-Read-Report: Yes\r\n",
			DN_DEL | CPIM_DN_DISPLAY, 1, 0, 1, 0);
	reports_case("X-Mms-Ack-Request: No\r\n", 0, 0, 0, 0, 0);
	reports_case("X-Mms-Ack-Request: Yes\r\n", 0, 0, 0, 0, 1);
	/* machine-generated: no IMDN requested, the REQ flags kept */
	reports_case("X-Mms-Message-Class: auto\r\nX-Mms-Delivery-Report: Yes\r\n"
			"X-Mms-Read-Reply: Yes\r\n", 0, 1, 0, 1, 0);
	reports_case("X-Mms-Message-Class: Personal\r\n"
			"X-Mms-Delivery-Report: Yes\r\n", DN_DEL, 1, 0, 0, 0);
	/* TS 23.140: no header = no RES asked for (mm4_ack_default 0) */
	reports_case("X-Mms-Ack-Request: 1\r\n", 0, 0, 0, 0, 1);
	reports_case("X-Mms-Ack-Request:  yes \r\n", 0, 0, 0, 0, 1);
	reports_case("X-Mms-Ack-Request: 0\r\n", 0, 0, 0, 0, 0);
	reports_case("X-Mms-Ack-Request: maybe\r\n", 0, 0, 0, 0, 0);
	reports_case("X-Mms-Ack-Request:\r\n", 0, 0, 0, 0, 0);
}

static void test_record_route(void **state)
{
	mm4_in_config c = cfg();
	cpm_out o;

	c.iwf_uri = S("sip:iwf@iwf.test");
	assert_int_equal(run_cfg(BASE "X-Mms-Read-Reply: Yes\r\n" TEXT_BODY, &c,
			&o), 0);
	assert_true(has_line(&o, "imdn.IMDN-Record-Route: <sip:iwf@iwf.test>"));
	cpm_out_free(&o);
	c.iwf_uri = S("");
	assert_int_equal(run_cfg(BASE "X-Mms-Read-Reply: Yes\r\n" TEXT_BODY, &c,
			&o), 0);
	assert_null(strstr(o.body.s, "IMDN-Record-Route"));
	cpm_out_free(&o);
}

/* ---- ids ---- */

static int uuid_like(const char *u)
{
	int i;

	if (strlen(u) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdef", u[i])) {
			return 0;
		}
	}
	return u[14] == '8' && strchr("89ab", u[19]) != NULL;
}

static void test_ids(void **state)
{
	mm4_in_config c = cfg();
	cpm_out a, b, x;
	char conv[40];
	int i;

	assert_int_equal(run_full(BASE TEXT_BODY, &c, S(RCPT), S(UNIQUE), &a), 0);
	assert_int_equal(run_full(BASE TEXT_BODY, &c, S(RCPT), S(UNIQUE), &b), 0);
	assert_int_equal(run_full(BASE TEXT_BODY, &c, S(RCPT), S("u2"), &x), 0);
	assert_string_equal(a.imdn_message_id, UNIQUE);
	assert_string_equal(x.imdn_message_id, "u2");
	assert_true(uuid_like(a.conversation_id));
	assert_true(uuid_like(a.contribution_id));
	assert_true(uuid_like(x.conversation_id));
	assert_string_not_equal(a.conversation_id, a.contribution_id);
	/* deterministic; Contribution-ID per MM, Conversation-ID per pair */
	assert_string_equal(a.conversation_id, b.conversation_id);
	assert_string_equal(a.contribution_id, b.contribution_id);
	assert_string_equal(a.conversation_id, x.conversation_id);
	assert_string_not_equal(a.contribution_id, x.contribution_id);
	snprintf(conv, sizeof(conv), "%s", a.conversation_id);
	cpm_out_free(&a);
	cpm_out_free(&b);
	cpm_out_free(&x);

	/* a token that is not a safe id: 32 hex digits derived from it */
	assert_int_equal(run_full(BASE TEXT_BODY, &c, S(RCPT),
			S("17324.x@host/with spaces"), &x), 0);
	assert_int_equal(strlen(x.imdn_message_id), 32);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", x.imdn_message_id[i]));
	assert_true(has_line(&x, "imdn.Message-ID: "));
	cpm_out_free(&x);
	assert_int_equal(run_full(BASE TEXT_BODY, &c, S(RCPT),
			S("0123456789012345678901234567890123456789012345678901234567"
			  "890123"), &x), 0);
	assert_int_equal(strlen(x.imdn_message_id), 32); /* 64 do not fit */
	cpm_out_free(&x);
	assert_int_equal(run_full(BASE TEXT_BODY, &c, S(RCPT), S(" "), &x), -1);
	assert_string_equal(x.res_status, "Error-unspecified");
	cpm_out_free(&x);
}

/* Conversation-ID: one per originator/recipient pair, either way round;
 * per MM for a hidden sender */
static void test_conversation_id(void **state)
{
	mm4_in_config c = cfg();
	cpm_out a, b, x, y, h1, h2;

	assert_int_equal(run_full(BASE TEXT_BODY, &c, S(RCPT), S("m1"), &a), 0);
	assert_int_equal(run_full(BASE TEXT_BODY, &c, S(RCPT), S("m2"), &b), 0);
	assert_string_equal(a.conversation_id, b.conversation_id);
	/* another recipient, another originator: other conversations */
	assert_int_equal(run_full(BASE TEXT_BODY, &c,
			S("+4712345679/TYPE=PLMN@" DOMAIN), S("m3"), &x), 0);
	assert_string_not_equal(a.conversation_id, x.conversation_id);
	assert_int_equal(run_full(BASE_NOFROM
			"From: +358401234568/TYPE=PLMN@mms.b.example\r\n" TEXT_BODY, &c,
			S(RCPT), S("m4"), &y), 0);
	assert_string_not_equal(a.conversation_id, y.conversation_id);
	cpm_out_free(&y);
	/* the reverse direction's pair (recipient and originator swapped,
	 * both tel: URIs) is the same conversation */
	assert_int_equal(run_full(BASE_NOFROM "From: +4712345678/TYPE=PLMN@"
			"mms.b.example\r\n" TEXT_BODY, &c,
			S("+358401234567/TYPE=PLMN@" DOMAIN), S("m5"), &y), 0);
	assert_string_equal(a.conversation_id, y.conversation_id);
	/* hidden sender: a new one per MM */
	assert_int_equal(run_full(BASE "X-Mms-Sender-Visibility: Hide\r\n"
			TEXT_BODY, &c, S(RCPT), S("m6"), &h1), 0);
	assert_int_equal(run_full(BASE "X-Mms-Sender-Visibility: Hide\r\n"
			TEXT_BODY, &c, S(RCPT), S("m7"), &h2), 0);
	assert_string_not_equal(h1.conversation_id, h2.conversation_id);
	assert_string_not_equal(h1.conversation_id, a.conversation_id);
	cpm_out_free(&a);
	cpm_out_free(&b);
	cpm_out_free(&x);
	cpm_out_free(&y);
	cpm_out_free(&h1);
	cpm_out_free(&h2);
}

/* ---- row Content-Type + body ---- */

static void body_case(const char *tail, const char *ct, const char *cte,
		const char *payload)
{
	cpm_out o;
	cpim_msg cp;

	if (run_with("", tail, &o) != 0)
		fail_msg("%s %s", o.res_status, o.res_text);
	cpim_of(&o, &cp);
	assert_str(cp.content_type, ct);
	assert_str(cp.content_transfer_encoding, cte);
	assert_str(cp.body, payload);
	cpm_out_free(&o);
}

static void test_body_text(void **state)
{
	body_case(TEXT_BODY, "text/plain; charset=utf-8", "", "Hi there");
	/* only the last line end goes */
	body_case("Content-Type: text/plain\r\n\r\nHi\r\n\r\n",
			"text/plain; charset=utf-8", "", "Hi\r\n");
	body_case("Content-Type: text/plain; charset=\"ISO-8859-1\"\r\n\r\nK\xf8ln\r\n",
			"text/plain; charset=utf-8", "", "K\xc3\xb8ln");
	body_case("Content-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n"
			"SGkg\r\ndGhlcmUg\r\n4pi6\r\n",
			"text/plain; charset=utf-8", "", "Hi there \xe2\x98\xba");
	body_case("Content-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			"caf=C3=A9 au =\r\nlait=20\r\nsecond line\r\n",
			"text/plain; charset=utf-8", "", "caf\xc3\xa9 au lait \r\nsecond line");
	/* the subtype stays */
	body_case("Content-Type: text/x-vCard\r\n\r\nBEGIN:VCARD\r\nEND:VCARD\r\n",
			"text/x-vCard; charset=utf-8", "", "BEGIN:VCARD\r\nEND:VCARD");
	/* no Content-Type: RFC 2045 text/plain */
	body_case("\r\nplain\r\n", "text/plain; charset=utf-8", "", "plain");
	/* empty body */
	body_case("Content-Type: text/plain\r\n\r\n", "text/plain; charset=utf-8",
			"", "");
	/* an encoding we cannot decode: passed with its header */
	body_case("Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uue\r\n"
			"\r\nbegin 644\r\n",
			"text/plain", "x-uue", "begin 644\r\n");
}

static const char related_smil_text[] =
	"Content-Type: application/vnd.wap.multipart.related;\r\n"
	" type=\"application/smil\"; start=\"<smil>\"; boundary=\"=_r1\"\r\n"
	"\r\n"
	"--=_r1\r\n"
	"Content-Type: application/smil; charset=utf-8\r\n"
	"Content-ID: <smil>\r\n"
	"\r\n"
	"<smil><body><par><text src=\"t.txt\"/></par></body></smil>\r\n"
	"--=_r1\r\n"
	"Content-Type: text/plain; charset=ISO-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"Content-Location: t.txt\r\n"
	"\r\n"
	"Hei p=E5 deg\r\n"
	"--=_r1--\r\n";

static const char mixed_text_jpeg[] =
	"Content-Type: multipart/mixed; boundary=b2\r\n"
	"\r\n"
	"preamble\r\n"
	"--b2\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"Look\r\n"
	"--b2\r\n"
	"Content-Type: image/jpeg\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Location: cat.jpg\r\n"
	"\r\n"
	"/9j/4AAQSkZJRgABAQEASABIAAD/\r\n"
	"2wBDAP//\r\n"
	"--b2--\r\n";

static void test_body_multipart(void **state)
{
	const char *body;
	char *mail;
	cpm_out o;

	/* SMIL + one text: the text, decoded */
	body_case(related_smil_text, "text/plain; charset=utf-8", "",
			"Hei p\xc3\xa5 deg");
	/* text + image: the multipart as received */
	body = strstr(mixed_text_jpeg, "\r\n\r\n") + 4;
	body_case(mixed_text_jpeg, "multipart/mixed; boundary=b2", "", body);
	/* WSP type rewritten, parameters kept */
	mail = cat("Content-Type: application/vnd.wap.multipart.mixed; boundary=b2",
			strstr(mixed_text_jpeg, "\r\n"));
	body_case(mail, "multipart/mixed; boundary=b2", "", body);
	free(mail);
	mail = cat("Content-Type: multipart/mixed; boundary=b2\r\n"
			"Content-Transfer-Encoding: 7bit",
			strstr(mixed_text_jpeg, "\r\n"));
	body_case(mail, "multipart/mixed; boundary=b2", "7bit", body);
	free(mail);
	/* two text parts: not one text */
	body_case("Content-Type: multipart/alternative; boundary=a\r\n\r\n"
			"--a\r\nContent-Type: text/plain\r\n\r\nx\r\n"
			"--a\r\nContent-Type: text/plain\r\n\r\ny\r\n--a--\r\n",
			"multipart/alternative; boundary=a", "",
			"--a\r\nContent-Type: text/plain\r\n\r\nx\r\n"
			"--a\r\nContent-Type: text/plain\r\n\r\ny\r\n--a--\r\n");
	/* one part without Content-Type (text/plain), base64 */
	body_case("Content-Type: multipart/mixed; boundary=\"q\"\r\n\r\n"
			"--q\r\nContent-Transfer-Encoding: BASE64\r\n\r\naGk=\r\n--q--\r\n",
			"text/plain; charset=utf-8", "", "hi");
	/* SMIL only: passed */
	assert_int_equal(run_with("", "Content-Type: multipart/related; boundary=s"
			"\r\n\r\n--s\r\nContent-Type: application/smil\r\n\r\n<smil/>\r\n"
			"--s--\r\n", &o), 0);
	assert_non_null(strstr(o.body.s, "Content-Type: multipart/related; "
			"boundary=s\r\n"));
	cpm_out_free(&o);
}

/* ---- row text charset: every text toward CPM in UTF-8 ---- */

static void test_body_charset(void **state)
{
	/* UTF-16 with BOM, base64 (the usual form from phones) */
	body_case("Content-Type: text/plain; charset=UTF-16\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n/v8ASABpACAnEw==\r\n",
			"text/plain; charset=utf-8", "", "Hi \xe2\x9c\x93");
	/* UTF-16LE without BOM; UTF-16 without BOM is big-endian */
	body_case("Content-Type: text/plain; charset=\"utf-16le\"\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nSABpAA==\r\n",
			"text/plain; charset=utf-8", "", "Hi");
	body_case("Content-Type: text/plain; charset=ucs-2\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nAEgAaQ==\r\n",
			"text/plain; charset=utf-8", "", "Hi");
	/* 8bit GB2312, Big5, EUC-KR, KOI8-R, windows-1251 */
	body_case("Content-Type: text/plain; charset=GB2312\r\n"
			"Content-Transfer-Encoding: 8bit\r\n\r\n\xd6\xd0\xce\xc4\xb6\xcc\xd0\xc5\r\n",
			"text/plain; charset=utf-8", "",
			"\xe4\xb8\xad\xe6\x96\x87\xe7\x9f\xad\xe4\xbf\xa1");
	body_case("Content-Type: text/plain; charset=big5\r\n\r\n"
			"\xa4\xa4\xa4\xe5\xc2\xb2\xb0\x54\r\n", "text/plain; charset=utf-8",
			"", "\xe4\xb8\xad\xe6\x96\x87\xe7\xb0\xa1\xe8\xa8\x8a");
	body_case("Content-Type: text/plain; charset=euc-kr\r\n\r\n"
			"\xbe\xc8\xb3\xe7\xc7\xcf\xbc\xbc\xbf\xe4\r\n",
			"text/plain; charset=utf-8", "",
			"\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94");
	body_case("Content-Type: text/plain; charset=KOI8-R\r\n\r\n"
			"\xf0\xd2\xc9\xd7\xc5\xd4\r\nline 2\r\n",
			"text/plain; charset=utf-8", "",
			"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\r\nline 2");
	body_case("Content-Type: text/plain; charset=windows-1251\r\n\r\n"
			"\xcf\xf0\xe8\xe2\xe5\xf2\r\n", "text/plain; charset=utf-8", "",
			"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	/* Shift_JIS, quoted-printable */
	body_case("Content-Type: text/plain; charset=Shift_JIS\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			"=93=FA=96=7B=8C=EA\r\n", "text/plain; charset=utf-8", "",
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	/* no charset: US-ASCII; 8-bit bytes UTF-8 if valid, else 1252 */
	body_case("Content-Type: text/plain\r\n\r\nK\xf8ln \x80\r\n",
			"text/plain; charset=utf-8", "", "K\xc3\xb8ln \xe2\x82\xac");
	body_case("Content-Type: text/plain; charset=us-ascii\r\n\r\nK\xc3\xb8ln\r\n",
			"text/plain; charset=utf-8", "", "K\xc3\xb8ln");
	/* a UTF-8 BOM goes */
	body_case("Content-Type: text/plain; charset=utf-8\r\n\r\n\xef\xbb\xbfHi\r\n",
			"text/plain; charset=utf-8", "", "Hi");
	/* SMIL + one text part in EUC-KR, base64 */
	body_case("Content-Type: multipart/related; boundary=r\r\n\r\n"
			"--r\r\nContent-Type: application/smil\r\n\r\n<smil/>\r\n"
			"--r\r\nContent-Type: text/plain; charset=EUC-KR\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nvsiz5w==\r\n--r--\r\n",
			"text/plain; charset=utf-8", "", "\xec\x95\x88\xeb\x85\x95");
}

/* what cannot be converted: Error-content-not-accepted, with the charset */
static void test_body_charset_bad(void **state)
{
	mm4_in_config c = cfg();
	cpm_out o;

	expect_fail_with("", "Content-Type: text/plain; charset=x-no-such\r\n\r\n"
			"x\r\n", "Error-content-not-accepted",
			"text in an unknown charset: x-no-such");
	expect_fail_with("", "Content-Type: text/plain; charset=utf-8\r\n\r\n"
			"K\xf8ln\r\n", "Error-content-not-accepted",
			"text not valid in charset: utf-8");
	expect_fail_with("", "Content-Type: text/plain; charset=Shift_JIS\r\n\r\n"
			"\x93\r\n", "Error-content-not-accepted",
			"text not valid in charset: Shift_JIS");
	expect_fail_with("", "Content-Type: text/plain; charset=UTF-16\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n/v8ASAA=\r\n",
			"Error-content-not-accepted", "text not valid in charset: UTF-16");
	/* a text part of a multipart passed on */
	expect_fail_with("", "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain; charset=big5\r\n\r\n\xa4\r\n"
			"--b\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--b--\r\n",
			"Error-content-not-accepted", "text part not valid in charset: big5");
	expect_fail_with("", "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xff\r\n"
			"--b\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--b--\r\n",
			"Error-content-not-accepted", "text part not valid in charset: utf-8");
	expect_fail_with("", "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/html; charset=\"x y\"\r\n\r\na\r\n"
			"--b\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--b--\r\n",
			"Error-content-not-accepted",
			"text part in an unknown charset: x y");
	/* UTF-16 -> UTF-8 grows: the limit counts the UTF-8 */
	c.max_body_size = 5;
	assert_int_equal(run_cfg(BASE "Content-Type: text/plain; charset=UTF-16BE\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nJxMnEw==\r\n", &c, &o), -1);
	assert_string_equal(o.res_status, "Error-content-not-accepted");
	assert_string_equal(o.res_text, "content too large for pager mode");
	cpm_out_free(&o);
	c.max_body_size = 6;
	assert_int_equal(run_cfg(BASE "Content-Type: text/plain; charset=UTF-16BE\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nJxMnEw==\r\n", &c, &o), 0);
	cpm_out_free(&o);
}

/* a multipart passed on: its text parts converted in place, the rest as
 * received */
static void test_body_multipart_charset(void **state)
{
	/* QP ISO-8859-1 text + image: QP again, charset=utf-8, name kept */
	body_case("Content-Type: multipart/mixed; boundary=b2\r\n\r\n"
			"preamble\r\n"
			"--b2\r\n"
			"Content-Type: text/plain; charset=ISO-8859-1; name=t.txt\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n"
			"Content-Location: t.txt\r\n"
			"\r\n"
			"Hei p=E5 deg\r\n"
			"--b2\r\n"
			"Content-Type: image/gif\r\n"
			"Content-Transfer-Encoding: base64\r\n"
			"\r\n"
			"R0lGODlh\r\n"
			"--b2--\r\n",
			"multipart/mixed; boundary=b2", "",
			"--b2\r\n"
			"Content-Type: text/plain; name=t.txt; charset=utf-8\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n"
			"Content-Location: t.txt\r\n"
			"\r\n"
			"Hei p=C3=A5 deg\r\n"
			"--b2\r\n"
			"Content-Type: image/gif\r\n"
			"Content-Transfer-Encoding: base64\r\n"
			"\r\n"
			"R0lGODlh\r\n"
			"--b2--\r\n");
	/* two text parts: UTF-16 base64 (base64 again), windows-1251 without
	 * a transfer encoding (8bit added); a folded Content-Type */
	body_case("Content-Type: multipart/alternative; boundary=a\r\n\r\n"
			"--a\r\nContent-Type: text/plain;\r\n charset=\"UTF-16\"\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n/v8ASABpACAnEw==\r\n"
			"--a\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\n"
			"\xcf\xf0\xe8\xe2\xe5\xf2\r\n--a--\r\n",
			"multipart/alternative; boundary=a", "",
			"--a\r\nContent-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nSGkg4pyT\r\n"
			"--a\r\nContent-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: 8bit\r\n\r\n"
			"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\r\n--a--\r\n");
	/* only UTF-8 / ASCII text: the multipart byte for byte */
	body_case("Content-Type: multipart/alternative; boundary=a\r\n\r\n"
			"pre\r\n--a\r\nContent-Type: text/plain\r\n\r\nx\r\n"
			"--a\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n\xc3\xa9\r\n"
			"--a--\r\nepilogue\r\n",
			"multipart/alternative; boundary=a", "",
			"pre\r\n--a\r\nContent-Type: text/plain\r\n\r\nx\r\n"
			"--a\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n\xc3\xa9\r\n"
			"--a--\r\nepilogue\r\n");
	/* an encoding we cannot decode: that part as received */
	body_case("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n"
			"Content-Transfer-Encoding: x-uue\r\n\r\nbegin\r\n"
			"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\r\n"
			"--b--\r\n",
			"multipart/mixed; boundary=b", "",
			"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n"
			"Content-Transfer-Encoding: x-uue\r\n\r\nbegin\r\n"
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: 8bit\r\n\r\n\xd0\x9f\r\n"
			"--b--\r\n");
}

/* nested multiparts: WSP types renamed and text converted inside too */
static void test_body_nested(void **state)
{
	body_case("Content-Type: application/vnd.wap.multipart.mixed; boundary=o\r\n"
			"\r\n"
			"--o\r\nContent-Type: application/vnd.wap.multipart.alternative;"
			" boundary=\"i\"\r\nContent-ID: <alt>\r\n\r\n"
			"--i\r\nContent-Type: text/plain; charset=KOI8-R\r\n\r\n\xf0\r\n"
			"--i\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>\r\n"
			"--i--\r\n"
			"--o\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--o--\r\n",
			"multipart/mixed; boundary=o", "",
			"--o\r\nContent-Type: multipart/alternative; boundary=\"i\"\r\n"
			"Content-ID: <alt>\r\n\r\n"
			"--i\r\nContent-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: 8bit\r\n\r\n\xd0\x9f\r\n"
			"--i\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>\r\n"
			"--i--\r\n"
			"\r\n--o\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--o--\r\n");
	/* a part with an empty Content-Type (found by fuzz_mm4_in) */
	body_case("Content-Type: multipart/mixed; boundary=o\r\n\r\n"
			"--o\r\nContent-Type:\r\n\r\n\xe9\r\n"
			"--o\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--o--\r\n",
			"multipart/mixed; boundary=o", "",
			"--o\r\nContent-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9\r\n"
			"--o\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--o--\r\n");
	/* a WSP type nested, nothing else to change: renamed */
	body_case("Content-Type: multipart/mixed; boundary=o\r\n\r\n"
			"--o\r\nContent-Type: application/vnd.wap.multipart.related; "
			"boundary=i\r\n\r\n"
			"--i\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--i--\r\n"
			"--o\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--o--\r\n",
			"multipart/mixed; boundary=o", "",
			"--o\r\nContent-Type: multipart/related; boundary=i\r\n\r\n"
			"--i\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--i--\r\n"
			"\r\n--o\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--o--\r\n");
}

static void test_body_many_parts(void **state)
{
	char *tail = malloc(20000);
	int i, n;
	cpm_out o;

	assert_non_null(tail);
	n = sprintf(tail, "Content-Type: multipart/mixed; boundary=m\r\n\r\n");
	for (i = 0; i < 80; i++)
		n += sprintf(tail + n, "--m\r\nContent-Type: image/gif\r\n\r\nGIF%d\r\n",
				i);
	sprintf(tail + n, "--m--\r\n");
	assert_int_equal(run_with("", tail, &o), 0);
	assert_non_null(strstr(o.body.s, "GIF79\r\n--m--"));
	cpm_out_free(&o);
	/* same without the closing delimiter: corrupt */
	tail[n] = '\0';
	expect_fail_with("", tail, "Error-message-format-corrupt", NULL);
	free(tail);
}

static void test_body_single(void **state)
{
	body_case("Content-Type: image/jpeg; name=cat.jpg\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n",
			"image/jpeg; name=cat.jpg", "base64", "/9j/4AAQ\r\n");
	body_case("Content-Type: application/smil\r\n\r\n<smil/>\r\n",
			"application/smil", "", "<smil/>\r\n");
}

static void test_body_bad(void **state)
{
	expect_fail_with("", "Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n"
			"--b--\r\n", "Error-message-format-corrupt",
			"multipart without boundary");
	expect_fail_with("", "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n",
			"Error-message-format-corrupt",
			"multipart without closing delimiter");
	expect_fail_with("", "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b--\r\n", "Error-message-format-corrupt", "empty multipart");
	expect_fail_with("", "Content-Type: multipart/mixed; boundary=b\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n"
			"LS1iDQoNCngNCi0tYi0tDQo=\r\n", "Error-message-format-corrupt",
			NULL);
	/* undecodable base64: text, a part, a single part */
	expect_fail_with("", "Content-Type: text/plain\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nSGk*\r\n",
			"Error-message-format-corrupt", NULL);
	expect_fail_with("", "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
			"--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: "
			"base64\r\n\r\n/9j/4AAQ!!\r\n--b--\r\n",
			"Error-message-format-corrupt", NULL);
	expect_fail_with("", "Content-Type: image/jpeg\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n/9j/4A=AQ\r\n",
			"Error-message-format-corrupt", NULL);
	expect_fail_with("", "Content-Type: bogus\r\n\r\nx\r\n",
			"Error-message-format-corrupt", NULL);
	/* not user content */
	expect_fail_with("", "Content-Type: message/imdn+xml\r\n\r\n<imdn/>\r\n",
			"Error-content-not-accepted", NULL);
	expect_fail_with("", "Content-Type: Message/CPIM\r\n\r\nFrom: x\r\n",
			"Error-content-not-accepted", NULL);
	expect_fail_with("", "Content-Type: text/plain; charset=\"a b\"\r\n\r\nx\r\n",
			"Error-content-not-accepted", NULL);
}

static void test_body_size(void **state)
{
	mm4_in_config c = cfg();
	cpm_out o;

	c.max_body_size = 8; /* "Hi there" */
	assert_int_equal(run_cfg(BASE TEXT_BODY, &c, &o), 0);
	cpm_out_free(&o);
	c.max_body_size = 7;
	assert_int_equal(run_cfg(BASE TEXT_BODY, &c, &o), -1);
	assert_string_equal(o.res_status, "Error-content-not-accepted");
	assert_string_equal(o.res_text, "content too large for pager mode");
	cpm_out_free(&o);
	/* the decoded size counts, not the encoded one */
	assert_int_equal(run_cfg(BASE "Content-Type: text/plain\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nSGkgdGhlcmU=\r\n", &c, &o),
			-1);
	cpm_out_free(&o);
	c.max_body_size = 8;
	assert_int_equal(run_cfg(BASE "Content-Type: text/plain\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nSGkgdGhlcmU=\r\n", &c, &o),
			0);
	cpm_out_free(&o);
}

/* every allocation may fail: -1 with Error-unspecified, nothing leaks */
static void test_alloc_failure(void **state)
{
	static const char *const tails[] = {TEXT_BODY, related_smil_text,
		mixed_text_jpeg};
	char *a = cat(BASE, "Subject: =?UTF-8?B?SGVp?= x\r\n"
			"X-Mms-Delivery-Report: Yes\r\n");
	int k, t, rc, ok;
	cpm_out o;

	for (t = 0; t < 3; t++) {
		char *mail = cat(a, tails[t]);
		cpm_out ref;

		assert_int_equal(run(mail, &ref), 0);
		ok = 0;
		for (k = 0; k < 40 && !ok; k++) {
			char *buf = strdup(mail);
			mm4_msg *m = calloc(1, sizeof(*m));

			assert_int_equal(mm4_parse(buf, (int)strlen(buf), m), MM4_OK);
			mm4_in_config c = cfg();
			fail_budget = k;
			cm_mem_set(fail_malloc, fail_realloc, free);
			rc = map_mm4_to_cpm(m, S(RCPT), &c, S(UNIQUE), NOW, &o);
			cm_mem_set(malloc, realloc, free);
			if (rc == 0) {
				ok = 1;
				assert_int_equal(o.body.len, ref.body.len);
				assert_memory_equal(o.body.s, ref.body.s, ref.body.len);
			} else {
				assert_string_equal(o.res_status, "Error-unspecified");
				assert_null(o.body.s);
			}
			cpm_out_free(&o);
			free(buf);
			free(m);
		}
		assert_true(ok);
		assert_true(k > 2); /* the loop did fail some allocations */
		cpm_out_free(&ref);
		free(mail);
	}
	free(a);
}

static void test_bad_args(void **state)
{
	mm4_in_config c = cfg();
	cpm_out o;
	mm4_msg m;

	assert_int_equal(map_mm4_to_cpm(NULL, S(RCPT), &c, S(UNIQUE), NOW, &o),
			-1);
	assert_string_equal(o.res_status, "Error-unspecified");
	memset(&m, 0, sizeof(m));
	assert_int_equal(map_mm4_to_cpm(&m, S(RCPT), NULL, S(UNIQUE), NOW, &o),
			-1);
	assert_int_equal(map_mm4_to_cpm(&m, S(RCPT), &c, S(UNIQUE), NOW, NULL),
			-1);
	cpm_out_free(NULL);
}

/* ---- Table 5 companion: worst status wins ---- */

static void test_res_rank(void **state)
{
	static const char *const order[] = {"Ok", "Error-network-problem",
		"Error-unspecified", "Error-service-denied"};
	int i;

	for (i = 0; i + 1 < 4; i++)
		assert_true(map_res_status_rank(order[i])
				< map_res_status_rank(order[i + 1]));
	assert_int_equal(map_res_status_rank("ok"), 0);
	assert_int_equal(map_res_status_rank("Error-transient-failure"),
			map_res_status_rank("Error-network-problem"));
	assert_int_equal(map_res_status_rank("Error-transient-network-problem"),
			map_res_status_rank("Error-network-problem"));
	assert_int_equal(map_res_status_rank("bogus"),
			map_res_status_rank("Error-unspecified"));
	assert_int_equal(map_res_status_rank(NULL),
			map_res_status_rank("Error-unspecified"));
	assert_int_equal(map_res_status_rank("Error-permanent-failure"),
			map_res_status_rank("Error-unspecified"));
	assert_true(map_res_status_rank("Error-permanent-content-not-accepted")
			> map_res_status_rank("Error-unspecified"));
	/* every status this direction produces ranks above Ok; every
	 * Table 5 status too */
	assert_true(map_res_status_rank("Error-message-format-corrupt") > 1);
	assert_true(map_res_status_rank("Error-sending-address-unresolved") > 1);
	assert_true(map_res_status_rank("Error-content-not-accepted") > 1);
	assert_true(map_res_status_rank("Error-unsupported-message") > 1);
	/* only a 2xx ranks as Ok */
	for (i = 0; i < 700; i++)
		assert_int_equal(map_res_status_rank(map_sip_to_res_status(i)) == 0,
				i >= 200 && i < 300);
	assert_int_equal(map_res_status_rank(map_sip_to_res_status(503)), 1);
	assert_int_equal(map_res_status_rank(map_sip_to_res_status(404)), 3);
}

/* ---- decoders ---- */

static void b64_ok(const char *in, const char *want, int wantlen)
{
	cm_buf b;

	cm_buf_init(&b);
	assert_int_equal(mm4_base64_decode(&b, in, (int)strlen(in)), 0);
	assert_int_equal(b.len, wantlen);
	if (wantlen)
		assert_memory_equal(b.s, want, wantlen);
	assert_int_equal(mm4_base64_decode(NULL, in, (int)strlen(in)), 0);
	cm_buf_free(&b);
}

static void b64_bad(const char *in)
{
	cm_buf b;

	cm_buf_init(&b);
	if (mm4_base64_decode(&b, in, (int)strlen(in)) != -1)
		fail_msg("'%s' decoded", in);
	assert_int_equal(mm4_base64_decode(NULL, in, (int)strlen(in)), -1);
	cm_buf_free(&b);
}

static void test_base64_decode(void **state)
{
	unsigned char all[256];
	cm_buf e, d;
	int i;

	b64_ok("", "", 0);
	b64_ok("SGk=", "Hi", 2);
	b64_ok("SGk", "Hi", 2); /* padding missing */
	b64_ok("SGkh", "Hi!", 3);
	b64_ok(" S G\r\nk h \t", "Hi!", 3);
	b64_ok("QQ==\r\n", "A", 1);
	b64_ok("AA==", "\0", 1);
	b64_bad("S");
	b64_bad("SGkhS");
	b64_bad("SG*h");
	b64_bad("SGk=h");
	b64_bad("QQ==QQ==");
	b64_bad("Q===");
	b64_bad("====");
	b64_bad("SGkh=");
	b64_bad("SGk\x80");
	/* round trip through the encoder */
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	for (i = 0; i <= 256; i += 37) {
		cm_buf_init(&e);
		cm_buf_init(&d);
		assert_int_equal(mm4_base64_encode(&e, all, i, 76), 0);
		assert_int_equal(mm4_base64_decode(&d, e.s, e.len), 0);
		assert_int_equal(d.len, i);
		if (i)
			assert_memory_equal(d.s, all, i);
		cm_buf_free(&e);
		cm_buf_free(&d);
	}
	assert_int_equal(mm4_base64_decode(NULL, NULL, -1), -1);
}

static void qp_ok(const char *in, const char *want)
{
	cm_buf b;

	cm_buf_init(&b);
	assert_int_equal(mm4_qp_decode(&b, in, (int)strlen(in)), 0);
	assert_int_equal(b.len, (int)strlen(want));
	if (b.len)
		assert_memory_equal(b.s, want, b.len);
	cm_buf_free(&b);
}

static void test_qp_decode(void **state)
{
	cm_buf e, d;
	static const char text[] = "Gr\xc3\xbc\xc3\x9f" "e = x \r\nline two\t\r\nend";

	qp_ok("", "");
	qp_ok("a=3Db", "a=b");
	qp_ok("caf=C3=a9", "caf\xc3\xa9");
	qp_ok("soft=\r\nbreak", "softbreak");
	qp_ok("soft=\nbreak LF", "softbreak LF");
	qp_ok("trailing   \r\nx", "trailing\r\nx");
	qp_ok("hard\nbreak", "hard\r\nbreak");
	qp_ok("stray = and =Z1 and =", "stray = and =Z1 and ");
	cm_buf_init(&e);
	cm_buf_init(&d);
	assert_int_equal(mm4_qp_encode(&e, (const unsigned char *)text,
			(int)strlen(text)), 0);
	assert_int_equal(mm4_qp_decode(&d, e.s, e.len), 0);
	assert_int_equal(d.len, (int)strlen(text));
	assert_memory_equal(d.s, text, d.len);
	cm_buf_free(&e);
	cm_buf_free(&d);
	assert_int_equal(mm4_qp_decode(NULL, "x", 1), -1);
}

static void rfc2047_ok(const char *in, const char *want)
{
	cm_buf b;
	int rc;

	cm_buf_init(&b);
	rc = mm4_rfc2047_decode(&b, S(in), NULL);
	if (rc != 0)
		fail_msg("'%s': %d", in, rc);
	if (b.len != (int)strlen(want) || (b.len && memcmp(b.s, want, b.len)))
		fail_msg("'%s' -> '%.*s', want '%s'", in, b.len, b.s ? b.s : "", want);
	cm_buf_free(&b);
}

static void rfc2047_err(const char *in, int want, const char *label)
{
	cm_str bad;
	cm_buf b;

	cm_buf_init(&b);
	assert_int_equal(mm4_rfc2047_decode(&b, S(in), &bad), want);
	assert_str(bad, label);
	cm_buf_free(&b);
}

static void test_rfc2047_decode(void **state)
{
	cm_buf b;

	rfc2047_ok("", "");
	rfc2047_ok("plain text", "plain text");
	rfc2047_ok("=?UTF-8?B?w6k=?=", "\xc3\xa9");
	rfc2047_ok("=?utf-8?b?w6k?=", "\xc3\xa9");
	rfc2047_ok("=?UTF-8?Q?a_b=3F?=", "a b?");
	rfc2047_ok("=?US-ASCII?Q?x?=", "x");
	rfc2047_ok("=?ISO-8859-1?Q?=E9t=E9?=", "\xc3\xa9t\xc3\xa9");
	rfc2047_ok("=?latin1?B?6Q==?=", "\xc3\xa9");
	rfc2047_ok("=?UTF-8*en?Q?hi?=", "hi"); /* RFC 2231 language */
	/* adjacent words join; a UTF-8 character may be split over two */
	rfc2047_ok("=?UTF-8?B?w6k=?= \t =?UTF-8?B?w6k=?=", "\xc3\xa9\xc3\xa9");
	rfc2047_ok("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "\xc3\xa9");
	rfc2047_ok("a =?UTF-8?Q?b?= c", "a b c");
	rfc2047_ok("=?UTF-8?Q?b?=  c", "b  c");
	/* any charset; adjacent words in two charsets join too */
	rfc2047_ok("=?UTF-8?Q?b?= =?KOI8-R?Q?x?=", "bx");
	rfc2047_ok("=?KOI8-R?B?8NLJ18XU?= =?UTF-8?Q?b?=",
			"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" "b");
	rfc2047_ok("=?ISO-8859-1?Q?Gr=FC=DFe?= =?EUC-KR?B?vsiz5w==?=",
			"Gr\xc3\xbc\xc3\x9f" "e\xec\x95\x88\xeb\x85\x95");
	rfc2047_ok("=?windows-1251?Q?=CF=F0=E8=E2=E5=F2?=",
			"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	rfc2047_ok("=?UTF-16LE?B?SABpAA==?=", "Hi");
	/* a character split over two words of one charset comes out whole */
	rfc2047_ok("=?UTF-16BE?Q?=00H=00?= =?UTF-16BE?Q?i?=", "Hi");
	rfc2047_ok("=?GB2312?Q?=D6?=\r\n =?gb2312?Q?=D0=CE=C4?=",
			"\xe4\xb8\xad\xe6\x96\x87");
	rfc2047_ok("=?GB18030?B?1tDO?= =?GB18030?B?xJQ5/DY=?=",
			"\xe4\xb8\xad\xe6\x96\x87\xf0\x9f\x98\x80"); /* 中文😀 */
	/* raw 8-bit outside words: UTF-8 if the value is, else windows-1252 */
	rfc2047_ok("K\xf8ln =?UTF-8?Q?=E2=9C=93?=", "K\xc3\xb8ln \xe2\x9c\x93");
	rfc2047_ok("K\xc3\xb8ln \x93x\x94", "K\xc3\x83\xc2\xb8ln \xe2\x80\x9cx\xe2\x80\x9d");
	rfc2047_ok("K\xc3\xb8ln", "K\xc3\xb8ln");
	/* kept as written */
	rfc2047_ok("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	rfc2047_ok("=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?=");
	rfc2047_ok("=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated");
	rfc2047_ok("=?" "?Q?x?=", "=?" "?Q?x?=");
	rfc2047_ok("=?UTF-8?Q?=4?=", "=?UTF-8?Q?=4?=");
	rfc2047_ok("=?", "=?");
	rfc2047_ok("x=?UTF-8?Q?y?=", "xy");
	rfc2047_ok("=?UTF-8?B?" "?=", "");
	cm_buf_init(&b);
	assert_int_equal(mm4_rfc2047_decode(NULL, S("x"), NULL), -1);
	cm_buf_free(&b);
	/* what cannot be converted: the error and the word's label */
	rfc2047_err("=?x-no-such?Q?a?=", CS_UNKNOWN, "x-no-such");
	rfc2047_err("a =?UTF-8?B?/w==?= b", CS_INVALID, "UTF-8");
	rfc2047_err("=?UTF-8*en?Q?=C3?= =?ISO-8859-1?Q?x?=", CS_INVALID, "UTF-8");
	rfc2047_err("=?UTF-8?Q?=C3?= x =?UTF-8?Q?=A9?=", CS_INVALID, "UTF-8");
	rfc2047_err("=?Shift_JIS?Q?=93?=", CS_INVALID, "Shift_JIS");
	rfc2047_err("=?UTF-16?B?2AA=?=", CS_INVALID, "UTF-16"); /* lone surrogate */
	rfc2047_err("=?UTF-8//TRANSLIT?Q?a?=", CS_UNKNOWN, "UTF-8//TRANSLIT");
}

/* every allocation may fail: -1, nothing leaks */
static void test_rfc2047_alloc_failure(void **state)
{
	static const char *const in[] = {"=?KOI8-R?B?8NLJ18XU?= x",
		"K\xf8ln =?UTF-8?Q?=E2=9C=93?=", "=?UTF-8?Q?b?= =?GBK?B?1tA=?="};
	int i, k, rc, ok;
	cm_buf b;

	for (i = 0; i < 3; i++) {
		for (ok = 0, k = 0; k < 20 && !ok; k++) {
			cm_buf_init(&b);
			fail_budget = k;
			cm_mem_set(fail_malloc, fail_realloc, free);
			rc = mm4_rfc2047_decode(&b, S(in[i]), NULL);
			cm_mem_set(malloc, realloc, free);
			if (rc == 0)
				ok = 1;
			else
				assert_int_equal(rc, CS_NOMEM);
			cm_buf_free(&b);
		}
		assert_true(ok);
		assert_true(k > 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_61),
		cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_rcpt_not_plmn),
		cmocka_unit_test(test_group_cc),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_from_bad),
		cmocka_unit_test(test_sender_hidden),
		cmocka_unit_test(test_sip_head),
		cmocka_unit_test(test_imdn_sip_head),
		cmocka_unit_test(test_mandatory),
		cmocka_unit_test(test_quirks),
		cmocka_unit_test(test_lf_only),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_subject_truncated),
		cmocka_unit_test(test_subject_charset_bad),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_forward_counter),
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_ack_default),
		cmocka_unit_test(test_record_route),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_conversation_id),
		cmocka_unit_test(test_body_text),
		cmocka_unit_test(test_body_multipart),
		cmocka_unit_test(test_body_charset),
		cmocka_unit_test(test_body_charset_bad),
		cmocka_unit_test(test_body_multipart_charset),
		cmocka_unit_test(test_body_nested),
		cmocka_unit_test(test_body_many_parts),
		cmocka_unit_test(test_body_single),
		cmocka_unit_test(test_body_bad),
		cmocka_unit_test(test_body_size),
		cmocka_unit_test(test_alloc_failure),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_res_rank),
		cmocka_unit_test(test_base64_decode),
		cmocka_unit_test(test_qp_decode),
		cmocka_unit_test(test_rfc2047_decode),
		cmocka_unit_test(test_rfc2047_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
