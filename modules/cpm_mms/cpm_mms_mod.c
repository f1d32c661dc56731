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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <arpa/inet.h>

#include "core/sr_module.h"
#include "core/mod_fix.h"
#include "core/pt.h"
#include "core/cfg/cfg_struct.h"
#include "core/mem/mem.h"
#include "core/mem/shm_mem.h"
#include "core/kemi.h"
#include "core/pvar.h"
#include "core/dprint.h"

#include "cpm_mms.h"
#include "forward.h"
#include "pending.h"
#include "resume.h"
#include "workers.h"
#include "smtp_listener.h"
#include "enum_resolve.h"
#include "stats.h"
#include "peers.h"
#include "rpc.h"
#include "inbound.h"
#include "mm4_in.h"
#include "report.h"
#include "store.h"
#include "enum_cache.h"
#include "smtp_client.h"

MODULE_VERSION

cpm_mms_cfg cpm_cfg;
struct tm_binds cpm_tmb;

/* modparam values */
static char *p_mm4_listen = "127.0.0.1:2526";
static int p_mm4_port = 25;
static char *p_domain = "mms.iwf.localhost";
static char *p_system_address = "";
static char *p_enum_suffix = "e164.arpa";
static char *p_enum_server = "";
static char *p_mm4_peers = "127.0.0.0/8";
static int p_res_timeout = 10;
static char *p_timeout_reply = "202";
static int p_mm4_workers = 8;
static int p_mm4_batch = 16;
static int p_mm4_batch_wait = 5;
static int p_smtp_session_idle = 100;
static int p_max_pending = 20000;
static int p_smtp_timeout = 10;
static int p_max_message_size = 307200;
static int p_mm4_max_size = 1048576;
static int p_mm4_max_connections = 256;
static int p_mm4_idle_timeout = 60;
static int p_mm4_peer_connections = 32;
static int p_mm4_session_timeout = 600;
static int p_mm4_max_commands = 100000;
static char *p_mms_version = "6.16.0";
static char *p_hostname = "";
static int p_cpim_recipients = 1;
static char *p_local_domains = "";
static char *p_cpm_route = "";
static char *p_cpm_domain = "";
static char *p_uri_form = "tel";
static char *p_iwf_uri = "";
static char *p_event_callback = "";
static int p_dedup_time = 600;
static int p_max_cpm_size = 60000;
static int p_max_inflated_size = 1048576;
static int p_max_forward_counter = 20;
static int p_mm4_ack_default = 0;
static int p_max_inbound = 50000;
static char *p_db_url = "";
static char *p_db_table = "cpm_mms_corr";
static int p_corr_expire = 604800;
static int p_expired_reports = 1;
static int p_dns_cache_size = 10000;
static int p_dns_negative_ttl = 30;
static int p_dns_max_ttl = 3600;
static char *p_intl_prefix = "";
static char *p_national_prefix = "";
static char *p_country_code = "";

