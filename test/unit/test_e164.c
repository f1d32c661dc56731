/*
 * cpm_mms - unit tests: E.164, ENUM, NAPTR, static routes (e164.c)
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <stdio.h>

#include "e164.h"

#define S(lit) cm_str_z(lit)

/* ---- e164_from_uri ---- */

typedef struct uri_case {
	const char *in;
	const char *want; /* NULL: must fail */
} uri_case;

static const uri_case uri_cases[] = {
	{"tel:+4712345678", "+4712345678"},
	{"TEL:+4712345678", "+4712345678"},
	/* no country code starts with 0; national forms need a plan */
	{"tel:+0412345678", NULL},
	{"tel:+0", NULL},
	{"sip:+0412345678@h;user=phone", NULL},
	{"tel:0412345678", NULL},
	{"tel:004712345678", NULL},
	{"sip:0412345678@h;user=phone", NULL},
	{"0412345678", NULL},
	{"tel:+47-123.456(78)", "+4712345678"},
	{"tel:+1-(202)-555.0100;ext=12", "+12025550100"},
	{"tel:+4712345678;phone-context=+47", NULL},
	{"tel:+4712345678;foo=bar;Phone-Context=example.com", NULL},
	{"tel:12345678;phone-context=+47", NULL},
	{"tel:12345678", NULL},
	{"tel:+", NULL},
	{"tel:", NULL},
	{"tel:+47abc", NULL},
	{"tel:+47 12", NULL},
	{"tel:+123456789012345", "+123456789012345"},   /* 15 digits */
	{"tel:+1234567890123456", NULL},                /* 16 digits */
	{"tel:+1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6", NULL},
	{"sip:+4712345678@ims.example.net;user=phone", "+4712345678"},
	{"sips:+4712345678@ims.example.net;user=phone", "+4712345678"},
	{"SIP:+4712345678@ims.example.net", "+4712345678"},
	{"sip:+47-1234-5678@h;user=phone", "+4712345678"},
	{"sip:+4712345678;npdi@h;user=phone", "+4712345678"},
	{"sip:+4712345678;phone-context=x@h;user=phone", NULL},
	{"sip:+4712345678:secret@h", "+4712345678"},
	{"sip:4712345678@h;user=phone", NULL},
	{"sip:alice@example.com", NULL},
	{"sip:+4712345678", NULL},                      /* no host */
	{"sip:@h", NULL},
	{"<tel:+4712345678>", "+4712345678"},
	{"\"Alice\" <tel:+4712345678>;tag=abc", "+4712345678"},
	{"Alice <sip:+4712345678@h;user=phone>;tag=1", "+4712345678"},
	{"\"A <b> \\\" c\" <tel:+4712345678>", "+4712345678"},
	{"\"unterminated <tel:+4712345678>", NULL},
	{"\"Name\" tel:+4712345678", NULL},
	{"<tel:+4712345678", NULL},
	{"  <  tel:+4712345678  >  ", "+4712345678"},
	{"+4712345678", "+4712345678"},
	{"4712345678", NULL},
	{"im:alice@example.com", NULL},
	{"mailto:+4712345678@x", NULL},
	{"", NULL},
	{"<>", NULL},
};

static void test_e164_from_uri(void **state)
{
	char out[E164_BUF];
	int i, rc;

	for (i = 0; i < (int)(sizeof(uri_cases) / sizeof(uri_cases[0])); i++) {
		memset(out, 'x', sizeof(out));
		rc = e164_from_uri(S(uri_cases[i].in), out);
		if (uri_cases[i].want) {
			if (rc != 0 || strcmp(out, uri_cases[i].want) != 0)
				fail_msg("'%s': rc %d", uri_cases[i].in, rc);
		} else if (rc != -1) {
			fail_msg("'%s' should fail, got %s", uri_cases[i].in, out);
		}
	}
}

static void test_e164_from_uri_not_nul_terminated(void **state)
{
	char buf[] = "tel:+4712345678XXXX";
	cm_str s = {buf, 15};
	cm_str empty = {NULL, 0};
	char out[E164_BUF];

	assert_int_equal(e164_from_uri(s, out), 0);
	assert_string_equal(out, "+4712345678");
	assert_int_equal(e164_from_uri(empty, out), -1);
	assert_int_equal(e164_from_uri(S("tel:+47"), NULL), -1);
}

/* ---- e164_from_mm4_address ---- */

static void test_e164_from_mm4_address(void **state)
{
	static const uri_case c[] = {
		{"+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs", "+4712345678"},
		{"+4712345678/type=plmn@mms.example.net", "+4712345678"},
		{"+4712345678/TYPE=PLMN", "+4712345678"},
		{"4712345678/TYPE=PLMN@x", "+4712345678"},
		{"+4712345678@mms.example.net", "+4712345678"},
		{"<+4712345678/TYPE=PLMN@mms.example.net>", "+4712345678"},
		{"\"Bob\" <+4712345678/TYPE=PLMN@x>", "+4712345678"},
		{"4712345678", "+4712345678"},
		/* without a plan a national number is not E.164, nor "+0..." */
		{"0412345678/TYPE=PLMN@mms.peer", NULL},
		{"+0412345678/TYPE=PLMN@mms.peer", NULL},
		{"004712345678/TYPE=PLMN@mms.peer", NULL},
		{"+123456789012345/TYPE=PLMN", "+123456789012345"},
		{"+1234567890123456/TYPE=PLMN", NULL},
		{"10.0.0.1/TYPE=IPv4@x", NULL},
		{"+4712345678/TYPE=IPv4@x", NULL},
		{"alice@example.com", NULL},
		{"+47-1234/TYPE=PLMN@x", NULL},
		{"+/TYPE=PLMN@x", NULL},
		{"/TYPE=PLMN@x", NULL},
		{"", NULL},
	};
	char out[E164_BUF];
	int i, rc;

	for (i = 0; i < (int)(sizeof(c) / sizeof(c[0])); i++) {
		rc = e164_from_mm4_address(S(c[i].in), out);
		if (c[i].want) {
			if (rc != 0 || strcmp(out, c[i].want) != 0)
				fail_msg("'%s': rc %d", c[i].in, rc);
		} else if (rc != -1) {
			fail_msg("'%s' should fail", c[i].in);
		}
	}
}

/* ---- numbering plan ---- */

static e164_plan plan(const char *intl, const char *natl, const char *cc)
{
	e164_plan p;

	assert_int_equal(e164_plan_init(&p, S(intl), S(natl), S(cc)), 0);
	return p;
}

