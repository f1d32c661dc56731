/*
 * cpm_mms - unit tests: the mapping tables (mapping.c)
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
#include "rfcdate.h"

#define S(lit) cm_str_z(lit)
#define NOW ((time_t)1795540202) /* 2026-11-24T17:10:02Z */
#define T_CPIM ((time_t)1714558500) /* 2024-05-01T10:15:00Z */
#define DOMAIN "mms.iwf.example"

static void assert_str(cm_str s, const char *want)
{
	if (s.len != (int)strlen(want) || (s.len && memcmp(s.s, want, s.len)))
		fail_msg("got '%.*s', want '%s'", s.len, s.s ? s.s : "", want);
}

static map_config cfg(void)
{
	map_config c;

	memset(&c, 0, sizeof(c));
	c.mms_version = S("6.16.0");
	c.domain = S(DOMAIN);
	c.system_address = S("system-user@" DOMAIN);
	c.max_message_size = 0;
	c.max_recipients = 0;
	c.use_cpim_recipients = 0;
	return c;
}

/* a plain text/plain MESSAGE from +4712345678 to +358401234567 */
static cpm_request req_plain(const char *body)
{
	cpm_request r;

	memset(&r, 0, sizeof(r));
	r.ruri = S("sip:+358401234567@ims.example.net;user=phone");
	r.from = S("<tel:+4712345678>;tag=abc");
	r.expires = -1;
	r.max_forwards = -1;
	r.content_type = S("text/plain; charset=utf-8");
	r.body = S(body);
	return r;
}

/* CPIM_IMDN_ENUM.md sec. 3.1 */
static const char cpim_31[] =
	"From: <tel:+4712345678>\r\n"
	"To: <tel:+358401234567>\r\n"
	"NS: imdn <urn:ietf:params:imdn>\r\n"
	"imdn.Message-ID: Ab12Cd34\r\n"
	"DateTime: 2024-05-01T10:15:00.000Z\r\n"
	"imdn.Disposition-Notification: positive-delivery, negative-delivery, "
	"display\r\n"
	"\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"Hi there";

static cpm_request req_cpim(const char *cpim)
{
	cpm_request r = req_plain(cpim);

	r.content_type = S("message/cpim");
	return r;
}

static map_result *res_new(void)
{
	map_result *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	return m;
}

static int map(const cpm_request *r, const map_config *c, map_result *m)
{
	return map_cpm_to_mm4(r, c, S("u-7f3a9c"), NOW, m);
}

static void expect_fail(const cpm_request *r, const map_config *c, int code)
{
	map_result *m = res_new();

	if (map(r, c, m) != -1 || m->sip_code != code)
		fail_msg("want %d, got code %d", code, m->sip_code);
	assert_non_null(m->sip_reason);
	free(m);
}

/* ---- the sec. 3.1 request, every Table 1 output at once ---- */

static void test_cpim_request(void **state)
{
	cpm_request r = req_cpim(cpim_31);
	map_config c = cfg();
	map_result *m = res_new();
	mm4_forward_req *q = &m->req;

	r.ruri = S("sip:+358401234567@ims.example.net");
	r.from = S("<tel:+4712345678>;tag=x");
	r.max_forwards = 68;
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->sip_code, 0);
	assert_int_equal(m->is_cpim, 1);
	assert_int_equal(m->nrcpt, 1);
	assert_string_equal(m->rcpt_e164[0], "+358401234567");
	assert_int_equal(q->nto, 0); /* the glue fills To after ENUM */
	assert_string_equal(m->sender_e164, "+4712345678");
	assert_string_equal(m->sender_addr, "+4712345678/TYPE=PLMN@" DOMAIN);
	assert_str(q->from, "+4712345678/TYPE=PLMN@" DOMAIN);
	assert_int_equal(q->date, T_CPIM);
	assert_int_equal(q->has_expiry, 0);
	assert_int_equal(m->dispositions, CPIM_DN_POSITIVE_DELIVERY
			| CPIM_DN_NEGATIVE_DELIVERY | CPIM_DN_DISPLAY);
	assert_int_equal(q->delivery_report, 1);
	assert_int_equal(q->read_reply, 1);
	assert_str(q->priority, "");
	assert_int_equal(q->sender_hidden, 0);
	assert_str(q->subject, "");
	assert_int_equal(q->ack_request, 1);
	assert_int_equal(q->forward_counter, 0); /* never written */
	assert_str(q->message_class, "Personal");
	assert_str(q->version, "6.16.0");
	assert_str(q->originator_system, "system-user@" DOMAIN);
	assert_str(m->imdn_message_id, "Ab12Cd34");
	/* the MM id is the IWF's own, never the client's imdn.Message-ID */
	assert_string_equal(m->message_id, "u-7f3a9c@" DOMAIN);
	assert_str(q->message_id, "u-7f3a9c@" DOMAIN);
	assert_string_equal(m->rfc822_id, "u-7f3a9c@" DOMAIN);
	assert_str(q->rfc822_message_id, "u-7f3a9c@" DOMAIN);
	assert_str(q->content_type, "text/plain; charset=utf-8");
	assert_str(q->content_transfer_encoding, "");
	assert_str(q->body, "Hi there");
	assert_str(q->transaction_id, "");
	free(m);
}

/* ---- Table 1, row by row ---- */

typedef struct ruri_case {
	const char *ruri;
	int code;          /* 0: ok */
	const char *e164;
} ruri_case;

static void test_t1_request_uri(void **state)
{
	static const ruri_case cases[] = {
		{"tel:+358401234567", 0, "+358401234567"},
		{"tel:+358-40-123-4567", 0, "+358401234567"},
		{"sip:+358401234567@ims.example.net;user=phone", 0, "+358401234567"},
		{"sips:+358401234567@ims.example.net", 0, "+358401234567"},
		{"<sip:+358401234567@x>", 0, "+358401234567"},
		{"sip:alice@ims.example.net", 404, NULL},
		{"sip:358401234567@ims.example.net", 404, NULL},
		{"tel:+3584012345670000", 404, NULL},
		{"tel:12345678;phone-context=+358", 404, NULL},
		{"tel:1234567;phone-context=+358", 484, NULL},
		{"sip:1234@ims.example.net;user=phone", 484, NULL},
		{"tel:12-34", 484, NULL},
		{"sip:112@x", 484, NULL},
		{"", 404, NULL},
	};
	map_config c = cfg();
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		cpm_request r = req_plain("hi");
		map_result *m = res_new();
		int rc;

		r.ruri = S(cases[i].ruri);
		rc = map(&r, &c, m);
		if (cases[i].code == 0) {
			if (rc != 0 || m->nrcpt != 1
					|| strcmp(m->rcpt_e164[0], cases[i].e164))
				fail_msg("'%s': rc %d", cases[i].ruri, rc);
		} else if (rc != -1 || m->sip_code != cases[i].code) {
			fail_msg("'%s': want %d got %d", cases[i].ruri, cases[i].code,
					m->sip_code);
		} else if (strcmp(m->sip_reason, cases[i].code == 404
						   ? "Not Found" : "Address Incomplete")) {
			fail_msg("'%s': reason %s", cases[i].ruri, m->sip_reason);
		}
		free(m);
	}
}

typedef struct sender_case {
	const char *pai;
	const char *from;
	const char *cpim_from; /* NULL: not CPIM */
	const char *want;      /* NULL: 400 */
} sender_case;

