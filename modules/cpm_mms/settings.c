/*
 * cpm_mms - settings: the cfg-framework group "cpm_mms" and what is fixed
 * at start-up.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <arpa/inet.h>

#include "core/dprint.h"

#include "settings.h"

#define POSITIVE 1, INT_MAX

struct cfg_group_cpm_mms default_cpm_mms_cfg = {
	.res_timeout = 10,
	.timeout_reply = 202,
	.smtp_timeout = 10,
	.mm4_batch = 16,
	.mm4_batch_wait = 5,
	.smtp_session_idle = 100,
	.max_message_size = 307200,
	.cpim_recipients = 1,
	.max_inflated_size = 1048576,
	.mm4_max_size = 1048576,
	.mm4_max_connections = 256,
	.mm4_idle_timeout = 60,
	.mm4_peer_connections = 32,
	.mm4_session_timeout = 600,
	.mm4_max_commands = 100000,
	.mm4_junk_commands = 100,
	.mm4_peer_connection_rate = 0,
	.max_cpm_size = 60000,
	.max_forward_counter = 20,
	.mm4_ack_default = 0,
	.dedup_time = 600,
	.corr_expire = 604800,
	.expired_reports = 1,
	.dns_negative_ttl = 30,
	.dns_max_ttl = 3600,
	.mm4_port = 25,
	.mm4_workers = 8,
	.max_pending = 20000,
	.max_inbound = 50000,
	.dns_cache_size = 10000,
};

/* before cfg_declare() the handle reads the defaults (and the modparams) */
void *cpm_mms_cfg = &default_cpm_mms_cfg;

static int timeout_reply_check(void *h, str *gname, str *name, void **value)
{
	int v = (int)(long)*value;

	if (v != 202 && v != 504) {
		LM_ERR("timeout_reply must be 202 or 504, not %d\n", v);
		return -1;
	}
	return 0;
}