static void test_e164_plan_init(void **state)
{
	e164_plan p;
	cm_str none = {NULL, 0};

	assert_int_equal(e164_plan_init(&p, S("00"), S("0"), S("47")), 0);
	assert_string_equal(p.intl, "00");
	assert_string_equal(p.natl, "0");
	assert_string_equal(p.cc, "47");
	assert_int_equal(e164_plan_init(&p, S(""), S(""), S("")), 0);
	assert_string_equal(p.intl, "");
	assert_int_equal(e164_plan_init(&p, none, none, none), 0);
	assert_int_equal(e164_plan_init(&p, S(" 011 "), S("1"), S("1")), 0);
	assert_string_equal(p.intl, "011");
	assert_int_equal(e164_plan_init(&p, S("00"), S(""), S("")), 0);
	assert_int_equal(e164_plan_init(&p, S(""), S(""), S("39")), 0);

	/* a trunk prefix without a country code says nothing */
	assert_int_equal(e164_plan_init(&p, S("00"), S("0"), S("")), -1);
	assert_string_equal(p.intl, "");
	assert_int_equal(e164_plan_init(&p, S("0"), S("0"), S("47")), -1);
	assert_int_equal(e164_plan_init(&p, S("+00"), S(""), S("")), -1);
	assert_int_equal(e164_plan_init(&p, S("0a"), S(""), S("")), -1);
	assert_int_equal(e164_plan_init(&p, S("00000000"), S(""), S("")), -1);
	assert_int_equal(e164_plan_init(&p, S(""), S(""), S("047")), -1);
	assert_int_equal(e164_plan_init(&p, S(""), S(""), S("4712")), -1);
	assert_int_equal(e164_plan_init(&p, S(""), S(""), S("+47")), -1);
	assert_int_equal(e164_plan_init(NULL, S(""), S(""), S("")), -1);
}

typedef struct plan_case {
	const char *in;
	int bare_global;
	const char *want; /* NULL: -1 */
} plan_case;

static void test_e164_normalise(void **state)
{
	static const plan_case c[] = {
		{"+4712345678", 0, "+4712345678"},
		{"004712345678", 0, "+4712345678"},
		{"0412345678", 0, "+47412345678"},
		{"412345678", 0, NULL},          /* no prefix: unknown form */
		{"412345678", 1, "+412345678"},  /* MM4: international */
		{"4712345678", 1, "+4712345678"},
		{"0412345678", 1, "+47412345678"},
		{"004712345678", 1, "+4712345678"},
		{"+0412345678", 0, NULL},
		{"+0412345678", 1, NULL},
		{"00012345", 0, NULL},           /* "00" + "0...": +0 */
		{"0", 0, NULL},
		{"00", 0, NULL},
		{"+", 0, NULL},
		{"", 0, NULL},
		{"+47123456789012", 0, "+47123456789012"},
		{"+471234567890123", 0, "+471234567890123"}, /* 15 digits */
		{"+4712345678901234", 0, NULL},
		{"0412345678901", 0, "+47412345678901"},
		{"041234567890123", 0, NULL},    /* 16 digits with the cc */
		{"0047-1234", 0, NULL},          /* separators are not ours */
		{"47a", 1, NULL},
	};
	e164_plan p = plan("00", "0", "47");
	char out[E164_BUF];
	int i, rc;

	for (i = 0; i < (int)(sizeof(c) / sizeof(c[0])); i++) {
		memset(out, 'x', sizeof(out));
		rc = e164_normalise(S(c[i].in), &p, c[i].bare_global, out);
		if (c[i].want) {
			if (rc != 0 || strcmp(out, c[i].want) != 0)
				fail_msg("'%s'/%d: rc %d", c[i].in, c[i].bare_global, rc);
		} else if (rc != -1) {
			fail_msg("'%s'/%d should fail, got %s", c[i].in,
					c[i].bare_global, out);
		}
	}
	/* no plan: only '+' numbers, or bare ones as international */
	assert_int_equal(e164_normalise(S("004712345678"), NULL, 0, out), -1);
	assert_int_equal(e164_normalise(S("4712345678"), NULL, 1, out), 0);
	assert_string_equal(out, "+4712345678");
	assert_int_equal(e164_normalise(S("0412345678"), NULL, 1, out), -1);
	/* a country without trunk prefix: every number without '+' or
	 * international prefix is national (but not in MM4 addresses) */
	p = plan("00", "", "39");
	assert_int_equal(e164_normalise(S("0612345678"), &p, 0, out), 0);
	assert_string_equal(out, "+390612345678");
	assert_int_equal(e164_normalise(S("0612345678"), &p, 1, out), -1);
	assert_int_equal(e164_normalise(S("3912345678"), &p, 1, out), 0);
	assert_string_equal(out, "+3912345678");
	/* the longer prefix wins when one starts the other */
	p = plan("011", "01", "1");
	assert_int_equal(e164_normalise(S("01147123"), &p, 0, out), 0);
	assert_string_equal(out, "+47123");
	assert_int_equal(e164_normalise(S("012025550100"), &p, 0, out), 0);
	assert_string_equal(out, "+12025550100");
	assert_int_equal(e164_normalise(S("+47"), NULL, 0, NULL), -1);
}

static void test_e164_plan_uri_and_mm4(void **state)
{
	static const uri_case uri[] = {
		{"tel:0412345678", "+47412345678"},
		{"tel:0412-34.56(78)", "+47412345678"},
		{"tel:004712345678", "+4712345678"},
		{"tel:+4712345678", "+4712345678"},
		{"tel:+0412345678", NULL},
		{"tel:412345678", NULL},
		{"sip:0412345678@ims.example;user=phone", "+47412345678"},
		{"sip:004712345678@ims.example", "+4712345678"},
		{"<sip:0412345678;npdi@h;user=phone>", "+47412345678"},
		{"0412345678", "+47412345678"},
		/* RFC 3966 local numbers: only in the context of our country */
		{"tel:412345678;phone-context=+47", "+47412345678"},
		{"tel:0412345678;phone-context=+4-7", "+47412345678"},
		{"tel:412345678;phone-context=+46", NULL},
		{"tel:412345678;phone-context=example.com", NULL},
		{"tel:412345678;phone-context=", NULL},
		{"tel:+4712345678;phone-context=+47", NULL},
		{"sip:alice@example.com", NULL},
		{"sip:0alice@example.com", NULL},
	};
	static const uri_case mm4[] = {
		{"0412345678/TYPE=PLMN@mms.peer", "+47412345678"},
		{"004712345678/TYPE=PLMN@mms.peer", "+4712345678"},
		{"4712345678/TYPE=PLMN@mms.peer", "+4712345678"},
		{"<0412345678/TYPE=PLMN@mms.peer>", "+47412345678"},
		{"+0412345678/TYPE=PLMN@mms.peer", NULL},
		{"00412345678/TYPE=PLMN@mms.peer", "+412345678"},
		{"000412345678/TYPE=PLMN@mms.peer", NULL},
		{"0/TYPE=PLMN@mms.peer", NULL},
	};
	e164_plan p = plan("00", "0", "47");
	char out[E164_BUF];
	int i, rc;

	for (i = 0; i < (int)(sizeof(uri) / sizeof(uri[0])); i++) {
		rc = e164_from_uri_plan(S(uri[i].in), &p, out);
		if (uri[i].want) {
			if (rc != 0 || strcmp(out, uri[i].want) != 0)
				fail_msg("'%s': rc %d", uri[i].in, rc);
		} else if (rc != -1) {
			fail_msg("'%s' should fail, got %s", uri[i].in, out);
		}
	}
	for (i = 0; i < (int)(sizeof(mm4) / sizeof(mm4[0])); i++) {
		rc = e164_from_mm4_address_plan(S(mm4[i].in), &p, out);
		if (mm4[i].want) {
			if (rc != 0 || strcmp(out, mm4[i].want) != 0)
				fail_msg("'%s': rc %d", mm4[i].in, rc);
		} else if (rc != -1) {
			fail_msg("'%s' should fail, got %s", mm4[i].in, out);
		}
	}
	/* Norway-like: no trunk prefix, a country code only */
	p = plan("00", "", "47");
	assert_int_equal(e164_from_uri_plan(S("tel:41234567"), &p, out), 0);
	assert_string_equal(out, "+4741234567");
	assert_int_equal(e164_from_mm4_address_plan(S("41234567/TYPE=PLMN@x"), &p,
			out), 0);
	assert_string_equal(out, "+41234567");

	/* the process-wide plan is what e164_from_uri() and
	 * e164_from_mm4_address() apply */
	p = plan("00", "0", "47");
	assert_int_equal(e164_from_uri(S("tel:0412345678"), out), -1);
	e164_plan_set(&p);
	assert_int_equal(e164_from_uri(S("tel:0412345678"), out), 0);
	assert_string_equal(out, "+47412345678");
	assert_int_equal(e164_from_mm4_address(S("0412345678/TYPE=PLMN@x"), out),
			0);
	assert_string_equal(out, "+47412345678");
	assert_int_equal(e164_from_uri(S("tel:+0412345678"), out), -1);
	e164_plan_set(NULL);
	assert_int_equal(e164_from_uri(S("tel:0412345678"), out), -1);
	assert_int_equal(e164_from_mm4_address(S("0412345678/TYPE=PLMN@x"), out),
			-1);
}

