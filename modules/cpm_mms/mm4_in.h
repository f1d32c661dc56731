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
/* listener: the checks of a received MM4_forward.REQ and its duplicate
 * lookup. Returns the SMTP reply code; 250 with key (INBOUND_KEY_MAX) set
 * when the REQ is new: local[0..*nlocal) (INBOUND_MAX_RCPT) are to be
 * delivered by mm4_in_deliver() */
int mm4_in_forward_req(mm4_msg *m, cm_str *rcpts, int nrcpt,
		const char *peer, char *key, cm_str *local, int *nlocal, char *text,
		int textsize);
/* MM4 worker: map the REQ for each recipient, run the event route and send
 * the MESSAGE; every outcome ends in the RES (mm4_res.c) */
void mm4_in_deliver(const mm4_msg *m, const cm_str *rcpts, int nrcpt,
		const char *key, const char *peer);

#endif
