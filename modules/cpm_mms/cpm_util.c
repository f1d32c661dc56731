/*
 * cpm_mms - helpers shared by the glue units.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>

#include "core/mem/mem.h"
#include "core/dprint.h"

#include "cm_str.h"
#include "cpm_util.h"

struct tm_binds cpm_tmb;

int cpm_util_load_tm(void)
{
	if (load_tm_api(&cpm_tmb) < 0) {
		LM_ERR("cannot load the tm API (load tm.so first)\n");
		return -1;
	}
	return 0;
}

static void *pkg_malloc_hook(size_t size)
{
	return pkg_malloc(size);
}

static void *pkg_realloc_hook(void *p, size_t size)
{
	return pkg_realloc(p, size);
}

static void pkg_free_hook(void *p)
{
	pkg_free(p);
}

void cpm_mem_use_pkg(void)
{
	cm_mem_set(pkg_malloc_hook, pkg_realloc_hook, pkg_free_hook);
	cm_mem_keep(16);
}

void cpm_log_text(char *buf, int size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

int cpm_random_hex(char *out, int nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	int i;

	if (nbytes > (int)sizeof(raw)
			|| getrandom(raw, nbytes, 0) != nbytes) {
		LM_ERR("no random bytes\n");
		return -1;
	}
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}
