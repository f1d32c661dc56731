/*
 * cpm_mms - MMS -> CPM: MM4_forward.REQ -> SIP MESSAGE (Table 4), SIP
 * outcome -> MM4_forward.RES (Table 5).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Runs in the MM4 listener process. A REQ is acknowledged with SMTP 250
 * only after every MESSAGE it produces is in tm's hands (tm keeps and
 * retransmits it) or its RES is queued, so nothing acknowledged is lost
 * while Kamailio runs. The tm completion callback runs in whichever
 * process gets the final answer and only queues the RES for a worker. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/mem/mem.h"
#include "core/mem/shm_mem.h"
#include "core/dprint.h"
#include "core/route.h"
#include "core/fmsg.h"
#include "core/kemi.h"
#include "core/action.h"
#include "core/receive.h"
#include "core/parser/parse_uri.h"
#include "modules/tm/tm_load.h"

#include "settings.h"
#include "cpm_util.h"
#include "mm4_in.h"
#include "inbound.h"
#include "mm4_queue.h"
#include "stats.h"
#include "store.h"

#define MM4_IN_EVENT "cpm-mms:mm4-request"

mm4_in_ctx *mm4_in_cur = NULL;
static int mm4_in_event_rt = -1;

/* tm callback parameter, in shm */
typedef struct mm4_in_cbp {
	int idx;
	int is_report;           /* an IMDN: 2xx -> Ok, else network problem */
	char key[INBOUND_KEY_MAX];
	char what[256];          /* the MM4 side, for the log line */
	corr_row corr;           /* reports: row to mark done on success */
	int corr_bit;
} mm4_in_cbp;

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

int mm4_in_ack_requested(const mm4_msg *m)
{
	return map_ack_requested(mm4_get(m, "X-Mms-Ack-Request"),
			cpm_get(mm4_ack_default));
}

/* the address inside <...> if any, trimmed */
cm_str mm4_in_bare_address(cm_str v)
{
	int i, j;

	v = cm_str_trim(v);
	for (i = 0; i < v.len && v.s[i] != '<'; i++)
		;
	if (i < v.len) {
		for (j = i + 1; j < v.len && v.s[j] != '>'; j++)
			;
		v.s += i + 1;
		v.len = j - i - 1;
	}
	return cm_str_trim(v);
}

cm_str mm4_in_originator_system(const mm4_msg *m)
{
	cm_str v = mm4_in_bare_address(mm4_get(m, "X-Mms-Originator-System"));

	return v.len ? v : mm4_in_bare_address(mm4_get(m, "Sender"));
}

int mm4_in_request_info(const mm4_msg *m, const char *peer, int res_type,
		inbound_res *info, cm_str *tid, cm_str *osys)
{
	memset(info, 0, sizeof(*info));
	info->res_type = res_type;
	info->ack_request = mm4_in_ack_requested(m);
	*tid = mm4_get(m, "X-Mms-Transaction-ID");
	*osys = mm4_in_originator_system(m);
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

/* write and queue the RES (as many copies as duplicates asked for) */
void mm4_in_send_res(const inbound_res *r)
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
		LM_ERR("cannot write MM4_forward.RES for %s\n", r->tid);
		cm_buf_free(&b);
		return;
	}
	at = strrchr(r->orig_system, '@');
	for (i = 0; i < (r->copies > 0 ? r->copies : 1) && i < 8; i++) {
		if (mm4_queue_mail(at ? at + 1 : "", r->peer_ip,
					cpm_fixed.system_address, r->orig_system, b.s, b.len,
					mm4_type_name(res.type)) < 0)
			LM_ERR("MM4_forward.RES %s (%s) to %s not queued\n", r->tid,
					r->status, r->orig_system);
		else
			stats_inc(CPM_ST_RES_SENT);
	}
	LM_DBG("%s %s from %s: %s%s%s\n", mm4_type_name(res.type), r->tid,
			r->orig_system, r->status, r->status_text[0] ? ": " : "",
			r->status_text);
	cm_buf_free(&b);
}