/* ---- enum_domain ---- */

static void test_enum_domain(void **state)
{
	char out[64];

	assert_int_equal(enum_domain("+4712345678", S("e164.arpa"), out,
			sizeof(out)), (int)strlen("8.7.6.5.4.3.2.1.7.4.e164.arpa"));
	assert_string_equal(out, "8.7.6.5.4.3.2.1.7.4.e164.arpa");
	/* trailing dot dropped */
	assert_true(enum_domain("+4712345678", S("e164enum.net."), out,
			sizeof(out)) > 0);
	assert_string_equal(out, "8.7.6.5.4.3.2.1.7.4.e164enum.net");
	/* non-digits stripped */
	assert_true(enum_domain("+47-12", S("e164.arpa"), out, sizeof(out)) > 0);
	assert_string_equal(out, "2.1.7.4.e164.arpa");
	/* empty suffix: the public tree */
	assert_true(enum_domain("+1", S(""), out, sizeof(out)) > 0);
	assert_string_equal(out, "1.e164.arpa");
	/* exact fit and one byte short */
	assert_int_equal(enum_domain("+12", S("x"), out, 6), 5);
	assert_string_equal(out, "2.1.x");
	assert_int_equal(enum_domain("+12", S("x"), out, 5), -1);
	assert_int_equal(enum_domain("+", S("e164.arpa"), out, sizeof(out)), -1);
	assert_int_equal(enum_domain("+1234567890123456", S("e164.arpa"), out,
			sizeof(out)), -1);
	assert_int_equal(enum_domain(NULL, S("e164.arpa"), out, sizeof(out)), -1);
}

/* ---- NAPTR service and selection ---- */

static void test_naptr_is_mms_mailto(void **state)
{
	assert_int_equal(naptr_is_mms_mailto(S("E2U+mms:mailto")), 1);
	assert_int_equal(naptr_is_mms_mailto(S("e2u+MMS:MAILTO")), 1);
	assert_int_equal(naptr_is_mms_mailto(S(" E2U+mms:mailto ")), 1);
	assert_int_equal(naptr_is_mms_mailto(S("mms+E2U")), 1);
	assert_int_equal(naptr_is_mms_mailto(S("MMS+e2u")), 1);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+mms")), 1);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+email+mms:mailto")), 1);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+email:mailto+mms:mailto")), 1);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+mms:mailto+email:mailto")), 1);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+email:mailto")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+mms:tel")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+mms:mmscid")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+mms:smtp:mm3")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+mms:http:mm7")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+sip")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+sms:mailto")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+mmsx:mailto")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U+")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("E2U")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("")), 0);
	assert_int_equal(naptr_is_mms_mailto(S("sip+E2U")), 0);
}

static void test_naptr_mms_services(void **state)
{
	const int both = NAPTR_MMS_MAILTO | NAPTR_MMS_TEL;

	assert_int_equal(naptr_mms_services(S("E2U+mms:mailto")), NAPTR_MMS_MAILTO);
	assert_int_equal(naptr_mms_services(S("E2U+mms:tel")), NAPTR_MMS_TEL);
	assert_int_equal(naptr_mms_services(S("e2u+MMS:TEL")), NAPTR_MMS_TEL);
	assert_int_equal(naptr_mms_services(S("E2U+sms:tel+mms:tel")),
			NAPTR_MMS_TEL);
	assert_int_equal(naptr_mms_services(S("E2U+mms:tel+mms:mailto")), both);
	assert_int_equal(naptr_mms_services(S("E2U+mms:tel:mailto")), both);
	assert_int_equal(naptr_mms_services(S("E2U+mms")), both);
	assert_int_equal(naptr_mms_services(S("mms+E2U")), both);
	assert_int_equal(naptr_mms_services(S("E2U+sms:tel")), 0);
	assert_int_equal(naptr_mms_services(S("E2U+mms:telx")), 0);
	assert_int_equal(naptr_mms_services(S("E2U+mms:mmscid")), 0);
	assert_int_equal(naptr_mms_services(S("E2U+tel+mailto")), 0);
	assert_int_equal(naptr_mms_services(S("")), 0);
}

#define RE "!^\\+?(.*)$!mailto:+\\1/TYPE=PLMN@x!"

static naptr_rr rr(int order, int pref, const char *flags, const char *svc,
		const char *re)
{
	naptr_rr r;

	memset(&r, 0, sizeof(r));
	r.order = order;
	r.pref = pref;
	r.flags = S(flags);
	r.service = S(svc);
	r.regexp = S(re);
	r.replacement = S(".");
	return r;
}

