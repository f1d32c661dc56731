/*
 * cpm_mms - helpers shared by the glue units: tm's API, pkg memory for the
 * pure layer, random tokens.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_UTIL_H
#define CPM_MMS_UTIL_H

#include "modules/tm/tm_load.h"

extern struct tm_binds cpm_tmb;

/* load tm's API into cpm_tmb (mod_init) */
int cpm_util_load_tm(void);
/* cm_str allocation hooks to pkg memory (call once per process) */
void cpm_mem_use_pkg(void);
/* unguessable hex token of 2*nbytes chars (out holds 2*nbytes+1) */
int cpm_random_hex(char *out, int nbytes);
/* text for a log line into buf, cut to its size */
void cpm_log_text(char *buf, int size, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

#endif
