/*
 * cpm_mms - small string and buffer helpers shared by the pure layers.
 *
 * Copyright (C) 2026 cpm_mms authors
 *
 * This file is part of cpm_mms, a Kamailio module.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure code: no Kamailio header. cm_str has the layout of Kamailio's str, so
 * the glue may cast between them. Allocation goes through hooks that the
 * module points at pkg memory in each process; tests keep libc malloc. */
#ifndef CPM_MMS_CM_STR_H
#define CPM_MMS_CM_STR_H

#include <stddef.h>
#include <stdarg.h>

typedef struct cm_str {
	char *s;
	int len;
} cm_str;

#define CM_STR_STATIC(lit) { (char *)(lit), (int)(sizeof(lit) - 1) }

/* allocation hooks (default: malloc/realloc/free) */
typedef void *(*cm_malloc_f)(size_t size);
typedef void *(*cm_realloc_f)(void *p, size_t size);
typedef void (*cm_free_f)(void *p);
void cm_mem_set(cm_malloc_f m, cm_realloc_f r, cm_free_f f);
/* keep up to n (at most CM_KEEP_MAX) freed blocks of 4 KB, the size a
 * cm_buf starts with, for reuse in this process (default 0: every block
 * goes back at once, as the sanitizers in the tests want it);
 * cm_mem_release() gives the kept ones back */
#define CM_KEEP_MAX 64
void cm_mem_keep(int n);
void cm_mem_release(void);
void *cm_malloc(size_t size);
void *cm_realloc(void *p, size_t size);
void cm_free(void *p);

/* growable output buffer; on allocation failure 'failed' is set and every
 * later add is a no-op, so writers check once at the end */
typedef struct cm_buf {
	char *s;
	int len;
	int size;
	int failed;
} cm_buf;

void cm_buf_init(cm_buf *b);
int cm_buf_add(cm_buf *b, const char *s, int len);
int cm_buf_adds(cm_buf *b, const char *z);          /* NUL-terminated */
int cm_buf_addstr(cm_buf *b, cm_str s);
int cm_buf_printf(cm_buf *b, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
/* hand the buffer over as a NUL-terminated cm_str (caller frees .s with
 * cm_free) and reset b; returns -1 if the buffer had failed */
int cm_buf_take(cm_buf *b, cm_str *out);
void cm_buf_free(cm_buf *b);

/* helpers */
cm_str cm_str_mk(const char *s, int len);           /* zero-copy slice */
cm_str cm_str_z(const char *z);
cm_str cm_str_trim(cm_str s);                       /* SP/HTAB/CR/LF both ends */
int cm_str_ieq(cm_str a, cm_str b);                 /* ASCII case-insensitive */
int cm_str_ieqz(cm_str a, const char *z);
int cm_str_eq(cm_str a, cm_str b);
int cm_str_iprefix(cm_str s, const char *prefix);   /* 1 if s starts with prefix */
/* copy into dst[size] NUL-terminated; -1 (dst untouched) if it does not fit */
int cm_str_copy(char *dst, int size, cm_str s);
/* copy into a new NUL-terminated cm_malloc'd string; NULL on failure */
char *cm_strndup(const char *s, int len);
/* 1 if s contains CR, LF or NUL (would break a header line) */
int cm_str_has_ctl(cm_str s);
/* ASCII classes, whatever the locale (protocol text, not <ctype.h>) */
int cm_is_digit(char c);
int cm_is_alpha(char c);

#endif
