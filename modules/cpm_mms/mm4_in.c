/*
 * cpm_mms - MMS -> CPM: MM4_forward.REQ -> SIP MESSAGE (Table 4), SIP
 * outcome -> MM4_forward.RES (Table 5).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* The listener checks a REQ (ids, recipients, duplicates) and answers
 * SMTP 250 once it is queued to the MM4 delivery process in shm; that
 * process maps it, runs the event route and hands each MESSAGE to tm (sip_uac.c), or
 * queues the RES (mm4_res.c). Like tm's transactions, nothing
 * acknowledged is lost while Kamailio runs. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/mem/mem.h"
#include "core/dprint.h"
#include "core/route.h"
#include "core/fmsg.h"
#include "core/kemi.h"
#include "core/action.h"
#include "core/receive.h"

#include "settings.h"
#include "cpm_util.h"
#include "mm4_in.h"
#include "mm4_res.h"
#include "sip_uac.h"
#include "inbound.h"
#include "stats.h"
#include "store.h"

#define MM4_IN_EVENT "cpm-mms:mm4-request"

mm4_in_ctx *mm4_in_cur = NULL;
static int mm4_in_event_rt = -1;

int mm4_in_init(void)
{
	mm4_in_event_rt = route_lookup(&event_rt, MM4_IN_EVENT);
	if (mm4_in_event_rt < 0 || event_rt.rlist[mm4_in_event_rt] == NULL)
		mm4_in_event_rt = -1;
	return 0;
}

static int domain_is_local(cm_str d)
{
	const char *p, *e;

	if (cm_str_ieqz(d, cpm_fixed.domain))
		return 1;
	for (p = cpm_fixed.local_domains; p && *p; p = e) {
		while (*p == ',' || *p == ' ' || *p == ';')
			p++;
		for (e = p; *e && *e != ',' && *e != ' ' && *e != ';'; e++)
			;
		if (e > p && cm_str_ieq(d, (cm_str){(char *)p, (int)(e - p)}))
			return 1;
	}
	return 0;
}

int mm4_in_rcpt_is_local(cm_str addr)
{
	int i;

	for (i = addr.len - 1; i >= 0 && addr.s[i] != '@'; i--)
		;
	if (i < 0)
		return 0;
	return domain_is_local((cm_str){addr.s + i + 1, addr.len - i - 1});
}

static int is_system_address(cm_str addr)
{
	return cm_str_ieqz(addr, cpm_fixed.system_address);
}

/* event_route[cpm-mms:mm4-request]: 1 go on, 0 dropped by the script */
static int run_event_route(mm4_in_ctx *ctx)
{
	sip_msg_t tmsg;
	struct run_act_ctx ra;
	sr_kemi_eng_t *keng = NULL;
	str evname = str_init(MM4_IN_EVENT);
	int backup_rt, dropped = 0;

	if (mm4_in_event_rt < 0 && (!cpm_fixed.event_callback
				|| !cpm_fixed.event_callback[0]))
		return 1;
	if (faked_msg_get_new(&tmsg) < 0) {
		LM_ERR("no faked message for the event route\n");
		return 1;
	}
	mm4_in_cur = ctx;
	backup_rt = get_route_type();
	set_route_type(EVENT_ROUTE);
	init_run_actions_ctx(&ra);
	if (mm4_in_event_rt >= 0) {
		run_top_route(event_rt.rlist[mm4_in_event_rt], &tmsg, &ra);
	} else {
		str cb;

		cb.s = cpm_fixed.event_callback;
		cb.len = strlen(cpm_fixed.event_callback);
		keng = sr_kemi_eng_get();
		if (keng && sr_kemi_ctx_route(keng, &ra, &tmsg, EVENT_ROUTE, &cb,
					&evname) < 0)
			LM_ERR("error running the KEMI event callback\n");
	}
	if (ra.run_flags & DROP_R_F)
		dropped = 1;
	set_route_type(backup_rt);
	mm4_in_cur = NULL;
	free_sip_msg(&tmsg);
	ksr_msg_env_reset();
	return !dropped;
}

/* section 9: remember what the MMS originator asked for, so the CPM
 * side's IMDNs can become MM4 reports (Tables 7 and 9) */
