/*
 * cpm_mms - the queue from the SIP workers, the listener and the RPC to the
 * MM4 worker processes: forward jobs (a mapped MESSAGE to send), ready
 * mails (RESs, reports) and IMDNs to look up; and the queue from the
 * listener to the MM4 delivery process: the MM4 mails received.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MM4_QUEUE_H
#define CPM_MMS_MM4_QUEUE_H

#include <time.h>
#include "mapping.h"
#include "map_flat.h"
#include "pending.h"
#include "inbound.h"
#include "store.h"

#define MM4_JOB_FORWARD 1
#define MM4_JOB_MAIL 2
#define MM4_JOB_IMDN 3
#define MM4_JOB_MARK 4

/* one MESSAGE to forward, mapped by the SIP worker (map_flat.h) */
typedef struct mm4_job {
	int type;                /* MM4_JOB_FORWARD */
	char tid[PENDING_TID_MAX];
	map_fwd f;               /* its strings and lists point into data */
	char data[];
} mm4_job;

/* a ready mail to deliver */
typedef struct mail_job {
	int type;                /* MM4_JOB_MAIL */
	char domain[128];
	char fallback_ip[64];
	char mail_from[160];
	char rcpt[160];
	char what[64];
	int len;
	char data[];
} mail_job;

/* an IMDN from CPM whose MESSAGE is suspended: the worker looks the
 * message up in the correlation store and answers (report.c) */
typedef struct imdn_job {
	int type;                /* MM4_JOB_IMDN */
	unsigned int t_hash;
	unsigned int t_label;
	char imdn_id[128];       /* the IMDN's <message-id>, decoded */
	int kind;                /* imdn_kind */
	int status;              /* imdn_status */
	time_t when;             /* its DateTime, else when it came */
} imdn_job;

/* a correlation row to mark done (store_mark_done), for a process that
 * must not wait on the DB: a tm callback in a SIP worker */
typedef struct mark_job {
	int type;                /* MM4_JOB_MARK */
	int bit;                 /* CORR_DONE_* */
	corr_row row;
} mark_job;

/* an MM4 mail the listener took (a REQ to deliver, a report to map, a RES
 * to complete) for the delivery process: parsed once, copied to shm with
 * the parse */
typedef struct inbound_job {
	char key[INBOUND_KEY_MAX]; /* the inbound table's entry (REQs, reports) */
	char peer[64];
	cm_str rcpts[INBOUND_MAX_RCPT]; /* the recipients to deliver to */
	int nrcpt;
	mm4_msg m;               /* points into data */
	int len;
	char data[];
} inbound_job;

int mm4_queue_init(void);    /* mod_init */
void mm4_queue_destroy(void);

/* --- the senders' side; never blocks, 0 or -1 (no memory / queue full) */
/* copy what the MM4 worker needs of the mapped request to shm and queue
 * it */
int mm4_queue_forward(const map_result *mr, const char *tid);
/* queue one ready mail (an MM4 *.RES or report): sent to the MX/A hosts of
 * 'domain', else to fallback_ip (may be empty) on mm4_port */
int mm4_queue_mail(const char *domain, const char *fallback_ip,
		const char *mail_from, const char *rcpt, const char *data, int len,
		const char *what);
/* copy an IMDN job to shm and queue it */
int mm4_queue_imdn(const imdn_job *j);
/* queue store_mark_done(row, bit) for an MM4 worker */
int mm4_queue_mark(const corr_row *row, int bit);

/* copy a mail parsed from data[0..len) (m points into it), the
 * recipients and the ids to shm and queue it for the delivery process
 * (a queue of its own: it never waits behind an SMTP session) */
int mm4_queue_inbound(const mm4_msg *m, const char *data, int len,
		const cm_str *rcpts, int nrcpt, const char *key, const char *peer);

/* --- the MM4 workers' side */
/* wait for a job, let a batch gather, take this worker's share (at most
 * mm4_batch): the number of jobs in jobs[]; the worker counts as busy
 * until mm4_queue_done() */
int mm4_queue_take(void **jobs, int rank);
void mm4_queue_done(void);
/* the delivery process: wait for mails the listener took, take up to max */
#define MM4_INBOUND_TAKE_MAX 64
int mm4_queue_take_inbound(inbound_job **jobs, int max);
/* one more job for an open SMTP session: what is queued now (until 0),
 * or waiting up to 'until' (pending_now_ms() time), then letting the jobs
 * after it gather as before a session (last_growth: mails the session
 * took last); NULL if none */
void *mm4_queue_take_more(long long until, int last_growth);

#endif
