/*
 * cpm_mms - CPM (SIP MESSAGE / CPIM / IMDN) <-> MMS (MM4) interworking.
 * Module interface: parameters, functions, KEMI, pseudo-variables,
 * process start-up and shutdown.
 *
 * Copyright (C) 2026 cpm_mms authors
 *
 * This file is part of cpm_mms, a Kamailio module.
 *
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>

#include "core/sr_module.h"
#include "core/mod_fix.h"
#include "core/pt.h"
#include "core/cfg/cfg_struct.h"
#include "core/kemi.h"
#include "core/dprint.h"

#include "settings.h"
#include "cpm_util.h"
#include "pv.h"
#include "forward.h"
#include "pending.h"
#include "completion.h"
#include "mm4_queue.h"
#include "workers.h"
#include "smtp_listener.h"
#include "timers.h"
#include "stats.h"
#include "peers.h"
#include "rpc.h"
#include "inbound.h"
#include "mm4_in.h"
#include "report.h"
#include "store.h"
#include "enum_cache.h"

MODULE_VERSION

static int mod_init(void);
static int child_init(int rank);
static void mod_destroy(void);
static int w_cpm_mms_forward(struct sip_msg *msg, char *p1, char *p2);
static int w_cpm_mms_forward1(struct sip_msg *msg, char *p1, char *p2);
static int w_cpm_mms_report(struct sip_msg *msg, char *p1, char *p2);
static int w_cpm_mms_is_imdn(struct sip_msg *msg, char *p1, char *p2);

static cmd_export_t cmds[] = {
	{"cpm_mms_forward", (cmd_function)w_cpm_mms_forward, 0, 0, 0,
		REQUEST_ROUTE},
	{"cpm_mms_forward", (cmd_function)w_cpm_mms_forward1, 1,
		fixup_spve_null, fixup_free_spve_null, REQUEST_ROUTE},
	{"cpm_mms_report", (cmd_function)w_cpm_mms_report, 0, 0, 0,
		REQUEST_ROUTE},
	{"cpm_mms_is_imdn", (cmd_function)w_cpm_mms_is_imdn, 0, 0, 0,
		REQUEST_ROUTE | FAILURE_ROUTE | BRANCH_ROUTE},
	{0, 0, 0, 0, 0, 0}
};

static param_export_t params[] = {
	{"mm4_listen", PARAM_STRING, &cpm_fixed.mm4_listen},
	{"mm4_port", PARAM_INT, &default_cpm_mms_cfg.mm4_port},
	{"domain", PARAM_STRING, &cpm_fixed.domain},
	{"system_address", PARAM_STRING, &cpm_fixed.system_address},
	{"enum_suffix", PARAM_STRING, &cpm_fixed.enum_suffix},
	{"enum_server", PARAM_STRING, &cpm_fixed.enum_server},
	{"static_route", PARAM_STRING | USE_FUNC_PARAM,
		(void *)settings_param_static_route},
	{"mm4_peers", PARAM_STRING, &cpm_fixed.mm4_peers},
	{"res_timeout", PARAM_INT, &default_cpm_mms_cfg.res_timeout},
	{"timeout_reply", PARAM_INT, &default_cpm_mms_cfg.timeout_reply},
	/* the quoted form "202" / "504" */
	{"timeout_reply", PARAM_STRING | USE_FUNC_PARAM,
		(void *)settings_param_timeout_reply},
	{"mm4_workers", PARAM_INT, &default_cpm_mms_cfg.mm4_workers},
	{"mm4_batch", PARAM_INT, &default_cpm_mms_cfg.mm4_batch},
	{"mm4_batch_wait", PARAM_INT, &default_cpm_mms_cfg.mm4_batch_wait},
	{"smtp_session_idle", PARAM_INT, &default_cpm_mms_cfg.smtp_session_idle},
	{"max_pending", PARAM_INT, &default_cpm_mms_cfg.max_pending},
	{"smtp_timeout", PARAM_INT, &default_cpm_mms_cfg.smtp_timeout},
	{"max_message_size", PARAM_INT, &default_cpm_mms_cfg.max_message_size},
	{"mm4_max_size", PARAM_INT, &default_cpm_mms_cfg.mm4_max_size},
	{"mm4_max_connections", PARAM_INT,
		&default_cpm_mms_cfg.mm4_max_connections},
	{"mm4_idle_timeout", PARAM_INT, &default_cpm_mms_cfg.mm4_idle_timeout},
	{"mm4_peer_connections", PARAM_INT,
		&default_cpm_mms_cfg.mm4_peer_connections},
	{"mm4_session_timeout", PARAM_INT,
		&default_cpm_mms_cfg.mm4_session_timeout},
	{"mm4_max_commands", PARAM_INT, &default_cpm_mms_cfg.mm4_max_commands},
	{"mm4_junk_commands", PARAM_INT,
		&default_cpm_mms_cfg.mm4_junk_commands},
	{"mm4_peer_connection_rate", PARAM_INT,
		&default_cpm_mms_cfg.mm4_peer_connection_rate},
	{"mms_version", PARAM_STRING, &cpm_fixed.mms_version},
	{"hostname", PARAM_STRING, &cpm_fixed.hostname},
	{"cpim_recipients", PARAM_INT, &default_cpm_mms_cfg.cpim_recipients},
	{"local_domains", PARAM_STRING, &cpm_fixed.local_domains},
	{"cpm_route", PARAM_STRING, &cpm_fixed.cpm_route},
	{"cpm_domain", PARAM_STRING, &cpm_fixed.cpm_domain},
	{"uri_form", PARAM_STRING, &cpm_fixed.uri_form},
	{"iwf_uri", PARAM_STRING, &cpm_fixed.iwf_uri},
	{"event_callback", PARAM_STRING, &cpm_fixed.event_callback},
	{"dedup_time", PARAM_INT, &default_cpm_mms_cfg.dedup_time},
	{"max_cpm_size", PARAM_INT, &default_cpm_mms_cfg.max_cpm_size},
	{"max_inflated_size", PARAM_INT, &default_cpm_mms_cfg.max_inflated_size},
	{"max_forward_counter", PARAM_INT,
		&default_cpm_mms_cfg.max_forward_counter},
	{"mm4_ack_default", PARAM_INT, &default_cpm_mms_cfg.mm4_ack_default},
	{"max_inbound", PARAM_INT, &default_cpm_mms_cfg.max_inbound},
	{"db_url", PARAM_STRING, &cpm_fixed.db_url},
	{"db_table", PARAM_STRING, &cpm_fixed.db_table},
	{"corr_expire", PARAM_INT, &default_cpm_mms_cfg.corr_expire},
	{"expired_reports", PARAM_INT, &default_cpm_mms_cfg.expired_reports},
	{"dns_cache_size", PARAM_INT, &default_cpm_mms_cfg.dns_cache_size},
	{"dns_negative_ttl", PARAM_INT, &default_cpm_mms_cfg.dns_negative_ttl},
	{"dns_max_ttl", PARAM_INT, &default_cpm_mms_cfg.dns_max_ttl},
	{"intl_prefix", PARAM_STRING, &cpm_fixed.intl_prefix},
	{"national_prefix", PARAM_STRING, &cpm_fixed.national_prefix},
	{"country_code", PARAM_STRING, &cpm_fixed.country_code},
	{0, 0, 0}
};

