/*
 * cpm_mms - helpers shared by the glue units.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/mem/mem.h"
#include "core/dprint.h"
#include "core/sr_module.h"
#include "core/route_struct.h"
#include "core/data_lump_rpl.h"

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

/* t_continue() runs an action list on the transaction's request, in the
 * calling process. The list is one call to an internal function that sends
 * the reply prepared just before. */
static struct action *resume_action = NULL;

/* the answer being sent by this process (t_continue is synchronous) */
static int resume_code;
static const char *resume_reason;
static const char *resume_hdrs;

static int resume_reply(struct sip_msg *msg, char *p1, char *p2)
{
	if (resume_hdrs && resume_hdrs[0]) {
		if (add_lump_rpl(msg, (char *)resume_hdrs, strlen(resume_hdrs),
					LUMP_RPL_HDR) == 0)
			LM_ERR("cannot add reply headers\n");
	}
	if (cpm_tmb.t_reply(msg, resume_code, (char *)resume_reason) < 0) {
		LM_ERR("cannot send %d reply\n", resume_code);
		return -1;
	}
	return 1;
}

static ksr_cmd_export_t resume_cmd = {
	"cpm_mms_resume_reply", resume_reply, 0, 0, 0,
	ANY_ROUTE, 0, 0
};

int cpm_resume_init(void)
{
	resume_action = mk_action(MODULE0_T, 1, MODEXP_ST, &resume_cmd);
	if (!resume_action) {
		LM_ERR("cannot build the resume action\n");
		return -1;
	}
	return 0;
}

int cpm_resume_reply(unsigned int t_hash, unsigned int t_label, int code,
		const char *reason, const char *extra_hdrs)
{
	int ret;

	resume_code = code;
	resume_reason = reason ? reason : "";
	resume_hdrs = extra_hdrs;
	ret = cpm_tmb.t_continue(t_hash, t_label, resume_action);
	resume_hdrs = NULL;
	if (ret < 0) {
		LM_NOTICE("transaction %u:%u is gone (tm timer or client), "
				"%d not sent\n", t_hash, t_label, code);
		return -1;
	}
	return 0;
}
