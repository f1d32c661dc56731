/*
 * cpm_mms - the MM4 worker processes and the MM4 delivery process.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_WORKERS_H
#define CPM_MMS_WORKERS_H

#include <time.h>
#include "mapping.h"
#include "pending.h"

/* main loop of an MM4 worker process; never returns */
void workers_loop(int rank);
/* main loop of the MM4 delivery process: carries out the mails the
 * listener took (REQs to CPM, reports to IMDNs, RESs to answers); never
 * returns */
void workers_delivery_loop(void);

#endif
