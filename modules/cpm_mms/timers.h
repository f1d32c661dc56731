/*
 * cpm_mms - the module's timer process: res_timeout of suspended
 * MESSAGEs, the end of answered MM4 requests' duplicate window, Expired
 * reports and the purge of correlation rows.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_TIMERS_H
#define CPM_MMS_TIMERS_H

/* mod_init: one more process */
int timers_register(void);
/* child_init of the main process: fork it */
int timers_fork(void);

#endif