static int forward_row(const mm4_msg *m, cm_str rcpt, const cpm_out *o,
		const char *peer, corr_row *out)
{
	corr_row r;
	cm_str v;

	/* dispositions is empty when nothing may be reported (Message-Class
	 * Auto): then there is nothing to correlate either */
	if (!store_enabled() || !o->dispositions)
		return -1;
	memset(&r, 0, sizeof(r));
	r.direction = CORR_MMS_TO_CPM;
	v = mm4_get_unquoted(m, "X-Mms-Message-ID");
	if (cm_str_copy(r.mms_message_id, sizeof(r.mms_message_id), v) < 0
			|| cm_str_copy(r.sender, sizeof(r.sender),
					mm4_bare_address(mm4_get(m, "From"))) < 0
			|| cm_str_copy(r.recipient, sizeof(r.recipient), rcpt) < 0) {
		LM_NOTICE("ids too long to remember for reports\n");
		return -1;
	}
	snprintf(r.imdn_message_id, sizeof(r.imdn_message_id), "%s",
			o->imdn_message_id);
	cm_str_copy(r.orig_system, sizeof(r.orig_system),
			mm4_res_originator_system(m));
	snprintf(r.peer, sizeof(r.peer), "%s", peer);
	r.dispositions = (o->delivery_report ? CORR_WANT_DR : 0)
		| (o->read_reply ? CORR_WANT_RR : 0)
		| (o->rs_delivery_report ? CORR_WANT_RS_DR : 0);
	r.expires = time(NULL) + cpm_get(corr_expire);
	/* no delivery report by then: Expired (TS 23.140 8.4.x) */
	r.mm_expiry = (int)map_expired_report_due(o->delivery_report
			|| o->rs_delivery_report, cpm_get(expired_reports), time(NULL),
			o->expires, r.expires);
	*out = r;
	return 0;
}

/* one MESSAGE for one recipient; the outcome is recorded either now (local
 * failure) or by the tm callback */
