/*
 * cpm_mms - answering a suspended MESSAGE transaction through tm.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* t_continue() runs an action list on the transaction's request, in the
 * calling process. The list is one call to an internal function that sends
 * the reply prepared just before, so the answer goes through tm from
 * whatever module process learnt the outcome (listener, worker, timer). */
#include <string.h>

#include "core/sr_module.h"
#include "core/route_struct.h"
#include "core/data_lump_rpl.h"
#include "core/dprint.h"

#include "settings.h"
#include "cpm_util.h"
#include "resume.h"

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

int resume_init(void)
{
	resume_action = mk_action(MODULE0_T, 1, MODEXP_ST, &resume_cmd);
	if (!resume_action) {
		LM_ERR("cannot build the resume action\n");
		return -1;
	}
	return 0;
}

int resume_transaction(unsigned int t_hash, unsigned int t_label, int code,
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
