/*
 * cpm_mms - the mapped CPM -> MMS request as the MM4 worker needs it: one
 * self-contained block that another process can use (map once: the SIP
 * worker maps, the MM4 worker sends). Only what the worker reads goes in:
 * the REQ, the envelope and the fields of the correlation row, not the
 * CPIM parse the mapping worked from.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MAP_FLAT_H
#define CPM_MMS_MAP_FLAT_H

#include "mapping.h"

typedef struct map_fwd {
	mm4_forward_req req;       /* to/cc/nbcc, transaction_id: the worker's,
	                            * after ENUM */
	cm_str sender_addr;        /* MAIL FROM */
	cm_str message_id;         /* X-Mms-Message-ID */
	cm_str imdn_message_id;    /* from CPIM, may be empty */
	cm_str cpm_to;             /* SIP To of the request */
	cm_str cpim_from;          /* CPIM From: where IMDNs go */
	cm_str cpim_datetime;
	int dispositions;          /* CPIM_DN_* requested */
	int nrcpt;
	int nrecord_route;
	unsigned char rcpt_copy[MAP_MAX_RCPT];
	cm_str *rcpt_e164;         /* nrcpt, NUL-terminated */
	cm_str *record_route;      /* nrecord_route imdn.IMDN-Record-Route */
} map_fwd;

/* bytes of data map_fwd_copy() needs for mr */
int map_fwd_size(const map_result *mr);
/* *dst = what the worker needs of mr, every string and list in data
 * (map_fwd_size(mr) bytes, any alignment); a string inside one copied
 * before shares its copy (the payload is copied once). Each string is
 * NUL-terminated. */
void map_fwd_copy(const map_result *mr, map_fwd *dst, char *data);

#endif
