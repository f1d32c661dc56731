/*
 * cpm_mms - unit tests: allocation and buffers of cm_str.c, with and
 * without kept blocks
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

#include "cm_str.h"

/* the host allocator, counting what is outstanding */
static int host_live = 0;
static int host_mallocs = 0;

static void *count_malloc(size_t n)
{
	host_live++;
	host_mallocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n)
{
	if (!p) {
		host_live++;
		host_mallocs++;
	}
	return realloc(p, n);
}

static void count_free(void *p)
{
	if (p)
		host_live--;
	free(p);
}

static int setup(void **state)
{
	cm_mem_set(count_malloc, count_realloc, count_free);
	host_live = host_mallocs = 0;
	return 0;
}

static int teardown(void **state)
{
	cm_mem_keep(0);
	cm_mem_set(malloc, realloc, free);
	return 0;
}

static void test_no_keep_returns_everything(void **state)
{
	char *a = cm_malloc(100), *b = cm_malloc(5000);

	assert_non_null(a);
	assert_non_null(b);
	memset(a, 'a', 100);
	memset(b, 'b', 5000);
	assert_int_equal(host_live, 2);
	cm_free(a);
	cm_free(b);
	cm_free(NULL);
	assert_int_equal(host_live, 0);
}

static void test_keep_reuses_4k_blocks(void **state)
{
	char *a, *b;

	cm_mem_keep(2);
	a = cm_malloc(4096);
	memset(a, 'x', 4096);
	cm_free(a);
	assert_int_equal(host_live, 1); /* kept */
	b = cm_malloc(4096);
	assert_ptr_equal(a, b);         /* the same block again */
	assert_int_equal(host_mallocs, 1);
	cm_free(b);
	/* other sizes are never kept */
	b = cm_malloc(4097);
	cm_free(b);
	b = cm_malloc(10);
	cm_free(b);
	assert_int_equal(host_live, 1);
	cm_mem_release();
	assert_int_equal(host_live, 0);
}

static void test_keep_is_bounded(void **state)
{
	char *p[5];
	int i;

	cm_mem_keep(3);
	for (i = 0; i < 5; i++)
		p[i] = cm_malloc(4096);
	for (i = 0; i < 5; i++)
		cm_free(p[i]);
	assert_int_equal(host_live, 3);
	cm_mem_keep(1);                 /* lowering it gives the rest back */
	assert_int_equal(host_live, 1);
	cm_mem_keep(0);
	assert_int_equal(host_live, 0);
}

static void test_realloc_keeps_content(void **state)
{
	int keep;

	for (keep = 0; keep <= 4; keep += 4) {
		char *p;
		int i;

		cm_mem_keep(keep);
		p = cm_realloc(NULL, 3);
		memcpy(p, "abc", 3);
		p = cm_realloc(p, 2);        /* never shrinks */
		assert_memory_equal(p, "abc", 3);
		p = cm_realloc(p, 4096);
		for (i = 3; i < 4096; i++)
			p[i] = (char)i;
		p = cm_realloc(p, 70000);    /* out of the kept size */
		assert_memory_equal(p, "abc", 3);
		for (i = 3; i < 4096; i++)
			assert_int_equal(p[i], (char)i);
		memset(p + 4096, 'z', 70000 - 4096);
		p = cm_realloc(p, 140000);
		assert_int_equal(p[69999], 'z');
		cm_free(p);
		cm_mem_keep(0);
		assert_int_equal(host_live, 0);
	}
}

static void test_buf_with_kept_blocks(void **state)
{
	cm_buf b;
	cm_str out;
	int i;

	cm_mem_keep(4);
	for (i = 0; i < 3; i++) {
		int k;

		cm_buf_init(&b);
		for (k = 0; k < 1000; k++)
			cm_buf_printf(&b, "%04d;", k);
		assert_false(b.failed);
		assert_int_equal(b.len, 5000);
		assert_memory_equal(b.s + 4995, "0999;", 5);
		assert_int_equal(cm_buf_take(&b, &out), 0);
		assert_int_equal(out.s[out.len], '\0');
		cm_free(out.s);
		cm_buf_init(&b);
		cm_buf_adds(&b, "short");
		assert_string_equal(b.s, "short");
		cm_buf_free(&b);
	}
	/* one 4 KB block is all the short buffers needed */
	assert_int_equal(host_live, 1);
	cm_mem_keep(0);
	assert_int_equal(host_live, 0);
}

static void test_ascii_classes(void **state)
{
	int c;

	for (c = -128; c < 128; c++) {
		assert_int_equal(cm_is_digit((char)c), c >= '0' && c <= '9');
		assert_int_equal(cm_is_alpha((char)c),
				(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_classes),
		cmocka_unit_test_setup_teardown(test_no_keep_returns_everything,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_reuses_4k_blocks, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_keep_is_bounded, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_realloc_keeps_content, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_buf_with_kept_blocks, setup,
				teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
