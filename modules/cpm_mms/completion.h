/*
 * cpm_mms - completion of a CPM -> MMS MESSAGE. Whatever learns an outcome
 * comes here: the MM4_forward.RES, an SMTP or routing failure (MM4
 * workers), res_timeout (the timer process), an RPC drop. The MESSAGE
 * is answered once, through tm, from the process that completes it.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_COMPLETION_H
#define CPM_MMS_COMPLETION_H

#include "mapping.h"
#include "mm4.h"

/* REQ n of the MESSAGE 'tid' ended with code/reason: the MESSAGE is
 * answered when it was its last REQ (worst outcome wins); returns 0 if the
 * MESSAGE had been answered already (res_timeout), 1 if not */
int completion_outcome(const char *tid, int n, int code, const char *reason,
		const char *why);
/* the same for a local failure (Table 3b) */
int completion_failure(const char *tid, int n, map_local_failure lf,
		const char *why);
/* answer the MESSAGE 'tid' now; 0, or -1 if it is not waiting */
int completion_answer(const char *tid, int code, const char *reason,
		const char *why);
/* answer it now with a local failure; 0 / -1 as above */
int completion_abort(const char *tid, map_local_failure lf, const char *why);

/* an MM4_forward.RES the listener received (in an MM4 worker) */
void completion_res(const mm4_msg *m);
/* res_timeout: answer every MESSAGE whose time is up at now_ms */
void completion_expire(long long now_ms);

#endif
