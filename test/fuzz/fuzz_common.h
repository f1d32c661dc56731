/*
 * cpm_mms - helpers shared by the libFuzzer harnesses of the pure layers.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_FUZZ_COMMON_H
#define CPM_MMS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_str.h"

/* assert() may be compiled out; a property violation must always abort so
 * libFuzzer records the input */
#define FZ_ASSERT(c) \
	do { \
		if (!(c)) { \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, \
					__LINE__, #c); \
			abort(); \
		} \
	} while (0)

/* the harness's own checking loops give the fuzzer no useful feedback and
 * cost most of the time when traced: leave them uninstrumented */
#if defined(__clang__)
#define FZ_NOCOV __attribute__((no_sanitize("coverage"), noinline))
#else
#define FZ_NOCOV
#endif

/* inputs beyond this only slow the fuzzer down; the parsers' limits are
 * far below */
#define FZ_MAX_INPUT (256 * 1024)

/* s lies inside [base, base + len] (a zero-copy result) */
static inline int fz_in(cm_str s, const void *base, size_t len)
{
	const char *b = (const char *)base;

	if (s.len < 0)
		return 0;
	if (s.len == 0)
		return 1; /* empty results may point anywhere, even NULL */
	return s.s >= b && s.s + s.len <= b + len;
}

/* exact-size heap copy, so ASan sees any access past len; nul adds one
 * terminating NUL byte (not counted) */
static inline char *fz_dup(const uint8_t *data, size_t len, int nul)
{
	char *p = malloc(len + (nul ? 1 : 0) + (len == 0 && !nul));

	if (!p)
		abort();
	if (len)
		memcpy(p, data, len);
	if (nul)
		p[len] = '\0';
	return p;
}

/* split at sep into at most max fields; the last field takes the rest */
static inline FZ_NOCOV int fz_split(const uint8_t *data, size_t size, char sep,
		cm_str *f, int max)
{
	size_t i, start = 0;
	int n = 0;

	for (i = 0; i < size && n < max - 1; i++) {
		if (data[i] != (uint8_t)sep)
			continue;
		f[n].s = (char *)data + start;
		f[n].len = (int)(i - start);
		n++;
		start = i + 1;
	}
	f[n].s = (char *)data + start;
	f[n].len = (int)(size - start);
	n++;
	return n;
}

/* 1 if the buffer has only CRLF line ends (no bare CR, no bare LF) */
static inline FZ_NOCOV int fz_crlf_only(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r' && !(i + 1 < n && s[i + 1] == '\n'))
			return 0;
		if (s[i] == '\n' && !(i > 0 && s[i - 1] == '\r'))
			return 0;
	}
	return 1;
}

/* longest line, without its CRLF */
static inline FZ_NOCOV int fz_max_line(const char *s, int n)
{
	int i, col = 0, max = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			col = 0;
			continue;
		}
		if (++col > max)
			max = col;
	}
	return max;
}

#endif
