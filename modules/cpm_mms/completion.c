/*
 * cpm_mms - completion of a CPM -> MMS MESSAGE: one answer through tm,
 * whoever learns the outcome.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* The answer goes through tm from whatever module process learnt the
 * outcome (MM4 worker, timer, RPC): cpm_resume_reply(). */
#include <stdio.h>
#include <string.h>

#include "core/dprint.h"

#include "settings.h"
#include "cpm_util.h"
#include "pending.h"
#include "stats.h"
#include "report.h"
#include "completion.h"

/* answer the MESSAGE of a completed entry and free it */
static void finish(pending_entry *e, const char *why)
{
	char hdrs[160];

	hdrs[0] = '\0';
	if (e->code == 503)
		snprintf(hdrs, sizeof(hdrs), "Retry-After: 60\r\n");
	/* the one line of the MESSAGE at INFO, with the ids of both sides */
	LM_INFO("MESSAGE answered %d %s: Call-ID %s, imdn.Message-ID %s, "
			"X-Mms-Transaction-ID %s, X-Mms-Message-ID %s, recipient %s, "
			"MMSC %s, %s, %lld ms\n", e->code, e->reason,
			e->callid[0] ? e->callid : "-", e->imdn_id[0] ? e->imdn_id : "-",
			e->tid, e->mms_message_id, e->recipient,
			e->mmsc[0] ? e->mmsc : "-", why,
			pending_now_ms() - e->created_ms);
	cpm_resume_reply(e->t_hash, e->t_label, e->code, e->reason, hdrs);
	pending_free(e);
}

/* outcome of REQ n: complete the MESSAGE if it was the last one; 0 if the
 * MESSAGE had been answered already (timeout) */
int completion_outcome(const char *tid, int n, int code, const char *reason,
		const char *why)
{
	pending_entry *e;
	int known;

	e = pending_record(tid, n, code, reason, &known);
	if (e)
		finish(e, why);
	else if (!known)
		LM_INFO("outcome %d for %s-%d after the MESSAGE was answered\n",
				code, tid, n);
	return known;
}

int completion_failure(const char *tid, int n, map_local_failure lf,
		const char *why)
{
	map_sip_status st;

	map_local_failure_to_sip(lf, settings_timeout_mode(), &st);
	return completion_outcome(tid, n, st.code, st.reason, why);
}

int completion_answer(const char *tid, int code, const char *reason,
		const char *why)
{
	pending_entry *e = pending_take(tid);

	if (!e)
		return -1;
	e->code = code;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	finish(e, why);
	return 0;
}

int completion_abort(const char *tid, map_local_failure lf, const char *why)
{
	map_sip_status st;

	map_local_failure_to_sip(lf, 0, &st);
	return completion_answer(tid, st.code, st.reason, why);
}

/* ---- the RES the listener received, in an MM4 worker ---- */

void completion_res(const mm4_msg *m)
{
	cm_str tid = mm4_get_unquoted(m, "X-Mms-Transaction-ID");
	cm_str status = mm4_get(m, "X-Mms-Request-Status-Code");
	cm_str stext = mm4_get(m, "X-Mms-Status-Text");
	char base[PENDING_TID_MAX];
	char reason[PENDING_REASON_MAX];
	char ours[PENDING_MID_MAX], tid_z[PENDING_TID_MAX + 16];
	map_sip_status st;
	pending_entry *e;
	int n, known;

	if (tid.len == 0 || status.len == 0) {
		LM_NOTICE("MM4_forward.RES without %s: ignored\n",
				tid.len ? "X-Mms-Request-Status-Code" : "X-Mms-Transaction-ID");
		return;
	}
	if (pending_split_tid(tid.s, tid.len, base, sizeof(base), &n) < 0
			|| cm_str_copy(tid_z, sizeof(tid_z), tid) < 0) {
		stats_inc(CPM_ST_RES_UNMATCHED);
		LM_NOTICE("MM4_forward.RES for unknown transaction '%.*s': ignored\n",
				tid.len, tid.s);
		return;
	}
	map_res_status_to_sip(status, stext, &st);
	/* a peer that gives the MM its own id (Mbuni) may report with it */
	if (st.code < 300 && pending_message_id(base, ours, sizeof(ours)) == 0)
		report_res_alias(ours, tid_z,
				mm4_get_unquoted(m, "X-Mms-Message-ID"));
	if (st.code < 300)
		stats_inc(CPM_ST_RES_OK);
	else if (st.code == 480 || st.code == 503)
		stats_inc(CPM_ST_RES_TRANSIENT);
	else
		stats_inc(CPM_ST_RES_PERMANENT);
	/* the peer's text, when safe, is more useful to the sender */
	if (st.code >= 300 && stext.len > 0 && stext.len < PENDING_REASON_MAX
			&& !cm_str_has_ctl(stext))
		snprintf(reason, sizeof(reason), "%.*s", stext.len, stext.s);
	else
		snprintf(reason, sizeof(reason), "%s", st.reason);
	e = pending_record(base, n, st.code, reason, &known);
	if (e) {
		LM_DBG("MM4_forward.RES %.*s: %.*s\n", tid.len, tid.s, status.len,
				status.s);
		finish(e, "MM4_forward.RES");
	} else if (!known) {
		stats_inc(CPM_ST_RES_UNMATCHED);
		if (st.code >= 300)
			report_late_failure(m, status);
		LM_NOTICE("MM4_forward.RES %.*s (%.*s) matches no waiting MESSAGE"
				" (late, duplicate or forged): ignored\n", tid.len, tid.s,
				status.len, status.s);
	}
}

void completion_expire(long long now_ms)
{
	pending_entry *e, *next;
	map_sip_status st;

	for (e = pending_expire(now_ms); e; e = next) {
		next = e->next;
		if (e->state == PENDING_QUEUED) {
			/* no worker took it: it will not be sent */
			map_local_failure_to_sip(MAP_LF_OVERLOAD, 0, &st);
		} else {
			map_local_failure_to_sip(MAP_LF_TIMEOUT, settings_timeout_mode(),
					&st);
		}
		if (e->nres == 0 || map_sip_rank(st.code) > map_sip_rank(e->code)) {
			e->code = st.code;
			snprintf(e->reason, sizeof(e->reason), "%s", st.reason);
		}
		if (e->state != PENDING_QUEUED)
			stats_inc(CPM_ST_TIMEOUTS);
		finish(e, e->state == PENDING_QUEUED ? "no MM4 worker in time"
				: "no MM4_forward.RES in time");
	}
}
