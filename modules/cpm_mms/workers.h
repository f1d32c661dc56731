/*
 * cpm_mms - the queue from SIP workers to the MM4 worker processes, and
 * those processes.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_WORKERS_H
#define CPM_MMS_WORKERS_H

#include <time.h>
#include "mapping.h"
#include "pending.h"

/* one MESSAGE to forward: the SIP fields Table 1 needs, copied to shm */
typedef struct mm4_job mm4_job;

int workers_init(void);      /* mod_init: the queue */
void workers_destroy(void);
/* copy the request to shm and queue it; 0, or -1 (no memory / queue full) */
int workers_push(const cpm_request *rq, const char *tid, const char *unique,
		time_t now);
/* queue one ready mail (an MM4 *.RES or report): sent to the MX/A hosts of
 * 'domain', else to fallback_ip (may be empty) on mm4_port. Never blocks;
 * 0 / -1 */
int workers_push_mail(const char *domain, const char *fallback_ip,
		const char *mail_from, const char *rcpt, const char *data, int len,
		const char *what);
/* main loop of an MM4 worker process; never returns */
void workers_loop(int rank);

/* answer the MESSAGE of a completed entry and free it */
void cpm_finish(pending_entry *e, const char *why);

#endif
