/*
 * cpm_mms - pending table: MESSAGE transactions suspended while their
 * MM4_forward.REQs are under way, keyed by X-Mms-Transaction-ID.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Shared memory, one lock; a hash table by id and a list by deadline,
 * so the timer takes what expired without scanning the table. Ownership rule: an entry is resumed by whoever
 * removes it from the table (a RES that completes it, the timer, an SMTP
 * failure that completes it, a drop) - exactly once, the others find it
 * gone. */
#ifndef CPM_MMS_PENDING_H
#define CPM_MMS_PENDING_H

#include "e164.h"

#define PENDING_TID_MAX 64
#define PENDING_REASON_MAX 96
#define PENDING_MID_MAX 160
#define PENDING_CALLID_MAX 96   /* longer Call-IDs are logged cut */
#define PENDING_IMDN_ID_MAX 72

typedef enum pending_state {
	PENDING_QUEUED = 0, /* waiting for an MM4 worker */
	PENDING_SENDING,    /* worker resolving / talking SMTP */
	PENDING_SENT,       /* every REQ handed over, waiting for the RESs */
} pending_state;

typedef struct pending_entry {
	struct pending_entry *next;       /* hash chain */
	struct pending_entry *dl_prev;    /* the deadline-ordered list */
	struct pending_entry *dl_next;
	char tid[PENDING_TID_MAX]; /* base id; REQ n carries "<tid>-<n>" */
	int tid_len;
	unsigned int t_hash;
	unsigned int t_label;
	pending_state state;
	int nreq;          /* REQs (MMS destinations) for this MESSAGE; 0 = unknown yet */
	int nres;          /* outcomes recorded */
	unsigned int res_seen; /* bit n-1 set once REQ n has an outcome */
	int code;          /* worst SIP answer so far */
	char reason[PENDING_REASON_MAX];
	long long created_ms;
	long long deadline_ms;
	char recipient[E164_BUF];
	char mmsc[64];
	char mms_message_id[PENDING_MID_MAX]; /* our X-Mms-Message-ID */
	/* for the one log line of the MESSAGE: the ids of its SIP side */
	char callid[PENDING_CALLID_MAX];
	char imdn_id[PENDING_IMDN_ID_MAX];
} pending_entry;

int pending_init(int max_entries);
void pending_destroy(void);
long long pending_now_ms(void);

/* 0, or -1 when the table is full or out of memory */
int pending_add(const char *tid, unsigned int t_hash, unsigned int t_label,
		const char *recipient, const char *mms_message_id, cm_str callid,
		cm_str imdn_id, int timeout_ms);
/* our X-Mms-Message-ID of a live entry into out; 0, -1 if tid is gone */
int pending_message_id(const char *tid, char *out, int size);
/* update the state (and nreq/mmsc when given); -1 if the entry is gone */
int pending_set_state(const char *tid, pending_state st, int nreq,
		const char *mmsc);
/* record the outcome of REQ n (1-based); returns the entry, removed from the
 * table, once every REQ has an outcome (the caller resumes and frees it);
 * NULL otherwise, or if tid is unknown / n out of range / seen already.
 * *known tells whether tid matched a live entry. */
pending_entry *pending_record(const char *tid, int n, int code,
		const char *reason, int *known);
/* remove unconditionally (RPC drop); NULL if gone */
pending_entry *pending_take(const char *tid);
/* remove every entry whose deadline passed; returns them linked by next,
 * earliest first (the deadline list: no scan of the table) */
pending_entry *pending_expire(long long now_ms);
void pending_free(pending_entry *e);
int pending_count(void);
/* copy up to max entries (oldest first not guaranteed); returns count */
int pending_snapshot(pending_entry *out, int max);
int pending_peak(void);

/* split "<base>-<n>" into base and n; 0 / -1 */
int pending_split_tid(const char *s, int len, char *base, int basesize,
		int *n);

#endif