static void test_t1_sender(void **state)
{
	static const sender_case cases[] = {
		/* PAI wins */
		{"<tel:+4711111111>", "<tel:+4722222222>;tag=1", NULL, "+4711111111"},
		{"\"A\" <sip:+4711111111@ims.example.net;user=phone>",
			"<tel:+4722222222>;tag=1", "<tel:+4733333333>", "+4711111111"},
		/* PAI not E.164 -> From */
		{"<sip:alice@ims.example.net>", "<tel:+4722222222>;tag=1", NULL,
			"+4722222222"},
		{"", "\"Bob\" <sip:+4722222222@h>;tag=1", NULL, "+4722222222"},
		/* neither -> CPIM From */
		{"", "<sip:alice@h>;tag=1", "<tel:+4733333333>", "+4733333333"},
		{"", "\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1",
			"\"Anonymous\" <sip:anonymous@anonymous.invalid>", NULL},
		{"", "<sip:alice@h>;tag=1", NULL, NULL},
		{"", "", NULL, NULL},
	};
	map_config c = cfg();
	char cpim[512];
	char want_addr[128];
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		cpm_request r;
		map_result *m = res_new();
		int rc;

		if (cases[i].cpim_from) {
			snprintf(cpim, sizeof(cpim), "From: %s\r\nTo: <tel:+358401234567>"
					"\r\n\r\nContent-Type: text/plain\r\n\r\nhi",
					cases[i].cpim_from);
			r = req_cpim(cpim);
		} else {
			r = req_plain("hi");
		}
		r.pai = S(cases[i].pai);
		r.from = S(cases[i].from);
		rc = map(&r, &c, m);
		if (cases[i].want) {
			snprintf(want_addr, sizeof(want_addr), "%s/TYPE=PLMN@" DOMAIN,
					cases[i].want);
			if (rc != 0 || strcmp(m->sender_e164, cases[i].want)
					|| strcmp(m->sender_addr, want_addr))
				fail_msg("case %d: rc %d sender %s", i, rc, m->sender_e164);
			assert_str(m->req.from, want_addr);
		} else if (rc != -1 || m->sip_code != 400
				|| strcmp(m->sip_reason, "Bad Request")) {
			fail_msg("case %d: want 400, got %d", i, m->sip_code);
		}
		free(m);
	}
}

typedef struct ct_case {
	const char *sip_ct;
	const char *body;
	int code;             /* 0: ok */
	const char *want_ct;
	const char *want_body;
} ct_case;

static void test_t1_content_type(void **state)
{
	static const ct_case cases[] = {
		{"text/plain; charset=utf-8", "hi", 0, "text/plain; charset=utf-8",
			"hi"},
		{"", "hi", 0, "text/plain;charset=utf-8", "hi"},
		{"image/jpeg", "\xff\xd8\xff", 0, "image/jpeg", "\xff\xd8\xff"},
		{"multipart/related; type=\"application/smil\"; boundary=b",
			"--b\r\n\r\nx\r\n--b--", 0,
			"multipart/related; type=\"application/smil\"; boundary=b",
			"--b\r\n\r\nx\r\n--b--"},
		{"message/imdn+xml", "<imdn/>", 415, NULL, NULL},
		{"Message/IMDN+XML; charset=utf-8", "<imdn/>", 415, NULL, NULL},
		{"application/im-iscomposing+xml", "<x/>", 415, NULL, NULL},
		/* CPIM payloads */
		{"message/cpim", "From: <tel:+4712345678>\r\n\r\n"
			"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
			"\r\niVBORw0K", 0, "image/png", "iVBORw0K"},
		{"message/cpim", "From: <tel:+4712345678>\r\n\r\n\r\nplain", 0,
			"text/plain;charset=utf-8", "plain"},
		{"message/cpim", "From: <tel:+4712345678>\r\n\r\n"
			"Content-Type: message/imdn+xml\r\n"
			"Content-Disposition: notification\r\n\r\n<imdn/>", 415, NULL,
			NULL},
		{"message/cpim", "From: <tel:+4712345678>\r\n\r\n"
			"Content-Type: message/cpim\r\n\r\nFrom: x\r\n\r\n", 415, NULL,
			NULL},
		/* unparsable CPIM */
		{"message/cpim", "From: <tel:+4712345678>\r\nno blank line", 400, NULL,
			NULL},
		{"message/cpim", "", 400, NULL, NULL},
		{"message/cpim", "garbage without colon\r\n\r\nx", 400, NULL, NULL},
	};
	map_config c = cfg();
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		cpm_request r = req_plain(cases[i].body);
		map_result *m = res_new();
		int rc;

		r.content_type = S(cases[i].sip_ct);
		rc = map(&r, &c, m);
		if (cases[i].code) {
			if (rc != -1 || m->sip_code != cases[i].code)
				fail_msg("case %d: want %d got %d", i, cases[i].code,
						m->sip_code);
		} else {
			if (rc != 0)
				fail_msg("case %d: rc %d code %d", i, rc, m->sip_code);
			assert_str(m->req.content_type, cases[i].want_ct);
			assert_str(m->req.body, cases[i].want_body);
		}
		free(m);
	}
}

static void test_t1_content_transfer_encoding(void **state)
{
	cpm_request r = req_cpim("From: <tel:+4712345678>\r\n\r\n"
			"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
			"\r\niVBORw0K");
	map_config c = cfg();
	map_result *m = res_new();

	assert_int_equal(map(&r, &c, m), 0);
	assert_str(m->req.content_transfer_encoding, "base64");
	free(m);
}

static void test_t1_size(void **state)
{
	cpm_request r = req_plain("12345");
	cpm_request rc = req_cpim(cpim_31);
	map_config c = cfg();
	map_result *m = res_new();

	c.max_message_size = 5;
	assert_int_equal(map(&r, &c, m), 0);
	c.max_message_size = 4;
	expect_fail(&r, &c, 413);
	/* the payload counts, not the CPIM wrapper ("Hi there" = 8) */
	c.max_message_size = 8;
	assert_int_equal(map(&rc, &c, m), 0);
	c.max_message_size = 7;
	expect_fail(&rc, &c, 413);
	free(m);
}

typedef struct date_case {
	const char *cpim_dt;  /* NULL: not CPIM */
	const char *sip_date;
	time_t want;
} date_case;

static void test_t1_date(void **state)
{
	static const date_case cases[] = {
		{"2024-05-01T10:15:00.000Z", "Wed, 01 May 2024 10:20:05 +0000",
			T_CPIM},
		{"2024-05-01T12:15:00+02:00", "", T_CPIM},
		{"bogus", "Wed, 01 May 2024 10:20:05 +0000", 1714558805},
		{NULL, "Wed, 01 May 2024 10:20:05 GMT", 1714558805},
		{NULL, "", NOW},
		{NULL, "yesterday", NOW},
		{"", "", NOW},
	};
	map_config c = cfg();
	char cpim[512];
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		cpm_request r;
		map_result *m = res_new();

		if (cases[i].cpim_dt) {
			snprintf(cpim, sizeof(cpim), "From: <tel:+4712345678>\r\n"
					"DateTime: %s\r\n\r\nContent-Type: text/plain\r\n\r\nhi",
					cases[i].cpim_dt);
			r = req_cpim(cpim);
		} else {
			r = req_plain("hi");
		}
		r.date = S(cases[i].sip_date);
		assert_int_equal(map(&r, &c, m), 0);
		if (m->req.date != cases[i].want)
			fail_msg("case %d: %lld", i, (long long)m->req.date);
		free(m);
	}
}

static void test_t1_expiry(void **state)
{
	map_config c = cfg();
	map_result *m = res_new();
	cpm_request r = req_plain("hi");

	r.expires = 3600;
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->req.has_expiry, 1);
	assert_int_equal(m->req.expiry, NOW + 3600);
	r.expires = 0;
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->req.has_expiry, 0);
	r.expires = -1;
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->req.has_expiry, 0);
	free(m);
}

typedef struct dn_case {
	const char *dn; /* NULL: no header */
	int bits, dr, rr;
} dn_case;

static void test_t1_dispositions(void **state)
{
	static const dn_case cases[] = {
		{"positive-delivery", CPIM_DN_POSITIVE_DELIVERY, 1, 0},
		{"negative-delivery", CPIM_DN_NEGATIVE_DELIVERY, 1, 0},
		{"display", CPIM_DN_DISPLAY, 0, 1},
		{"Negative-Delivery , DISPLAY", CPIM_DN_NEGATIVE_DELIVERY
			| CPIM_DN_DISPLAY, 1, 1},
		{"processing", CPIM_DN_PROCESSING, 0, 0},
		{"unknown-thing", 0, 0, 0},
		{NULL, 0, 0, 0},
	};
	map_config c = cfg();
	char cpim[512];
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		cpm_request r;
		map_result *m = res_new();

		snprintf(cpim, sizeof(cpim), "From: <tel:+4712345678>\r\n"
				"NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: x1\r\n"
				"DateTime: 2024-05-01T10:15:00Z\r\n%s%s%s"
				"\r\nContent-Type: text/plain\r\n\r\nhi",
				cases[i].dn ? "imdn.Disposition-Notification: " : "",
				cases[i].dn ? cases[i].dn : "", cases[i].dn ? "\r\n" : "");
		r = req_cpim(cpim);
		assert_int_equal(map(&r, &c, m), 0);
		if (m->dispositions != cases[i].bits
				|| m->req.delivery_report != cases[i].dr
				|| m->req.read_reply != cases[i].rr)
			fail_msg("case %d: bits %x dr %d rr %d", i, m->dispositions,
					m->req.delivery_report, m->req.read_reply);
		free(m);
	}
	/* not CPIM: both No */
	{
		cpm_request r = req_plain("hi");
		map_result *m = res_new();

		assert_int_equal(map(&r, &c, m), 0);
		assert_int_equal(m->req.delivery_report, 0);
		assert_int_equal(m->req.read_reply, 0);
		free(m);
	}
}

