/*
 * cpm_mms - the SIP requests the IWF originates towards CPM (MESSAGEs made
 * from MM4_forward.REQs, IMDNs made from MM4 reports), sent through tm; the
 * final answer of each becomes the outcome of its MM4 request (mm4_res.c).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_SIP_UAC_H
#define CPM_MMS_SIP_UAC_H

#include "cm_str.h"
#include "mapping.h"
#include "store.h"

/* corr_bit of the row of a forwarded MM, which a failure closes (no
 * Expired report); any other value is the bit an IMDN sets on its row once
 * the CPM side took it */
#define SIP_UAC_FORWARD_ROW (-1)

typedef struct sip_uac_msg {
	const char *target;      /* Request-URI */
	const char *dst;         /* next hop, "" / NULL = by the Request-URI */
	const map_sip_head *head;/* From, To and header fields (mapping.c) */
	cm_str body;
	const char *key;         /* the MM4 request (inbound.c) ... */
	int idx;                 /* ... and which of its recipients */
	const corr_row *corr;    /* NULL, or the row described at corr_bit */
	int corr_bit;
	const char *what;        /* the MM4 side, for the outcome's log line */
} sip_uac_msg;

/* send a MESSAGE; 0 once tm has it (its final answer, or a send failure
 * over a reliable transport, is recorded as the outcome), -1 not sent */
int sip_uac_message(const sip_uac_msg *m);

#endif
