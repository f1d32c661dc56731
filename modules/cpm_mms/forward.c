/*
 * cpm_mms - the SIP side of CPM -> MMS: cpm_mms_forward().
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Runs in SIP workers and never touches the network: it validates and maps
 * the request (so bad input is answered at once), suspends the transaction
 * and queues the mapped request for the MM4 workers (mapped once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/parser/parse_hname2.h"
#include "core/parser/hf.h"
#include "core/mem/mem.h"
#include "core/data_lump_rpl.h"
#include "core/dprint.h"

#include "settings.h"
#include "cpm_util.h"
#include "forward.h"
#include "pending.h"
#include "mm4_queue.h"
#include "stats.h"
#include "sip_body.h"

cpm_last cpm_last_fwd;

/* non-negative integer header, -1 if absent or not a number */
static int int_hdr(struct sip_msg *msg, int type)
{
	cm_str v = sip_first_hdr(msg, type);
	int i, n = 0;

	if (v.len == 0 || v.len > 9)
		return -1;
	for (i = 0; i < v.len; i++) {
		if (v.s[i] < '0' || v.s[i] > '9')
			return -1;
		n = n * 10 + (v.s[i] - '0');
	}
	return n;
}

static void set_last(int code, const char *text)
{
	cpm_last_fwd.status_code = code;
	snprintf(cpm_last_fwd.status_text, sizeof(cpm_last_fwd.status_text), "%s",
			text ? text : "");
}

static int cpm_forward_do(struct sip_msg *msg, str *recipient);

/* RFC 3261 21.4.13: a 415 lists what is acceptable */
static void add_accept(struct sip_msg *msg)
{
	static char hdr[] = "Accept: " MAP_CPM_ACCEPT "\r\n";

	if (add_lump_rpl(msg, hdr, sizeof(hdr) - 1, LUMP_RPL_HDR) == 0)
		LM_ERR("cannot add Accept to the reply\n");
}
static int fwd_absorbed; /* the last call met a retransmission */

static map_result fwd_map;
static sip_body fwd_body; /* owns a decoded body until the job is queued */

int cpm_forward(struct sip_msg *msg, str *recipient)
{
	int ret;

	fwd_absorbed = 0;
	ret = cpm_forward_do(msg, recipient);
	sip_body_free(&fwd_body);
	if (ret == CPM_FWD_SUSPENDED && fwd_absorbed)
		return ret;
	if (ret == CPM_FWD_SUSPENDED)
		stats_inc(CPM_ST_MESSAGES_IN);
	else
		stats_inc(CPM_ST_LOCAL_REJECTS);
	return ret;
}

