/*
 * cpm_mms - inbound MM4_forward.REQs (MMS -> CPM) being delivered or
 * recently answered: duplicate detection and one RES per REQ.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_INBOUND_H
#define CPM_MMS_INBOUND_H

#include <time.h>

#define INBOUND_KEY_MAX 320
#define INBOUND_ID_MAX 160
#define INBOUND_ADDR_MAX 160
#define INBOUND_MAX_RCPT 32

typedef enum inbound_state {
	INBOUND_NEW = 0,          /* first time seen: deliver it */
	INBOUND_IN_PROGRESS,      /* a duplicate while MESSAGEs are under way */
	INBOUND_DONE,             /* a duplicate of an answered REQ */
	INBOUND_FULL,             /* table full / no memory */
} inbound_state;

/* what is needed to write the RES, copied out of the table */
typedef struct inbound_res {
	char tid[INBOUND_ID_MAX];        /* raw header value, quotes kept */
	char message_id[INBOUND_ID_MAX]; /* raw header value */
	char orig_system[INBOUND_ADDR_MAX];
	char peer_ip[64];
	char status[64];
	char status_text[96];
	int ack_request;
	int res_type;                    /* mm4_type of the RES to send */
	int copies;                      /* RES mails to send (1 + duplicates) */
} inbound_res;

int inbound_init(int max_entries);
void inbound_destroy(void);
/* key = originator system + transaction id. On INBOUND_NEW the entry is
 * created waiting for nrcpt outcomes; on INBOUND_DONE, res is filled for a
 * repeated RES; on INBOUND_IN_PROGRESS one more RES copy is owed. */
inbound_state inbound_begin(const char *key, const inbound_res *info,
		int nrcpt, int keep_s, inbound_res *res);
/* outcome of recipient idx; returns 1 and fills res when it was the last
 * one (the caller sends the RES), 0 otherwise, -1 if unknown */
int inbound_outcome(const char *key, int idx, const char *status,
		const char *status_text, inbound_res *res);
/* forget an entry that is still waiting (its REQ could not be handed
 * over and was refused, so the peer sends it again as new) */
void inbound_forget(const char *key);
/* forget answered entries older than their keep time */
void inbound_expire(time_t now);
int inbound_count(void);
int inbound_max(void);

#endif