static int mod_init(void);
static int child_init(int rank);
static void mod_destroy(void);
static int w_cpm_mms_forward(struct sip_msg *msg, char *p1, char *p2);
static int w_cpm_mms_forward1(struct sip_msg *msg, char *p1, char *p2);
static int param_static_route(modparam_t type, void *val);
static int w_cpm_mms_report(struct sip_msg *msg, char *p1, char *p2);
static int w_cpm_mms_is_imdn(struct sip_msg *msg, char *p1, char *p2);
static int pv_get_mm4(struct sip_msg *msg, pv_param_t *param, pv_value_t *res);
static int pv_parse_mm4_name(pv_spec_p sp, str *in);
static int pv_set_mm4(struct sip_msg *msg, pv_param_t *param, int op,
		pv_value_t *val);

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
	{"mm4_listen", PARAM_STRING, &p_mm4_listen},
	{"mm4_port", PARAM_INT, &p_mm4_port},
	{"domain", PARAM_STRING, &p_domain},
	{"system_address", PARAM_STRING, &p_system_address},
	{"enum_suffix", PARAM_STRING, &p_enum_suffix},
	{"enum_server", PARAM_STRING, &p_enum_server},
	{"static_route", PARAM_STRING | USE_FUNC_PARAM, (void *)param_static_route},
	{"mm4_peers", PARAM_STRING, &p_mm4_peers},
	{"res_timeout", PARAM_INT, &p_res_timeout},
	{"timeout_reply", PARAM_STRING, &p_timeout_reply},
	{"mm4_workers", PARAM_INT, &p_mm4_workers},
	{"mm4_batch", PARAM_INT, &p_mm4_batch},
	{"mm4_batch_wait", PARAM_INT, &p_mm4_batch_wait},
	{"smtp_session_idle", PARAM_INT, &p_smtp_session_idle},
	{"max_pending", PARAM_INT, &p_max_pending},
	{"smtp_timeout", PARAM_INT, &p_smtp_timeout},
	{"max_message_size", PARAM_INT, &p_max_message_size},
	{"mm4_max_size", PARAM_INT, &p_mm4_max_size},
	{"mm4_max_connections", PARAM_INT, &p_mm4_max_connections},
	{"mm4_idle_timeout", PARAM_INT, &p_mm4_idle_timeout},
	{"mm4_peer_connections", PARAM_INT, &p_mm4_peer_connections},
	{"mm4_session_timeout", PARAM_INT, &p_mm4_session_timeout},
	{"mm4_max_commands", PARAM_INT, &p_mm4_max_commands},
	{"mms_version", PARAM_STRING, &p_mms_version},
	{"hostname", PARAM_STRING, &p_hostname},
	{"cpim_recipients", PARAM_INT, &p_cpim_recipients},
	{"local_domains", PARAM_STRING, &p_local_domains},
	{"cpm_route", PARAM_STRING, &p_cpm_route},
	{"cpm_domain", PARAM_STRING, &p_cpm_domain},
	{"uri_form", PARAM_STRING, &p_uri_form},
	{"iwf_uri", PARAM_STRING, &p_iwf_uri},
	{"event_callback", PARAM_STRING, &p_event_callback},
	{"dedup_time", PARAM_INT, &p_dedup_time},
	{"max_cpm_size", PARAM_INT, &p_max_cpm_size},
	{"max_inflated_size", PARAM_INT, &p_max_inflated_size},
	{"max_forward_counter", PARAM_INT, &p_max_forward_counter},
	{"mm4_ack_default", PARAM_INT, &p_mm4_ack_default},
	{"max_inbound", PARAM_INT, &p_max_inbound},
	{"db_url", PARAM_STRING, &p_db_url},
	{"db_table", PARAM_STRING, &p_db_table},
	{"corr_expire", PARAM_INT, &p_corr_expire},
	{"expired_reports", PARAM_INT, &p_expired_reports},
	{"dns_cache_size", PARAM_INT, &p_dns_cache_size},
	{"dns_negative_ttl", PARAM_INT, &p_dns_negative_ttl},
	{"dns_max_ttl", PARAM_INT, &p_dns_max_ttl},
	{"intl_prefix", PARAM_STRING, &p_intl_prefix},
	{"national_prefix", PARAM_STRING, &p_national_prefix},
	{"country_code", PARAM_STRING, &p_country_code},
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

/* ---- helpers shared by the glue ---- */

static void *pkg_malloc_hook(size_t size)
{
	return pkg_malloc(size);
}

static void *pkg_realloc_hook(void *p, size_t size)
{
	return pkg_realloc(p, size);
}

static void pkg_free_hook(void *p)
{
	pkg_free(p);
}

void cpm_mem_use_pkg(void)
{
	cm_mem_set(pkg_malloc_hook, pkg_realloc_hook, pkg_free_hook);
	cm_mem_keep(16);
}

