/*
 * cpm_mms - the SIP requests the IWF originates towards CPM, through tm.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* t_request() is called from the process that maps the MM4 request; the
 * completion callback runs in whichever process gets the final answer and
 * only records the outcome (mm4_res.c queues the RES for a worker). */
#include <stdio.h>
#include <string.h>

#include "core/mem/shm_mem.h"
#include "core/dprint.h"
#include "core/parser/parse_uri.h"
#include "modules/tm/tm_load.h"

#include "cpm_util.h"
#include "sip_uac.h"
#include "mm4_res.h"
#include "inbound.h"
#include "stats.h"
#include "mm4_queue.h"

/* tm callback parameter, in shm */
typedef struct uac_cbp {
	int idx;
	int is_report;           /* an IMDN: 2xx -> Ok, else network problem */
	char key[INBOUND_KEY_MAX];
	char what[256];          /* the MM4 side, for the log line */
	corr_row corr;           /* IMDN: row to mark on success; MESSAGE: the
	                          * forwarded MM's row */
	int corr_bit;
} uac_cbp;

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

/* the row's update goes to an MM4 worker: this runs in a SIP worker (or
 * tm's timer), which never waits on the DB */
static void mark_done_later(const corr_row *row, int bit)
{
	if (mm4_queue_mark(row, bit) < 0)
		LM_ERR("correlation row of %s not marked done (%d): queue full\n",
				row->direction == CORR_CPM_TO_MMS ? row->mms_message_id
				: row->imdn_message_id, bit);
}

/* tm: the request was sent, or got its final answer (or timed out) */
static void uac_done(struct cell *t, int type, struct tmcb_params *ps)
{
	uac_cbp *cbp;
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
			mark_done_later(&cbp->corr, cbp->corr_bit);
		if (ps->code < 300)
			stats_inc(CPM_ST_IMDN_OUT);
	} else {
		status = map_sip_to_res_status(ps->code);
		/* the RES tells the originator: the MM did not expire */
		if (ps->code >= 300 && cbp->corr.mm_expiry)
			mark_done_later(&cbp->corr, CORR_DONE_DELIVERY);
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
	mm4_res_outcome(cbp->key, cbp->idx, status, ps->code < 300 ? "" : text);
	shm_free(cbp);
}

static str str_of(const char *z)
{
	str s;

	s.s = (char *)z;
	s.len = z ? strlen(z) : 0;
	return s;
}

int sip_uac_message(const sip_uac_msg *m)
{
	uac_req_t uac_r;
	str method = str_init("MESSAGE");
	str s_hdrs, s_body, s_ruri, s_to, s_from, s_nh;
	uac_cbp *cbp;
	int ret;

	cbp = shm_malloc(sizeof(*cbp));
	if (!cbp) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(cbp, 0, sizeof(*cbp));
	cbp->idx = m->idx;
	snprintf(cbp->key, sizeof(cbp->key), "%s", m->key);
	if (m->what && m->what[0])
		snprintf(cbp->what, sizeof(cbp->what), "%s", m->what);
	if (m->corr) {
		cbp->is_report = m->corr_bit != SIP_UAC_FORWARD_ROW;
		cbp->corr = *m->corr;
		cbp->corr_bit = m->corr_bit;
	}
	s_hdrs.s = m->head->hdrs.s;
	s_hdrs.len = m->head->hdrs.len;
	s_body.s = m->body.s;
	s_body.len = m->body.len;
	s_ruri = str_of(m->target);
	s_to = str_of(m->head->to);
	s_from = str_of(m->head->from);
	s_nh = str_of(m->dst);
	set_uac_req(&uac_r, &method, &s_hdrs, &s_body, 0,
			TMCB_LOCAL_COMPLETED | TMCB_REQUEST_SENT, uac_done, cbp);
	uac_sending = 1;
	uac_sent = 0;
	ret = cpm_tmb.t_request(&uac_r, &s_ruri, &s_to, &s_from,
			s_nh.len ? &s_nh : NULL);
	uac_sending = 0;
	if (ret < 0) {
		LM_ERR("MESSAGE to %s could not be sent (tm %d)\n", m->target, ret);
		shm_free(cbp);
		return -1;
	}
	if (!uac_sent && uri_is_reliable(s_nh.len ? m->dst : m->target)) {
		/* tm still ends the transaction at fr_timer; that later outcome
		 * is ignored, this one counts */
		LM_ERR("MESSAGE to %s: sending to %s failed: answered now\n",
				m->target, s_nh.len ? m->dst : m->target);
		mm4_res_outcome(m->key, m->idx, "Error-network-problem",
				"SIP send failed");
	}
	return 0;
}