cfg_def_t cpm_mms_cfg_def[] = {
	{"res_timeout", CFG_VAR_INT | CFG_ATOMIC, 1, 25, 0, 0,
		"Seconds to wait for MM4_forward.RES (below SIP Timer F)"},
	{"timeout_reply", CFG_VAR_INT | CFG_ATOMIC, 202, 504,
		timeout_reply_check, 0,
		"SIP answer when no RES came in time: 202 or 504"},
	{"smtp_timeout", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"Seconds each SMTP step toward a peer MMSC may take"},
	{"mm4_batch", CFG_VAR_INT | CFG_ATOMIC, 1, CPM_MMS_BATCH_MAX, 0, 0,
		"Mails one SMTP session carries at most"},
	{"mm4_batch_wait", CFG_VAR_INT | CFG_ATOMIC, 0, 1000, 0, 0,
		"Milliseconds a worker waits to gather a batch under load"},
	{"smtp_session_idle", CFG_VAR_INT | CFG_ATOMIC, 0, 10000, 0, 0,
		"Milliseconds an SMTP session waits for one more mail"},
	{"max_message_size", CFG_VAR_INT | CFG_ATOMIC, 0, INT_MAX, 0, 0,
		"Largest CPM -> MMS payload in bytes, 0 = no limit"},
	{"cpim_recipients", CFG_VAR_INT | CFG_ATOMIC, 0, 1, 0, 0,
		"1: CPIM To/cc name recipients too"},
	{"max_inflated_size", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"Bytes a Content-Encoding body is inflated to at most"},
	{"mm4_max_size", CFG_VAR_INT | CFG_ATOMIC, 1024, INT_MAX, 0, 0,
		"Largest mail the MM4 listener takes, bytes"},
	{"mm4_max_connections", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"MM4 listener connections at once"},
	{"mm4_idle_timeout", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"Seconds an idle MM4 connection is kept"},
	{"mm4_peer_connections", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"MM4 listener connections per peer address"},
	{"mm4_session_timeout", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"Seconds one MM4 SMTP session may last"},
	{"mm4_max_commands", CFG_VAR_INT | CFG_ATOMIC, 10, INT_MAX, 0, 0,
		"SMTP commands per MM4 session"},
	{"mm4_junk_commands", CFG_VAR_INT | CFG_ATOMIC, 1, INT_MAX, 0, 0,
		"NOOP, VRFY, ETRN, RSET an MM4 session may send between mails"},
	{"mm4_peer_connection_rate", CFG_VAR_INT | CFG_ATOMIC, 0, INT_MAX, 0, 0,
		"MM4 connections a peer address may open per minute (0: any)"},
	{"max_cpm_size", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"Largest MMS -> CPM pager-mode payload, bytes"},
	{"max_forward_counter", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"X-Mms-Forward-Counter above this is a loop"},
	{"mm4_ack_default", CFG_VAR_INT | CFG_ATOMIC, 0, 1, 0, 0,
		"1: answer a REQ without X-Mms-Ack-Request with a RES"},
	{"dedup_time", CFG_VAR_INT | CFG_ATOMIC, POSITIVE, 0, 0,
		"Seconds an answered MM4 REQ is remembered"},
	{"corr_expire", CFG_VAR_INT | CFG_ATOMIC, 60, INT_MAX, 0, 0,
		"Seconds a report correlation row is kept"},
	{"expired_reports", CFG_VAR_INT | CFG_ATOMIC, 0, 1, 0, 0,
		"1: send Expired for MMS -> CPM messages left unreported"},
	{"dns_negative_ttl", CFG_VAR_INT | CFG_ATOMIC, 0, INT_MAX, 0, 0,
		"Seconds NXDOMAIN/NODATA answers are cached"},
	{"dns_max_ttl", CFG_VAR_INT | CFG_ATOMIC, 0, INT_MAX, 0, 0,
		"Cap on the TTL of any cached routing answer, seconds"},
	{"mm4_port", CFG_VAR_INT | CFG_ATOMIC, 1, 65535, 0, 0,
		"SMTP port of peer MMSCs"},
	{"mm4_workers", CFG_VAR_INT | CFG_READONLY, 1, 64, 0, 0,
		"MM4 worker processes (start-up)"},
	{"max_pending", CFG_VAR_INT | CFG_READONLY, POSITIVE, 0, 0,
		"MESSAGEs suspended at once (start-up)"},
	{"max_inbound", CFG_VAR_INT | CFG_READONLY, POSITIVE, 0, 0,
		"MM4 REQs remembered for duplicates (start-up)"},
	{"dns_cache_size", CFG_VAR_INT | CFG_READONLY, 0, INT_MAX, 0, 0,
		"Entries of the routing DNS cache, 0 = off (start-up)"},
	{0, 0, 0, 0, 0, 0, 0}
};

_Static_assert(sizeof(struct cfg_group_cpm_mms) == sizeof(int)
		* (sizeof(cpm_mms_cfg_def) / sizeof(cpm_mms_cfg_def[0]) - 1),
		"struct cfg_group_cpm_mms: one int per cpm_mms_cfg_def entry");

cpm_fixed_settings cpm_fixed = {
	.mm4_listen = "127.0.0.1:2526",
	.domain = "mms.iwf.localhost",
	.system_address = "",
	.hostname = "",
	.enum_suffix = "e164.arpa",
	.enum_server = "",
	.mm4_peers = "127.0.0.0/8",
	.mms_version = "6.16.0",
	.local_domains = "",
	.cpm_route = "",
	.cpm_domain = "",
	.uri_form = "tel",
	.iwf_uri = "",
	.event_callback = "",
	.db_url = "",
	.db_table = "cpm_mms_corr",
	.intl_prefix = "",
	.national_prefix = "",
	.country_code = "",
};

int settings_param_static_route(modparam_t type, void *val)
{
	cm_str spec = cm_str_z((char *)val), one;
	static_route *r;
	char canon[2 * STATIC_ROUTE_HOST_MAX + 48];
	int pos = 0;

	/* one route per modparam, or several separated by ',' / ';' / ' ' */
	while (static_route_next(spec, &pos, &one)) {
		if (cpm_fixed.nroutes >= CPM_MMS_MAX_STATIC_ROUTES) {
			LM_ERR("too many static routes (max %d)\n",
					CPM_MMS_MAX_STATIC_ROUTES);
			return -1;
		}
		r = &cpm_fixed.routes[cpm_fixed.nroutes];
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
		cpm_fixed.nroutes++;
	}
	return 0;
}