static void test_t1_priority(void **state)
{
	static const char *const cases[][2] = {
		{"non-urgent", "Low"},
		{"normal", "Normal"},
		{"urgent", "High"},
		{"emergency", "High"},
		{"NON-URGENT", "Low"},
		{" Urgent ", "High"},
		{"bogus", ""},
		{"", ""},
	};
	map_config c = cfg();
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		cpm_request r = req_plain("hi");
		map_result *m = res_new();

		assert_str(map_priority_cpm_to_mm4(S(cases[i][0])), cases[i][1]);
		r.priority = S(cases[i][0]);
		assert_int_equal(map(&r, &c, m), 0);
		assert_str(m->req.priority, cases[i][1]);
		free(m);
	}
	/* Table 4 direction */
	assert_str(map_priority_mm4_to_cpm(S("Low")), "non-urgent");
	assert_str(map_priority_mm4_to_cpm(S("normal")), "normal");
	assert_str(map_priority_mm4_to_cpm(S("HIGH")), "urgent");
	assert_str(map_priority_mm4_to_cpm(S("urgent")), "");
}

typedef struct hidden_case {
	const char *from;
	const char *privacy;
	int want;
} hidden_case;

static void test_t1_sender_visibility(void **state)
{
	static const hidden_case cases[] = {
		{"\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1", "", 1},
		{"Anonymous <sip:anonymous@anonymous.invalid>;tag=1", "", 1},
		{"\"anonymous\" <sip:+4712345678@h>", "", 1},
		{"ANONYMOUS <tel:+4712345678>", "", 1},
		{"\" Anonymous \" <tel:+4712345678>", "", 1},
		{"\"Anonymous Coward\" <tel:+4712345678>", "", 0},
		{"\"Alice\" <tel:+4712345678>", "", 0},
		{"<tel:+4712345678>", "", 0},
		{"sip:anonymous@anonymous.invalid", "", 0},
		{"<tel:+4712345678>", "id", 1},
		{"<tel:+4712345678>", "ID", 1},
		{"<tel:+4712345678>", "header", 1},
		{"<tel:+4712345678>", "user; id", 1},
		{"<tel:+4712345678>", "session;header;critical", 1},
		{"<tel:+4712345678>", "user", 0},
		{"<tel:+4712345678>", "none", 0},
		{"<tel:+4712345678>", "identity", 0},
		{"", "", 0},
	};
	map_config c = cfg();
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		if (map_sender_hidden(S(cases[i].from), S(cases[i].privacy))
				!= cases[i].want)
			fail_msg("case %d: '%s' / '%s'", i, cases[i].from,
					cases[i].privacy);
	}
	/* absent header: {NULL, 0}, as map_cpm_to_mm4 passes for CPIM From
	 * (fuzz_mapping: NULL + 0 is undefined, clang's UBSan reports it) */
	{
		cm_str none = {NULL, 0};

		assert_int_equal(map_sender_hidden(S("<tel:+4712345678>"), none), 0);
		assert_int_equal(map_sender_hidden(none, none), 0);
		assert_int_equal(map_sender_hidden(S("Anonymous <sip:a@b>"), none), 1);
	}

	/* through map_cpm_to_mm4: real identity from PAI, visibility Hide */
	{
		cpm_request r = req_plain("hi");
		map_result *m = res_new();

		r.from = S("\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=9");
		r.pai = S("<tel:+4712345678>");
		r.privacy = S("id");
		assert_int_equal(map(&r, &c, m), 0);
		assert_int_equal(m->req.sender_hidden, 1);
		assert_string_equal(m->sender_e164, "+4712345678");
		assert_str(m->req.from, "+4712345678/TYPE=PLMN@" DOMAIN);
		/* Privacy: id alone */
		r.from = S("<tel:+4712345678>;tag=9");
		r.pai = S("");
		assert_int_equal(map(&r, &c, m), 0);
		assert_int_equal(m->req.sender_hidden, 1);
		r.privacy = S("none");
		assert_int_equal(map(&r, &c, m), 0);
		assert_int_equal(m->req.sender_hidden, 0);
		free(m);
	}
	/* CPIM From Anonymous */
	{
		cpm_request r = req_cpim("From: \"Anonymous\" "
				"<sip:anonymous@anonymous.invalid>\r\n\r\n"
				"Content-Type: text/plain\r\n\r\nhi");
		map_result *m = res_new();

		assert_int_equal(map(&r, &c, m), 0);
		assert_int_equal(m->req.sender_hidden, 1);
		free(m);
	}
}

static void test_t1_subject(void **state)
{
	map_config c = cfg();
	map_result *m = res_new();
	cpm_request r = req_cpim("From: <tel:+4712345678>\r\n"
			"Subject: ;lang=en From CPIM\r\n\r\n"
			"Content-Type: text/plain\r\n\r\nhi");

	r.subject = S("From SIP");
	assert_int_equal(map(&r, &c, m), 0);
	assert_str(m->req.subject, "From CPIM");
	r = req_cpim("From: <tel:+4712345678>\r\n\r\n"
			"Content-Type: text/plain\r\n\r\nhi");
	r.subject = S(" From SIP ");
	assert_int_equal(map(&r, &c, m), 0);
	assert_str(m->req.subject, "From SIP");
	r = req_plain("hi");
	r.subject = S("Plain");
	assert_int_equal(map(&r, &c, m), 0);
	assert_str(m->req.subject, "Plain");
	r.subject = S("");
	assert_int_equal(map(&r, &c, m), 0);
	assert_str(m->req.subject, "");
	free(m);
}

/* SIP hops are not MMS forwardings: no X-Mms-Forward-Counter whatever
 * Max-Forwards says (Table 4 still reads the peer's counter) */
static void test_t1_forward_counter(void **state)
{
	static const int mf[] = {-1, 70, 69, 65, 10, 1, 0, 200};
	map_config c = cfg();
	cm_buf b;
	int i;

	for (i = 0; i < (int)(sizeof(mf) / sizeof(mf[0])); i++) {
		cpm_request r = req_plain("hi");
		map_result *m = res_new();
		cm_str to = S("+4798765432/TYPE=PLMN@mms.peer.test");

		r.max_forwards = mf[i];
		assert_int_equal(map(&r, &c, m), 0);
		if (m->req.forward_counter != 0)
			fail_msg("mf %d: fc %d", mf[i], m->req.forward_counter);
		m->req.to[0] = to;
		m->req.nto = 1;
		m->req.transaction_id = S("t1");
		cm_buf_init(&b);
		assert_int_equal(mm4_write_forward_req(&b, &m->req), 0);
		assert_null(strstr(b.s, "X-Mms-Forward-Counter"));
		cm_buf_free(&b);
		free(m);
	}
	assert_int_equal(map_max_forwards(1), 69);
	assert_int_equal(map_max_forwards(5), 65);
	assert_int_equal(map_max_forwards(0), 70);
	assert_int_equal(map_max_forwards(-3), 70);
	assert_int_equal(map_max_forwards(69), 1);
	assert_int_equal(map_max_forwards(70), 1);
	assert_int_equal(map_max_forwards(1000), 1);
}

static void test_t1_fixed_rows(void **state)
{
	cpm_request r = req_plain("hi");
	map_config c = cfg();
	map_result *m = res_new();

	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->is_cpim, 0);
	assert_int_equal(m->req.ack_request, 1);
	assert_str(m->req.message_class, "Personal");
	assert_str(m->req.version, "6.16.0");
	assert_str(m->req.originator_system, "system-user@" DOMAIN);
	assert_int_equal(m->req.date, NOW);
	assert_int_equal(m->req.sender_hidden, 0);
	free(m);
}

/* two senders using one imdn.Message-ID toward one MMS user get two MM
 * ids: each sender's reports stay its own */