int cpm_random_hex(char *out, int nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	int i;

	if (nbytes > (int)sizeof(raw)
			|| getrandom(raw, nbytes, 0) != nbytes) {
		LM_ERR("no random bytes\n");
		return -1;
	}
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

/* ---- parameters ---- */

static int param_static_route(modparam_t type, void *val)
{
	cm_str spec = cm_str_z((char *)val), one;
	static_route *r;
	char canon[2 * STATIC_ROUTE_HOST_MAX + 48];
	int pos = 0;

	/* one route per modparam, or several separated by ',' / ';' / ' ' */
	while (static_route_next(spec, &pos, &one)) {
		if (cpm_cfg.nroutes >= CPM_MMS_MAX_STATIC_ROUTES) {
			LM_ERR("too many static routes (max %d)\n",
					CPM_MMS_MAX_STATIC_ROUTES);
			return -1;
		}
		r = &cpm_cfg.routes[cpm_cfg.nroutes];
		if (static_route_parse(one, r) < 0) {
			LM_ERR("bad static_route '%.*s' (want "
					"prefix=>mmse-domain[;via=host[:port]])\n", one.len, one.s);
			return -1;
		}
		if (static_route_format(r, canon, sizeof(canon)) < 0)
			canon[0] = '\0';
		/* same next hop as before the new form; say what it reads as */
		if (r->flags & STATIC_ROUTE_OLD_PORT)
			LM_NOTICE("static_route '%.*s': the form prefix=>host:port is "
					"deprecated, read as '%s' (the same next hop); write "
					"prefix=>mmse-domain;via=host:port\n", one.len, one.s,
					canon);
		if (r->flags & STATIC_ROUTE_IP_DOMAIN)
			LM_NOTICE("static_route '%.*s': the MMSE domain is an IP address, "
					"recipient addresses read +E164/TYPE=PLMN@%s; to name "
					"the recipient's MMSE write prefix=>mmse-domain;via=ip\n",
					one.len, one.s, r->domain);
		cpm_cfg.nroutes++;
	}
	return 0;
}

static int cfg_check(void)
{
	static char sysaddr[256];
	static char host[128];
	static char iwfuri[256];
	e164_plan plan;

	if (p_res_timeout < 1 || p_res_timeout > 25) {
		LM_ERR("res_timeout must be 1..25 s (below SIP Timer F)\n");
		return -1;
	}
	if (p_mm4_batch < 1 || p_mm4_batch > SMTP_BATCH_MAX) {
		LM_ERR("mm4_batch must be 1..%d\n", SMTP_BATCH_MAX);
		return -1;
	}
	if (p_mm4_batch_wait < 0 || p_mm4_batch_wait > 1000) {
		LM_ERR("mm4_batch_wait must be 0..1000 ms\n");
		return -1;
	}
	if (p_smtp_session_idle < 0 || p_smtp_session_idle > 10000) {
		LM_ERR("smtp_session_idle must be 0..10000 ms\n");
		return -1;
	}
	if (p_mm4_workers < 1 || p_mm4_workers > 64) {
		LM_ERR("mm4_workers must be 1..64\n");
		return -1;
	}
	if (p_max_pending < 1 || p_mm4_max_connections < 1 || p_smtp_timeout < 1
			|| p_mm4_idle_timeout < 1 || p_mm4_max_size < 1024
			|| p_mm4_peer_connections < 1 || p_mm4_session_timeout < 1
			|| p_mm4_max_commands < 10) {
		LM_ERR("max_pending, mm4_max_connections, smtp_timeout, "
				"mm4_idle_timeout, mm4_peer_connections, mm4_session_timeout "
				"must be positive, mm4_max_size >= 1024, "
				"mm4_max_commands >= 10\n");
		return -1;
	}
	if (p_max_message_size < 0 || (p_cpim_recipients != 0
				&& p_cpim_recipients != 1)) {
		LM_ERR("max_message_size must be >= 0 (0 = no limit) and "
				"cpim_recipients 0 or 1\n");
		return -1;
	}
	if (strcmp(p_timeout_reply, "202") == 0) {
		cpm_cfg.timeout_mode = MAP_TIMEOUT_202;
	} else if (strcmp(p_timeout_reply, "504") == 0) {
		cpm_cfg.timeout_mode = MAP_TIMEOUT_504;
	} else {
		LM_ERR("timeout_reply must be \"202\" or \"504\"\n");
		return -1;
	}
	if (!p_domain[0] || strlen(p_domain) > 100) {
		LM_ERR("domain must be set (the IWF's MMS domain)\n");
		return -1;
	}
	if (p_system_address[0]) {
		snprintf(sysaddr, sizeof(sysaddr), "%s", p_system_address);
	} else {
		snprintf(sysaddr, sizeof(sysaddr), "system-user@%s", p_domain);
	}
	if (p_hostname[0])
		snprintf(host, sizeof(host), "%s", p_hostname);
	else
		snprintf(host, sizeof(host), "%s", p_domain);
	cpm_cfg.mm4_listen = p_mm4_listen;
	cpm_cfg.mm4_port = p_mm4_port;
	cpm_cfg.domain = p_domain;
	cpm_cfg.system_address = sysaddr;
	cpm_cfg.hostname = host;
	cpm_cfg.enum_suffix = p_enum_suffix;
	cpm_cfg.enum_server = p_enum_server;
	cpm_cfg.enum_server_host[0] = '\0';
	cpm_cfg.enum_server_port = 0;
	if (p_enum_server[0]
			&& hostport_split(cm_str_z(p_enum_server), cpm_cfg.enum_server_host,
					sizeof(cpm_cfg.enum_server_host),
					&cpm_cfg.enum_server_port) < 0) {
		LM_ERR("enum_server '%s' is not ip[:port]\n", p_enum_server);
		return -1;
	}
	if (p_enum_server[0]) {
		unsigned char a[16];

		if (inet_pton(AF_INET, cpm_cfg.enum_server_host, a) != 1
				&& inet_pton(AF_INET6, cpm_cfg.enum_server_host, a) != 1) {
			LM_ERR("enum_server '%s': an IP address is needed\n",
					p_enum_server);
			return -1;
		}
	}
	if (e164_plan_init(&plan, cm_str_z(p_intl_prefix),
				cm_str_z(p_national_prefix), cm_str_z(p_country_code)) < 0) {
		LM_ERR("bad numbering plan: intl_prefix '%s', national_prefix '%s', "
				"country_code '%s' (digits; a country code of 1-3 digits not "
				"starting with 0 is needed with a national prefix; the two "
				"prefixes must differ)\n", p_intl_prefix, p_national_prefix,
				p_country_code);
		return -1;
	}
	/* before the fork: every process applies the same plan */
	e164_plan_set(&plan);
	cpm_cfg.intl_prefix = p_intl_prefix;
	cpm_cfg.national_prefix = p_national_prefix;
	cpm_cfg.country_code = p_country_code;
	if (listener_parse_peers(p_mm4_peers) < 0) {
		LM_ERR("bad mm4_peers '%s'\n", p_mm4_peers);
		return -1;
	}
	cpm_cfg.res_timeout_ms = p_res_timeout * 1000;
	cpm_cfg.mm4_workers = p_mm4_workers;
	cpm_cfg.mm4_batch = p_mm4_batch;
	cpm_cfg.mm4_batch_wait = p_mm4_batch_wait;
	cpm_cfg.smtp_session_idle = p_smtp_session_idle;
	cpm_cfg.max_pending = p_max_pending;
	cpm_cfg.smtp_timeout = p_smtp_timeout;
	cpm_cfg.max_message_size = p_max_message_size;
	cpm_cfg.mm4_max_size = p_mm4_max_size;
	cpm_cfg.mm4_max_connections = p_mm4_max_connections;
	cpm_cfg.mm4_idle_timeout = p_mm4_idle_timeout;
	cpm_cfg.mm4_peer_connections = p_mm4_peer_connections;
	cpm_cfg.mm4_session_timeout = p_mm4_session_timeout;
	cpm_cfg.mm4_max_commands = p_mm4_max_commands;

	memset(&cpm_cfg.map, 0, sizeof(cpm_cfg.map));
	cpm_cfg.map.mms_version = cm_str_z(p_mms_version);
	cpm_cfg.map.domain = cm_str_z(p_domain);
	cpm_cfg.map.system_address = cm_str_z(sysaddr);
	cpm_cfg.map.max_message_size = p_max_message_size;
	cpm_cfg.map.max_recipients = MAP_MAX_RCPT;
	cpm_cfg.map.use_cpim_recipients = p_cpim_recipients ? 1 : 0;

	/* MMS -> CPM */
	if (strcmp(p_uri_form, "tel") == 0) {
		cpm_cfg.map_in.uri_form = MAP_URI_TEL;
	} else if (strcmp(p_uri_form, "sip") == 0) {
		cpm_cfg.map_in.uri_form = MAP_URI_SIP_PHONE;
	} else {
		LM_ERR("uri_form must be \"tel\" or \"sip\"\n");
		return -1;
	}
	if (p_dedup_time < 1 || p_max_cpm_size < 1 || p_max_inbound < 1
			|| p_max_forward_counter < 1 || p_max_inflated_size < 1) {
		LM_ERR("dedup_time, max_cpm_size, max_inbound, max_forward_counter"
				" and max_inflated_size must be positive\n");
		return -1;
	}
	if (p_iwf_uri[0])
		snprintf(iwfuri, sizeof(iwfuri), "%s", p_iwf_uri);
	else
		snprintf(iwfuri, sizeof(iwfuri), "sip:iwf@%s", p_domain);
	cpm_cfg.local_domains = p_local_domains;
	cpm_cfg.cpm_route = p_cpm_route[0] ? p_cpm_route : NULL;
	cpm_cfg.event_callback = p_event_callback;
	cpm_cfg.dedup_time = p_dedup_time;
	cpm_cfg.map_in.domain = cm_str_z(p_domain);
	cpm_cfg.map_in.cpm_domain = cm_str_z(p_cpm_domain[0] ? p_cpm_domain
			: p_domain);
	cpm_cfg.map_in.iwf_uri = cm_str_z(iwfuri);
	cpm_cfg.map_in.max_body_size = p_max_cpm_size;
	cpm_cfg.max_inflated_size = p_max_inflated_size;
	cpm_cfg.map_in.max_forward_counter = p_max_forward_counter;
	if (p_mm4_ack_default != 0 && p_mm4_ack_default != 1) {
		LM_ERR("mm4_ack_default must be 0 or 1\n");
		return -1;
	}
	cpm_cfg.map_in.ack_default = p_mm4_ack_default;
	if (p_corr_expire < 60) {
		LM_ERR("corr_expire must be at least 60 s\n");
		return -1;
	}
	cpm_cfg.db_url = p_db_url;
	cpm_cfg.db_table = p_db_table;
	cpm_cfg.corr_expire = p_corr_expire;
	cpm_cfg.expired_reports = p_expired_reports ? 1 : 0;
	if (p_dns_cache_size < 0 || p_dns_negative_ttl < 0 || p_dns_max_ttl < 0) {
		LM_ERR("dns_cache_size, dns_negative_ttl, dns_max_ttl must be >= 0\n");
		return -1;
	}
	cpm_cfg.dns_cache_size = p_dns_cache_size;
	cpm_cfg.dns_negative_ttl = p_dns_negative_ttl;
	cpm_cfg.dns_max_ttl = p_dns_max_ttl;
	return 0;
}

/* ---- life cycle ---- */

static int mod_init(void)
{
	cpm_mem_use_pkg();
	if (cfg_check() < 0)
		return -1;
	if (load_tm_api(&cpm_tmb) < 0) {
		LM_ERR("cannot load the tm API (load tm.so first)\n");
		return -1;
	}
	if (resume_init() < 0 || pending_init(cpm_cfg.max_pending) < 0
			|| workers_init() < 0 || stats_init() < 0 || peers_init() < 0
			|| inbound_init(p_max_inbound) < 0 || mm4_in_init() < 0
			|| store_init() < 0 || enum_cache_init(cpm_cfg.dns_cache_size) < 0)
		return -1;
	if (listener_bind(cpm_cfg.mm4_listen) < 0)
		return -1;
	/* MM4 workers + the listener */
	register_procs(cpm_cfg.mm4_workers + 1);
	cfg_register_child(cpm_cfg.mm4_workers + 1);
	return 0;
}

/* set in the main process while it forks the listener, so the listener's
 * own child_init (run by fork_process) keeps the listening socket */
static int forking_listener;

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
	for (i = 0; i < cpm_cfg.mm4_workers; i++) {
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
	forking_listener = 1;
	pid = fork_process(PROC_RPC, "cpm_mms MM4 listener", 1);
	forking_listener = 0;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (cfg_child_init())
			return -1;
		listener_loop();
		exit(-1);
	}
	/* later forks of the main process do not inherit it */
	listener_close();
	return 0;
}