static void test_naptr_select(void **state)
{
	naptr_rr rrs[10];
	int idx[10];
	int n;

	/* every usable record, by order then preference (stable) */
	rrs[0] = rr(10, 10, "u", "E2U+sip", RE);
	rrs[1] = rr(10, 5, "s", "E2U+mms:mailto", RE);
	rrs[2] = rr(100, 1, "u", "E2U+mms:mailto", RE);
	rrs[3] = rr(50, 30, "U", "E2U+mms:mailto", RE);
	rrs[4] = rr(50, 10, "u", "mms+E2U", RE);
	rrs[5] = rr(50, 20, "u", "E2U+mms:tel", RE);
	rrs[6] = rr(50, 30, "u", "E2U+mms:mailto", RE);
	rrs[7] = rr(50, 20, "u", "e2u+mms:mailto", RE);
	rrs[8] = rr(20, 1, "u", "E2U+mms:mailto", "");   /* no regexp */
	rrs[9] = rr(30, 1, "", "E2U+mms:mailto", RE);    /* non-terminal */
	n = naptr_select(rrs, 10, idx, 10);
	assert_int_equal(n, 6);
	assert_int_equal(idx[0], 4);
	assert_int_equal(idx[1], 5); /* equal prefs keep their order */
	assert_int_equal(idx[2], 7);
	assert_int_equal(idx[3], 3);
	assert_int_equal(idx[4], 6);
	assert_int_equal(idx[5], 2);

	/* room for two: the two best */
	n = naptr_select(rrs, 10, idx, 2);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0], 4);
	assert_int_equal(idx[1], 5);
	/* room for one, the best coming last */
	rrs[0] = rr(5, 90, "u", "E2U+mms:mailto", RE);
	rrs[1] = rr(5, 80, "u", "E2U+mms:mailto", RE);
	rrs[2] = rr(5, 70, "u", "E2U+mms:mailto", RE);
	n = naptr_select(rrs, 3, idx, 1);
	assert_int_equal(n, 1);
	assert_int_equal(idx[0], 2);
	n = naptr_select(rrs, 3, idx, 2);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 1);
	/* a lower order beats any preference */
	rrs[1] = rr(4, 99, "u", "E2U+mms:mailto", RE);
	n = naptr_select(rrs, 3, idx, 1);
	assert_int_equal(idx[0], 1);

	/* nothing usable */
	rrs[0] = rr(10, 10, "u", "E2U+sip", RE);
	rrs[1] = rr(10, 10, "s", "E2U+mms:mailto", RE);
	assert_int_equal(naptr_select(rrs, 2, idx, 10), 0);
	assert_int_equal(naptr_select(rrs, 0, idx, 10), 0);
	assert_int_equal(naptr_select(NULL, 3, idx, 10), 0);
	assert_int_equal(naptr_select(rrs, 2, idx, 0), 0);
}

/* ---- naptr_walk: RFC 3403 4.1 order, RFC 3402 matching ---- */

#define RE_47 "!^\\+47(.*)$!mailto:+47\\1/TYPE=PLMN@no!"
#define RE_46 "!^\\+46(.*)$!mailto:+46\\1/TYPE=PLMN@se!"

static void test_naptr_walk(void **state)
{
	naptr_rr rrs[8];
	naptr_walk w;
	char out[128];
	int kind;

	/* a rule of the lowest order whose regexp does not match does not
	 * settle the order: the next order is used */
	rrs[0] = rr(10, 10, "u", "E2U+mms:mailto", RE_46);
	rrs[1] = rr(20, 10, "u", "E2U+mms:mailto", RE_47);
	rrs[2] = rr(20, 20, "u", "E2U+mms:mailto", RE);
	rrs[3] = rr(30, 10, "u", "E2U+mms:mailto", RE);
	naptr_walk_init(&w, rrs, 4);
	assert_int_equal(w.n, 4);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 1);
	assert_string_equal(out, "mailto:+4712345678/TYPE=PLMN@no");
	assert_int_equal(kind, NAPTR_MMS_MAILTO);
	assert_int_equal(w.settled, 20);
	/* failover within the settled order only, never to order 30 */
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 2);
	assert_string_equal(out, "mailto:+4712345678/TYPE=PLMN@x");
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), -1);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), -1);

	/* the same records for a Swedish number: order 10 matches */
	naptr_walk_init(&w, rrs, 4);
	assert_int_equal(naptr_walk_next(&w, "+46701234567", out, sizeof(out),
			&kind), 0);
	assert_string_equal(out, "mailto:+46701234567/TYPE=PLMN@se");
	assert_int_equal(naptr_walk_next(&w, "+46701234567", out, sizeof(out),
			&kind), -1);

	/* a non-matching rule inside the settled order is passed over, a
	 * broken regexp counts as not matching */
	rrs[0] = rr(10, 10, "u", "E2U+mms:mailto", "!^(.*$!x!");
	rrs[1] = rr(10, 20, "u", "E2U+mms:mailto", RE_46);
	rrs[2] = rr(10, 30, "u", "E2U+mms:mailto", RE_47);
	rrs[3] = rr(10, 40, "u", "E2U+mms:mailto", RE_46);
	rrs[4] = rr(10, 50, "u", "E2U+mms:mailto", RE);
	naptr_walk_init(&w, rrs, 5);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 2);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 4);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), -1);

	/* nothing matches at all */
	naptr_walk_init(&w, rrs, 2);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), -1);
	assert_int_equal(w.settled, -1);

	/* kinds: tel: from a tel service, mailto: from a mailto service,
	 * anything else matched but unusable (0) */
	rrs[0] = rr(10, 10, "u", "E2U+mms:tel", "!^.*$!tel:+4798765432!");
	rrs[1] = rr(10, 20, "u", "E2U+mms:mailto", "!^.*$!tel:+4798765432!");
	rrs[2] = rr(10, 30, "u", "E2U+mms:tel", RE);
	rrs[3] = rr(10, 40, "u", "E2U+mms", "!^.*$!TEL:+4798765432!");
	rrs[4] = rr(10, 50, "u", "E2U+mms:mailto", "!^.*$!sip:+47@ims!");
	rrs[5] = rr(10, 60, "u", "E2U+mms:mailto", "!^.*$!+47/TYPE=PLMN@[IPv6:2001:db8::1]!");
	naptr_walk_init(&w, rrs, 6);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 0);
	assert_string_equal(out, "tel:+4798765432");
	assert_int_equal(kind, NAPTR_MMS_TEL);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 1);
	assert_int_equal(kind, 0);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 2);
	assert_int_equal(kind, 0);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 3);
	assert_int_equal(kind, NAPTR_MMS_TEL);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 4);
	assert_int_equal(kind, 0);
	assert_int_equal(naptr_walk_next(&w, "+4712345678", out, sizeof(out),
			&kind), 5);
	assert_int_equal(kind, NAPTR_MMS_MAILTO);

	/* no usable record; bad arguments */
	rrs[0] = rr(10, 10, "u", "E2U+sip", RE);
	naptr_walk_init(&w, rrs, 1);
	assert_int_equal(w.n, 0);
	assert_int_equal(naptr_walk_next(&w, "+47", out, sizeof(out), &kind), -1);
	assert_int_equal(naptr_walk_next(NULL, "+47", out, sizeof(out), &kind),
			-1);
	naptr_walk_init(&w, rrs, 0);
	assert_int_equal(naptr_walk_next(&w, "+47", out, sizeof(out), &kind), -1);
}

