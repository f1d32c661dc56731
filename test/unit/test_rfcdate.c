/*
 * cpm_mms - unit tests: dates (rfcdate.c)
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
#include <string.h>
#include <time.h>

#include "rfcdate.h"

#define S(lit) cm_str_z(lit)
#define T_CPIM ((time_t)1714558500) /* 2024-05-01T10:15:00Z */

typedef struct dt_case {
	const char *in;
	int ok;
	time_t want;
} dt_case;

static void test_iso8601(void **state)
{
	static const dt_case cases[] = {
		{"2024-05-01T10:15:00.000Z", 1, 1714558500},
		{"2024-05-01T10:15:00Z", 1, 1714558500},
		{"2024-05-01t10:15:00z", 1, 1714558500},
		{"2024-05-01 10:15:00Z", 1, 1714558500},
		{" 2024-05-01T10:15:00.123456789Z ", 1, 1714558500},
		{"2024-05-01T12:15:00+02:00", 1, 1714558500},
		{"2024-05-01T12:15:00.5+0200", 1, 1714558500},
		{"2024-05-01T05:15:00-0500", 1, 1714558500},
		{"2024-05-01T05:15:00-05:00", 1, 1714558500},
		{"2024-05-01T12:15:00+02", 1, 1714558500},
		{"2024-05-01T10:15:00", 1, 1714558500},
		{"2024-05-01T10:15Z", 1, 1714558500},
		{"2000-02-29T00:00:00Z", 1, 951782400},
		{"1999-12-31T23:59:59Z", 1, 946684799},
		{"1999-12-31T23:59:60Z", 1, 946684800},
		{"2001-02-29T00:00:00Z", 0, 0},
		{"2024-13-01T00:00:00Z", 0, 0},
		{"2024-00-01T00:00:00Z", 0, 0},
		{"2024-04-31T00:00:00Z", 0, 0},
		{"2024-05-01T24:00:00Z", 0, 0},
		{"2024-05-01T10:60:00Z", 0, 0},
		{"2024-05-01T10:15:00+24:00", 0, 0},
		{"2024-05-01T10:15:00.Z", 0, 0},
		{"2024-05-01T10:15:00Zjunk", 0, 0},
		{"2024-05-01T10:15:00+2", 0, 0},
		{"2024-05-01", 0, 0},
		{"2024-5-1T10:15:00Z", 0, 0},
		{"Wed, 01 May 2024 10:15:00 GMT", 0, 0},
		{"", 0, 0},
	};
	time_t t;
	int i, rc;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		t = 42;
		rc = rfcdate_parse_iso8601(S(cases[i].in), &t);
		if (cases[i].ok ? (rc != 0 || t != cases[i].want) : rc != -1)
			fail_msg("'%s': rc %d t %lld", cases[i].in, rc, (long long)t);
	}
	/* not NUL-terminated */
	{
		char buf[] = "2024-05-01T10:15:00Z999";
		cm_str s = {buf, 20};
		cm_str none = {NULL, 0};

		assert_int_equal(rfcdate_parse_iso8601(s, &t), 0);
		assert_int_equal(t, 1714558500);
		assert_int_equal(rfcdate_parse_iso8601(none, &t), -1);
	}
}

