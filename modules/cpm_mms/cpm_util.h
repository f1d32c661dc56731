/*
 * cpm_mms - helpers shared by the glue units: tm's API and the answer to a
 * suspended transaction, pkg memory for the pure layer, random tokens.
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
/* mod_init: the action t_continue() runs to send an answer */
int cpm_resume_init(void);
/* answer a transaction suspended by the module, from any process, with
 * code/reason and extra header lines (may be NULL); 0, -1 if it is gone */
int cpm_resume_reply(unsigned int t_hash, unsigned int t_label, int code,
		const char *reason, const char *extra_hdrs);
/* cm_str allocation hooks to pkg memory (call once per process) */
void cpm_mem_use_pkg(void);
/* unguessable hex token of 2*nbytes chars (out holds 2*nbytes+1) */
int cpm_random_hex(char *out, int nbytes);
/* text for a log line into buf, cut to its size */
void cpm_log_text(char *buf, int size, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

#endif