/* ---- naptr_apply_regexp ---- */

typedef struct re_case {
	const char *re;
	const char *aus;
	const char *want; /* NULL: -1 */
} re_case;

static const re_case re_cases[] = {
	/* CPIM_IMDN_ENUM.md sec. 6 example */
	{"!^\\+?(.*)$!mailto:+\\1/TYPE=PLMN@mms.mnc001.mcc242.gprs!",
		"+4712345678",
		"mailto:+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs"},
	/* other delimiters */
	{"/^\\+(47)(.*)$/mailto:+\\1\\2@mms.no/", "+4712345678",
		"mailto:+4712345678@mms.no"},
	{"#^.*$#mailto:\\0@x#", "+47", "mailto:+47@x"},
	{"|^\\+(.*)$|mailto:\\1@x|", "+4712", "mailto:4712@x"},
	/* escaped delimiter in ERE and replacement */
	{"/^\\+47(.*)$/mailto:a\\/b\\1@x/", "+4712", "mailto:a/b12@x"},
	{"!^(\\+)?4!x\\!y!", "+4712", "x!y"},
	{"/^\\+4\\/?7(.*)$/\\1/", "+4712", "12"},
	/* escaped backslash in the replacement */
	{"!^.*$!a\\\\b!", "+47", "a\\b"},
	/* case flag */
	{"!^ABC$!ok!i", "abc", "ok"},
	{"!^ABC$!ok!", "abc", NULL},
	/* bad flag, missing parts */
	{"!^.*$!ok!x", "+47", NULL},
	{"!^.*$!ok", "+47", NULL},
	{"!^.*$", "+47", NULL},
	{"!!ok!", "+47", NULL},
	{"", "+47", NULL},
	{"!", "+47", NULL},
	/* forbidden delimiters */
	{"1^.*$1ok1", "+47", NULL},
	{"\\^.*$\\ok\\", "+47", NULL},
	{"i^.*$iokii", "+47", NULL},
	/* no match */
	{"!^\\+1(.*)$!x\\1!", "+4712345678", NULL},
	/* bad regexp */
	{"!^(+4!x!", "+47", NULL},
	{"!^[47!x!", "+47", NULL},
	/* back-reference to a missing group, trailing backslash */
	{"!^(.*)$!\\2!", "+47", NULL},
	{"!^(.*)$!abc\\!", "+47", NULL},
	/* group that did not take part: empty */
	{"!^(x)?\\+(.*)$!<\\1|\\2>!", "+47", "<|47>"},
	/* intervals: fine when small, refused when they multiply up */
	{"!^\\+47([0-9]{2})([0-9]{3})([0-9]{3})$!\\1-\\2-\\3!", "+4712345678",
		"12-345-678"},
	{"!^\\+[0-9]{1,15}$!ok!", "+4712345678", "ok"},
	{"!^[{]+(.*)$!\\1!", "{{47", "47"},
	{"!((a{255}){255}){255}!x!", "aaa", NULL},
	{"!(a{100000000})!x!", "aaa", NULL},
	/* only the replacement is kept, even unanchored */
	{"!47!X!", "+4712", "X"},
	/* cost limits (fuzz_e164): glibc needs seconds to minutes and
	 * gigabytes for these; each would match without the limits */
	{"!^\\+47i{0,4000}$!x!", "+47", NULL},
	{"!^\\+47(i?){1,64}$!x!", "+47", NULL},
	{"!^\\+47((i?)+){1,4}$!x!", "+47", NULL},
	{"!^\\+47(a|)+$!x!", "+47", NULL},
	{"!^\\+47(){1,8}$!x!", "+47", NULL},
	{"!^\\+47($){1,8}!x!", "+47", NULL},
	{"!^\\+47(\\b)*$!x!", "+47", NULL},
	{"!^\\+4?*7$!x!", "+47", NULL},
	{"!^\\+47((a{1,40}){1,40})?$!x!", "+47", NULL},
	/* back-references are not part of an ERE */
	{"!^\\+(4)\\1*7$!x!", "+47", NULL},
	/* what ENUM zones do write stays usable */
	{"!^(\\+?46|0)?(.*)$!\\2!", "+4612", "12"},
	{"!^\\+([[:digit:]]+)$!\\1!", "+47", "47"},
	{"!^[[:punct:]]?([]0-9]+)$!\\1!", "+47", "47"},
	{"!^\\+(4[0-9]{1,3})([0-9]{4,12})$!\\1-\\2!", "+4712345678",
		"4712-345678"},
	{"!^\\+?(.+)$!\\1!", "+47", "47"},
	{"!^(\\+)?4*?7$!ok!", "+47", "ok"},
};

static void test_naptr_apply_regexp(void **state)
{
	char out[128];
	int i, rc;

	for (i = 0; i < (int)(sizeof(re_cases) / sizeof(re_cases[0])); i++) {
		rc = naptr_apply_regexp(S(re_cases[i].re), re_cases[i].aus, out,
				sizeof(out));
		if (re_cases[i].want) {
			if (rc != (int)strlen(re_cases[i].want)
					|| strcmp(out, re_cases[i].want) != 0)
				fail_msg("'%s': rc %d '%s'", re_cases[i].re, rc,
						rc >= 0 ? out : "");
		} else if (rc != -1) {
			fail_msg("'%s' should fail, got '%s'", re_cases[i].re, out);
		}
	}
}

/* the compiled-expression cache: repeats, flags and more expressions than
 * it holds give the same answers as a fresh compile would */
static void test_naptr_apply_regexp_cache(void **state)
{
	char re[64], want[64], out[64];
	int round, i;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < 40; i++) {
			snprintf(re, sizeof(re), "!^\\+(47)([0-9]+)$!x%d:\\2!", i);
			snprintf(want, sizeof(want), "x%d:12345678", i);
			assert_int_equal(naptr_apply_regexp(cm_str_z(re), "+4712345678",
					out, sizeof(out)), (int)strlen(want));
			assert_string_equal(out, want);
			/* same expression, other subject: no stale match */
			assert_int_equal(naptr_apply_regexp(cm_str_z(re), "+4612345678",
					out, sizeof(out)), -1);
		}
		/* same ERE, flags differ: case matters only without "i" */
		assert_int_equal(naptr_apply_regexp(S("!^A$!y!"), "a", out,
				sizeof(out)), -1);
		assert_int_equal(naptr_apply_regexp(S("!^A$!y!i"), "a", out,
				sizeof(out)), 1);
		assert_int_equal(naptr_apply_regexp(S("!^A$!y!"), "a", out,
				sizeof(out)), -1);
		/* one that does not compile stays refused */
		assert_int_equal(naptr_apply_regexp(S("!^(47$!y!"), "47", out,
				sizeof(out)), -1);
	}
}

