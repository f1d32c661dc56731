/*
 * cpm_mms - unit tests: cm_str allocation hooks that let a budget of
 * calls through and fail every one after it, to drive the error paths.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_TEST_FAIL_ALLOC_H
#define CPM_MMS_TEST_FAIL_ALLOC_H

#include <stdlib.h>

#include "cm_str.h"

static int fail_budget;

static inline void *fail_malloc(size_t n)
{
	if (fail_budget <= 0)
		return NULL;
	fail_budget--;
	return malloc(n);
}

static inline void *fail_realloc(void *p, size_t n)
{
	if (fail_budget <= 0)
		return NULL;
	fail_budget--;
	return realloc(p, n);
}

#endif
