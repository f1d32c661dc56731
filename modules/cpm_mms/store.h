/*
 * cpm_mms - report correlation state (mapping section 9) through
 * Kamailio's DB API (srdb1): any DB driver, db_sqlite by default.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_STORE_H
#define CPM_MMS_STORE_H

#include <time.h>

#define CORR_CPM_TO_MMS 1  /* a CPM MESSAGE we sent as MM4_forward.REQ */
#define CORR_MMS_TO_CPM 2  /* an MM4_forward.REQ we sent as a MESSAGE */

#define CORR_DONE_DELIVERY 1 /* the delivery report / IMDN was sent */
#define CORR_DONE_READ 2     /* the read reply / display IMDN was sent */

/* MMS -> CPM: what the MMS originator asked for */
#define CORR_WANT_DR 1      /* X-Mms-Delivery-Report: Yes (the UA wants it) */
#define CORR_WANT_RR 2      /* X-Mms-Read-Reply: Yes */
#define CORR_WANT_RS_DR 4   /* X-Mms-Originator-R/S-Delivery-Report: Yes */

typedef struct corr_row {
	int direction;
	char mms_message_id[160]; /* X-Mms-Message-ID (unquoted) */
	char imdn_message_id[128];
	char sender[256];        /* CPM->MMS: CPM sender URI; MMS->CPM: MM4
	                          * originator address */
	char recipient[256];     /* CPM->MMS: recipient +E.164; MMS->CPM: CPM
	                          * recipient URI */
	char recipient_uri[256]; /* CPM->MMS: the address the CPM sender wrote
	                          * to (its IMDNs come from it) */
	char peer_message_id[160]; /* CPM->MMS: the X-Mms-Message-ID of the
	                          * peer's RES when not ours (its reports may
	                          * carry it) */
	char transaction_id[64]; /* CPM->MMS: X-Mms-Transaction-ID of the REQ */
	char orig_system[160];   /* MMS->CPM: X-Mms-Originator-System */
	char peer[64];           /* MMS->CPM: IP the REQ came from */
	char record_route[256];  /* CPM->MMS: imdn.IMDN-Record-Route */
	char datetime[64];       /* the original message's DateTime */
	int dispositions;        /* CPM->MMS: CPIM_DN_*; MMS->CPM: CORR_WANT_* */
	int reports_done;        /* CORR_DONE_* */
	int expires;             /* unix time */
	int mm_expiry;           /* MMS->CPM: when an Expired delivery report
	                          * is due (unix time); 0: none due */
} corr_row;

int store_init(void);       /* mod_init: bind the DB module */
int store_enabled(void);
int store_put(const corr_row *r);
/* 1 found, 0 not found, -1 DB error. recipient may be NULL (any). */
int store_get_by_mms(const char *mms_message_id, const char *recipient,
		corr_row *out);
int store_get_by_imdn(const char *imdn_message_id, corr_row *out);
/* CPM -> MMS rows by the peer's own id (peer_message_id) */
int store_get_by_peer_id(const char *peer_message_id, const char *recipient,
		corr_row *out);
/* record the peer's id on the rows of our mms_message_id sent in REQ tid;
 * 1 done, 0 no such row (yet), -1 DB error */
int store_set_alias(const char *mms_message_id, const char *tid,
		const char *peer_message_id);
int store_mark_done(const corr_row *r, int bit);
/* MMS -> CPM rows whose mm_expiry is due (0 < mm_expiry <= now), at most
 * max, oldest first; cb is called for each. Returns the number of rows,
 * -1 on a DB error. */
int store_foreach_expired(time_t now, int max,
		void (*cb)(corr_row *r, void *arg), void *arg);
/* after an Expired report: set reports_done, mm_expiry and expires of r */
int store_update_expiry(const corr_row *r);
int store_purge(time_t now);
/* group the writes of one MM4 worker batch in one transaction, where the
 * DB driver has transactions (start/end_transaction) or is SQLite: one
 * commit instead of one per row. Without either, plain autocommit. */
void store_batch_begin(void);
void store_batch_end(void);
void store_close(void);

#endif