static int cpm_forward_do(struct sip_msg *msg, str *recipient)
{
	cpm_request rq;
	map_config mcfg;
	map_result *mr;
	char unique[33];
	char secret[17];
	char tid[PENDING_TID_MAX];
	unsigned int t_hash, t_label;
	struct cell *t;
	time_t now;
	int ret;

	memset(&cpm_last_fwd, 0, sizeof(cpm_last_fwd));
	if (msg->first_line.type != SIP_REQUEST
			|| msg->first_line.u.request.method_value != METHOD_MESSAGE) {
		set_last(405, "Method Not Allowed");
		LM_ERR("cpm_mms_forward() is for MESSAGE requests\n");
		return CPM_FWD_NOT_MESSAGE;
	}
	if (parse_headers(msg, HDR_EOH_F, 0) < 0) {
		set_last(400, "Bad Request");
		LM_NOTICE("MESSAGE with unparsable headers\n");
		return CPM_FWD_BAD_REQUEST;
	}
	memset(&rq, 0, sizeof(rq));
	if (recipient && recipient->len > 0) {
		rq.ruri.s = recipient->s;
		rq.ruri.len = recipient->len;
	} else {
		rq.ruri.s = GET_RURI(msg)->s;
		rq.ruri.len = GET_RURI(msg)->len;
	}
	rq.from = sip_first_hdr(msg, HDR_FROM_T);
	rq.to = sip_first_hdr(msg, HDR_TO_T);
	rq.pai = sip_first_hdr(msg, HDR_PAI_T);
	rq.privacy = sip_first_hdr(msg, HDR_PRIVACY_T);
	rq.subject = sip_first_hdr(msg, HDR_SUBJECT_T);
	rq.priority = sip_first_hdr(msg, HDR_PRIORITY_T);
	rq.date = sip_first_hdr(msg, HDR_DATE_T);
	rq.expires = int_hdr(msg, HDR_EXPIRES_T);
	rq.max_forwards = int_hdr(msg, HDR_MAXFORWARDS_T);
	if (sip_body_get(msg, cpm_get(max_inflated_size), &fwd_body) < 0) {
		set_last(fwd_body.sip_code, fwd_body.sip_reason);
		if (fwd_body.sip_code == 415)
			sip_body_accept_encoding(msg);
		return fwd_body.sip_code == 500 ? CPM_FWD_INTERNAL
			: CPM_FWD_BAD_REQUEST;
	}
	rq.content_type = fwd_body.content_type;
	rq.body = fwd_body.content;

	/* ids shown to peers and the secret part of the transaction id are
	 * drawn apart, so one never reveals the other */
	if (cpm_random_hex(unique, 16) < 0 || cpm_random_hex(secret, 8) < 0) {
		set_last(500, "Server Internal Error");
		return CPM_FWD_INTERNAL;
	}
	now = time(NULL);
	/* per process: a 6.8 KB pkg block per MESSAGE was a q_malloc walk */
	mr = &fwd_map;
	settings_map_out(&mcfg);
	if (map_cpm_to_mm4(&rq, &mcfg, cm_str_z(unique), now, mr) < 0) {
		set_last(mr->sip_code, mr->sip_reason);
		LM_NOTICE("MESSAGE Call-ID %.*s to %.*s not forwarded to MMS: %d %s\n",
				msg->callid ? msg->callid->body.len : 0,
				msg->callid ? msg->callid->body.s : "", rq.ruri.len, rq.ruri.s,
				mr->sip_code, mr->sip_reason);
		ret = (mr->sip_code == 404 || mr->sip_code == 484)
			? CPM_FWD_NOT_E164 : CPM_FWD_BAD_REQUEST;
		if (mr->sip_code == 415)
			add_accept(msg);
		return ret;
	}
	/* both fit: the precision tells the compiler so */
	snprintf(cpm_last_fwd.message_id, sizeof(cpm_last_fwd.message_id), "%.*s",
			(int)sizeof(cpm_last_fwd.message_id) - 1, mr->message_id);
	snprintf(cpm_last_fwd.recipient, sizeof(cpm_last_fwd.recipient), "%.*s",
			(int)sizeof(cpm_last_fwd.recipient) - 1, mr->rcpt_e164[0]);

	t = cpm_tmb.t_gett();
	if (t == NULL || t == T_UNDEFINED) {
		ret = cpm_tmb.t_newtran(msg);
		if (ret == 0) {
			/* a retransmission, absorbed by tm */
			fwd_absorbed = 1;
			return CPM_FWD_SUSPENDED;
		}
		if (ret < 0) {
			LM_ERR("cannot create the transaction (%d)\n", ret);
			set_last(500, "Server Internal Error");
			return CPM_FWD_INTERNAL;
		}
	}
	/* tm's own timer must never answer before ours */
	cpm_tmb.set_fr(msg, 0, (cpm_get(res_timeout) * 1000) + 5000);
	if (cpm_tmb.t_suspend(msg, &t_hash, &t_label) < 0) {
		LM_ERR("cannot suspend the transaction\n");
		set_last(500, "Server Internal Error");
		return CPM_FWD_INTERNAL;
	}
	snprintf(tid, sizeof(tid), "%x.%x.%s", t_hash, t_label, secret);
	snprintf(cpm_last_fwd.transaction_id, sizeof(cpm_last_fwd.transaction_id),
			"%s", tid);
	if (pending_add(tid, t_hash, t_label, mr->rcpt_e164[0], mr->message_id,
				msg->callid ? (cm_str){msg->callid->body.s,
					msg->callid->body.len} : (cm_str){NULL, 0},
				mr->imdn_message_id, cpm_get(res_timeout) * 1000) < 0) {
		cpm_tmb.t_cancel_suspend(t_hash, t_label);
		set_last(503, "Service Unavailable");
		return CPM_FWD_OVERLOAD;
	}
	/* the IMDNs for it come from the address the sender wrote to */
	mr->cpm_to = rq.to;
	if (mm4_queue_forward(mr, tid) < 0) {
		pending_free(pending_take(tid));
		cpm_tmb.t_cancel_suspend(t_hash, t_label);
		set_last(503, "Service Unavailable");
		return CPM_FWD_OVERLOAD;
	}
	LM_DBG("MESSAGE Call-ID %.*s imdn.Message-ID %.*s -> MM4 "
			"X-Mms-Transaction-ID %s X-Mms-Message-ID %s, %d recipient(s)\n",
			msg->callid ? msg->callid->body.len : 0,
			msg->callid ? msg->callid->body.s : "",
			mr->imdn_message_id.len, mr->imdn_message_id.s, tid,
			mr->message_id, mr->nrcpt);
	return CPM_FWD_SUSPENDED;
}