/* the quoted form "202" / "504" of configurations written for the string
 * parameter; the number goes into the cfg group */
int settings_param_timeout_reply(modparam_t type, void *val)
{
	const char *s = (const char *)val;

	if (strcmp(s, "202") != 0 && strcmp(s, "504") != 0) {
		LM_ERR("timeout_reply must be 202 or 504, not '%s'\n", s);
		return -1;
	}
	default_cpm_mms_cfg.timeout_reply = atoi(s);
	return 0;
}

static int parse_peer_nets(const char *list)
{
	char item[128];
	const char *p = list, *e;
	int len;

	cpm_fixed.npeers = 0;
	while (p && *p) {
		cpm_peer_net *n;
		char *slash;
		int maxbits;

		while (*p == ' ' || *p == ',' || *p == ';')
			p++;
		if (!*p)
			break;
		for (e = p; *e && *e != ',' && *e != ';' && *e != ' '; e++)
			;
		len = e - p;
		if (len >= (int)sizeof(item)
				|| cpm_fixed.npeers >= CPM_MMS_MAX_PEER_NETS)
			return -1;
		memcpy(item, p, len);
		item[len] = '\0';
		p = e;
		n = &cpm_fixed.peers[cpm_fixed.npeers];
		memset(n, 0, sizeof(*n));
		slash = strchr(item, '/');
		if (slash)
			*slash++ = '\0';
		if (inet_pton(AF_INET, item, n->addr) == 1) {
			n->family = AF_INET;
			maxbits = 32;
		} else if (inet_pton(AF_INET6, item, n->addr) == 1) {
			n->family = AF_INET6;
			maxbits = 128;
		} else {
			LM_ERR("mm4_peers: bad address '%s'\n", item);
			return -1;
		}
		n->bits = slash ? atoi(slash) : maxbits;
		if (n->bits < 0 || n->bits > maxbits) {
			LM_ERR("mm4_peers: bad prefix length in '%s'\n", item);
			return -1;
		}
		cpm_fixed.npeers++;
	}
	return 0;
}

/* the modparam values against the ranges the cfg framework enforces on
 * cfg.set later; the group is all ints in the def's order */
