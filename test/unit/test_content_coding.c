/*
 * cpm_mms - unit tests: Content-Encoding decoding (content_coding.c).
 * The vectors were made with Python's zlib and gzip modules.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "content_coding.h"
#include "fail_alloc.h"

/* zlib.compress(b"IMDN body") */
static const unsigned char v_zlib[] = { 0x78, 0x9c, 0xf3, 0xf4, 0x75, 0xf1,
	0x53, 0x48, 0xca, 0x4f, 0xa9, 0x04, 0x00, 0x0d, 0x68, 0x02, 0xf7 };
/* the same as a raw deflate stream (wbits -15) */
static const unsigned char v_raw[] = { 0xf3, 0xf4, 0x75, 0xf1, 0x53, 0x48,
	0xca, 0x4f, 0xa9, 0x04, 0x00 };
/* gzip.compress(b"IMDN body", mtime=0) */
static const unsigned char v_gzip[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x03, 0xf3, 0xf4, 0x75, 0xf1, 0x53, 0x48, 0xca, 0x4f,
	0xa9, 0x04, 0x00, 0x12, 0xb7, 0x9b, 0x98, 0x09, 0x00, 0x00, 0x00 };

static cm_str bytes(const unsigned char *b, int n)
{
	cm_str s = { (char *)b, n };

	return s;
}

static void t_parse(void **state)
{
	assert_int_equal(cc_parse(cm_str_z("")), CC_IDENTITY);
	assert_int_equal(cc_parse(cm_str_z(" identity ")), CC_IDENTITY);
	assert_int_equal(cc_parse(cm_str_z("deflate")), CC_DEFLATE);
	assert_int_equal(cc_parse(cm_str_z("Deflate\r\n")), CC_DEFLATE);
	assert_int_equal(cc_parse(cm_str_z("gzip")), CC_GZIP);
	assert_int_equal(cc_parse(cm_str_z("x-gzip")), CC_GZIP);
	assert_int_equal(cc_parse(cm_str_z("br")), CC_UNKNOWN);
	assert_int_equal(cc_parse(cm_str_z("compress")), CC_UNKNOWN);
	assert_int_equal(cc_parse(cm_str_z("gzip, deflate")), CC_UNKNOWN);
	assert_int_equal(cc_parse(cm_str_z("deflatex")), CC_UNKNOWN);
}

static void expect_text(cc_coding c, const unsigned char *b, int n)
{
	cm_buf out;

	cm_buf_init(&out);
	assert_int_equal(cc_decode(c, bytes(b, n), 1000, &out), CC_OK);
	assert_int_equal(out.len, 9);
	assert_memory_equal(out.s, "IMDN body", 9);
	cm_buf_free(&out);
}

static void t_vectors(void **state)
{
	expect_text(CC_DEFLATE, v_zlib, sizeof(v_zlib));
	expect_text(CC_DEFLATE, v_raw, sizeof(v_raw));
	expect_text(CC_GZIP, v_gzip, sizeof(v_gzip));
}

static void expect_fail(cc_coding c, const unsigned char *b, int n, int max,
		int want)
{
	cm_buf out;

	cm_buf_init(&out);
	assert_int_equal(cc_decode(c, bytes(b, n), max, &out), want);
	assert_null(out.s);
	assert_int_equal(out.len, 0);
}

static void t_corrupt(void **state)
{
	unsigned char bad[sizeof(v_zlib)];
	unsigned char trail[sizeof(v_zlib) + 3];
	static const unsigned char junk[] = "not compressed at all";

	/* cut short, in the middle of the stream and of the trailer */
	expect_fail(CC_DEFLATE, v_zlib, 6, 1000, CC_CORRUPT);
	expect_fail(CC_DEFLATE, v_zlib, sizeof(v_zlib) - 1, 1000, CC_CORRUPT);
	expect_fail(CC_GZIP, v_gzip, sizeof(v_gzip) - 2, 1000, CC_CORRUPT);
	/* a wrong checksum */
	memcpy(bad, v_zlib, sizeof(bad));
	bad[sizeof(bad) - 1] ^= 1;
	expect_fail(CC_DEFLATE, bad, sizeof(bad), 1000, CC_CORRUPT);
	/* bytes after the end of the stream */
	memcpy(trail, v_zlib, sizeof(v_zlib));
	memcpy(trail + sizeof(v_zlib), "xyz", 3);
	expect_fail(CC_DEFLATE, trail, sizeof(trail), 1000, CC_CORRUPT);
	/* plain text labelled as compressed */
	expect_fail(CC_DEFLATE, junk, sizeof(junk) - 1, 1000, CC_CORRUPT);
	expect_fail(CC_GZIP, junk, sizeof(junk) - 1, 1000, CC_CORRUPT);
	/* a zlib stream labelled gzip */
	expect_fail(CC_GZIP, v_zlib, sizeof(v_zlib), 1000, CC_CORRUPT);
	/* not a coding to decode, or nothing to decode */
	expect_fail(CC_UNKNOWN, v_zlib, sizeof(v_zlib), 1000, CC_CORRUPT);
	expect_fail(CC_DEFLATE, v_zlib, 0, 1000, CC_CORRUPT);
}

static void t_limit(void **state)
{
	/* 1 MiB of zeros compresses to about 1 KB: a decompression bomb */
	static unsigned char zeros[1 << 20];
	unsigned char z[4096];
	uLongf zlen = sizeof(z);
	cm_buf out;

	assert_int_equal(compress2(z, &zlen, zeros, sizeof(zeros), 9), Z_OK);
	expect_fail(CC_DEFLATE, z, (int)zlen, 65536, CC_TOO_LARGE);
	/* exactly at the limit is fine, one byte under is not */
	expect_text(CC_DEFLATE, v_zlib, sizeof(v_zlib));
	cm_buf_init(&out);
	assert_int_equal(cc_decode(CC_DEFLATE, bytes(v_zlib, sizeof(v_zlib)), 9,
				&out), CC_OK);
	cm_buf_free(&out);
	expect_fail(CC_DEFLATE, v_zlib, sizeof(v_zlib), 8, CC_TOO_LARGE);
	/* more than one inflate chunk */
	cm_buf_init(&out);
	assert_int_equal(cc_decode(CC_DEFLATE, bytes(z, (int)zlen), 1 << 20, &out),
			CC_OK);
	assert_int_equal(out.len, 1 << 20);
	assert_memory_equal(out.s, zeros, 1 << 20);
	cm_buf_free(&out);
}

/* allocation failures at every point are reported, never leaked */
static void t_nomem(void **state)
{
	cm_buf out;
	int i, ret, ok = 0;

	cm_mem_set(fail_malloc, fail_realloc, free);
	for (i = 0; i < 20; i++) {
		fail_budget = i;
		cm_buf_init(&out);
		ret = cc_decode(CC_GZIP, bytes(v_gzip, sizeof(v_gzip)), 1000, &out);
		if (ret == CC_OK) {
			ok = 1;
			assert_memory_equal(out.s, "IMDN body", 9);
			cm_buf_free(&out);
			break;
		}
		assert_int_equal(ret, CC_NOMEM);
		assert_null(out.s);
	}
	cm_mem_set(malloc, realloc, free);
	assert_true(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse),
		cmocka_unit_test(t_vectors),
		cmocka_unit_test(t_corrupt),
		cmocka_unit_test(t_limit),
		cmocka_unit_test(t_nomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
