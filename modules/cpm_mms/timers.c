/*
 * cpm_mms - the module's timer process.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* A basic utimer process of Kamailio's (core/timer_proc.c), forked like the
 * MM4 workers so every module's child_init runs in it. It never waits on
 * SMTP: the MM4 listener keeps to its connections, and a slow correlation
 * database delays the timers here, not the MM4 peers. */
#include <time.h>

#include "core/timer_proc.h"
#include "core/dprint.h"

#include "cpm_util.h"
#include "timers.h"
#include "completion.h"
#include "inbound.h"
#include "pending.h"
#include "report.h"
#include "store.h"

/* res_timeout is in seconds: a tenth of one is precise enough */
#define TIMER_TICK_US 100000
#define TIMER_INBOUND_MS 1000
#define TIMER_EXPIRED_MS 10000
#define TIMER_PURGE_MS 60000

/* 0: each runs at the first tick */
static long long last_inbound, last_expired, last_purge;

static void timer_tick(unsigned int ticks_ms, void *param)
{
	long long now = pending_now_ms();

	/* the deadline list: only what expired is looked at */
	completion_expire(now);
	if (now - last_inbound >= TIMER_INBOUND_MS) {
		last_inbound = now;
		inbound_expire(time(NULL));
		if (store_enabled())
			report_alias_retry(time(NULL));
	}
	/* Expired reports before the purge deletes their rows */
	if (store_enabled() && (now - last_expired >= TIMER_EXPIRED_MS
				|| now - last_purge >= TIMER_PURGE_MS)) {
		last_expired = now;
		store_batch_begin();
		report_expired(time(NULL));
		if (now - last_purge >= TIMER_PURGE_MS) {
			last_purge = now;
			store_purge(time(NULL));
		}
		store_batch_end();
	}
}

int timers_register(void)
{
	return register_basic_timers(1);
}

int timers_fork(void)
{
	if (fork_basic_utimer(PROC_RPC, "cpm_mms timer", 1, timer_tick, NULL,
				TIMER_TICK_US) < 0) {
		LM_ERR("cannot fork the timer process\n");
		return -1;
	}
	return 0;
}