static pv_export_t mod_pvs[] = {
	{ {"mm4", sizeof("mm4") - 1}, PVT_OTHER, pv_get_mm4, pv_set_mm4,
		pv_parse_mm4_name, 0, 0, 0 },
	{ {0, 0}, 0, 0, 0, 0, 0, 0, 0 }
};

struct module_exports exports = {
	"cpm_mms",
	DEFAULT_DLFLAGS,
	cmds,
	params,
	cpm_mms_rpc_cmds, /* RPC methods */
	mod_pvs,
	0,              /* response handling */
	mod_init,
	child_init,
	mod_destroy
};

/* ---- life cycle ---- */

static int mod_init(void)
{
	cpm_mem_use_pkg();
	if (settings_init() < 0 || cpm_util_load_tm() < 0)
		return -1;
	if (cpm_resume_init() < 0 || pending_init(cpm_get(max_pending)) < 0
			|| mm4_queue_init() < 0 || stats_init() < 0 || peers_init() < 0
			|| inbound_init(cpm_get(max_inbound)) < 0 || mm4_in_init() < 0
			|| store_init() < 0 || report_init() < 0
			|| enum_cache_init(cpm_get(dns_cache_size)) < 0)
		return -1;
	if (listener_bind(cpm_fixed.mm4_listen) < 0)
		return -1;
	/* MM4 workers, the listener, the delivery process; the timer process */
	register_procs(cpm_get(mm4_workers) + 2);
	cfg_register_child(cpm_get(mm4_workers) + 2);
	if (timers_register() < 0)
		return -1;
	return 0;
}