static void test_naptr_apply_regexp_sizes(void **state)
{
	char out[64];
	char big[2000];
	cm_str re = S("!^\\+?(.*)$!mailto:+\\1@x!");

	/* "mailto:+4712345678@x" is 20 chars: needs 21 bytes */
	assert_int_equal(naptr_apply_regexp(re, "+4712345678", out, 21), 20);
	assert_string_equal(out, "mailto:+4712345678@x");
	assert_int_equal(naptr_apply_regexp(re, "+4712345678", out, 20), -1);
	/* overlong through a back-reference */
	assert_int_equal(naptr_apply_regexp(S("!^(.*)$!\\1\\1\\1\\1\\1!"),
			"+123456789012345", out, sizeof(out)), -1);
	assert_int_equal(naptr_apply_regexp(re, "+47", out, 0), -1);
	/* an overlong expression is refused, not truncated */
	memset(big, 'a', sizeof(big));
	big[0] = '!';
	big[sizeof(big) - 4] = '!';
	big[sizeof(big) - 3] = 'x';
	big[sizeof(big) - 2] = '!';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(naptr_apply_regexp(S(big), "+47", out, sizeof(out)), -1);
	/* a cm_str that is not NUL-terminated */
	{
		char buf[] = "!^.*$!ok!XXXX";
		cm_str r = {buf, 9};

		assert_int_equal(naptr_apply_regexp(r, "+47", out, sizeof(out)), 2);
		assert_string_equal(out, "ok");
	}
}

/* ---- mailto_split ---- */

static void test_mailto_split(void **state)
{
	cm_str mb, dom;

	assert_int_equal(mailto_split(
			S("mailto:+4712345678/TYPE=PLMN@mms.example.net"), &mb, &dom), 0);
	assert_int_equal(mb.len,
			(int)strlen("+4712345678/TYPE=PLMN@mms.example.net"));
	assert_memory_equal(mb.s, "+4712345678/TYPE=PLMN@mms.example.net", mb.len);
	assert_int_equal(dom.len, (int)strlen("mms.example.net"));
	assert_memory_equal(dom.s, "mms.example.net", dom.len);

	assert_int_equal(mailto_split(S("MAILTO:a@b@c.d"), &mb, &dom), 0);
	assert_int_equal(dom.len, 3);
	assert_memory_equal(dom.s, "c.d", 3);
	assert_int_equal(mailto_split(S("user@host"), &mb, &dom), 0);
	assert_int_equal(mb.len, 9);
	assert_int_equal(mailto_split(S("mailto:u@h?subject=x"), &mb, &dom), 0);
	assert_int_equal(dom.len, 1);

	assert_int_equal(mailto_split(S("mailto:"), &mb, &dom), -1);
	assert_int_equal(mailto_split(S("mailto:user"), &mb, &dom), -1);
	assert_int_equal(mailto_split(S("mailto:@host"), &mb, &dom), -1);
	assert_int_equal(mailto_split(S("mailto:user@"), &mb, &dom), -1);
	assert_int_equal(mailto_split(S("mailto:a@b\r\nRCPT TO:<x@y>"), &mb, &dom),
			-1);
	assert_int_equal(mailto_split(S("mailto:a b@c"), &mb, &dom), -1);
	assert_int_equal(mailto_split(S("mailto:a>@c"), &mb, &dom), -1);
}

/* ---- static routes ---- */

