/*
 * cpm_mms - module-wide settings and shared declarations of the glue.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_H
#define CPM_MMS_H

#include "core/str.h"
#include "modules/tm/tm_load.h"

#include "e164.h"
#include "mapping.h"

#define CPM_MMS_MAX_STATIC_ROUTES 32
#define CPM_MMS_MAX_PEER_NETS 32

typedef struct cpm_peer_net {
	int family;             /* AF_INET / AF_INET6 */
	unsigned char addr[16];
	int bits;
} cpm_peer_net;

/* effective settings, filled from the modparams in mod_init */
typedef struct cpm_mms_cfg {
	char *mm4_listen;       /* ip:port of our SMTP listener */
	int mm4_port;           /* port of peer MMSCs */
	char *domain;           /* our MMS domain */
	char *system_address;   /* system-user@domain */
	char *enum_suffix;
	char *enum_server;      /* ip[:port] or empty: system resolver */
	char enum_server_host[64];
	int enum_server_port;
	static_route routes[CPM_MMS_MAX_STATIC_ROUTES];
	int nroutes;
	cpm_peer_net peers[CPM_MMS_MAX_PEER_NETS];
	int npeers;
	int res_timeout_ms;
	int timeout_mode;       /* MAP_TIMEOUT_202 / MAP_TIMEOUT_504 */
	int mm4_workers;
	int mm4_batch;          /* mails per SMTP session at most */
	int mm4_batch_wait;     /* ms a worker waits for more jobs */
	int smtp_session_idle;  /* ms an SMTP session waits for one more job */
	int max_pending;
	int queue_size;
	int smtp_timeout;       /* seconds per SMTP step */
	int max_message_size;
	int max_inflated_size;  /* a Content-Encoding body decoded at most */
	int mm4_max_size;       /* listener: biggest mail accepted */
	int mm4_max_connections;
	int mm4_idle_timeout;   /* seconds */
	int mm4_peer_connections; /* per peer address */
	int mm4_session_timeout;  /* seconds a whole SMTP session may last */
	int mm4_max_commands;     /* SMTP commands per session */
	char *hostname;         /* EHLO / greeting name */
	char *local_domains;    /* more MMS domains we accept mail for */
	char *cpm_route;        /* next hop of MESSAGEs towards CPM, or NULL */
	char *event_callback;   /* KEMI function for the event routes */
	int dedup_time;         /* seconds an answered REQ is remembered */
	char *db_url;           /* report correlation DB, empty = none */
	char *db_table;
	int corr_expire;        /* seconds a correlation row is kept */
	int expired_reports;    /* MM4_delivery_report.REQ Expired when an MMS
	                         * -> CPM message expires unreported */
	int dns_cache_size;     /* entries of the routing DNS cache, 0 = off */
	int dns_negative_ttl;   /* seconds NXDOMAIN/NODATA are remembered */
	int dns_max_ttl;        /* cap on any cached answer */
	char *intl_prefix;      /* numbering plan (e164_plan_set), for RPC */
	char *national_prefix;
	char *country_code;
	map_config map;
	mm4_in_config map_in;
} cpm_mms_cfg;

extern cpm_mms_cfg cpm_cfg;
extern struct tm_binds cpm_tmb;

/* cm_str allocation hooks to pkg memory (call once per process) */
void cpm_mem_use_pkg(void);
/* unguessable hex token of 2*nbytes chars (out holds 2*nbytes+1) */
int cpm_random_hex(char *out, int nbytes);

#endif
