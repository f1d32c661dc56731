/*
 * cpm_mms - RPC commands (kamcmd, kamcli, kamctl rpc).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/mem/mem.h"
#include "core/dprint.h"

#include "settings.h"
#include "rpc.h"
#include "stats.h"
#include "pending.h"
#include "peers.h"
#include "completion.h"
#include "enum_resolve.h"
#include "enum_cache.h"
#include "inbound.h"

static const char *rpc_stats_doc[2] = {
	"All cpm_mms counters.", 0
};

static void rpc_stats(rpc_t *rpc, void *c)
{
	void *h;
	int i;

	if (rpc->add(c, "{", &h) < 0)
		return;
	for (i = 0; i < CPM_ST_COUNT; i++)
		rpc->struct_add(h, "d", stats_name(i), (int)stats_get(i));
	rpc->struct_add(h, "dd", "pending", pending_count(), "pending_peak",
			pending_peak());
}

static const char *state_name(pending_state st)
{
	switch (st) {
	case PENDING_QUEUED: return "queued";
	case PENDING_SENDING: return "sending";
	default: return "sent";
	}
}

static const char *rpc_pending_doc[2] = {
	"Suspended MESSAGE transactions waiting for MM4; optional limit "
	"(default 100).", 0
};

static void rpc_pending(rpc_t *rpc, void *c)
{
	pending_entry *list;
	int limit = 100, n, i;
	long long now = pending_now_ms();
	void *h, *arr, *item;

	if (rpc->scan(c, "*d", &limit) < 1)
		limit = 100;
	if (limit <= 0 || limit > 100000)
		limit = 100;
	list = pkg_malloc(sizeof(*list) * limit);
	if (!list) {
		rpc->fault(c, 500, "out of memory");
		return;
	}
	n = pending_snapshot(list, limit);
	if (rpc->add(c, "{", &h) < 0)
		goto done;
	rpc->struct_add(h, "dd", "count", pending_count(), "listed", n);
	if (rpc->struct_add(h, "[", "transactions", &arr) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (rpc->array_add(arr, "{", &item) < 0)
			break;
		rpc->struct_add(item, "sssssdddd",
				"transaction_id", list[i].tid,
				"direction", "cpm-to-mms",
				"recipient", list[i].recipient,
				"mmsc", list[i].mmsc[0] ? list[i].mmsc : "-",
				"state", state_name(list[i].state),
				"age_ms", (int)(now - list[i].created_ms),
				"requests", list[i].nreq,
				"responses", list[i].nres,
				"expires_in_ms", (int)(list[i].deadline_ms - now));
	}
done:
	pkg_free(list);
}

static const char *rpc_pending_drop_doc[2] = {
	"Answer a waiting MESSAGE with 503 and forget it: <transaction id>.", 0
};

static void rpc_pending_drop(rpc_t *rpc, void *c)
{
	str tid;
	char buf[PENDING_TID_MAX];

	if (rpc->scan(c, "S", &tid) < 1) {
		rpc->fault(c, 400, "transaction id expected");
		return;
	}
	if (tid.len <= 0 || tid.len >= (int)sizeof(buf)) {
		rpc->fault(c, 404, "no such transaction");
		return;
	}
	memcpy(buf, tid.s, tid.len);
	buf[tid.len] = '\0';
	if (completion_answer(buf, 503, "Service Unavailable", "dropped by RPC")
			< 0) {
		rpc->fault(c, 404, "no such transaction");
		return;
	}
	rpc->rpl_printf(c, "dropped %s (answered 503)", buf);
}

static const char *rpc_enum_doc[2] = {
	"Resolve an E.164 number as the MM4 workers do and show every step: "
	"<+E.164>.", 0
};

static void rpc_enum(rpc_t *rpc, void *c)
{
	str num;
	char e164[E164_BUF];
	mm4_dest *d;
	map_sip_status st;
	void *h, *arr;
	char *p, *tok, *save = NULL;
	int ret, i;

	if (rpc->scan(c, "S", &num) < 1) {
		rpc->fault(c, 400, "E.164 number expected");
		return;
	}
	if (e164_from_uri((cm_str){num.s, num.len}, e164) < 0) {
		rpc->fault(c, 400, "not an E.164 number (+ and 1-15 digits)");
		return;
	}
	d = pkg_malloc(sizeof(*d));
	if (!d) {
		rpc->fault(c, 500, "out of memory");
		return;
	}
	/* the RPC process needs its own resolver for enum_server */
	enum_resolve_init();
	ret = enum_resolve(e164, d);
	enum_resolve_close();
	if (rpc->add(c, "{", &h) < 0)
		goto done;
	rpc->struct_add(h, "ss", "number", e164, "resolver",
			cpm_fixed.enum_server_host[0] ? cpm_fixed.enum_server
				: "system (Kamailio DNS layer)");
	if (ret == 0) {
		rpc->struct_add(h, "sssd", "result", "ok", "mailbox", d->mailbox,
				"domain", d->domain, "static_route", d->via_static);
	} else {
		map_local_failure_to_sip(ret, settings_timeout_mode(), &st);
		rpc->struct_add(h, "sds", "result", "failed", "sip_code", st.code,
				"sip_reason", st.reason);
	}
	rpc->struct_add(h, "dd", "cache_hits", d->cache_hits, "dns_queries",
			d->dns_queries);
	if (rpc->struct_add(h, "[", "hosts", &arr) >= 0) {
		for (i = 0; i < d->nhosts; i++)
			rpc->array_add(arr, "s", d->hosts[i].ip);
	}
	if (rpc->struct_add(h, "[", "trace", &arr) >= 0) {
		for (p = strtok_r(d->trace, ";", &save); p;
				p = strtok_r(NULL, ";", &save)) {
			tok = p;
			while (*tok == ' ')
				tok++;
			if (*tok)
				rpc->array_add(arr, "s", tok);
		}
	}