static void test_t1_message_id_collision(void **state)
{
	map_config c = cfg();
	map_result *a = res_new(), *b = res_new();
	const char *cpim = "From: <tel:+4712345678>\r\n"
			"NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: same1\r\n"
			"\r\nContent-Type: text/plain\r\n\r\nhi";
	cpm_request ra = req_cpim(cpim), rb = req_cpim(cpim);

	assert_int_equal(map_cpm_to_mm4(&ra, &c, S("tok-a"), NOW, a), 0);
	assert_int_equal(map_cpm_to_mm4(&rb, &c, S("tok-b"), NOW, b), 0);
	assert_str(a->imdn_message_id, "same1");
	assert_str(b->imdn_message_id, "same1");
	assert_string_equal(a->message_id, "tok-a@" DOMAIN);
	assert_string_equal(b->message_id, "tok-b@" DOMAIN);
	free(a);
	free(b);
}

typedef struct id_case {
	const char *imdn_id; /* NULL: no header */
	const char *want;
} id_case;

static void test_t1_message_ids(void **state)
{
	static char long_id[140];
	id_case cases[] = {
		{"Ab12Cd34", "u-7f3a9c@" DOMAIN},
		{"a.b_c-d+e=f", "u-7f3a9c@" DOMAIN},
		{"has space", "u-7f3a9c@" DOMAIN},
		{"quote\"d", "u-7f3a9c@" DOMAIN},
		{"semi;colon", "u-7f3a9c@" DOMAIN},
		{"at@sign", "u-7f3a9c@" DOMAIN},
		{long_id, "u-7f3a9c@" DOMAIN},
		{NULL, "u-7f3a9c@" DOMAIN},
	};
	map_config c = cfg();
	char cpim[512];
	int i;

	memset(long_id, 'a', 120);
	long_id[120] = '\0';
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		cpm_request r;
		map_result *m = res_new();

		snprintf(cpim, sizeof(cpim), "From: <tel:+4712345678>\r\n"
				"NS: imdn <urn:ietf:params:imdn>\r\n%s%s%s"
				"\r\nContent-Type: text/plain\r\n\r\nhi",
				cases[i].imdn_id ? "imdn.Message-ID: " : "",
				cases[i].imdn_id ? cases[i].imdn_id : "",
				cases[i].imdn_id ? "\r\n" : "");
		r = req_cpim(cpim);
		assert_int_equal(map(&r, &c, m), 0);
		if (strcmp(m->message_id, cases[i].want))
			fail_msg("case %d: %s", i, m->message_id);
		assert_str(m->req.message_id, cases[i].want);
		assert_string_equal(m->rfc822_id, "u-7f3a9c@" DOMAIN);
		if (cases[i].imdn_id)
			assert_str(m->imdn_message_id, cases[i].imdn_id);
		free(m);
	}
	/* a 100 char imdn.Message-ID is kept whole; the MM id is ours */
	{
		char id[101];
		char want[160];
		cpm_request r;
		map_result *m = res_new();

		memset(id, 'b', 100);
		id[100] = '\0';
		snprintf(cpim, sizeof(cpim), "From: <tel:+4712345678>\r\n"
				"imdn.Message-ID: %s\r\n\r\nContent-Type: text/plain\r\n\r\nhi",
				id);
		snprintf(want, sizeof(want), "%s", id);
		r = req_cpim(cpim);
		assert_int_equal(map(&r, &c, m), 0);
		assert_string_equal(m->message_id, "u-7f3a9c@" DOMAIN);
		assert_str(m->imdn_message_id, want);
		free(m);
	}
}

static void test_t1_bad_config(void **state)
{
	cpm_request r = req_plain("hi");
	map_config c = cfg();
	map_result *m = res_new();

	/* the glue's unique token must be usable in a Message-ID */
	assert_int_equal(map_cpm_to_mm4(&r, &c, S(""), NOW, m), -1);
	assert_int_equal(m->sip_code, 500);
	assert_int_equal(map_cpm_to_mm4(&r, &c, S("a b"), NOW, m), -1);
	assert_int_equal(map_cpm_to_mm4(&r, &c, S("a\r\nb"), NOW, m), -1);
	c.domain = S("");
	expect_fail(&r, &c, 500);
	c = cfg();
	assert_int_equal(map_cpm_to_mm4(NULL, &c, S("u"), NOW, m), -1);
	assert_int_equal(m->sip_code, 500);
	assert_int_equal(map_cpm_to_mm4(&r, &c, S("u"), NOW, NULL), -1);
	free(m);
}

/* ---- recipients: URI list (RFC 5365), CPIM To/cc, limits ---- */

static const char rl_body[] =
	"--bnd\r\n"
	"Content-Type: message/cpim\r\n"
	"\r\n"
	"From: <tel:+4712345678>\r\n"
	"To: <sip:anonymous@anonymous.invalid>\r\n"
	"NS: imdn <urn:ietf:params:imdn>\r\n"
	"imdn.Message-ID: grp1\r\n"
	"DateTime: 2024-05-01T10:15:00Z\r\n"
	"imdn.Disposition-Notification: negative-delivery\r\n"
	"\r\n"
	"Content-Type: text/plain;charset=utf-8\r\n"
	"\r\n"
	"Hello group\r\n"
	"--bnd\r\n"
	"Content-Type: application/resource-lists+xml\r\n"
	"Content-Disposition: recipient-list\r\n"
	"\r\n"
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	"<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\r\n"
	"<list>\r\n"
	"<entry uri=\"tel:+358401234567\"/>\r\n"
	"<entry uri=\"sip:+4790000001@ims.example.net;user=phone\"/>\r\n"
	"<entry uri=\"tel:+47-9000-0002\"/>\r\n"
	"<entry uri=\"tel:+358401234567\"/>\r\n"
	"</list>\r\n"
	"</resource-lists>\r\n"
	"--bnd--\r\n";

static void test_uri_list(void **state)
{
	cpm_request r = req_plain(rl_body);
	map_config c = cfg();
	map_result *m = res_new();

	r.content_type = S("multipart/mixed; boundary=\"bnd\"");
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->is_cpim, 1);
	assert_int_equal(m->nrcpt, 3); /* the R-URI entry is de-duplicated */
	assert_string_equal(m->rcpt_e164[0], "+358401234567");
	assert_string_equal(m->rcpt_e164[1], "+4790000001");
	assert_string_equal(m->rcpt_e164[2], "+4790000002");
	assert_str(m->req.body, "Hello group");
	assert_str(m->req.content_type, "text/plain;charset=utf-8");
	assert_string_equal(m->message_id, "u-7f3a9c@" DOMAIN);
	assert_int_equal(m->req.delivery_report, 1);
	assert_int_equal(m->req.read_reply, 0);
	assert_int_equal(m->req.date, T_CPIM);

	/* the R-URI of a URI-list request may be the list service itself */
	r.ruri = S("sip:mms-iwf@iwf.example.net");
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->nrcpt, 3);
	assert_string_equal(m->rcpt_e164[0], "+358401234567");

	/* anonymised CPIM To is skipped even when CPIM recipients count */
	c.use_cpim_recipients = 1;
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->nrcpt, 3);

	/* limit */
	c.max_recipients = 2;
	expect_fail(&r, &c, 403);
	c.max_recipients = 3;
	assert_int_equal(map(&r, &c, m), 0);
	free(m);
}

/* RFC 5364 copyControl: to -> To, cc -> Cc, bcc (or anonymize) -> RCPT TO
 * only; the written REQ names a bcc number nowhere */
