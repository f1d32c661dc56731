/*
 * cpm_mms - recipient MMS Relay/Server lookup: ENUM NAPTR, MX, A/AAAA.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Blocking: runs in the module's MM4 worker processes only. Without
 * enum_server the queries go through Kamailio's DNS layer (get_record() of
 * core/resolve.h for NAPTR and A/AAAA, the core res_search hook of
 * core/dns_func.h for MX, which get_record cannot parse); with enum_server
 * they go to that server with ldns. */
#ifndef CPM_MMS_ENUM_RESOLVE_H
#define CPM_MMS_ENUM_RESOLVE_H

#include "e164.h"
#include "mm4.h"

#define MM4_DEST_MAX_HOSTS 8

typedef struct mm4_host {
	char ip[64];       /* address literal */
	int port;
	char name[128];    /* MX or static route host name, for logs */
} mm4_host;

typedef struct mm4_dest {
	char e164[E164_BUF];
	char mailbox[MM4_ADDR_MAX]; /* recipient address (RCPT TO, To) */
	char domain[128];           /* recipient MMSE domain */
	mm4_host hosts[MM4_DEST_MAX_HOSTS]; /* in MX preference order */
	int nhosts;
	int via_static;             /* 1 if a static route was used */
	int cache_hits;             /* answers taken from the TTL cache */
	int dns_queries;            /* answers asked of DNS */
	char trace[1536];           /* what was looked up, ';'-separated */
} mm4_dest;

int enum_resolve_init(void);   /* per process */
void enum_resolve_close(void);
/* 0 on success, else a map_local_failure (MAP_LF_NO_MMS_ROUTE,
 * MAP_LF_DNS_TEMP, MAP_LF_NO_HOST) */
int enum_resolve(const char *e164, mm4_dest *d);
/* MMSE hosts of a mail domain (MX by preference, else A/AAAA): 0 or a
 * map_local_failure */
int enum_resolve_domain(const char *domain, mm4_dest *d);

#endif
