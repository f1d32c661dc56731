/*
 * cpm_mms - settings.
 *
 * Numbers live in the cfg-framework group "cpm_mms": read them with
 * cpm_get(name) (each process sees a change after its next cfg_update());
 * `kamcmd cfg.get cpm_mms NAME` shows one, `cfg.set cpm_mms NAME V` changes
 * those that are not read-only. Strings, lists and what is derived from
 * them are fixed at start-up (cpm_fixed).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_SETTINGS_H
#define CPM_MMS_SETTINGS_H

#include "core/cfg/cfg.h"
#include "core/sr_module.h"

#include "e164.h"
#include "mapping.h"

#define CPM_MMS_MAX_STATIC_ROUTES 32
#define CPM_MMS_MAX_PEER_NETS 32
/* mails in one SMTP session, jobs in one worker batch (mm4_batch) */
#define CPM_MMS_BATCH_MAX 32

/* Every member is an int, in the order of cpm_mms_cfg_def[]: settings.c
 * checks the start-up values against the def's ranges by that order. */
struct cfg_group_cpm_mms {
	int res_timeout;          /* s to wait for MM4_forward.RES */
	int timeout_reply;        /* 202 or 504 when it does not come */
	int smtp_timeout;         /* s per SMTP step */
	int mm4_batch;            /* mails per SMTP session at most */
	int mm4_batch_wait;       /* ms a worker waits for more jobs */
	int smtp_session_idle;    /* ms an SMTP session waits for one more job */
	int max_message_size;     /* CPM -> MMS payload, 0 = no limit */
	int cpim_recipients;      /* CPIM To/cc are recipients too */
	int max_inflated_size;    /* a Content-Encoding body decoded at most */
	int mm4_max_size;         /* listener: biggest mail accepted */
	int mm4_max_connections;
	int mm4_idle_timeout;     /* s */
	int mm4_peer_connections; /* per peer address */
	int mm4_session_timeout;  /* s a whole SMTP session may last */
	int mm4_max_commands;     /* SMTP commands per session */
	int mm4_junk_commands;    /* NOOP/VRFY/ETRN/RSET between mails */
	int mm4_peer_connection_rate; /* per peer address and minute, 0: any */
	int max_cpm_size;         /* MMS -> CPM pager-mode payload */
	int max_forward_counter;  /* X-Mms-Forward-Counter above it = loop */
	int mm4_ack_default;      /* RES for a REQ without X-Mms-Ack-Request */
	int dedup_time;           /* s an answered REQ is remembered */
	int corr_expire;          /* s a correlation row is kept */
	int expired_reports;      /* Expired report for unreported MMS -> CPM */
	int dns_negative_ttl;     /* s NXDOMAIN/NODATA are cached */
	int dns_max_ttl;          /* cap on any cached answer */
	int mm4_port;             /* SMTP port of peer MMSCs */
	/* read-only: sized or forked at start-up */
	int mm4_workers;
	int max_pending;
	int max_inbound;
	int dns_cache_size;
};

extern struct cfg_group_cpm_mms default_cpm_mms_cfg;
extern void *cpm_mms_cfg;
extern cfg_def_t cpm_mms_cfg_def[];

#define cpm_get(var) cfg_get(cpm_mms, cpm_mms_cfg, var)

typedef struct cpm_peer_net {
	int family;             /* AF_INET / AF_INET6 */
	unsigned char addr[16];
	int bits;
} cpm_peer_net;

/* fixed at start-up: the string modparams, as given or completed */
typedef struct cpm_fixed_settings {
	char *mm4_listen;       /* ip:port of our SMTP listener */
	char *domain;           /* our MMS domain */
	char *system_address;   /* system-user@domain unless given */
	char *hostname;         /* EHLO / greeting name, the domain unless given */
	char *enum_suffix;
	char *enum_server;      /* ip[:port] or empty: Kamailio's resolver */
	char *mm4_peers;        /* who may send us MM4 (CIDR list) */
	char *mms_version;
	char *local_domains;    /* more MMS domains we accept mail for */
	char *cpm_route;        /* next hop of MESSAGEs towards CPM, or NULL */
	char *cpm_domain;       /* host of sip: URIs towards CPM */
	char *uri_form;         /* "sip" or "tel" */
	char *iwf_uri;          /* imdn.IMDN-Record-Route */
	char *event_callback;   /* KEMI function for the event routes */
	char *db_url;           /* report correlation DB, empty = none */
	char *db_table;
	char *intl_prefix;      /* numbering plan (e164_plan_set), for RPC */
	char *national_prefix;
	char *country_code;
	/* parsed or derived */
	char enum_server_host[64];
	int enum_server_port;
	static_route routes[CPM_MMS_MAX_STATIC_ROUTES];
	int nroutes;
	cpm_peer_net peers[CPM_MMS_MAX_PEER_NETS];
	int npeers;
	map_config map;         /* the fixed part; see settings_map_out() */
	mm4_in_config map_in;   /* likewise, settings_map_in() */
} cpm_fixed_settings;

extern cpm_fixed_settings cpm_fixed;

/* modparam functions */
int settings_param_static_route(modparam_t type, void *val);
int settings_param_timeout_reply(modparam_t type, void *val);

/* mod_init: check the modparams, derive, declare the cfg group */
int settings_init(void);

/* the mapping configurations with this process's current numbers */
void settings_map_out(map_config *m);
void settings_map_in(mm4_in_config *m);
/* MAP_TIMEOUT_202 / MAP_TIMEOUT_504 from timeout_reply */
int settings_timeout_mode(void);

#endif