static void test_uri_list_copy_control(void **state)
{
	static const char body[] =
		"--b\r\n"
		"Content-Type: message/cpim\r\n"
		"\r\n"
		"From: <tel:+4712345678>\r\n"
		"To: <tel:+358401234567>\r\n"
		"To: <tel:+4790000003>\r\n"
		"cc: <tel:+4790000002>\r\n"
		"NS: imdn <urn:ietf:params:imdn>\r\n"
		"imdn.Message-ID: cc1\r\n"
		"\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"to all\r\n"
		"--b\r\n"
		"Content-Type: application/resource-lists+xml\r\n"
		"Content-Disposition: recipient-list\r\n"
		"\r\n"
		"<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\" "
		"xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\"><list>"
		"<entry uri=\"tel:+358401234567\" cp:copyControl=\"to\"/>"
		"<entry uri=\"tel:+4790000002\" cp:copyControl=\"cc\"/>"
		"<entry uri=\"tel:+4790000003\" cp:copyControl=\"bcc\"/>"
		"<entry uri=\"tel:+4790000004\" cp:anonymize=\"true\"/>"
		"<entry uri=\"tel:+4790000005\"/>"
		"</list></resource-lists>\r\n"
		"--b--\r\n";
	static const char *const dom[] = {"mms.a.example", "mms.b.example"};
	cpm_request r = req_plain(body);
	map_config c = cfg();
	map_result *m = res_new();
	mm4_msg *mm = calloc(1, sizeof(*mm));
	char box[MAP_MAX_RCPT][MM4_ADDR_MAX];
	cm_buf b;
	cm_str mail;
	int i;

	assert_non_null(mm);
	r.content_type = S("multipart/mixed; boundary=b");
	for (c.use_cpim_recipients = 0;; c.use_cpim_recipients = 1) {
		assert_int_equal(map(&r, &c, m), 0);
		assert_int_equal(m->nrcpt, 5);
		assert_string_equal(m->rcpt_e164[0], "+358401234567");
		assert_int_equal(m->rcpt_copy[0], RL_COPY_TO);
		assert_string_equal(m->rcpt_e164[1], "+4790000002");
		assert_int_equal(m->rcpt_copy[1], RL_COPY_CC);
		/* also a CPIM To: the list's bcc wins */
		assert_string_equal(m->rcpt_e164[2], "+4790000003");
		assert_int_equal(m->rcpt_copy[2], RL_COPY_BCC);
		assert_string_equal(m->rcpt_e164[3], "+4790000004");
		assert_int_equal(m->rcpt_copy[3], RL_COPY_BCC);
		assert_string_equal(m->rcpt_e164[4], "+4790000005");
		assert_int_equal(m->rcpt_copy[4], RL_COPY_TO);
		if (c.use_cpim_recipients)
			break;
	}

	/* what the glue (workers.c) does after ENUM, then the mail */
	m->req.nto = m->req.ncc = m->req.nbcc = 0;
	for (i = 0; i < m->nrcpt; i++) {
		assert_true(mm4_plmn_address(S(m->rcpt_e164[i]), S(dom[i & 1]),
				box[i], sizeof(box[i])) > 0);
		if (m->rcpt_copy[i] == RL_COPY_BCC)
			m->req.nbcc++;
		else if (m->rcpt_copy[i] == RL_COPY_CC)
			m->req.cc[m->req.ncc++] = S(box[i]);
		else
			m->req.to[m->req.nto++] = S(box[i]);
	}
	m->req.transaction_id = S("tx-1");
	cm_buf_init(&b);
	assert_int_equal(mm4_write_forward_req(&b, &m->req), 0);
	assert_int_equal(cm_buf_take(&b, &mail), 0);
	assert_null(strstr(mail.s, "4790000003"));
	assert_null(strstr(mail.s, "4790000004"));
	assert_null(strstr(mail.s, "cc1"));
	assert_int_equal(mm4_parse(mail.s, mail.len, mm), MM4_OK);
	assert_str(mm4_get(mm, "To"), "+358401234567/TYPE=PLMN@mms.a.example, "
			"+4790000005/TYPE=PLMN@mms.a.example");
	assert_str(mm4_get(mm, "Cc"), "+4790000002/TYPE=PLMN@mms.b.example");
	assert_int_equal(mm4_get(mm, "Bcc").len, 0);
	assert_str(mm->body, "to all\r\n");
	cm_free(mail.s);

	/* a number in the list twice keeps the more hidden kind; the
	 * Request-URI's To copy too */
	r.body = S("--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n"
			"<resource-lists><list>"
			"<entry uri=\"tel:+4790000002\" cp:copyControl=\"cc\"/>"
			"<entry uri=\"tel:+358401234567\" cp:copyControl=\"bcc\"/>"
			"<entry uri=\"tel:+4790000002\"/>"
			"</list></resource-lists>\r\n"
			"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n");
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpt_e164[0], "+358401234567");
	assert_int_equal(m->rcpt_copy[0], RL_COPY_BCC);
	assert_int_equal(m->rcpt_copy[1], RL_COPY_CC);

	/* copyControl outside to/cc/bcc: an invalid list */
	r.body = S("--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n"
			"<resource-lists><list>"
			"<entry uri=\"tel:+4790000002\" cp:copyControl=\"hidden\"/>"
			"</list></resource-lists>\r\n"
			"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n");
	expect_fail(&r, &c, 400);
	free(mm);
	free(m);
}

static void test_uri_list_plain_part(void **state)
{
	static const char body[] =
		"--b\r\n"
		"Content-Type: application/resource-lists+xml\r\n"
		"\r\n"
		"<resource-lists><list><entry uri=\"tel:+4790000001\"/></list>"
		"</resource-lists>\r\n"
		"--b\r\n"
		"Content-Type: text/plain; charset=iso-8859-1\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"\r\n"
		"caf=E9\r\n"
		"--b--\r\n";
	cpm_request r = req_plain(body);
	map_config c = cfg();
	map_result *m = res_new();

	r.content_type = S("multipart/mixed;boundary=b");
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->is_cpim, 0);
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpt_e164[1], "+4790000001");
	assert_str(m->req.content_type, "text/plain; charset=iso-8859-1");
	assert_str(m->req.content_transfer_encoding, "quoted-printable");
	assert_str(m->req.body, "caf=E9");
	free(m);
}

static void test_uri_list_errors(void **state)
{
	static const char bad_entry[] =
		"--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n"
		"<resource-lists><list><entry uri=\"sip:bob@example.com\"/></list>"
		"</resource-lists>\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
		"--b--\r\n";
	static const char short_entry[] =
		"--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n"
		"<resource-lists><list><entry uri=\"tel:1234;phone-context=+47\"/>"
		"</list></resource-lists>\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
		"x\r\n--b--\r\n";
	static const char only_list[] =
		"--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n"
		"<resource-lists><list><entry uri=\"tel:+4790000001\"/></list>"
		"</resource-lists>\r\n--b--\r\n";
	static const char bad_xml[] =
		"--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n"
		"<resource-lists><list><entry uri=\"tel:+4790000001\r\n--b\r\n"
		"Content-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
	static const char truncated[] =
		"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n";
	static const char no_list[] =
		"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
		"--b\r\nContent-Type: image/png\r\n\r\ny\r\n--b--\r\n";
	map_config c = cfg();
	cpm_request r;
	map_result *m;

	r = req_plain(bad_entry);
	r.content_type = S("multipart/mixed;boundary=b");
	expect_fail(&r, &c, 404);
	r.body = S(short_entry);
	expect_fail(&r, &c, 484);
	r.body = S(only_list);
	expect_fail(&r, &c, 400);
	r.body = S(bad_xml);
	expect_fail(&r, &c, 400);
	r.body = S(truncated);
	expect_fail(&r, &c, 400);
	r.content_type = S("multipart/mixed");
	r.body = S(no_list);
	expect_fail(&r, &c, 400);
	/* multipart/mixed without a list: an ordinary multipart MM */
	m = res_new();
	r.content_type = S("multipart/mixed;boundary=b");
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->nrcpt, 1);
	assert_str(m->req.content_type, "multipart/mixed;boundary=b");
	assert_str(m->req.body, no_list);
	free(m);
}

static void test_cpim_recipients(void **state)
{
	cpm_request r = req_cpim("From: <tel:+4712345678>\r\n"
			"To: <tel:+358401234567>\r\n"
			"To: \"Bob\" <sip:+4790000001@ims.example.net;user=phone>\r\n"
			"To: <sip:carol@example.com>\r\n"
			"cc: <tel:+4790000002>\r\n"
			"\r\nContent-Type: text/plain\r\n\r\nhi");
	map_config c = cfg();
	map_result *m = res_new();

	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->nrcpt, 1);
	c.use_cpim_recipients = 1;
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->nrcpt, 3);
	assert_string_equal(m->rcpt_e164[0], "+358401234567");
	assert_string_equal(m->rcpt_e164[1], "+4790000001");
	assert_string_equal(m->rcpt_e164[2], "+4790000002");
	c.max_recipients = 2;
	expect_fail(&r, &c, 403);
	free(m);
}