static void mod_destroy(void)
{
	workers_destroy();
	pending_destroy();
	peers_destroy();
	inbound_destroy();
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

/* ---- $mm4(name) ---- */

enum {
	MM4_PV_STATUS_CODE = 1,
	MM4_PV_STATUS_TEXT,
	MM4_PV_TRANSACTION_ID,
	MM4_PV_MESSAGE_ID,
	MM4_PV_RECIPIENT,
	/* the MM4_forward.REQ in event_route[cpm-mms:mm4-request] */
	MM4_PV_FROM,
	MM4_PV_TO,
	MM4_PV_SUBJECT,
	MM4_PV_ORIG_SYSTEM,
	MM4_PV_CONTENT_TYPE,
	MM4_PV_PEER,
	MM4_PV_TARGET,
	MM4_PV_DST,
	MM4_PV_IMDN_ID,
};

static int pv_parse_mm4_name(pv_spec_p sp, str *in)
{
	static const struct {
		const char *name;
		int id;
	} names[] = {
		{"status_code", MM4_PV_STATUS_CODE},
		{"status_text", MM4_PV_STATUS_TEXT},
		{"transaction_id", MM4_PV_TRANSACTION_ID},
		{"message_id", MM4_PV_MESSAGE_ID},
		{"recipient", MM4_PV_RECIPIENT},
		{"from", MM4_PV_FROM},
		{"to", MM4_PV_TO},
		{"subject", MM4_PV_SUBJECT},
		{"originator_system", MM4_PV_ORIG_SYSTEM},
		{"content_type", MM4_PV_CONTENT_TYPE},
		{"peer", MM4_PV_PEER},
		{"target", MM4_PV_TARGET},
		{"dst", MM4_PV_DST},
		{"imdn_message_id", MM4_PV_IMDN_ID},
	};
	unsigned int i;

	if (!sp || !in || in->len <= 0)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == (size_t)in->len
				&& strncmp(names[i].name, in->s, in->len) == 0) {
			sp->pvp.pvn.type = PV_NAME_INTSTR;
			sp->pvp.pvn.u.isname.type = 0;
			sp->pvp.pvn.u.isname.name.n = names[i].id;
			return 0;
		}
	}
	LM_ERR("unknown $mm4(%.*s)\n", in->len, in->s);
	return -1;
}