void mm4_in_outcome(const char *key, int idx, const char *status,
		const char *text)
{
	inbound_res res;

	if (inbound_outcome(key, idx, status, text, &res) == 1)
		mm4_in_send_res(&res);
}


/* t_request() succeeds even when the first send failed (a TCP next hop
 * refusing the connection): tm logs it and keeps the transaction until
 * fr_timer, 30 s of silence for the peer. tm runs TMCB_REQUEST_SENT inside
 * t_request() only when the send worked; over a reliable transport there
 * is no retransmission to wait for, so its absence is the answer. */
static int uac_sending = 0;  /* inside our own t_request() call */
static int uac_sent = 0;

/* sips: or a ;transport= other than udp, as Kamailio's URI parser reads it */
static int uri_is_reliable(const char *uri)
{
	struct sip_uri pu;

	if (parse_uri((char *)uri, strlen(uri), &pu) < 0)
		return 0;
	return pu.type == SIPS_URI_T
			|| (pu.proto != PROTO_NONE && pu.proto != PROTO_UDP);
}

/* tm: the MESSAGE towards CPM was sent, or got its final answer (or timed
 * out) */
static void message_done(struct cell *t, int type, struct tmcb_params *ps)
{
	mm4_in_cbp *cbp;
	const char *status;
	char text[96];

	if (type & TMCB_REQUEST_SENT) {
		/* also run for retransmissions, from other processes */
		if (uac_sending)
			uac_sent = 1;
		return;
	}
	if (!ps->param || !*ps->param)
		return;
	cbp = *ps->param;
	*ps->param = NULL;
	if (cbp->is_report) {
		/* an IMDN: the report is Ok once the CPM side took it */
		status = ps->code < 300 ? "Ok" : "Error-network-problem";
		if (ps->code < 300 && cbp->corr_bit)
			store_mark_done(&cbp->corr, cbp->corr_bit);
		if (ps->code < 300)
			stats_inc(CPM_ST_IMDN_OUT);
	} else {
		status = map_sip_to_res_status(ps->code);
		/* the RES tells the originator: the MM did not expire */
		if (ps->code >= 300 && cbp->corr.mm_expiry)
			store_mark_done(&cbp->corr, CORR_DONE_DELIVERY);
	}
	if (ps->rpl && ps->rpl != FAKED_REPLY)
		snprintf(text, sizeof(text), "SIP %d %.*s", ps->code,
				ps->rpl->first_line.u.reply.reason.len,
				ps->rpl->first_line.u.reply.reason.s);
	else
		snprintf(text, sizeof(text), "SIP %d (no answer)", ps->code);
	/* the one line of the message at INFO, with the ids of both sides;
	 * t->callid is the whole "Call-ID: ..." header line */
	LM_INFO("%s: MESSAGE Call-ID %.*s answered %d -> %s\n", cbp->what,
			(t && t->callid.len >= 2) ? t->callid.len - 2 : 0,
			(t && t->callid.s) ? t->callid.s : "", ps->code, status);
	mm4_in_outcome(cbp->key, cbp->idx, status, ps->code < 300 ? "" : text);
	shm_free(cbp);
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

static int add_hdr(cm_buf *b, const char *name, const char *value)
{
	if (!value || !value[0])
		return 0;
	return cm_buf_printf(b, "%s: %s\r\n", name, value);
}

int mm4_in_send_message(const char *target, const char *dst,
		const char *from, const char *to, cm_str hdrs, cm_str body,
		const char *key, int idx, const corr_row *corr, int corr_bit,
		const char *what)
{
	uac_req_t uac_r;
	str method = str_init("MESSAGE");
	str s_hdrs, s_body, s_ruri, s_to, s_from, s_nh;
	mm4_in_cbp *cbp;
	int ret;

	cbp = shm_malloc(sizeof(*cbp));
	if (!cbp) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(cbp, 0, sizeof(*cbp));
	cbp->idx = idx;
	snprintf(cbp->key, sizeof(cbp->key), "%s", key);
	if (what[0])
		snprintf(cbp->what, sizeof(cbp->what), "%s", what);
	if (corr) {
		cbp->is_report = corr_bit != MM4_IN_FORWARD_ROW;
		cbp->corr = *corr;
		cbp->corr_bit = corr_bit;
	}
	s_hdrs.s = hdrs.s;
	s_hdrs.len = hdrs.len;
	s_body.s = body.s;
	s_body.len = body.len;
	s_ruri.s = (char *)target;
	s_ruri.len = strlen(target);
	s_to.s = (char *)to;
	s_to.len = strlen(to);
	s_from.s = (char *)from;
	s_from.len = strlen(from);
	s_nh.s = (char *)dst;
	s_nh.len = dst ? strlen(dst) : 0;
	set_uac_req(&uac_r, &method, &s_hdrs, &s_body, 0,
			TMCB_LOCAL_COMPLETED | TMCB_REQUEST_SENT, message_done, cbp);
	uac_sending = 1;
	uac_sent = 0;
	ret = cpm_tmb.t_request(&uac_r, &s_ruri, &s_to, &s_from,
			s_nh.len ? &s_nh : NULL);
	uac_sending = 0;
	if (ret < 0) {
		LM_ERR("MESSAGE to %s could not be sent (tm %d)\n", target, ret);
		shm_free(cbp);
		return -1;
	}
	if (!uac_sent && uri_is_reliable(s_nh.len ? dst : target)) {
		/* tm still ends the transaction at fr_timer; that later outcome
		 * is ignored, this one counts */
		LM_ERR("MESSAGE to %s: sending to %s failed: answered now\n", target,
				s_nh.len ? dst : target);
		mm4_in_outcome(key, idx, "Error-network-problem", "SIP send failed");
	}
	return 0;
}

/* section 9: remember what the MMS originator asked for, so the CPM
 * side's IMDNs can become MM4 reports (Tables 7 and 9) */
static int forward_row(mm4_msg *m, cm_str rcpt, const cpm_out *o,
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
					mm4_in_bare_address(mm4_get(m, "From"))) < 0
			|| cm_str_copy(r.recipient, sizeof(r.recipient), rcpt) < 0) {
		LM_NOTICE("ids too long to remember for reports\n");
		return -1;
	}
	snprintf(r.imdn_message_id, sizeof(r.imdn_message_id), "%s",
			o->imdn_message_id);
	cm_str_copy(r.orig_system, sizeof(r.orig_system),
			mm4_in_originator_system(m));
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
static void deliver_one(mm4_msg *m, cm_str rcpt, int idx, const char *key,
		const char *peer)
{
	/* one recipient at a time in the listener: not a pkg block each */
	static cpm_out out;
	cpm_out *o = &out;
	mm4_in_ctx ctx;
	mm4_in_config mcfg;
	cm_str tid = mm4_get_unquoted(m, "X-Mms-Transaction-ID");
	cm_str mid = mm4_get_unquoted(m, "X-Mms-Message-ID");
	char what[256];
	char unique[33];
	cm_buf hdrs;
	char from[320], to[280];
	/* one at a time in the listener (2 KB: not on the stack each) */
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
		mm4_in_outcome(key, idx, o->res_status ? o->res_status : "Error-unspecified",
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
		mm4_in_outcome(key, idx, "Error-service-denied", "refused by policy");
		goto done;
	}

	cm_buf_init(&hdrs);
	/* RFC 3325 allows sip:, sips: and tel: only */
	if (o->pai[0] && strncasecmp(o->pai, "mailto:", 7) != 0)
		cm_buf_printf(&hdrs, "P-Asserted-Identity: <%s>\r\n", o->pai);
	if (o->anonymous)
		add_hdr(&hdrs, "Privacy", "id");
	add_hdr(&hdrs, "Subject", o->subject);
	add_hdr(&hdrs, "Priority", o->priority);
	if (o->expires >= 0)
		cm_buf_printf(&hdrs, "Expires: %d\r\n", o->expires);
	cm_buf_printf(&hdrs, "Max-Forwards: %d\r\n", o->max_forwards);
	add_hdr(&hdrs, "Date", o->sip_date);
	add_hdr(&hdrs, "Accept-Contact", "*;+g.3gpp.icsi-ref=\""
			"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"");
	add_hdr(&hdrs, "P-Asserted-Service",
			"urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg");
	add_hdr(&hdrs, "Conversation-ID", o->conversation_id);
	add_hdr(&hdrs, "Contribution-ID", o->contribution_id);
	add_hdr(&hdrs, "Content-Type", "message/cpim");
	if (hdrs.failed) {
		cm_buf_free(&hdrs);
		mm4_in_outcome(key, idx, "Error-network-problem", "out of memory");
		goto done;
	}
	if (o->anonymous)
		snprintf(from, sizeof(from),
				"\"Anonymous\" <sip:anonymous@anonymous.invalid>");
	else
		snprintf(from, sizeof(from), "<%.*s>", (int)sizeof(o->from_uri) - 1,
				o->from_uri);
	snprintf(to, sizeof(to), "<%s>", ctx.target);
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
	ret = mm4_in_send_message(ctx.target, ctx.dst, from, to,
			(cm_str){hdrs.s, hdrs.len}, o->body, key, idx,
			has_row ? &row : NULL, MM4_IN_FORWARD_ROW, what);
	cm_buf_free(&hdrs);
	if (ret < 0) {
		if (has_row && row.mm_expiry)
			store_mark_done(&row, CORR_DONE_DELIVERY);
		mm4_in_outcome(key, idx, "Error-network-problem", "SIP send failed");
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
		const char *peer, char *text, int textsize)
{
	inbound_res info, res;
	cm_str tid, osys;
	cm_str local[INBOUND_MAX_RCPT];
	char key[INBOUND_KEY_MAX];
	int nlocal = 0, i;
	inbound_state st;

	stats_inc(CPM_ST_MM4_REQ_IN);
	if (mm4_in_request_info(m, peer, MM4_FORWARD_RES, &info, &tid, &osys) < 0) {
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
		mm4_in_send_res(&info);
		return 250;
	}
	for (i = 0; i < nrcpt && nlocal < INBOUND_MAX_RCPT; i++) {
		if (!is_system_address(rcpts[i]))
			local[nlocal++] = rcpts[i];
	}
	if (nlocal == 0) {
		snprintf(info.status, sizeof(info.status),
				"Error-sending-address-unresolved");
		snprintf(info.status_text, sizeof(info.status_text),
				"no recipient of this MMSE");
		info.copies = 1;
		mm4_in_send_res(&info);
		return 250;
	}
	if (osys.len + tid.len + 2 >= (int)sizeof(key)) {
		snprintf(text, textsize, "5.6.0 ids too long");
		return 554;
	}
	snprintf(key, sizeof(key), "%.*s|%.*s", osys.len, osys.s, tid.len, tid.s);
	st = inbound_begin(key, &info, nlocal, cpm_get(dedup_time), &res);
	switch (st) {
	case INBOUND_DONE:
		stats_inc(CPM_ST_MM4_DUPLICATES);
		LM_NOTICE("MM4_forward.REQ %.*s from %s again: same RES (%s)\n",
				tid.len, tid.s, peer, res.status);
		mm4_in_send_res(&res);
		return 250;
	case INBOUND_IN_PROGRESS:
		stats_inc(CPM_ST_MM4_DUPLICATES);
		LM_NOTICE("MM4_forward.REQ %.*s from %s again while in progress\n",
				tid.len, tid.s, peer);
		return 250;
	case INBOUND_FULL:
		snprintf(text, textsize, "4.3.2 busy, try again later");
		return 451;
	default:
		break;
	}
	for (i = 0; i < nlocal; i++)
		deliver_one(m, local[i], i, key, peer);
	return 250;
}