static void test_max_rcpt_cap(void **state)
{
	char body[8192];
	int i, n;
	cpm_request r;
	map_config c = cfg();
	map_result *m = res_new();

	/* MAP_MAX_RCPT list entries + the R-URI */
	n = snprintf(body, sizeof(body), "--b\r\nContent-Type: "
			"application/resource-lists+xml\r\n\r\n<resource-lists><list>");
	for (i = 0; i < MAP_MAX_RCPT; i++)
		n += snprintf(body + n, sizeof(body) - n,
				"<entry uri=\"tel:+4790%06d\"/>", i);
	n += snprintf(body + n, sizeof(body) - n, "</list></resource-lists>\r\n"
			"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n");
	assert_true(n < (int)sizeof(body));
	r = req_plain(body);
	r.content_type = S("multipart/mixed;boundary=b");
	c.max_recipients = 1000; /* capped at MAP_MAX_RCPT */
	expect_fail(&r, &c, 403);
	r.ruri = S("sip:list@iwf.example.net");
	assert_int_equal(map(&r, &c, m), 0);
	assert_int_equal(m->nrcpt, MAP_MAX_RCPT);
	free(m);
}

/* ---- Tables 2 / 3 ---- */

typedef struct res_case {
	const char *token;
	const char *text;
	int code;
	const char *reason;
} res_case;

static void test_t3_res_status(void **state)
{
	static const res_case cases[] = {
		/* Table 2 */
		{"Ok", "", 200, "OK"},
		{" ok ", "Accepted", 200, "OK"},
		/* Table 3 */
		{"Error-unspecified", "", 500, "Server Internal Error"},
		{"Error-service-denied", "", 403, "Forbidden"},
		{"Error-message-format-corrupt", "", 400, "Bad Request"},
		{"Error-sending-address-unresolved", "", 404, "Not Found"},
		{"Error-message-not-found", "", 500, "Server Internal Error"},
		{"Error-network-problem", "", 503, "Service Unavailable"},
		{"Error-content-not-accepted", "", 415, "Unsupported Media Type"},
		{"Error-content-not-accepted", "type not supported", 415,
			"Unsupported Media Type"},
		{"Error-content-not-accepted", "Message SIZE exceeded", 413,
			"Request Entity Too Large"},
		{"Error-content-not-accepted", "too Large", 413,
			"Request Entity Too Large"},
		{"Error-content-not-accepted", "way too big", 413,
			"Request Entity Too Large"},
		{"Error-unsupported-message", "", 501, "Not Implemented"},
		{"Error-transient-failure", "", 480, "Temporarily Unavailable"},
		{"Error-transient-sending-address-unresolved", "", 480,
			"Temporarily Unavailable"},
		{"Error-transient-message-not-found", "", 480,
			"Temporarily Unavailable"},
		/* some recipients reached: accepted, no error reason */
		{"Error-transient-partial-success", "", 202, "Accepted"},
		{"error-transient-partial-success", "2 of 3 recipients", 202,
			"Accepted"},
		{"Error-transient-network-problem", "", 503, "Service Unavailable"},
		{"ERROR-TRANSIENT-NETWORK-PROBLEM", "", 503, "Service Unavailable"},
		{"Error-permanent-service-denied", "", 403, "Forbidden"},
		{"Error-permanent-sending-address-unresolved", "", 404, "Not Found"},
		{"Error-permanent-content-not-accepted", "", 415,
			"Unsupported Media Type"},
		{"Error-permanent-content-not-accepted", "size", 413,
			"Request Entity Too Large"},
		{"Error-permanent-message-format-corrupt", "", 400, "Bad Request"},
		{"Error-permanent-failure", "", 500, "Server Internal Error"},
		{"Error-permanent-message-not-found", "", 500,
			"Server Internal Error"},
		{"Error-permanent-reply-charging-not-supported", "", 500,
			"Server Internal Error"},
		{"Error-permanent-lack-of-prepaid", "", 402, "Payment Required"},
		{"ERROR-PERMANENT-LACK-OF-PREPAID", "no credit", 402,
			"Payment Required"},
		{"Error-permanent-address-hiding-not-supported", "", 403,
			"Forbidden"},
		/* unknown */
		{"Error-something-new", "", 500, "Server Internal Error"},
		{"Okay", "", 500, "Server Internal Error"},
		{"", "", 500, "Server Internal Error"},
		/* size words only matter for content refusals */
		{"Error-service-denied", "too large", 403, "Forbidden"},
	};
	map_sip_status st;
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		memset(&st, 0, sizeof(st));
		map_res_status_to_sip(S(cases[i].token), S(cases[i].text), &st);
		if (st.code != cases[i].code || !st.reason
				|| strcmp(st.reason, cases[i].reason))
			fail_msg("'%s'/'%s': %d %s", cases[i].token, cases[i].text,
					st.code, st.reason ? st.reason : "(null)");
	}
	/* NULL text is fine */
	{
		cm_str none = {NULL, 0};

		map_res_status_to_sip(S("Error-content-not-accepted"), none, &st);
		assert_int_equal(st.code, 415);
	}
}

/* ---- Table 3b ---- */

static void test_t3b_local(void **state)
{
	static const struct {
		map_local_failure lf;
		int code, strict;
	} cases[] = {
		{MAP_LF_NOT_E164, 404, 404},
		{MAP_LF_SHORT_NUMBER, 484, 484},
		{MAP_LF_NO_MMS_ROUTE, 404, 404},
		{MAP_LF_DNS_TEMP, 503, 503},
		{MAP_LF_NO_HOST, 503, 503},
		{MAP_LF_SMTP_TEMP, 503, 503},
		{MAP_LF_SMTP_RCPT_UNKNOWN, 404, 404},
		{MAP_LF_SMTP_SIZE, 413, 413},
		{MAP_LF_SMTP_POLICY, 403, 403},
		{MAP_LF_SMTP_PERM, 500, 500},
		{MAP_LF_CONTENT_TYPE, 415, 415},
		{MAP_LF_TOO_LARGE, 413, 413},
		{MAP_LF_TIMEOUT, 202, 504},
		{MAP_LF_OVERLOAD, 503, 503},
		{MAP_LF_INTERNAL, 500, 500},
		{(map_local_failure)0, 500, 500},
		{(map_local_failure)999, 500, 500},
	};
	map_sip_status st;
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		map_local_failure_to_sip(cases[i].lf, MAP_TIMEOUT_202, &st);
		if (st.code != cases[i].code || !st.reason)
			fail_msg("lf %d: %d", cases[i].lf, st.code);
		map_local_failure_to_sip(cases[i].lf, MAP_TIMEOUT_504, &st);
		if (st.code != cases[i].strict || !st.reason)
			fail_msg("lf %d strict: %d", cases[i].lf, st.code);
	}
	map_local_failure_to_sip(MAP_LF_TIMEOUT, MAP_TIMEOUT_202, &st);
	assert_string_equal(st.reason, "Accepted");
	map_local_failure_to_sip(MAP_LF_TIMEOUT, MAP_TIMEOUT_504, &st);
	assert_string_equal(st.reason, "Server Time-out");
	map_local_failure_to_sip(MAP_LF_SHORT_NUMBER, 0, &st);
	assert_string_equal(st.reason, "Address Incomplete");
	map_local_failure_to_sip(MAP_LF_SMTP_SIZE, 0, &st);
	assert_string_equal(st.reason, "Request Entity Too Large");
}

static void test_t3b_smtp_codes(void **state)
{
	static const struct {
		int smtp;
		map_local_failure lf;
	} cases[] = {
		{0, MAP_LF_NO_HOST},
		{-1, MAP_LF_NO_HOST},
		{220, MAP_LF_NO_HOST},
		{399, MAP_LF_NO_HOST},
		{400, MAP_LF_SMTP_TEMP},
		{421, MAP_LF_SMTP_TEMP},
		{450, MAP_LF_SMTP_TEMP},
		{452, MAP_LF_SMTP_TEMP},
		{499, MAP_LF_SMTP_TEMP},
		{500, MAP_LF_SMTP_PERM},
		{503, MAP_LF_SMTP_PERM},
		{550, MAP_LF_SMTP_RCPT_UNKNOWN},
		{551, MAP_LF_SMTP_RCPT_UNKNOWN},
		{552, MAP_LF_SMTP_SIZE},
		{553, MAP_LF_SMTP_RCPT_UNKNOWN},
		{554, MAP_LF_SMTP_POLICY},
		{555, MAP_LF_SMTP_PERM},
		{599, MAP_LF_SMTP_PERM},
		{600, MAP_LF_SMTP_PERM},
	};
	map_sip_status st;
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++)
		if (map_smtp_code(cases[i].smtp) != cases[i].lf)
			fail_msg("smtp %d: %d", cases[i].smtp,
					map_smtp_code(cases[i].smtp));
	/* end to end: 452 too many recipients -> 503, 552 -> 413 */
	map_local_failure_to_sip(map_smtp_code(452), MAP_TIMEOUT_202, &st);
	assert_int_equal(st.code, 503);
	map_local_failure_to_sip(map_smtp_code(552), MAP_TIMEOUT_202, &st);
	assert_int_equal(st.code, 413);
	map_local_failure_to_sip(map_smtp_code(554), MAP_TIMEOUT_202, &st);
	assert_int_equal(st.code, 403);
}

