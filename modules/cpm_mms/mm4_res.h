/*
 * cpm_mms - the RES the IWF owes a peer for each MM4 *.REQ it received:
 * the request's ids, the outcome of each recipient (inbound.c) and one
 * RES queued once every outcome is known.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MM4_RES_H
#define CPM_MMS_MM4_RES_H

#include "cm_str.h"
#include "mm4.h"
#include "inbound.h"

/* the ids a *.REQ's RES echoes, with the RES type, peer and Ack-Request, into
 * info (zeroed first); tid and osys get the raw values. -1 when an id does
 * not fit or the originator system has control characters */
int mm4_res_request_info(const mm4_msg *m, const char *peer, int res_type,
		inbound_res *info, cm_str *tid, cm_str *osys);
/* where the RES goes: X-Mms-Originator-System, else Sender (bare address) */
cm_str mm4_res_originator_system(const mm4_msg *m);
/* write and queue the RES (as many copies as duplicates asked for); none
 * when the request said X-Mms-Ack-Request: No */
void mm4_res_send(const inbound_res *r);
/* record recipient idx's outcome of the request 'key'; queues the RES when
 * it was the last one */
void mm4_res_outcome(const char *key, int idx, const char *status,
		const char *text);

#endif
