/*
 * cpm_mms - the SIP side of CPM -> MMS: cpm_mms_forward().
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_FORWARD_H
#define CPM_MMS_FORWARD_H

#include "core/parser/msg_parser.h"
#include "core/str.h"

/* return codes of cpm_mms_forward() (documented in the module docs) */
#define CPM_FWD_SUSPENDED 0     /* queued; the module answers later */
#define CPM_FWD_INTERNAL -1     /* internal error: answer 500 */
#define CPM_FWD_BAD_REQUEST -2  /* content unusable: 400/413/415/403 */
#define CPM_FWD_NOT_E164 -3     /* recipient is not an E.164 number */
#define CPM_FWD_OVERLOAD -4     /* pending table / queue full: 503 */
#define CPM_FWD_NOT_MESSAGE -5  /* not a MESSAGE request */

/* the outcome of the last cpm_mms_forward() in this process, for $mm4() */
typedef struct cpm_last {
	int status_code;
	char status_text[96];
	char transaction_id[64];
	char message_id[128];
	char recipient[24];
} cpm_last;

extern cpm_last cpm_last_fwd;

int cpm_forward(struct sip_msg *msg, str *recipient);

#endif
