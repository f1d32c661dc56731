/*
 * cpm_mms - unit tests: charset.c (text of MMS content and headers ->
 * UTF-8). The input bytes and the UTF-8 expected were produced apart, by
 * Python's codecs (str.encode(charset) / str.encode("utf-8")).
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

#include "charset.h"
#include "fail_alloc.h"

#define S(lit) cm_str_z(lit)

typedef struct vec {
	const char *charset;
	const char *in;
	int len;
	const char *utf8;
} vec;

static const vec vectors[] = {
	{"ISO-8859-1", "\x47\x72\xfc\xdf\x65\x2c\x20\x4b\xf8\x6c\x6e", 11,
		"\x47\x72\xc3\xbc\xc3\x9f\x65\x2c\x20\x4b\xc3\xb8\x6c\x6e"}, /* Grüße, Køln */
	{"iso-8859-2", "\xa3\xf3\x64\xbc\x2c\x20\xae\x6c\x75\xbb\x6f\x75\xe8\x6b\xfd\x20\x6b\xf9\xf2", 19,
		"\xc5\x81\xc3\xb3\x64\xc5\xba\x2c\x20\xc5\xbd\x6c\x75\xc5\xa5\x6f\x75\xc4\x8d\x6b\xc3\xbd\x20\x6b\xc5\xaf\xc5\x88"}, /* Łódź, Žluťoučký kůň */
	{"ISO-8859-5", "\xbf\xe0\xd8\xd2\xd5\xe2", 6,
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"}, /* Привет */
	{"ISO-8859-7", "\xca\xe1\xeb\xe7\xec\xdd\xf1\xe1", 8,
		"\xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1"}, /* Καλημέρα */
	{"iso-8859-9", "\xdd\x73\x74\x61\x6e\x62\x75\x6c\x20\xf0\xfc\xfe", 12,
		"\xc4\xb0\x73\x74\x61\x6e\x62\x75\x6c\x20\xc4\x9f\xc3\xbc\xc5\x9f"}, /* İstanbul ğüş */
	{"ISO-8859-15", "\xa4\x20\xbd\x20\xb4", 5,
		"\xe2\x82\xac\x20\xc5\x93\x20\xc5\xbd"}, /* € œ Ž */
	{"windows-1250", "\xa3\xf3\x64\x9f", 4, "\xc5\x81\xc3\xb3\x64\xc5\xba"}, /* Łódź */
	{"windows-1251", "\xcf\xf0\xe8\xe2\xe5\xf2\x20\xec\xe8\xf0", 10,
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\x20\xd0\xbc\xd0\xb8\xd1\x80"}, /* Привет мир */
	{"windows-1252", "\x93\x71\x75\x6f\x74\x65\x64\x94\x20\x96\x20\x80\x35\x20\x85", 15,
		"\xe2\x80\x9c\x71\x75\x6f\x74\x65\x64\xe2\x80\x9d\x20\xe2\x80\x93\x20\xe2\x82\xac\x35\x20\xe2\x80\xa6"}, /* “quoted” – €5 … */
	{"windows-1253", "\xca\xe1\xeb\xe7\xec\xdd\xf1\xe1", 8,
		"\xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1"}, /* Καλημέρα */
	{"windows-1256", "\xe3\xd1\xcd\xc8\xc7", 5, "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7"}, /* مرحبا */
	{"KOI8-R", "\xf0\xd2\xc9\xd7\xc5\xd4", 6,
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"}, /* Привет */
	{"KOI8-U", "\xeb\xc9\xa7\xd7", 4, "\xd0\x9a\xd0\xb8\xd1\x97\xd0\xb2"}, /* Київ */
	{"GB2312", "\xd6\xd0\xce\xc4\xb6\xcc\xd0\xc5", 8,
		"\xe4\xb8\xad\xe6\x96\x87\xe7\x9f\xad\xe4\xbf\xa1"}, /* 中文短信 */
	{"GBK", "\xd6\xd0\xce\xc4\xba\x86\xf3\x77", 8,
		"\xe4\xb8\xad\xe6\x96\x87\xe7\xb0\xa1\xe9\xab\x94"}, /* 中文簡體 */
	{"GB18030", "\xd6\xd0\xce\xc4\xa2\xe3\x94\x39\xfc\x36", 10,
		"\xe4\xb8\xad\xe6\x96\x87\xe2\x82\xac\xf0\x9f\x98\x80"}, /* 中文€😀 */
	{"Big5", "\xa4\xa4\xa4\xe5\xc2\xb2\xb0\x54", 8,
		"\xe4\xb8\xad\xe6\x96\x87\xe7\xb0\xa1\xe8\xa8\x8a"}, /* 中文簡訊 */
	{"Shift_JIS", "\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x81\x81\x5b\x83\x8b", 14,
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab"}, /* 日本語のメール */
	{"EUC-KR", "\xbe\xc8\xb3\xe7\xc7\xcf\xbc\xbc\xbf\xe4", 10,
		"\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94"}, /* 안녕하세요 */
	{"EUC-JP", "\xc6\xfc\xcb\xdc\xb8\xec", 6, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"}, /* 日本語 */
	{"ISO-2022-JP", "\x1b\x24\x42\x46\x7c\x4b\x5c\x38\x6c\x1b\x28\x42", 12,
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"}, /* 日本語, stateful */
	{"US-ASCII", "plain ascii", 11, "plain ascii"},
	{"UTF-16BE", "\x00\x48\x00\x69\x00\x20\x27\x13\x00\x20\xd8\x3d\xde\x00", 14,
		"\x48\x69\x20\xe2\x9c\x93\x20\xf0\x9f\x98\x80"}, /* Hi ✓ 😀 */
	{"UTF-16LE", "\x48\x00\x69\x00\x20\x00\x13\x27\x20\x00\x3d\xd8\x00\xde", 14,
		"\x48\x69\x20\xe2\x9c\x93\x20\xf0\x9f\x98\x80"}, /* Hi ✓ 😀 */
	/* UTF-16 / UCS-2: the BOM decides, big-endian without one */
	{"UTF-16", "\xfe\xff\x00\xe9", 4, "\xc3\xa9"},
	{"utf-16", "\xff\xfe\xe9\x00", 4, "\xc3\xa9"},
	{"UTF-16", "\x00\xe9", 2, "\xc3\xa9"},
	{"UCS-2", "\xff\xfe\x48\x00\x69\x00", 6, "Hi"},
	{"ISO-10646-UCS-2", "\x00\x48\x00\x69", 4, "Hi"},
	{"UTF-16BE", "\xfe\xff\x00\xe9", 4, "\xc3\xa9"}, /* its BOM dropped */
	{"UTF-16LE", "\xff\xfe\xe9\x00", 4, "\xc3\xa9"},
	/* the supersets: CP932, CP949 (UHC), GBK */
	{"Shift_JIS", "\x87\x40\x5c", 3, "\xe2\x91\xa0\x5c"}, /* ①\ */
	{"ks_c_5601-1987", "\x8c\x63", 2, "\xeb\x98\xa0"}, /* 똠 */
	{"EUC-KR", "\x8c\x63", 2, "\xeb\x98\xa0"},
	{"gb2312", "\xba\x86", 2, "\xe7\xb0\xa1"}, /* 簡 */
	/* ISO-8859-1 read as windows-1252; its undefined bytes kept as C1 */
	{"latin1", "\x80\x81", 2, "\xe2\x82\xac\xc2\x81"},
	{"windows-1252", "\x8d\x8f\x90\x9d", 4, "\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d"},
	/* UTF-8: validated, a BOM dropped */
	{"UTF-8", "\xc3\xa9", 2, "\xc3\xa9"},
	{"utf8", "\xef\xbb\xbf\x48\x69", 5, "Hi"},
	/* no label / US-ASCII with 8-bit bytes: UTF-8 if valid, else 1252 */
	{"", "K\xc3\xb8ln", 5, "K\xc3\xb8ln"},
	{"", "K\xf8ln \x80", 6, "K\xc3\xb8ln \xe2\x82\xac"},
	{"us-ascii", "\xe9t\xe9", 3, "\xc3\xa9t\xc3\xa9"},
	{"US-ASCII", "\xe2\x9c\x93", 3, "\xe2\x9c\x93"},
	/* RFC 2231 language suffix, quotes are the caller's, spaces trimmed */
	{"ISO-8859-1*de", "\xfc", 1, "\xc3\xbc"},
	{" KOI8-R ", "\xf0", 1, "\xd0\x9f"},
	{"", "", 0, ""},
	{"UTF-16", "", 0, ""},
	{"GB18030", "", 0, ""},
};

static void test_vectors(void **state)
{
	int i, rc;
	cm_buf b;

	for (i = 0; i < (int)(sizeof(vectors) / sizeof(vectors[0])); i++) {
		const vec *v = &vectors[i];

		cm_buf_init(&b);
		cm_buf_adds(&b, "<");
		rc = cs_to_utf8(&b, S(v->charset), v->in, v->len, 0);
		if (rc != CS_OK)
			fail_msg("#%d %s: %s", i, v->charset, cs_strerror(rc));
		/* appended to what the buffer held */
		if (b.len != 1 + (int)strlen(v->utf8) || b.s[0] != '<'
				|| memcmp(b.s + 1, v->utf8, b.len - 1) != 0)
			fail_msg("#%d %s: got '%.*s', want '%s'", i, v->charset,
					b.len - 1, b.s + 1, v->utf8);
		assert_int_equal(b.s[b.len], '\0');
		assert_true(cs_utf8_valid(b.s, b.len));
		cm_buf_free(&b);
	}
}

static void expect_rc(const char *charset, const char *in, int len, int max,
		int want)
{
	cm_buf b;
	int rc;

	cm_buf_init(&b);
	cm_buf_adds(&b, "keep");
	rc = cs_to_utf8(&b, S(charset), in, len, max);
	if (rc != want)
		fail_msg("%s: %d (%s), want %d", charset, rc, cs_strerror(rc), want);
	/* a failed conversion leaves the buffer as it was */
	if (want != CS_OK) {
		assert_int_equal(b.len, 4);
		assert_string_equal(b.s, "keep");
	}
	assert_int_equal(b.failed, 0);
	cm_buf_free(&b);
}

static void test_errors(void **state)
{
	/* unknown, or names iconv must not see */
	expect_rc("x-no-such-charset", "a", 1, 0, CS_UNKNOWN);
	expect_rc("UTF-8//TRANSLIT", "a", 1, 0, CS_UNKNOWN);
	expect_rc("ISO-8859-1,x", "a", 1, 0, CS_UNKNOWN);
	expect_rc("a b", "a", 1, 0, CS_UNKNOWN);
	expect_rc("*de", "a", 1, 0, CS_OK); /* only a language: no label */
	expect_rc("0123456789012345678901234567890123456789x", "a", 1, 0,
			CS_UNKNOWN);
	/* invalid in the declared charset */
	expect_rc("UTF-8", "\xc3", 1, 0, CS_INVALID);
	expect_rc("utf-8", "\xc0\xaf", 2, 0, CS_INVALID);         /* overlong */
	expect_rc("UTF-8", "\xed\xa0\x80", 3, 0, CS_INVALID);     /* surrogate */
	expect_rc("UTF-8", "\xf4\x90\x80\x80", 4, 0, CS_INVALID); /* > U+10FFFF */
	expect_rc("UTF-16BE", "\x00\x48\x00", 3, 0, CS_INVALID);  /* odd length */
	expect_rc("UTF-16LE", "\x00\xd8\x41\x00", 4, 0, CS_INVALID); /* lone */
	expect_rc("UTF-16", "\xfe\xff\xdc\x00", 4, 0, CS_INVALID);
	expect_rc("Shift_JIS", "\x93", 1, 0, CS_INVALID);         /* cut off */
	expect_rc("GB18030", "\xd6\xd0\xce", 3, 0, CS_INVALID);
	expect_rc("EUC-KR", "\xbe\xff", 2, 0, CS_INVALID);
	expect_rc("ISO-2022-JP", "\x1b\x24\x42\x46", 4, 0, CS_INVALID);
	expect_rc("US-ASCII\x01", "a", 1, 0, CS_UNKNOWN);
	/* the limit on the output */
	expect_rc("UTF-16BE", "\x27\x13\x27\x13", 4, 5, CS_TOO_LARGE);
	expect_rc("windows-1252", "\x80\x80", 2, 5, CS_TOO_LARGE);
	expect_rc("UTF-8", "abcdef", 6, 5, CS_TOO_LARGE);
	expect_rc("UTF-8", "abcde", 5, 5, CS_OK);
}

/* UTF-16 -> UTF-8 grows by half; many chunks of iconv's buffer */
static void test_large(void **state)
{
	int n = 30000, i, rc;
	char *in = malloc(2 * n + 2);
	cm_buf b;

	assert_non_null(in);
	in[0] = (char)0xff;
	in[1] = (char)0xfe;
	for (i = 0; i < n; i++) {
		in[2 + 2 * i] = 0x13;
		in[3 + 2 * i] = 0x27; /* U+2713 */
	}
	cm_buf_init(&b);
	rc = cs_to_utf8(&b, S("UTF-16"), in, 2 * n + 2, 0);
	assert_int_equal(rc, CS_OK);
	assert_int_equal(b.len, 3 * n);
	assert_memory_equal(b.s + 3 * (n - 1), "\xe2\x9c\x93", 3);
	cm_buf_free(&b);
	cm_buf_init(&b);
	assert_int_equal(cs_to_utf8(&b, S("UTF-16"), in, 2 * n + 2, 3 * n - 1),
			CS_TOO_LARGE);
	assert_int_equal(b.len, 0);
	cm_buf_free(&b);
	free(in);
}

/* every allocation may fail: CS_NOMEM, the buffer failed, nothing leaks */
static void test_alloc_failure(void **state)
{
	static const char *const cs[] = {"UTF-8", "", "latin1", "UTF-16",
		"GB18030"};
	static const char *const in[] = {"\xc3\xa9", "\xe9", "\xe9",
		"\x00\xe9", "\xd6\xd0"};
	static const int len[] = {2, 1, 1, 2, 2};
	int i, rc;
	cm_buf b;

	for (i = 0; i < 5; i++) {
		cm_buf_init(&b);
		fail_budget = 0;
		cm_mem_set(fail_malloc, fail_realloc, free);
		rc = cs_to_utf8(&b, S(cs[i]), in[i], len[i], 0);
		cm_mem_set(malloc, realloc, free);
		assert_int_equal(rc, CS_NOMEM);
		assert_int_equal(b.failed, 1);
		cm_buf_free(&b);
	}
	/* a buffer that had failed before */
	cm_buf_init(&b);
	b.failed = 1;
	assert_int_equal(cs_to_utf8(&b, S("UTF-8"), "a", 1, 0), CS_NOMEM);
	assert_int_equal(cs_to_utf8(NULL, S("UTF-8"), "a", 1, 0), CS_NOMEM);
	cm_buf_init(&b);
	assert_int_equal(cs_to_utf8(&b, S("UTF-8"), NULL, 1, 0), CS_NOMEM);
	assert_int_equal(cs_to_utf8(&b, S("UTF-8"), "a", -1, 0), CS_NOMEM);
	/* an empty slice without a pointer (found by fuzz_mm4_in) */
	assert_int_equal(cs_to_utf8(&b, S(""), NULL, 0, 0), CS_OK);
	assert_int_equal(cs_to_utf8(&b, S("latin1"), NULL, 0, 0), CS_OK);
	assert_int_equal(cs_to_utf8(&b, S("KOI8-R"), NULL, 0, 0), CS_OK);
	assert_int_equal(b.len, 0);
	cm_buf_free(&b);
}

static void test_utf8(void **state)
{
	const unsigned char s[] = "a\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80";

	assert_int_equal(cs_utf8_seq(s, 10, 0), 1);
	assert_int_equal(cs_utf8_seq(s, 10, 1), 2);
	assert_int_equal(cs_utf8_seq(s, 10, 3), 3);
	assert_int_equal(cs_utf8_seq(s, 10, 6), 4);
	assert_int_equal(cs_utf8_seq(s, 9, 6), 0); /* cut off */
	assert_int_equal(cs_utf8_seq(s, 10, 2), 0); /* continuation byte */
	assert_true(cs_utf8_valid((const char *)s, 10));
	assert_true(cs_utf8_valid("", 0));
	assert_false(cs_utf8_valid("\xe0\x80\x80", 3));
	assert_false(cs_utf8_valid("\xc1\xbf", 2));
	assert_false(cs_utf8_valid("\xf5\x80\x80\x80", 4));
	assert_true(cs_is_utf8(S("UTF-8")));
	assert_true(cs_is_utf8(S(" utf8*en")));
	assert_false(cs_is_utf8(S("us-ascii")));
	assert_false(cs_is_utf8(S("")));
	assert_string_equal(cs_strerror(CS_UNKNOWN), "unknown charset");
	assert_string_equal(cs_strerror(CS_INVALID), "invalid in its charset");
	assert_string_equal(cs_strerror(12345), "charset error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_alloc_failure),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