/* Table 3b: RFC 3463 enhanced codes in the reply text */
static void test_t3b_smtp_enhanced(void **state)
{
	static const struct {
		int smtp;
		const char *text;
		map_local_failure lf;
	} cases[] = {
		{550, "5.1.1 No such user", MAP_LF_SMTP_RCPT_UNKNOWN},
		{550, "5.7.1 Relaying denied", MAP_LF_SMTP_POLICY},
		{554, "5.1.1 Unknown recipient", MAP_LF_SMTP_RCPT_UNKNOWN},
		{554, "5.1.10 Recipient has null MX", MAP_LF_SMTP_RCPT_UNKNOWN},
		{552, "5.7.1 Message content rejected", MAP_LF_SMTP_POLICY},
		{553, "5.7.26 DMARC policy", MAP_LF_SMTP_POLICY},
		{551, "  5.1.6 moved", MAP_LF_SMTP_RCPT_UNKNOWN},
		{500, "5.7.0", MAP_LF_SMTP_POLICY},
		{550, "5.1.2\tbad system", MAP_LF_SMTP_RCPT_UNKNOWN},
		/* the sender's address rows: the reply code decides */
		{554, "5.1.8 Bad sender domain", MAP_LF_SMTP_POLICY},
		{553, "5.1.7 Bad sender syntax", MAP_LF_SMTP_RCPT_UNKNOWN},
		/* other enhanced codes: as the reply code */
		{550, "5.2.2 Mailbox full", MAP_LF_SMTP_RCPT_UNKNOWN},
		{554, "5.3.4 Too big", MAP_LF_SMTP_POLICY},
		{552, "5.2.2 Mailbox full", MAP_LF_SMTP_SIZE},
		/* 4xx stays temporary, also with 4.7.x / 4.1.x */
		{450, "4.7.1 Greylisted", MAP_LF_SMTP_TEMP},
		{451, "4.1.1 try later", MAP_LF_SMTP_TEMP},
		/* class disagreeing with the reply: ignored */
		{550, "4.7.1 odd", MAP_LF_SMTP_RCPT_UNKNOWN},
		{451, "5.7.1 odd", MAP_LF_SMTP_TEMP},
		{250, "2.1.5 Ok", MAP_LF_NO_HOST},
		/* not an enhanced code */
		{554, "No such user 5.1.1", MAP_LF_SMTP_POLICY},
		{554, "5.1", MAP_LF_SMTP_POLICY},
		{554, "5.1.", MAP_LF_SMTP_POLICY},
		{554, "5..1", MAP_LF_SMTP_POLICY},
		{554, "55.1.1 x", MAP_LF_SMTP_POLICY},
		{554, "5.1111.1 x", MAP_LF_SMTP_POLICY},
		{554, "5.1.1111 x", MAP_LF_SMTP_POLICY},
		{554, "5.1.1x", MAP_LF_SMTP_POLICY},
		{554, "", MAP_LF_SMTP_POLICY},
		{550, "", MAP_LF_SMTP_RCPT_UNKNOWN},
		/* no reply: the connection failed */
		{0, "5.7.1 local text", MAP_LF_NO_HOST},
	};
	map_sip_status st;
	cm_str none = {NULL, 0};
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++)
		if (map_smtp_reply(cases[i].smtp, S(cases[i].text)) != cases[i].lf)
			fail_msg("smtp %d '%s': %d", cases[i].smtp, cases[i].text,
					map_smtp_reply(cases[i].smtp, S(cases[i].text)));
	assert_int_equal(map_smtp_reply(550, none), MAP_LF_SMTP_RCPT_UNKNOWN);
	/* end to end: 550 5.7.1 -> 403, 554 5.1.1 -> 404 */
	map_local_failure_to_sip(map_smtp_reply(550, S("5.7.1 denied")),
			MAP_TIMEOUT_202, &st);
	assert_int_equal(st.code, 403);
	map_local_failure_to_sip(map_smtp_reply(554, S("5.1.1 unknown")),
			MAP_TIMEOUT_202, &st);
	assert_int_equal(st.code, 404);
}

static void test_sip_rank(void **state)
{
	assert_true(map_sip_rank(200) < map_sip_rank(404));
	assert_true(map_sip_rank(202) == map_sip_rank(200));
	assert_true(map_sip_rank(404) < map_sip_rank(503));
	assert_true(map_sip_rank(503) < map_sip_rank(604));
	assert_true(map_sip_rank(480) == map_sip_rank(404));
	assert_true(map_sip_rank(500) == map_sip_rank(599));
	assert_true(map_sip_rank(200) < map_sip_rank(0));
}

/* ---- Table 5 ---- */

static void test_t5_sip_to_res(void **state)
{
	static const struct {
		int sip;
		const char *status;
	} cases[] = {
		{200, "Ok"},
		{202, "Ok"},
		{400, "Error-message-format-corrupt"},
		{401, "Error-unspecified"},
		{407, "Error-unspecified"},
		{403, "Error-service-denied"},
		{603, "Error-service-denied"},
		{404, "Error-sending-address-unresolved"},
		{410, "Error-sending-address-unresolved"},
		{484, "Error-sending-address-unresolved"},
		{604, "Error-sending-address-unresolved"},
		{405, "Error-unsupported-message"},
		{501, "Error-unsupported-message"},
		{413, "Error-content-not-accepted"},
		{415, "Error-content-not-accepted"},
		{488, "Error-content-not-accepted"},
		{606, "Error-content-not-accepted"},
		{408, "Error-network-problem"},
		{480, "Error-network-problem"},
		{486, "Error-network-problem"},
		{500, "Error-network-problem"},
		{503, "Error-network-problem"},
		{504, "Error-network-problem"},
		{0, "Error-network-problem"},
		{402, "Error-unspecified"},
		{420, "Error-unspecified"},
		{502, "Error-unspecified"},
		{600, "Error-unspecified"},
		{302, "Error-unspecified"},
		{-5, "Error-unspecified"},
	};
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++)
		if (strcmp(map_sip_to_res_status(cases[i].sip), cases[i].status))
			fail_msg("%d: %s", cases[i].sip,
					map_sip_to_res_status(cases[i].sip));
}

static void test_hostile(void **state)
{
	static const char *const bodies[] = {
		"", "\r\n", "\r\n\r\n", ":\r\n\r\n", "From:\r\n\r\n\r\n",
		"From: <\r\n\r\n\r\n", "From: \"\r\n\r\nx",
		"NS: imdn\r\nimdn.Message-ID:\r\n\r\n\r\n",
		"DateTime: 9999-99-99T99:99:99Z\r\n\r\nContent-Type:\r\n\r\n",
	};
	static const char *const cts[] = {
		"message/cpim", "multipart/mixed; boundary=",
		"multipart/mixed; boundary=\"\"", "multipart/mixed; boundary=\"x",
		"text/plain", "", ";", "multipart/mixed; boundary=--",
	};
	map_config c = cfg();
	int i, j;

	for (i = 0; i < (int)(sizeof(bodies) / sizeof(bodies[0])); i++) {
		for (j = 0; j < (int)(sizeof(cts) / sizeof(cts[0])); j++) {
			cpm_request r = req_plain(bodies[i]);
			map_result *m = res_new();
			int rc;

			r.content_type = S(cts[j]);
			r.from = S("\"");
			r.pai = S("<");
			r.privacy = S(";;,");
			r.priority = S(";");
			r.date = S("(");
			rc = map(&r, &c, m);
			assert_true(rc == 0 || (rc == -1 && m->sip_code >= 400));
			free(m);
		}
	}
}

