/*
 * cpm_mms - small string and buffer helpers shared by the pure layers.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_str.h"

static cm_malloc_f cm_malloc_fn = malloc;
static cm_realloc_f cm_realloc_fn = realloc;
static cm_free_f cm_free_fn = free;

/* Every block carries its usable size in front, so that blocks of the
 * size every cm_buf starts with (4 KB: mails, bodies, decoded texts) can
 * be kept for reuse: each would otherwise cost the host allocator a
 * malloc and a free (Kamailio's q_malloc walks its size buckets for every
 * one, and joins the freed block with its neighbours). */
typedef union cm_hdr {
	size_t size;
	max_align_t align;
} cm_hdr;

#define CM_KEEP_SIZE 4096
static void *cm_kept[CM_KEEP_MAX];  /* headers of free CM_KEEP_SIZE blocks */
static int cm_nkept = 0;
static int cm_keep_max = 0;

void cm_mem_set(cm_malloc_f m, cm_realloc_f r, cm_free_f f)
{
	cm_mem_release();
	cm_malloc_fn = m;
	cm_realloc_fn = r;
	cm_free_fn = f;
}

void cm_mem_keep(int n)
{
	cm_keep_max = n < 0 ? 0 : n > CM_KEEP_MAX ? CM_KEEP_MAX : n;
	while (cm_nkept > cm_keep_max)
		cm_free_fn(cm_kept[--cm_nkept]);
}

void cm_mem_release(void)
{
	while (cm_nkept > 0)
		cm_free_fn(cm_kept[--cm_nkept]);
}

static void *cm_block(size_t size)
{
	cm_hdr *h;

	/* only that size: small strings must not take 4 KB each */
	if (size == CM_KEEP_SIZE && cm_nkept > 0) {
		h = cm_kept[--cm_nkept];
		return h + 1;
	}
	if (size > (size_t)-1 - sizeof(cm_hdr))
		return NULL;
	h = cm_malloc_fn(sizeof(cm_hdr) + size);
	if (!h)
		return NULL;
	h->size = size;
	return h + 1;
}

void *cm_malloc(size_t size)
{
	return cm_block(size ? size : 1);
}

void cm_free(void *p)
{
	cm_hdr *h;

	if (!p)
		return;
	h = (cm_hdr *)p - 1;
	if (h->size == CM_KEEP_SIZE && cm_nkept < cm_keep_max)
		cm_kept[cm_nkept++] = h;
	else
		cm_free_fn(h);
}

void *cm_realloc(void *p, size_t size)
{
	cm_hdr *h, *nh;
	void *n;

	if (!p)
		return cm_malloc(size);
	h = (cm_hdr *)p - 1;
	if (size <= h->size)
		return p;
	if (h->size == CM_KEEP_SIZE && cm_nkept < cm_keep_max) {
		/* a kept-size block grows into a new one and is kept */
		n = cm_block(size);
		if (!n)
			return NULL;
		memcpy(n, p, h->size);
		cm_free(p);
		return n;
	}
	if (size > (size_t)-1 - sizeof(cm_hdr))
		return NULL;
	nh = cm_realloc_fn(h, sizeof(cm_hdr) + size);
	if (!nh)
		return NULL;
	nh->size = size;
	return nh + 1;
}

void cm_buf_init(cm_buf *b)
{
	memset(b, 0, sizeof(*b));
}

static int cm_buf_reserve(cm_buf *b, int extra)
{
	int need;
	int nsize;
	char *p;

	if (b->failed)
		return -1;
	if (extra < 0 || b->len > 0x3fffffff - extra - 1) {
		b->failed = 1;
		return -1;
	}
	need = b->len + extra + 1; /* room for a NUL */
	if (need <= b->size)
		return 0;
	/* most buffers are mails or SIP bodies of a few KB: start there */
	nsize = b->size ? b->size : 4096;
	while (nsize < need)
		nsize = nsize < 0x20000000 ? nsize * 2 : need;
	p = cm_realloc(b->s, nsize);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->s = p;
	b->size = nsize;
	return 0;
}

int cm_buf_add(cm_buf *b, const char *s, int len)
{
	if (len <= 0)
		return b->failed ? -1 : 0;
	if (cm_buf_reserve(b, len) < 0)
		return -1;
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
	return 0;
}

int cm_buf_adds(cm_buf *b, const char *z)
{
	return cm_buf_add(b, z, (int)strlen(z));
}

int cm_buf_addstr(cm_buf *b, cm_str s)
{
	return cm_buf_add(b, s.s, s.len);
}

int cm_buf_printf(cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || cm_buf_reserve(b, n) < 0) {
		b->failed = 1;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
	return 0;
}

int cm_buf_take(cm_buf *b, cm_str *out)
{
	if (b->failed || cm_buf_reserve(b, 0) < 0) {
		cm_buf_free(b);
		out->s = NULL;
		out->len = 0;
		return -1;
	}
	out->s = b->s;
	out->len = b->len;
	cm_buf_init(b);
	return 0;
}

void cm_buf_free(cm_buf *b)
{
	cm_free(b->s);
	cm_buf_init(b);
}

cm_str cm_str_mk(const char *s, int len)
{
	cm_str r;

	r.s = (char *)s;
	r.len = len;
	return r;
}

cm_str cm_str_z(const char *z)
{
	cm_str s;

	s.s = (char *)z;
	s.len = z ? (int)strlen(z) : 0;
	return s;
}

static int cm_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

cm_str cm_str_trim(cm_str s)
{
	if (!s.s) {
		s.len = 0;
		return s;
	}
	while (s.len > 0 && cm_is_ws(s.s[0])) {
		s.s++;
		s.len--;
	}
	while (s.len > 0 && cm_is_ws(s.s[s.len - 1]))
		s.len--;
	return s;
}

static int cm_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int cm_str_ieq(cm_str a, cm_str b)
{
	int i;

	if (a.len != b.len)
		return 0;
	for (i = 0; i < a.len; i++)
		if (cm_lower((unsigned char)a.s[i]) != cm_lower((unsigned char)b.s[i]))
			return 0;
	return 1;
}

int cm_str_ieqz(cm_str a, const char *z)
{
	return cm_str_ieq(a, cm_str_z(z));
}

int cm_str_eq(cm_str a, cm_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

int cm_str_iprefix(cm_str s, const char *prefix)
{
	int n = (int)strlen(prefix);
	cm_str head;

	if (s.len < n)
		return 0;
	head.s = s.s;
	head.len = n;
	return cm_str_ieqz(head, prefix);
}

int cm_str_copy(char *dst, int size, cm_str s)
{
	if (s.len < 0 || s.len >= size)
		return -1;
	if (s.len)
		memcpy(dst, s.s, s.len);
	dst[s.len] = '\0';
	return 0;
}

char *cm_strndup(const char *s, int len)
{
	char *p;

	if (len < 0)
		return NULL;
	p = cm_malloc(len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

int cm_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int cm_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int cm_str_has_ctl(cm_str s)
{
	int i;

	for (i = 0; i < s.len; i++)
		if (s.s[i] == '\r' || s.s[i] == '\n' || s.s[i] == '\0')
			return 1;
	return 0;
}