static int pv_get_text(struct sip_msg *msg, pv_param_t *param,
		pv_value_t *res, char *z)
{
	str s;

	if (!z[0])
		return pv_get_null(msg, param, res);
	s.s = z;
	s.len = strlen(z);
	return pv_get_strval(msg, param, res, &s);
}

static int pv_get_cmstr(struct sip_msg *msg, pv_param_t *param,
		pv_value_t *res, cm_str v)
{
	str s;

	if (v.len <= 0)
		return pv_get_null(msg, param, res);
	s.s = v.s;
	s.len = v.len;
	return pv_get_strval(msg, param, res, &s);
}

/* fields of the REQ in the event route */
static int pv_get_mm4_in(struct sip_msg *msg, pv_param_t *param,
		pv_value_t *res)
{
	mm4_in_ctx *c = mm4_in_cur;

	switch (param->pvn.u.isname.name.n) {
	case MM4_PV_FROM:
		return pv_get_cmstr(msg, param, res, mm4_get(c->m, "From"));
	case MM4_PV_TO:
		return pv_get_cmstr(msg, param, res, c->rcpt);
	case MM4_PV_SUBJECT:
		return pv_get_text(msg, param, res, (char *)c->o->subject);
	case MM4_PV_MESSAGE_ID:
		return pv_get_cmstr(msg, param, res,
				mm4_get_unquoted(c->m, "X-Mms-Message-ID"));
	case MM4_PV_TRANSACTION_ID:
		return pv_get_cmstr(msg, param, res,
				mm4_get_unquoted(c->m, "X-Mms-Transaction-ID"));
	case MM4_PV_ORIG_SYSTEM:
		return pv_get_cmstr(msg, param, res,
				mm4_get(c->m, "X-Mms-Originator-System"));
	case MM4_PV_CONTENT_TYPE:
		return pv_get_cmstr(msg, param, res, mm4_get(c->m, "Content-Type"));
	case MM4_PV_PEER:
		return pv_get_text(msg, param, res, (char *)c->peer);
	case MM4_PV_TARGET:
		return pv_get_text(msg, param, res, c->target);
	case MM4_PV_DST:
		return pv_get_text(msg, param, res, c->dst);
	case MM4_PV_IMDN_ID:
		return pv_get_text(msg, param, res, (char *)c->o->imdn_message_id);
	}
	return pv_get_null(msg, param, res);
}