/* ---- Table 1 end to end: mapped REQ written by mm4.c and read back ---- */

static void test_write_mapped_req(void **state)
{
	cpm_request r = req_cpim(cpim_31);
	map_config c = cfg();
	map_result *m = res_new();
	char to[MM4_ADDR_MAX];
	mm4_msg *mm = calloc(1, sizeof(*mm));
	cm_buf b;
	cm_str mail;

	assert_non_null(mm);
	r.priority = S("urgent");
	r.subject = S("Hello");
	r.expires = 60;
	r.privacy = S("id");
	assert_int_equal(map(&r, &c, m), 0);
	/* what the glue does after ENUM */
	assert_true(mm4_plmn_address(S(m->rcpt_e164[0]),
			S("mms.mnc009.mcc244.gprs"), to, sizeof(to)) > 0);
	m->req.to[0] = S(to);
	m->req.nto = 1;
	m->req.transaction_id = S("tx-1");
	cm_buf_init(&b);
	assert_int_equal(mm4_write_forward_req(&b, &m->req), 0);
	assert_int_equal(cm_buf_take(&b, &mail), 0);
	assert_int_equal(mm4_parse(mail.s, mail.len, mm), MM4_OK);
	assert_int_equal(mm->type, MM4_FORWARD_REQ);
	assert_str(mm4_get(mm, "X-Mms-3GPP-MMS-Version"), "6.16.0");
	assert_str(mm4_get_unquoted(mm, "X-Mms-Message-ID"), "u-7f3a9c@" DOMAIN);
	assert_str(mm4_get(mm, "Message-ID"), "<u-7f3a9c@" DOMAIN ">");
	assert_str(mm4_get(mm, "From"), "+4712345678/TYPE=PLMN@" DOMAIN);
	assert_str(mm4_get(mm, "To"),
			"+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs");
	assert_str(mm4_get(mm, "Date"), "Wed, 01 May 2024 10:15:00 +0000");
	assert_str(mm4_get(mm, "X-Mms-Expiry"), "Tue, 24 Nov 2026 17:11:02 +0000");
	assert_str(mm4_get(mm, "X-Mms-Delivery-Report"), "Yes");
	assert_str(mm4_get(mm, "X-Mms-Read-Reply"), "Yes");
	assert_str(mm4_get(mm, "X-Mms-Priority"), "High");
	assert_str(mm4_get(mm, "X-Mms-Sender-Visibility"), "Hide");
	assert_str(mm4_get(mm, "X-Mms-Message-Class"), "Personal");
	assert_str(mm4_get(mm, "X-Mms-Ack-Request"), "Yes");
	assert_str(mm4_get(mm, "X-Mms-Originator-System"), "system-user@" DOMAIN);
	assert_str(mm4_get(mm, "Sender"), "system-user@" DOMAIN);
	assert_str(mm4_get(mm, "Subject"), "Hello");
	assert_true(cm_str_iprefix(mm4_get(mm, "Content-Type"), "text/plain"));
	cm_free(mail.s);
	free(mm);
	free(m);
}

/* ---- deterministic fuzz: random SIP requests never crash or leak ---- */

static unsigned fuzz_seed = 12345;

static unsigned fuzz_rand(void)
{
	fuzz_seed = fuzz_seed * 1103515245u + 12345u;
	return (fuzz_seed >> 8) & 0xffffff;
}

static void test_fuzz(void **state)
{
	static const char *const frags[] = {
		"From: ", "To: ", "cc: ", "NS: imdn <urn:ietf:params:imdn>",
		"imdn.Message-ID: ", "DateTime: ", "imdn.Disposition-Notification: ",
		"Content-Type: ", "text/plain", "message/cpim", "message/imdn+xml",
		"<tel:+4712345678>", "<sip:+4790000001@h;user=phone>", "\"", "<",
		">", ";", ",", ":", "\r\n", "\n", "\r\n\r\n", "--b", "--b--",
		"application/resource-lists+xml", "<entry uri=\"", "tel:+47",
		"2024-05-01T10:15:00Z", "display", "positive-delivery", "\\", "(",
		")", " ", "\t", "\0", "\xff", "+", "@",
	};
	static const char *const cts[] = {
		"message/cpim", "multipart/mixed;boundary=b", "text/plain", "",
		"message/imdn+xml",
	};
	map_config c = cfg();
	char body[1024];
	char hdr[4][128];
	map_result *m = res_new();
	time_t t;
	int iter, i, k, n, len, f;

	for (iter = 0; iter < 20000; iter++) {
		cpm_request r;

		n = 0;
		len = fuzz_rand() % 40;
		for (i = 0; i < len; i++) {
			const char *z = frags[fuzz_rand() % (sizeof(frags)
					/ sizeof(frags[0]))];
			int zl = z[0] ? (int)strlen(z) : 1;

			if (n + zl >= (int)sizeof(body))
				break;
			memcpy(body + n, z, zl);
			n += zl;
		}
		for (k = 0; k < 4; k++) {
			int hl = 0;

			len = fuzz_rand() % 8;
			for (i = 0; i < len; i++) {
				f = fuzz_rand() % (sizeof(frags) / sizeof(frags[0]));
				hl += snprintf(hdr[k] + hl, sizeof(hdr[k]) - hl, "%s",
						frags[f]);
				if (hl >= (int)sizeof(hdr[k]))
					hl = sizeof(hdr[k]) - 1;
			}
			hdr[k][hl] = '\0';
		}
		r = req_plain("");
		r.body.s = body;
		r.body.len = n;
		r.content_type = S(cts[fuzz_rand() % (sizeof(cts) / sizeof(cts[0]))]);
		if (fuzz_rand() % 2)
			r.ruri = S(hdr[0]);
		r.from = S(hdr[1]);
		r.pai = S(hdr[2]);
		r.privacy = S(hdr[3]);
		r.date = S(hdr[3]);
		r.priority = S(hdr[0]);
		r.subject = S(hdr[1]);
		r.max_forwards = (int)(fuzz_rand() % 200) - 100;
		r.expires = (int)(fuzz_rand() % 200) - 100;
		c.use_cpim_recipients = fuzz_rand() % 2;
		c.max_message_size = fuzz_rand() % 2 ? 0 : (int)(fuzz_rand() % 64);
		if (map(&r, &c, m) == 0) {
			assert_true(m->nrcpt >= 1 && m->nrcpt <= MAP_MAX_RCPT);
			assert_true(m->req.from.len > 0);
		} else {
			assert_true(m->sip_code >= 400 && m->sip_code < 600);
		}
		rfcdate_parse_iso8601(r.body, &t);
		rfcdate_parse_rfc5322(r.body, &t);
		map_sender_hidden(r.body, r.body);
	}
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpim_request),
		cmocka_unit_test(test_t1_request_uri),
		cmocka_unit_test(test_t1_sender),
		cmocka_unit_test(test_t1_content_type),
		cmocka_unit_test(test_t1_content_transfer_encoding),
		cmocka_unit_test(test_t1_size),
		cmocka_unit_test(test_t1_date),
		cmocka_unit_test(test_t1_expiry),
		cmocka_unit_test(test_t1_dispositions),
		cmocka_unit_test(test_t1_priority),
		cmocka_unit_test(test_t1_sender_visibility),
		cmocka_unit_test(test_t1_subject),
		cmocka_unit_test(test_t1_forward_counter),
		cmocka_unit_test(test_t1_fixed_rows),
		cmocka_unit_test(test_t1_message_ids),
		cmocka_unit_test(test_t1_message_id_collision),
		cmocka_unit_test(test_t1_bad_config),
		cmocka_unit_test(test_uri_list),
		cmocka_unit_test(test_uri_list_plain_part),
		cmocka_unit_test(test_uri_list_copy_control),
		cmocka_unit_test(test_uri_list_errors),
		cmocka_unit_test(test_cpim_recipients),
		cmocka_unit_test(test_max_rcpt_cap),
		cmocka_unit_test(test_t3_res_status),
		cmocka_unit_test(test_t3b_local),
		cmocka_unit_test(test_t3b_smtp_codes),
		cmocka_unit_test(test_t3b_smtp_enhanced),
		cmocka_unit_test(test_sip_rank),
		cmocka_unit_test(test_t5_sip_to_res),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_write_mapped_req),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