static int check_ranges(void)
{
	const int *v = (const int *)&default_cpm_mms_cfg;
	int i, bad = 0;

	for (i = 0; cpm_mms_cfg_def[i].name; i++) {
		const cfg_def_t *d = &cpm_mms_cfg_def[i];

		if (v[i] < d->min || v[i] > d->max) {
			LM_ERR("%s is %d, must be %d..%d\n", d->name, v[i], d->min,
					d->max);
			bad = 1;
		}
	}
	if (default_cpm_mms_cfg.timeout_reply != 202
			&& default_cpm_mms_cfg.timeout_reply != 504) {
		LM_ERR("timeout_reply must be 202 or 504\n");
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int check_enum_server(void)
{
	unsigned char a[16];

	cpm_fixed.enum_server_host[0] = '\0';
	cpm_fixed.enum_server_port = 0;
	if (!cpm_fixed.enum_server[0])
		return 0;
	if (hostport_split(cm_str_z(cpm_fixed.enum_server),
				cpm_fixed.enum_server_host,
				sizeof(cpm_fixed.enum_server_host),
				&cpm_fixed.enum_server_port) < 0) {
		LM_ERR("enum_server '%s' is not ip[:port]\n", cpm_fixed.enum_server);
		return -1;
	}
	if (inet_pton(AF_INET, cpm_fixed.enum_server_host, a) != 1
			&& inet_pton(AF_INET6, cpm_fixed.enum_server_host, a) != 1) {
		LM_ERR("enum_server '%s': an IP address is needed\n",
				cpm_fixed.enum_server);
		return -1;
	}
	return 0;
}

static int set_numbering_plan(void)
{
	e164_plan plan;

	if (e164_plan_init(&plan, cm_str_z(cpm_fixed.intl_prefix),
				cm_str_z(cpm_fixed.national_prefix),
				cm_str_z(cpm_fixed.country_code)) < 0) {
		LM_ERR("bad numbering plan: intl_prefix '%s', national_prefix '%s', "
				"country_code '%s' (digits; a country code of 1-3 digits not "
				"starting with 0 is needed with a national prefix; the two "
				"prefixes must differ)\n", cpm_fixed.intl_prefix,
				cpm_fixed.national_prefix, cpm_fixed.country_code);
		return -1;
	}
	/* before the fork: every process applies the same plan */
	e164_plan_set(&plan);
	return 0;
}

/* empty string modparams that default to something built from others */
static void complete_strings(void)
{
	static char sysaddr[256], host[128], iwfuri[256];

	if (!cpm_fixed.system_address[0]) {
		snprintf(sysaddr, sizeof(sysaddr), "system-user@%s", cpm_fixed.domain);
		cpm_fixed.system_address = sysaddr;
	}
	if (!cpm_fixed.hostname[0]) {
		snprintf(host, sizeof(host), "%s", cpm_fixed.domain);
		cpm_fixed.hostname = host;
	}
	if (!cpm_fixed.iwf_uri[0]) {
		snprintf(iwfuri, sizeof(iwfuri), "sip:iwf@%s", cpm_fixed.domain);
		cpm_fixed.iwf_uri = iwfuri;
	}
	if (!cpm_fixed.cpm_domain[0])
		cpm_fixed.cpm_domain = cpm_fixed.domain;
	if (!cpm_fixed.cpm_route[0])
		cpm_fixed.cpm_route = NULL;
}

int settings_init(void)
{
	map_config *m = &cpm_fixed.map;
	mm4_in_config *in = &cpm_fixed.map_in;

	if (check_ranges() < 0)
		return -1;
	if (!cpm_fixed.domain[0] || strlen(cpm_fixed.domain) > 100) {
		LM_ERR("domain must be set (the IWF's MMS domain)\n");
		return -1;
	}
	if (check_enum_server() < 0 || set_numbering_plan() < 0)
		return -1;
	if (parse_peer_nets(cpm_fixed.mm4_peers) < 0) {
		LM_ERR("bad mm4_peers '%s'\n", cpm_fixed.mm4_peers);
		return -1;
	}
	complete_strings();

	memset(m, 0, sizeof(*m));
	m->mms_version = cm_str_z(cpm_fixed.mms_version);
	m->domain = cm_str_z(cpm_fixed.domain);
	m->system_address = cm_str_z(cpm_fixed.system_address);
	m->max_recipients = MAP_MAX_RCPT;

	memset(in, 0, sizeof(*in));
	if (strcmp(cpm_fixed.uri_form, "tel") == 0) {
		in->uri_form = MAP_URI_TEL;
	} else if (strcmp(cpm_fixed.uri_form, "sip") == 0) {
		in->uri_form = MAP_URI_SIP_PHONE;
	} else {
		LM_ERR("uri_form must be \"tel\" or \"sip\"\n");
		return -1;
	}
	in->domain = cm_str_z(cpm_fixed.domain);
	in->cpm_domain = cm_str_z(cpm_fixed.cpm_domain);
	in->iwf_uri = cm_str_z(cpm_fixed.iwf_uri);

	if (cfg_declare("cpm_mms", cpm_mms_cfg_def, &default_cpm_mms_cfg,
				cfg_sizeof(cpm_mms), &cpm_mms_cfg)) {
		LM_ERR("cannot declare the cpm_mms cfg group\n");
		return -1;
	}
	return 0;
}

void settings_map_out(map_config *m)
{
	*m = cpm_fixed.map;
	m->max_message_size = cpm_get(max_message_size);
	m->use_cpim_recipients = cpm_get(cpim_recipients);
}

void settings_map_in(mm4_in_config *m)
{
	*m = cpm_fixed.map_in;
	m->max_body_size = cpm_get(max_cpm_size);
	m->max_forward_counter = cpm_get(max_forward_counter);
	m->ack_default = cpm_get(mm4_ack_default);
}

int settings_timeout_mode(void)
{
	return cpm_get(timeout_reply) == 504 ? MAP_TIMEOUT_504 : MAP_TIMEOUT_202;
}
