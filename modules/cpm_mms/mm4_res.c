/*
 * cpm_mms - the RES the IWF owes a peer for each MM4 *.REQ it received.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* The outcomes come from the listener (duplicates, refusals), the MM4
 * workers (mapping, the event route), the tm callback of a MESSAGE or IMDN
 * (any process) and the report code; whichever records the
 * last one queues the RES for an MM4 worker. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/dprint.h"

#include "settings.h"
#include "cpm_util.h"
#include "mm4_res.h"
#include "mm4_queue.h"
#include "stats.h"

cm_str mm4_res_originator_system(const mm4_msg *m)
{
	cm_str v = mm4_bare_address(mm4_get(m, "X-Mms-Originator-System"));

	return v.len ? v : mm4_bare_address(mm4_get(m, "Sender"));
}

int mm4_res_request_info(const mm4_msg *m, const char *peer, int res_type,
		inbound_res *info, cm_str *tid, cm_str *osys)
{
	memset(info, 0, sizeof(*info));
	info->res_type = res_type;
	info->ack_request = map_ack_requested(mm4_get(m, "X-Mms-Ack-Request"),
			cpm_get(mm4_ack_default));
	*tid = mm4_get(m, "X-Mms-Transaction-ID");
	*osys = mm4_res_originator_system(m);
	if (cm_str_copy(info->tid, sizeof(info->tid), *tid) < 0
			|| cm_str_copy(info->message_id, sizeof(info->message_id),
					mm4_get(m, "X-Mms-Message-ID")) < 0
			|| cm_str_copy(info->orig_system, sizeof(info->orig_system),
					*osys) < 0
			|| cm_str_has_ctl(*osys))
		return -1;
	snprintf(info->peer_ip, sizeof(info->peer_ip), "%s", peer);
	return 0;
}

void mm4_res_send(const inbound_res *r)
{
	mm4_res res;
	cm_buf b;
	char rid[80];
	char unique[33];
	const char *at;
	int i;

	if (!r->ack_request || !r->orig_system[0])
		return;
	if (cpm_random_hex(unique, 16) < 0)
		return;
	snprintf(rid, sizeof(rid), "%s@%s", unique, cpm_fixed.domain);
	memset(&res, 0, sizeof(res));
	res.type = r->res_type ? r->res_type : MM4_FORWARD_RES;
	res.version = cpm_fixed.map.mms_version;
	res.transaction_id = cm_str_z(r->tid);
	res.message_id = cm_str_z(r->message_id);
	res.raw_ids = 1;
	res.status = cm_str_z(r->status[0] ? r->status : "Error-unspecified");
	res.status_text = cm_str_z(r->status_text);
	res.sender = cm_str_z(cpm_fixed.system_address);
	res.to = cm_str_z(r->orig_system);
	res.rfc822_message_id = cm_str_z(rid);
	res.date = time(NULL);
	cm_buf_init(&b);
	if (mm4_write_res(&b, &res) < 0 || b.failed) {
		LM_ERR("cannot write %s for %s\n", mm4_type_name(res.type), r->tid);
		cm_buf_free(&b);
		return;
	}
	at = strrchr(r->orig_system, '@');
	for (i = 0; i < (r->copies > 0 ? r->copies : 1) && i < 8; i++) {
		if (mm4_queue_mail(at ? at + 1 : "", r->peer_ip,
					cpm_fixed.system_address, r->orig_system, b.s, b.len,
					mm4_type_name(res.type)) < 0)
			LM_ERR("%s %s (%s) to %s not queued\n", mm4_type_name(res.type),
					r->tid, r->status, r->orig_system);
		else
			stats_inc(CPM_ST_RES_SENT);
	}
	LM_DBG("%s %s from %s: %s%s%s\n", mm4_type_name(res.type), r->tid,
			r->orig_system, r->status, r->status_text[0] ? ": " : "",
			r->status_text);
	cm_buf_free(&b);
}

void mm4_res_outcome(const char *key, int idx, const char *status,
		const char *text)
{
	inbound_res res;

	if (inbound_outcome(key, idx, status, text, &res) == 1)
		mm4_res_send(&res);
}