static void test_rfc5322_date(void **state)
{
	static const dt_case cases[] = {
		{"Wed, 01 May 2024 10:20:05 +0000", 1, 1714558805},
		{"1 May 2024 10:20:05 +0000", 1, 1714558805},
		{"Wed, 1 May 2024 12:20:05 +0200", 1, 1714558805},
		{"Wed, 01 May 2024 05:20:05 -0500", 1, 1714558805},
		{"wed, 01 may 2024 10:20:05 gmt", 1, 1714558805},
		{"Wed, 01 May 2024 10:20:05 GMT", 1, 1714558805},
		{"Wed, 01 May 2024 10:20:05 UT", 1, 1714558805},
		{"Wed, 01 May 2024 10:20:05 UTC", 1, 1714558805},
		{"Wed, 01 May 2024 10:20:05 Z", 1, 1714558805},
		{"Wed, 01 May 2024 06:20:05 EDT", 1, 1714558805},
		{"Wed, 01 May 2024 03:20:05 PDT", 1, 1714558805},
		{"Wednesday, 01 May 2024 10:20:05 +0000", 1, 1714558805},
		{"Wed , 01 May 2024 10:20:05 +0000", 1, 1714558805},
		{"Wed, 01 May 2024 10:20:05 +0000 (UTC)", 1, 1714558805},
		{"Wed, 01 May 2024 12:20:05 +0200 (CEST) ", 1, 1714558805},
		{"Wed, 01 May 2024 10:20:05 +0000 (a (nested) comment)", 1,
			1714558805},
		{"Wed, 01 May 2024 10:20:05", 1, 1714558805},
		{"Wed, 01 May 2024 10:20 +0000", 1, 1714558800},
		{"  Wed,\r\n 01 May 2024 10:20:05 +0000", 1, 1714558805},
		{"Wed, 01 May 24 10:20:05 +0000", 1, 1714558805},
		{"Fri, 31 Dec 99 23:59:59 +0000", 1, 946684799},
		{"Sat, 1 Jan 49 00:00:00 GMT", 1, 2493072000},
		{"Sun, 1 Jan 50 00:00:00 GMT", 1, -631152000},
		{"Fri, 31 Dec 099 23:59:59 +0000", 1, 946684799},
		{"Tue, 29 Feb 2000 00:00:00 A", 1, 951782400},
		{"Tue, 24 Nov 2026 17:10:02 GMT", 1, 1795540202},
		{"Tue, 24 Nov 2026 17:10:02 J", 0, 0},
		{"Xyz, 01 May 2024 10:20:05 +0000", 0, 0},
		{"Wed 01 May 2024 10:20:05 +0000", 0, 0},
		{"Wed, 01 Mai 2024 10:20:05 +0000", 0, 0},
		{"Wed, 32 May 2024 10:20:05 +0000", 0, 0},
		{"Wed, 001 May 2024 10:20:05 +0000", 0, 0},
		{"Wed, 01 May 2024 25:20:05 +0000", 0, 0},
		{"Wed, 01 May 2024 10:20:05 +00", 0, 0},
		{"Wed, 01 May 2024 10:20:05 +0060", 0, 0},
		{"Wed, 01 May 2024 10:20:05 XYZ", 0, 0},
		{"Wed, 01 May 2024 10:20:05 +0000 junk", 0, 0},
		{"Wed, 01 May 2024 10:20:05 +0000 (unclosed", 0, 0},
		{"Wed, 01 May 2 10:20:05 +0000", 0, 0},
		{"Wed, 01 May 20245 10:20:05 +0000", 0, 0},
		{"2024-05-01T10:15:00Z", 0, 0},
		{"", 0, 0},
		{"(only a comment)", 0, 0},
	};
	time_t t;
	int i, rc;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		t = 42;
		rc = rfcdate_parse_rfc5322(S(cases[i].in), &t);
		if (cases[i].ok ? (rc != 0 || t != cases[i].want) : rc != -1)
			fail_msg("'%s': rc %d t %lld", cases[i].in, rc, (long long)t);
	}
}

static void test_format_iso8601(void **state)
{
	char out[32];
	time_t t;

	assert_int_equal(rfcdate_format_iso8601(1795540202, out), 20);
	assert_string_equal(out, "2026-11-24T17:10:02Z");
	assert_int_equal(rfcdate_format_iso8601(0, out), 20);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	/* round trip */
	assert_int_equal(rfcdate_parse_iso8601(S(out), &t), 0);
	assert_int_equal(t, 0);
	rfcdate_format_iso8601(T_CPIM, out);
	assert_int_equal(rfcdate_parse_iso8601(S(out), &t), 0);
	assert_int_equal(t, T_CPIM);
}

/* ---- hostile input: nothing crashes, nothing leaks ---- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_rfc5322_date),
		cmocka_unit_test(test_format_iso8601),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
