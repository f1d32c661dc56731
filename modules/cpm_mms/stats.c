/*
 * cpm_mms - statistics through Kamailio's counters API, group "cpm_mms".
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Counters are per process and summed on read, so they are cheap to bump
 * from any process; pending/pending_peak are read from the shm table. */
#include "core/counters.h"
#include "core/dprint.h"

#include "stats.h"
#include "pending.h"

static counter_handle_t cpm_cnt[CPM_ST_COUNT];

static const struct {
	const char *name;
	const char *doc;
} cpm_cnt_def[CPM_ST_COUNT] = {
	{"messages_in", "MESSAGEs taken by cpm_mms_forward()"},
	{"local_rejects", "MESSAGEs refused before any MM4 work"},
	{"mm4_req_sent", "MM4_forward.REQs accepted by a peer MMSC"},
	{"res_ok", "MM4_forward.RES with a 2xx status"},
	{"res_transient", "MM4_forward.RES with a temporary error"},
	{"res_permanent", "MM4_forward.RES with a permanent error"},
	{"res_unmatched", "MM4_forward.RES matching no waiting MESSAGE"},
	{"timeouts", "MESSAGEs answered after res_timeout (202/504)"},
	{"smtp_failures", "MM4_forward.REQs no MMSC accepted"},
	{"dns_failures", "recipients with no usable MMS route"},
	{"mm4_in", "MM4 mails received on the MM4 listener"},
	{"mm4_refused", "MM4 connections or mails refused"},
	{"mm4_req_in", "MM4_forward.REQs received from peers"},
	{"mm4_duplicates", "MM4_forward.REQs received again"},
	{"messages_out", "MESSAGEs sent towards CPM users"},
	{"res_sent", "MM4_forward.RESs queued to peers"},
	{"reports_in", "MM4 delivery reports and read replies received"},
	{"reports_out", "MM4 delivery reports and read replies sent"},
	{"imdn_in", "IMDNs taken by cpm_mms_report()"},
	{"imdn_out", "IMDNs accepted by the CPM side"},
	{"dns_queries", "NAPTR/MX/A questions sent to DNS"},
	{"dns_cache_hits", "NAPTR/MX/A answers taken from the TTL cache"},
};

static counter_val_t cnt_pending(counter_handle_t h, void *p)
{
	return pending_count();
}

static counter_val_t cnt_pending_peak(counter_handle_t h, void *p)
{
	return pending_peak();
}

int stats_init(void)
{
	counter_handle_t h;
	int i;

	for (i = 0; i < CPM_ST_COUNT; i++) {
		if (counter_register(&cpm_cnt[i], "cpm_mms", cpm_cnt_def[i].name, 0,
					0, 0, cpm_cnt_def[i].doc, 0) < 0) {
			LM_ERR("cannot register counter %s\n", cpm_cnt_def[i].name);
			return -1;
		}
	}
	if (counter_register(&h, "cpm_mms", "pending", 0, cnt_pending, 0,
				"MESSAGE transactions waiting now", 0) < 0
			|| counter_register(&h, "cpm_mms", "pending_peak", 0,
				cnt_pending_peak, 0, "most MESSAGEs waiting at once", 0) < 0) {
		LM_ERR("cannot register pending counters\n");
		return -1;
	}
	return 0;
}

void stats_inc(cpm_stat s)
{
	counter_inc(cpm_cnt[s]);
}

unsigned long stats_get(cpm_stat s)
{
	return (unsigned long)counter_get_val(cpm_cnt[s]);
}

const char *stats_name(cpm_stat s)
{
	return cpm_cnt_def[s].name;
}