static void deliver_one(const mm4_msg *m, cm_str rcpt, int idx, const char *key,
		const char *peer)
{
	/* one recipient at a time in the delivery process: not a pkg block
	 * each */
	static cpm_out out;
	cpm_out *o = &out;
	mm4_in_ctx ctx;
	mm4_in_config mcfg;
	cm_str tid = mm4_get_unquoted(m, "X-Mms-Transaction-ID");
	cm_str mid = mm4_get_unquoted(m, "X-Mms-Message-ID");
	char what[256];
	char unique[33];
	map_sip_head head;
	sip_uac_msg uac;
	/* one at a time in the delivery process (2 KB: not on the stack
	 * each) */
	static corr_row row;
	int ret, has_row;

	memset(o, 0, sizeof(*o));
	settings_map_in(&mcfg);
	if (cpm_random_hex(unique, 16) < 0
			|| map_mm4_to_cpm(m, rcpt, &mcfg, cm_str_z(unique),
					time(NULL), o) < 0) {
		LM_NOTICE("MM4_forward.REQ from %s for %.*s refused: %s %s\n", peer,
				rcpt.len, rcpt.s, o->res_status ? o->res_status : "-",
				o->res_text ? o->res_text : "");
		mm4_res_outcome(key, idx, o->res_status ? o->res_status : "Error-unspecified",
				o->res_text);
		cpm_out_free(o);
		return;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.m = m;
	ctx.o = o;
	ctx.rcpt = rcpt;
	ctx.peer = peer;
	snprintf(ctx.target, sizeof(ctx.target), "%.*s",
			(int)sizeof(o->ruri) - 1, o->ruri);
	snprintf(ctx.dst, sizeof(ctx.dst), "%s",
			cpm_fixed.cpm_route ? cpm_fixed.cpm_route : "");
	if (!run_event_route(&ctx)) {
		LM_NOTICE("MM4_forward.REQ for %s dropped by " MM4_IN_EVENT "\n",
				o->ruri);
		mm4_res_outcome(key, idx, "Error-service-denied", "refused by policy");
		goto done;
	}

	if (map_cpm_out_sip(o, ctx.target, &head) < 0) {
		cm_buf_free(&head.hdrs);
		mm4_res_outcome(key, idx, "Error-network-problem", "out of memory");
		goto done;
	}
	/* stored first: a quick failure answer must find the row to close */
	has_row = forward_row(m, rcpt, o, peer, &row) == 0
		&& store_put(&row) == 0;
	what[0] = '\0';
	if (is_printable(L_INFO))
		cpm_log_text(what, sizeof(what), "MM4_forward.REQ "
				"X-Mms-Transaction-ID %.*s X-Mms-Message-ID %.*s from %s (%s) "
				"to %s, imdn.Message-ID %s", tid.len, tid.s ? tid.s : "",
				mid.len, mid.s ? mid.s : "", o->from_uri, peer, ctx.target,
				o->imdn_message_id);
	memset(&uac, 0, sizeof(uac));
	uac.target = ctx.target;
	uac.dst = ctx.dst;
	uac.head = &head;
	uac.body = o->body;
	uac.key = key;
	uac.idx = idx;
	uac.corr = has_row ? &row : NULL;
	uac.corr_bit = SIP_UAC_FORWARD_ROW;
	uac.what = what;
	ret = sip_uac_message(&uac);
	cm_buf_free(&head.hdrs);
	if (ret < 0) {
		if (has_row && row.mm_expiry)
			store_mark_done(&row, CORR_DONE_DELIVERY);
		mm4_res_outcome(key, idx, "Error-network-problem", "SIP send failed");
		goto done;
	}
	stats_inc(CPM_ST_MESSAGES_OUT);
	LM_DBG("MM4_forward.REQ X-Mms-Transaction-ID %.*s X-Mms-Message-ID %.*s "
			"from %s -> MESSAGE to %s (imdn.Message-ID %s)\n",
			mm4_get(m, "X-Mms-Transaction-ID").len,
			mm4_get(m, "X-Mms-Transaction-ID").s,
			mm4_get(m, "X-Mms-Message-ID").len, mm4_get(m, "X-Mms-Message-ID").s,
			o->from_uri, ctx.target, o->imdn_message_id);
done:
	cpm_out_free(o);
}

int mm4_in_forward_req(mm4_msg *m, cm_str *rcpts, int nrcpt,
		const char *peer, char *key, cm_str *local, int *nlocal, char *text,
		int textsize)
{
	inbound_res info, res;
	cm_str tid, osys;
	int i;
	inbound_state st;

	key[0] = '\0';
	*nlocal = 0;
	stats_inc(CPM_ST_MM4_REQ_IN);
	if (mm4_res_request_info(m, peer, MM4_FORWARD_RES, &info, &tid, &osys) < 0) {
		LM_NOTICE("MM4_forward.REQ from %s: oversized ids\n", peer);
		snprintf(text, textsize, "5.6.0 X-Mms ids too long");
		return 554;
	}
	if (tid.len == 0) {
		LM_NOTICE("MM4_forward.REQ from %s without X-Mms-Transaction-ID\n",
				peer);
		if (osys.len == 0) {
			snprintf(text, textsize, "5.6.0 no X-Mms-Transaction-ID");
			return 554;
		}
		snprintf(info.status, sizeof(info.status),
				"Error-message-format-corrupt");
		snprintf(info.status_text, sizeof(info.status_text),
				"no X-Mms-Transaction-ID");
		info.copies = 1;
		mm4_res_send(&info);
		return 250;
	}
	for (i = 0; i < nrcpt && *nlocal < INBOUND_MAX_RCPT; i++) {
		if (!is_system_address(rcpts[i]))
			local[(*nlocal)++] = rcpts[i];
	}
	if (*nlocal == 0) {
		snprintf(info.status, sizeof(info.status),
				"Error-sending-address-unresolved");
		snprintf(info.status_text, sizeof(info.status_text),
				"no recipient of this MMSE");
		info.copies = 1;
		mm4_res_send(&info);
		return 250;
	}
	if (osys.len + tid.len + 2 >= INBOUND_KEY_MAX) {
		snprintf(text, textsize, "5.6.0 ids too long");
		return 554;
	}
	snprintf(key, INBOUND_KEY_MAX, "%.*s|%.*s", osys.len, osys.s, tid.len,
			tid.s);
	st = inbound_begin(key, &info, *nlocal, cpm_get(dedup_time), &res);
	switch (st) {
	case INBOUND_DONE:
		stats_inc(CPM_ST_MM4_DUPLICATES);
		LM_NOTICE("MM4_forward.REQ %.*s from %s again: same RES (%s)\n",
				tid.len, tid.s, peer, res.status);
		key[0] = '\0';
		mm4_res_send(&res);
		return 250;
	case INBOUND_IN_PROGRESS:
		stats_inc(CPM_ST_MM4_DUPLICATES);
		LM_NOTICE("MM4_forward.REQ %.*s from %s again while in progress\n",
				tid.len, tid.s, peer);
		key[0] = '\0';
		return 250;
	case INBOUND_FULL:
		key[0] = '\0';
		snprintf(text, textsize, "4.3.2 busy, try again later");
		return 451;
	default:
		break;
	}
	return 250;
}

void mm4_in_deliver(const mm4_msg *m, const cm_str *rcpts, int nrcpt,
		const char *key, const char *peer)
{
	int i;

	for (i = 0; i < nrcpt; i++)
		deliver_one(m, rcpts[i], i, key, peer);
}