done:
	pkg_free(d);
}

static const char *rpc_enum_flush_doc[2] = {
	"Empty the routing DNS cache (NAPTR/MX/A answers).", 0
};

static void rpc_enum_flush(rpc_t *rpc, void *c)
{
	int n = enum_cache_count();

	enum_cache_flush();
	rpc->rpl_printf(c, "flushed %d entries", n);
}

static const char *rpc_peers_doc[2] = {
	"MM4 peers seen: connections and mails in, mails out, last error.", 0
};

static void rpc_peers(rpc_t *rpc, void *c)
{
	cpm_peer *list;
	int n, i;
	void *h, *arr, *item;

	list = pkg_malloc(sizeof(*list) * CPM_PEERS_MAX);
	if (!list) {
		rpc->fault(c, 500, "out of memory");
		return;
	}
	n = peers_snapshot(list, CPM_PEERS_MAX);
	if (rpc->add(c, "{", &h) < 0 || rpc->struct_add(h, "[", "peers", &arr) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (rpc->array_add(arr, "{", &item) < 0)
			break;
		rpc->struct_add(item, "sddddsd",
				"address", list[i].addr,
				"connections_in", (int)list[i].conns_in,
				"messages_in", (int)list[i].msgs_in,
				"messages_out", (int)list[i].msgs_out,
				"failures_out", (int)list[i].failures_out,
				"last_error", list[i].last_error[0] ? list[i].last_error : "-",
				"last_seen", (int)list[i].last_seen);
	}
done:
	pkg_free(list);
}

static const char *rpc_config_doc[2] = {
	"cpm_mms settings fixed at start-up (strings, lists) and timeout_reply; "
	"the other numbers: cfg.get cpm_mms NAME.", 0
};

/* the DB URL without its credentials */
static void db_url_masked(char *out, int size)
{
	const char *u = cpm_fixed.db_url, *at, *sch;

	if (!u || !u[0]) {
		snprintf(out, size, "-");
		return;
	}
	at = strrchr(u, '@');
	sch = strstr(u, "://");
	if (at && sch && sch < at)
		snprintf(out, size, "%.*s://***%s", (int)(sch - u), u, at);
	else
		snprintf(out, size, "%s", u);
}

static const char *or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

static void rpc_config(rpc_t *rpc, void *c)
{
	void *h, *arr;
	char buf[192];
	char dburl[192];
	char route[2 * STATIC_ROUTE_HOST_MAX + 48];
	int i;

	if (rpc->add(c, "{", &h) < 0)
		return;
	db_url_masked(dburl, sizeof(dburl));
	rpc->struct_add(h, "ssssssssss",
			"domain", cpm_fixed.domain,
			"system_address", cpm_fixed.system_address,
			"hostname", cpm_fixed.hostname,
			"mm4_listen", cpm_fixed.mm4_listen,
			"enum_suffix", cpm_fixed.enum_suffix,
			"enum_server", or_dash(cpm_fixed.enum_server),
			"mms_version", cpm_fixed.mms_version,
			"local_domains", or_dash(cpm_fixed.local_domains),
			"cpm_route", or_dash(cpm_fixed.cpm_route),
			"cpm_domain", cpm_fixed.cpm_domain);
	/* cfg.get cannot read a variable with a check callback */
	rpc->struct_add(h, "d", "timeout_reply", cpm_get(timeout_reply));
	rpc->struct_add(h, "ssssssssd",
			"uri_form", cpm_fixed.uri_form,
			"iwf_uri", cpm_fixed.iwf_uri,
			"db_url", dburl,
			"db_table", cpm_fixed.db_table,
			"event_callback", or_dash(cpm_fixed.event_callback),
			"intl_prefix", or_dash(cpm_fixed.intl_prefix),
			"national_prefix", or_dash(cpm_fixed.national_prefix),
			"country_code", or_dash(cpm_fixed.country_code),
			"max_recipients", MAP_MAX_RCPT);
	if (rpc->struct_add(h, "[", "static_route", &arr) >= 0) {
		for (i = 0; i < cpm_fixed.nroutes; i++) {
			/* in the new form, as the route is read */
			if (static_route_format(&cpm_fixed.routes[i], route,
						sizeof(route)) >= 0)
				rpc->array_add(arr, "s", route);
		}
	}
	if (rpc->struct_add(h, "[", "mm4_peers", &arr) >= 0) {
		for (i = 0; i < cpm_fixed.npeers; i++) {
			char ip[64];
			const cpm_peer_net *n = &cpm_fixed.peers[i];

			inet_ntop(n->family, n->addr, ip, sizeof(ip));
			snprintf(buf, sizeof(buf), "%s/%d", ip, n->bits);
			rpc->array_add(arr, "s", buf);
		}
	}
}

rpc_export_t cpm_mms_rpc_cmds[] = {
	{"cpm_mms.stats", rpc_stats, rpc_stats_doc, 0},
	{"cpm_mms.pending", rpc_pending, rpc_pending_doc, 0},
	{"cpm_mms.pending_drop", rpc_pending_drop, rpc_pending_drop_doc, 0},
	{"cpm_mms.enum", rpc_enum, rpc_enum_doc, 0},
	{"cpm_mms.enum_flush", rpc_enum_flush, rpc_enum_flush_doc, 0},
	{"cpm_mms.peers", rpc_peers, rpc_peers_doc, 0},
	{"cpm_mms.config", rpc_config, rpc_config_doc, 0},
	{0, 0, 0, 0}
};