/* set in the main process while it forks the listener, so the listener's
 * own child_init (run by fork_process) keeps the listening socket */
static int forking_listener;

/* fork one process that runs loop (never returning); -1 on failure */
static int fork_loop(char *desc, void (*loop)(void))
{
	int pid = fork_process(PROC_RPC, desc, 1);

	if (pid == 0) {
		if (cfg_child_init())
			return -1;
		loop();
		exit(-1);
	}
	return pid < 0 ? -1 : 0;
}

/* Our processes are forked PROC_RPC, as Kamailio's own modules fork theirs:
 * fork_process() runs every module's child_init there (tm's Call-ID suffix
 * of this pid, DB connections of sqlops and friends for the event route). */
static int child_init(int rank)
{
	int i, pid;

	cpm_mem_use_pkg();
	if (rank == PROC_INIT)
		return 0;
	if (rank != PROC_MAIN) {
		if (!forking_listener)
			listener_close();
		return 0;
	}
	for (i = 0; i < cpm_get(mm4_workers); i++) {
		pid = fork_process(PROC_RPC, "cpm_mms MM4 worker", 1);
		if (pid < 0)
			return -1;
		if (pid == 0) {
			if (cfg_child_init())
				return -1;
			workers_loop(i);
			exit(-1);
		}
	}
	if (fork_loop("cpm_mms MM4 delivery", workers_delivery_loop) < 0)
		return -1;
	forking_listener = 1;
	pid = fork_loop("cpm_mms MM4 listener", listener_loop);
	forking_listener = 0;
	if (pid < 0)
		return -1;
	/* later forks of the main process do not inherit it */
	listener_close();
	return timers_fork();
}

static void mod_destroy(void)
{
	mm4_queue_destroy();
	pending_destroy();
	peers_destroy();
	inbound_destroy();
	report_destroy();
	enum_cache_destroy();
}

/* ---- script functions ---- */

static int w_cpm_mms_forward(struct sip_msg *msg, char *p1, char *p2)
{
	return cpm_forward(msg, NULL);
}

static int w_cpm_mms_forward1(struct sip_msg *msg, char *p1, char *p2)
{
	str uri;

	if (fixup_get_svalue(msg, (gparam_t *)p1, &uri) < 0) {
		LM_ERR("cannot get the recipient URI\n");
		return -1;
	}
	return cpm_forward(msg, &uri);
}

static int w_cpm_mms_report(struct sip_msg *msg, char *p1, char *p2)
{
	return cpm_report(msg);
}

static int w_cpm_mms_is_imdn(struct sip_msg *msg, char *p1, char *p2)
{
	return cpm_is_imdn(msg);
}

static int ki_cpm_mms_report(struct sip_msg *msg)
{
	return cpm_report(msg);
}

static int ki_cpm_mms_is_imdn(struct sip_msg *msg)
{
	return cpm_is_imdn(msg);
}

static int ki_cpm_mms_forward(struct sip_msg *msg)
{
	return cpm_forward(msg, NULL);
}

static int ki_cpm_mms_forward_uri(struct sip_msg *msg, str *uri)
{
	return cpm_forward(msg, uri);
}

/* ---- KEMI ---- */

static sr_kemi_t sr_kemi_cpm_mms_exports[] = {
	{ str_init("cpm_mms"), str_init("forward"),
		SR_KEMIP_INT, ki_cpm_mms_forward,
		{ SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("cpm_mms"), str_init("forward_uri"),
		SR_KEMIP_INT, ki_cpm_mms_forward_uri,
		{ SR_KEMIP_STR, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("cpm_mms"), str_init("report"),
		SR_KEMIP_INT, ki_cpm_mms_report,
		{ SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("cpm_mms"), str_init("is_imdn"),
		SR_KEMIP_INT, ki_cpm_mms_is_imdn,
		{ SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ {0, 0}, {0, 0}, 0, NULL, { 0, 0, 0, 0, 0, 0 } }
};

int mod_register(char *path, int *dlflags, void *p1, void *p2)
{
	sr_kemi_modules_add(sr_kemi_cpm_mms_exports);
	return 0;
}
