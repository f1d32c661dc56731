/*
 * cpm_mms - MMS -> CPM: MM4_forward.REQs from peer MMSCs become CPM
 * pager-mode MESSAGEs; their SIP outcome becomes the MM4_forward.RES.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MM4_IN_H
#define CPM_MMS_MM4_IN_H

#include "cm_str.h"
#include "mm4.h"
#include "mapping.h"
#include "inbound.h"
#include "store.h"

/* the REQ being handled, for $mm4() in event_route[cpm-mms:mm4-request] */
typedef struct mm4_in_ctx {
	const mm4_msg *m;
	const cpm_out *o;
	cm_str rcpt;           /* envelope recipient */
	char target[256];      /* Request-URI to use (script may change it) */
	char dst[256];         /* next hop (script may change it) */
	const char *peer;
} mm4_in_ctx;

extern mm4_in_ctx *mm4_in_cur;

int mm4_in_init(void);   /* mod_init: event route lookup */
/* 1 if an envelope recipient is ours (one of our domains) */
int mm4_in_rcpt_is_local(cm_str addr);
/* a received MM4_forward.REQ; returns the SMTP reply code (250 once every
 * MESSAGE is handed to tm or the RES is queued) */
int mm4_in_forward_req(mm4_msg *m, cm_str *rcpts, int nrcpt,
		const char *peer, char *text, int textsize);

/* record recipient idx's outcome of the request 'key'; sends the RES when
 * it was the last one */
void mm4_in_outcome(const char *key, int idx, const char *status,
		const char *text);
void mm4_in_send_res(const inbound_res *r);
/* send a MESSAGE towards CPM through tm; its final answer is recorded as
 * the outcome (key, idx). corr: an IMDN, whose row gets corr_bit once the
 * CPM side took it; or, with corr_bit MM4_IN_FORWARD_ROW, the row of this
 * forwarded MM, which a failure closes (no Expired report). 'what' names
 * the MM4 side in the one log line of the outcome. 0 / -1 */
#define MM4_IN_FORWARD_ROW (-1)
int mm4_in_send_message(const char *target, const char *dst,
		const char *from, const char *to, cm_str hdrs, cm_str body,
		const char *key, int idx, const corr_row *corr, int corr_bit,
		const char *what);
/* X-Mms-Ack-Request of a request: 1 unless it says No (or 0) */
int mm4_in_ack_requested(const mm4_msg *m);
/* where the RES goes: X-Mms-Originator-System, else Sender (bare address) */
cm_str mm4_in_originator_system(const mm4_msg *m);
/* the ids a *.REQ's RES echoes, with the RES type, peer and Ack-Request, into
 * info (zeroed first); tid and osys get the raw values. -1 when an id does
 * not fit or the originator system has control characters */
int mm4_in_request_info(const mm4_msg *m, const char *peer, int res_type,
		inbound_res *info, cm_str *tid, cm_str *osys);
/* "addr" or "Name <addr>" -> addr */
cm_str mm4_in_bare_address(cm_str v);

#endif