static int pv_set_mm4(struct sip_msg *msg, pv_param_t *param, int op,
		pv_value_t *val)
{
	mm4_in_ctx *c = mm4_in_cur;
	char *dst;
	int size;

	switch (param->pvn.u.isname.name.n) {
	case MM4_PV_TARGET:
		dst = c ? c->target : NULL;
		size = sizeof(c->target);
		break;
	case MM4_PV_DST:
		dst = c ? c->dst : NULL;
		size = sizeof(c->dst);
		break;
	default:
		LM_ERR("this $mm4() field is read-only\n");
		return -1;
	}
	if (!dst) {
		LM_ERR("$mm4(target)/$mm4(dst) are set in "
				"event_route[cpm-mms:mm4-request] only\n");
		return -1;
	}
	if (!val || (val->flags & PV_VAL_NULL)) {
		if (param->pvn.u.isname.name.n == MM4_PV_TARGET) {
			LM_ERR("$mm4(target) cannot be empty (use drop to refuse)\n");
			return -1;
		}
		dst[0] = '\0';
		return 0;
	}
	if (!(val->flags & PV_VAL_STR) || val->rs.len >= size
			|| (param->pvn.u.isname.name.n == MM4_PV_TARGET
				&& val->rs.len == 0)
			|| cm_str_has_ctl((cm_str){val->rs.s, val->rs.len})) {
		LM_ERR("bad value for $mm4(target)/$mm4(dst)\n");
		return -1;
	}
	memcpy(dst, val->rs.s, val->rs.len);
	dst[val->rs.len] = '\0';
	return 0;
}

static int pv_get_mm4(struct sip_msg *msg, pv_param_t *param, pv_value_t *res)
{
	if (mm4_in_cur)
		return pv_get_mm4_in(msg, param, res);
	switch (param->pvn.u.isname.name.n) {
	case MM4_PV_STATUS_CODE:
		if (!cpm_last_fwd.status_code)
			return pv_get_null(msg, param, res);
		return pv_get_sintval(msg, param, res, cpm_last_fwd.status_code);
	case MM4_PV_STATUS_TEXT:
		return pv_get_text(msg, param, res, cpm_last_fwd.status_text);
	case MM4_PV_TRANSACTION_ID:
		return pv_get_text(msg, param, res, cpm_last_fwd.transaction_id);
	case MM4_PV_MESSAGE_ID:
		return pv_get_text(msg, param, res, cpm_last_fwd.message_id);
	case MM4_PV_RECIPIENT:
		return pv_get_text(msg, param, res, cpm_last_fwd.recipient);
	}
	return pv_get_null(msg, param, res);
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