static void test_static_route_parse(void **state)
{
	static_route r;
	char f[300];

	/* new form: the domain goes into addresses, via is the next hop */
	assert_int_equal(static_route_parse(S("+4779=>mms.mnc002.mcc242.gprs"), &r),
			0);
	assert_string_equal(r.prefix, "4779");
	assert_string_equal(r.domain, "mms.mnc002.mcc242.gprs");
	assert_string_equal(r.via, "");
	assert_int_equal(r.port, 0);
	assert_int_equal(r.flags, 0);

	assert_int_equal(static_route_parse(
			S("4779=>mms.mnc002.mcc242.gprs;via=192.0.2.5:2525"), &r), 0);
	assert_string_equal(r.domain, "mms.mnc002.mcc242.gprs");
	assert_string_equal(r.via, "192.0.2.5");
	assert_int_equal(r.port, 2525);
	assert_int_equal(r.via_nomx, 0);
	assert_int_equal(r.flags, 0);
	assert_true(static_route_format(&r, f, sizeof(f)) > 0);
	assert_string_equal(f, "+4779=>mms.mnc002.mcc242.gprs;via=192.0.2.5:2525");

	assert_int_equal(static_route_parse(S("47=>mms.x;VIA=mmsc.x"), &r), 0);
	assert_string_equal(r.via, "mmsc.x");
	assert_int_equal(r.via_nomx, 0);
	assert_int_equal(static_route_parse(S("47=>mms.x;via=[mmsc.x]:25"), &r), 0);
	assert_string_equal(r.via, "mmsc.x");
	assert_int_equal(r.via_nomx, 1);
	assert_int_equal(r.port, 25);
	assert_true(static_route_format(&r, f, sizeof(f)) > 0);
	assert_string_equal(f, "+47=>mms.x;via=[mmsc.x]:25");
	assert_int_equal(static_route_parse(S("47=>mms.x;via=[2001:db8::1]:25"),
			&r), 0);
	assert_string_equal(r.via, "2001:db8::1");
	assert_int_equal(r.via_nomx, 0);
	assert_true(static_route_format(&r, f, sizeof(f)) > 0);
	assert_string_equal(f, "+47=>mms.x;via=[2001:db8::1]:25");
	assert_int_equal(static_route_parse(S("47=>mms.x;via=[192.0.2.1]"), &r), 0);
	assert_string_equal(r.via, "192.0.2.1");
	assert_int_equal(r.via_nomx, 0);

	/* IP domains are address literals; unbracketed ones get a note */
	assert_int_equal(static_route_parse(S(" 47 => 10.0.0.1 "), &r), 0);
	assert_string_equal(r.prefix, "47");
	assert_string_equal(r.domain, "[10.0.0.1]");
	assert_string_equal(r.via, "");
	assert_int_equal(r.flags, STATIC_ROUTE_IP_DOMAIN);
	assert_int_equal(static_route_parse(S("47=>[10.0.0.1]"), &r), 0);
	assert_string_equal(r.domain, "[10.0.0.1]");
	assert_int_equal(r.flags, 0);
	assert_int_equal(static_route_parse(S("47=>[IPv6:2001:db8::1]"), &r), 0);
	assert_string_equal(r.domain, "[IPv6:2001:db8::1]");
	assert_int_equal(r.flags, 0);
	assert_int_equal(static_route_parse(S("47=>2001:db8::1"), &r), 0);
	assert_string_equal(r.domain, "[IPv6:2001:db8::1]");
	assert_int_equal(r.flags, STATIC_ROUTE_IP_DOMAIN);

	/* old "host:port": the same next hop as before, flagged */
	assert_int_equal(static_route_parse(S("+4779=>mmsc.example.net:2525"), &r),
			0);
	assert_string_equal(r.domain, "mmsc.example.net");
	assert_string_equal(r.via, "mmsc.example.net");
	assert_int_equal(r.via_nomx, 0);
	assert_int_equal(r.port, 2525);
	assert_int_equal(r.flags, STATIC_ROUTE_OLD_PORT);
	assert_true(static_route_format(&r, f, sizeof(f)) > 0);
	assert_string_equal(f,
			"+4779=>mmsc.example.net;via=mmsc.example.net:2525");
	assert_int_equal(static_route_parse(S("*=>[2001:db8::1]:25"), &r), 0);
	assert_string_equal(r.prefix, "");
	assert_string_equal(r.domain, "[IPv6:2001:db8::1]");
	assert_string_equal(r.via, "2001:db8::1");
	assert_int_equal(r.port, 25);
	assert_int_equal(r.flags, STATIC_ROUTE_OLD_PORT);
	assert_true(static_route_format(&r, f, sizeof(f)) > 0);
	assert_string_equal(f, "*=>[IPv6:2001:db8::1];via=[2001:db8::1]:25");
	assert_int_equal(static_route_parse(S("47=>10.0.0.5:2525"), &r), 0);
	assert_string_equal(r.domain, "[10.0.0.5]");
	assert_string_equal(r.via, "10.0.0.5");
	assert_int_equal(r.flags, STATIC_ROUTE_OLD_PORT | STATIC_ROUTE_IP_DOMAIN);

	assert_int_equal(static_route_parse(S("47=>"), &r), -1);
	assert_int_equal(static_route_parse(S("=>host"), &r), -1);
	assert_int_equal(static_route_parse(S("+=>host"), &r), -1);
	assert_int_equal(static_route_parse(S("4a=>host"), &r), -1);
	assert_int_equal(static_route_parse(S("47 host"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>host:0"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>host:65536"), &r), -1);
	assert_int_equal(static_route_parse(S("1234567890123456=>h"), &r), -1);
	assert_int_equal(static_route_parse(S("**=>h"), &r), -1);
	assert_int_equal(static_route_parse(S("0=>h"), &r), -1);
	assert_int_equal(static_route_parse(S("+047=>h"), &r), -1);
	/* a port on the domain and a via: which one? */
	assert_int_equal(static_route_parse(S("47=>h:25;via=x"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>h;via="), &r), -1);
	assert_int_equal(static_route_parse(S("47=>h;via=x;via=y"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>h;port=25"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>h;"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>[mms.x]"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>[IPv6:10.0.0.1]"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>a\"b"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>a(b)"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>-a"), &r), -1);
	assert_int_equal(static_route_parse(S("47=>h;via=a,b"), &r), -1);
	assert_int_equal(static_route_format(NULL, f, sizeof(f)), -1);
	assert_int_equal(static_route_parse(S("47=>h"), &r), 0);
	assert_int_equal(static_route_format(&r, f, 5), -1);
}

static void test_static_route_next(void **state)
{
	static const char *want[] = {"+47=>a", "46=>b;via=c:25", "*=>d;VIA=[e]",
		"45=>f", "44=>g"};
	cm_str spec = S(" +47=>a,46=>b;via=c:25;*=>d;VIA=[e]  45=>f;;,44=>g; ");
	cm_str one;
	int pos = 0, n = 0;

	while (static_route_next(spec, &pos, &one)) {
		assert_true(n < 5);
		if (one.len != (int)strlen(want[n])
				|| memcmp(one.s, want[n], one.len) != 0)
			fail_msg("route %d: '%.*s'", n, one.len, one.s);
		n++;
	}
	assert_int_equal(n, 5);
	assert_int_equal(static_route_next(spec, &pos, &one), 0);
	pos = 0;
	assert_int_equal(static_route_next(S(""), &pos, &one), 0);
	assert_int_equal(static_route_next(S(" ,; "), &pos, &one), 0);
	assert_int_equal(static_route_next(spec, NULL, &one), 0);
}

static void test_domain_literal_ip(void **state)
{
	char ip[64];

	assert_int_equal(domain_literal_ip(S("[192.0.2.1]"), ip, sizeof(ip)), 1);
	assert_string_equal(ip, "192.0.2.1");
	assert_int_equal(domain_literal_ip(S("[IPv6:2001:db8::1]"), ip,
			sizeof(ip)), 1);
	assert_string_equal(ip, "2001:db8::1");
	assert_int_equal(domain_literal_ip(S("[ipv6:::1]"), ip, sizeof(ip)), 1);
	assert_string_equal(ip, "::1");
	assert_int_equal(domain_literal_ip(S("[2001:db8::1]"), ip, sizeof(ip)), 1);
	assert_int_equal(domain_literal_ip(S("192.0.2.1"), ip, sizeof(ip)), 1);
	assert_string_equal(ip, "192.0.2.1");
	assert_int_equal(domain_literal_ip(S("mms.example.net"), ip, sizeof(ip)),
			0);
	assert_int_equal(domain_literal_ip(S("[mms.example.net]"), ip, sizeof(ip)),
			0);
	assert_int_equal(domain_literal_ip(S("[IPv6:192.0.2.1]"), ip, sizeof(ip)),
			0);
	assert_int_equal(domain_literal_ip(S("[192.0.2.1"), ip, sizeof(ip)), 0);
	assert_int_equal(domain_literal_ip(S("[]"), ip, sizeof(ip)), 0);
	assert_int_equal(domain_literal_ip(S("192.0.2.256"), ip, sizeof(ip)), 0);
	assert_int_equal(domain_literal_ip(S("[192.0.2.1]"), ip, 9), 0);
	assert_int_equal(domain_literal_ip(S("[192.0.2.1]"), ip, 10), 1);
	assert_int_equal(domain_literal_ip(S("[192.0.2.1]"), NULL, 10), 0);
}

static void test_static_route_match(void **state)
{
	static const char *specs[] = {"*=>default", "47=>no", "4779=>no-north",
		"+4779=>dup;via=x", "358=>fi"};
	static_route routes[5];
	int i;

	for (i = 0; i < 5; i++)
		assert_int_equal(static_route_parse(S(specs[i]), &routes[i]), 0);
	assert_int_equal(static_route_match(routes, 5, "+4712345678"), 1);
	assert_int_equal(static_route_match(routes, 5, "+4779123456"), 2);
	assert_int_equal(static_route_match(routes, 5, "+358401234567"), 4);
	assert_int_equal(static_route_match(routes, 5, "+12025550100"), 0);
	assert_int_equal(static_route_match(routes, 5, "4779"), 2);
	/* without the catch-all */
	assert_int_equal(static_route_match(routes + 1, 4, "+12025550100"), -1);
	assert_int_equal(static_route_match(routes + 1, 4, "+4"), -1);
	assert_int_equal(static_route_match(routes, 0, "+47"), -1);
	assert_int_equal(static_route_match(routes, 5, NULL), -1);
}

/* ---- hostport_split ---- */

static void test_hostport_split(void **state)
{
	char host[64];
	int port;

	assert_int_equal(hostport_split(S("mmsc.example.net:2525"), host,
			sizeof(host), &port), 0);
	assert_string_equal(host, "mmsc.example.net");
	assert_int_equal(port, 2525);
	assert_int_equal(hostport_split(S("mmsc.example.net"), host, sizeof(host),
			&port), 0);
	assert_int_equal(port, 0);
	assert_int_equal(hostport_split(S("192.0.2.1:25"), host, sizeof(host),
			&port), 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(port, 25);
	assert_int_equal(hostport_split(S("[2001:db8::1]:2525"), host,
			sizeof(host), &port), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 2525);
	assert_int_equal(hostport_split(S("[::1]"), host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 0);
	assert_int_equal(hostport_split(S("2001:db8::25"), host, sizeof(host),
			&port), 0);
	assert_string_equal(host, "2001:db8::25");
	assert_int_equal(port, 0);
	assert_int_equal(hostport_split(S("h:65535"), host, sizeof(host), &port),
			0);
	assert_int_equal(port, 65535);

	assert_int_equal(hostport_split(S("[::1]:"), host, sizeof(host), &port),
			-1);
	assert_int_equal(hostport_split(S("[::1]x"), host, sizeof(host), &port),
			-1);
	assert_int_equal(hostport_split(S("[::1"), host, sizeof(host), &port), -1);
	assert_int_equal(hostport_split(S("[]:25"), host, sizeof(host), &port),
			-1);
	assert_int_equal(hostport_split(S("host:"), host, sizeof(host), &port),
			-1);
	assert_int_equal(hostport_split(S(":25"), host, sizeof(host), &port), -1);
	assert_int_equal(hostport_split(S("host:25x"), host, sizeof(host), &port),
			-1);
	assert_int_equal(hostport_split(S("host:99999"), host, sizeof(host),
			&port), -1);
	assert_int_equal(hostport_split(S("ho st"), host, sizeof(host), &port),
			-1);
	assert_int_equal(hostport_split(S(""), host, sizeof(host), &port), -1);
	/* too long for the buffer */
	assert_int_equal(hostport_split(S("abcdefgh"), host, 8, &port), -1);
	assert_int_equal(hostport_split(S("abcdefg"), host, 8, &port), 0);
	assert_string_equal(host, "abcdefg");
}

/* ---- deterministic fuzz: hostile input never crashes ---- */

static unsigned fuzz_seed = 4711;

static unsigned fuzz_rand(void)
{
	fuzz_seed = fuzz_seed * 1103515245u + 12345u;
	return (fuzz_seed >> 8) & 0xffffff;
}

static void test_fuzz(void **state)
{
	static const char alphabet[] = "+0123456789-.()<>\"\\;:@=/![]^$*?|#ix "
		"telsipTYPEPLMNmailtoE2Umsu\r\n\t\xff";
	char in[64], out[64], host[16];
	static_route sr;
	naptr_rr rr;
	cm_str a, b;
	naptr_walk walk;
	e164_plan fp;
	int iter, i, len, port, idx[4], pos, kind;

	assert_int_equal(e164_plan_init(&fp, S("00"), S("0"), S("47")), 0);

	for (iter = 0; iter < 50000; iter++) {
		len = fuzz_rand() % sizeof(in);
		for (i = 0; i < len; i++)
			in[i] = alphabet[fuzz_rand() % (sizeof(alphabet) - 1)];
		a.s = in;
		a.len = len;
		if (e164_from_uri(a, out) == 0) {
			assert_int_equal(out[0], '+');
			assert_true(strlen(out) >= 2 && strlen(out) <= 16);
		}
		if (e164_from_mm4_address(a, out) == 0)
			assert_true(strlen(out) >= 2 && strlen(out) <= 16);
		if (e164_from_uri_plan(a, &fp, out) == 0)
			assert_true(out[0] == '+' && out[1] != '0' && strlen(out) <= 16);
		if (e164_from_mm4_address_plan(a, &fp, out) == 0)
			assert_true(out[0] == '+' && out[1] != '0' && strlen(out) <= 16);
		if (e164_normalise(a, &fp, len & 1, out) == 0)
			assert_true(out[0] == '+' && out[1] != '0' && strlen(out) <= 16);
		naptr_mms_services(a);
		domain_literal_ip(a, host, sizeof(host));
		pos = 0;
		while (static_route_next(a, &pos, &b))
			assert_true(b.len > 0 && b.s >= a.s && b.s + b.len <= a.s + a.len);
		naptr_is_mms_mailto(a);
		mailto_split(a, &a, &b);
		a.s = in;
		a.len = len;
		if (static_route_parse(a, &sr) == 0) {
			static_route_match(&sr, 1, "+4712345678");
			assert_true(static_route_format(&sr, out, sizeof(out)) < 0
					|| strlen(out) < sizeof(out));
		}
		hostport_split(a, host, sizeof(host), &port);
		/* regexp and application string from the same bytes */
		if (naptr_apply_regexp(a, "+4712345678", out, sizeof(out)) >= 0)
			assert_true(strlen(out) < sizeof(out));
		in[len < (int)sizeof(in) ? len : (int)sizeof(in) - 1] = '\0';
		enum_domain(in, a, out, fuzz_rand() % sizeof(out));
		memset(&rr, 0, sizeof(rr));
		rr.flags = a;
		rr.service = a;
		rr.regexp = a;
		naptr_select(&rr, 1, idx, 4);
		naptr_walk_init(&walk, &rr, 1);
		while (naptr_walk_next(&walk, "+4712345678", out, sizeof(out),
					&kind) >= 0)
			assert_true(strlen(out) < sizeof(out));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e164_from_uri),
		cmocka_unit_test(test_e164_from_uri_not_nul_terminated),
		cmocka_unit_test(test_e164_from_mm4_address),
		cmocka_unit_test(test_e164_plan_init),
		cmocka_unit_test(test_e164_normalise),
		cmocka_unit_test(test_e164_plan_uri_and_mm4),
		cmocka_unit_test(test_enum_domain),
		cmocka_unit_test(test_naptr_is_mms_mailto),
		cmocka_unit_test(test_naptr_mms_services),
		cmocka_unit_test(test_naptr_select),
		cmocka_unit_test(test_naptr_walk),
		cmocka_unit_test(test_naptr_apply_regexp),
		cmocka_unit_test(test_naptr_apply_regexp_sizes),
		cmocka_unit_test(test_naptr_apply_regexp_cache),
		cmocka_unit_test(test_mailto_split),
		cmocka_unit_test(test_static_route_parse),
		cmocka_unit_test(test_static_route_next),
		cmocka_unit_test(test_static_route_match),
		cmocka_unit_test(test_domain_literal_ip),
		cmocka_unit_test(test_hostport_split),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
