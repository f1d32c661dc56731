/*
 * cpm_mms - delivery reports and read replies <-> IMDN (Tables 6-9, 6b).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_REPORT_H
#define CPM_MMS_REPORT_H

#include <time.h>

#include "core/parser/msg_parser.h"
#include "mapping.h"
#include "mm4.h"
#include "mm4_queue.h"

/* return codes of cpm_mms_report() */
#define CPM_RPT_DONE 1          /* handled: suspended, an MM4 worker answers */
#define CPM_RPT_NOT_IMDN -1     /* not an IMDN: nothing answered */
#define CPM_RPT_UNKNOWN -2      /* no db_url: answered 404 */
#define CPM_RPT_ERROR -3        /* answered 400, 500 or 503 (none: no
                                 * transaction could be created) */

/* MM4 worker: remember a CPM -> MMS message (REQ tid) for its reports */
void report_store_forward(const map_fwd *f, const char *e164,
		const char *tid);
/* mod_init / mod_destroy: the aliases waiting for their rows (shm) */
int report_init(void);
void report_destroy(void);
/* MM4 worker: the peer's RES for REQ tid of our mms_id carried its own
 * X-Mms-Message-ID alias: its reports may use it */
void report_res_alias(const char *mms_id, const char *tid, cm_str alias);
/* timer process, every second: aliases whose rows were not written yet */
void report_alias_retry(time_t now);
/* timer process: MM4_delivery_report.REQ Expired for the MMS -> CPM
 * messages that expired with no delivery report sent (expired_reports) */
void report_expired(time_t now);
/* MM4 worker: a message already answered (202) could not be sent: a
 * negative-delivery IMDN when the sender asked for one (Table 6b) */
void report_failed_now(const map_fwd *f, const char *e164);
/* listener: the checks of an MM4_delivery_report.REQ /
 * MM4_read_reply_report.REQ and its duplicate lookup. Returns the SMTP
 * reply code; 250 with key (INBOUND_KEY_MAX) set when it is new: for
 * report_mm4_deliver() */
int report_mm4_in(mm4_msg *m, const char *peer, char *key, char *text,
		int textsize);
/* MM4 worker: a new report: looked up, the IMDN sent, the RES owed */
void report_mm4_deliver(const mm4_msg *m, const char *key, const char *peer);
/* MM4 worker: an error RES for a MESSAGE already answered (Table 6b) */
void report_late_failure(const mm4_msg *m, cm_str status);
/* MM4 worker: an IMDN cpm_mms_report() suspended: looked up, the MM4
 * report queued if due, answered */
void report_imdn_job(const imdn_job *j);
/* SIP worker: cpm_mms_report() and cpm_mms_is_imdn() */
int cpm_report(struct sip_msg *msg);
int cpm_is_imdn(struct sip_msg *msg);

#endif
