/*
 * cpm_mms - recipient MMS Relay/Server lookup: ENUM NAPTR, MX, A/AAAA.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ldns/ldns.h>

#include "core/resolve.h"
#include "core/dns_func.h"
#include "core/dprint.h"
#include "core/mem/mem.h"

#include "settings.h"
#include "enum_resolve.h"
#include "enum_cache.h"
#include "stats.h"

extern struct dns_func_t dns_func; /* core/dns_func.c */

typedef enum dq_status {
	DQ_OK = 0,
	DQ_NXDOMAIN,
	DQ_NODATA,
	DQ_TEMP,
} dq_status;

#define DQ_MAX_NAPTR 16
#define DQ_MAX_MX 8
#define DQ_POOL 4096

typedef struct dq_naptrs {
	naptr_rr rr[DQ_MAX_NAPTR];
	int n;
	char pool[DQ_POOL];
	int used;
} dq_naptrs;

typedef struct dq_mx {
	unsigned short pref;
	char host[128];
} dq_mx;

static ldns_resolver *enum_ldns = NULL;

/* smallest TTL of the answer being read (for the cache), and what one
 * enum_resolve() call did, for its trace */
static unsigned int q_ttl;
static int q_hits;
static int q_queries;

static void ttl_seen(unsigned int ttl)
{
	if (ttl < q_ttl)
		q_ttl = ttl;
}

static const char *dq_name(dq_status s)
{
	switch (s) {
	case DQ_OK: return "ok";
	case DQ_NXDOMAIN: return "NXDOMAIN";
	case DQ_NODATA: return "NODATA";
	default: return "SERVFAIL/timeout";
	}
}

static void trace_add(mm4_dest *d, const char *fmt, const char *a,
		const char *b)
{
	int used = strlen(d->trace);

	if (used < (int)sizeof(d->trace) - 1)
		snprintf(d->trace + used, sizeof(d->trace) - used, fmt, a, b);
}

static void trace_naptr(mm4_dest *d, const naptr_rr *rr, const char *what)
{
	int used = strlen(d->trace);

	if (used < (int)sizeof(d->trace) - 1)
		snprintf(d->trace + used, sizeof(d->trace) - used,
				" %s NAPTR %u %u \"%.*s\" \"%.*s\" \"%.*s\";", what,
				rr->order, rr->pref, rr->flags.len, rr->flags.s,
				rr->service.len, rr->service.s, rr->regexp.len, rr->regexp.s);
}

static int pool_add(dq_naptrs *q, const char *s, int len, cm_str *out)
{
	if (len < 0 || q->used + len + 1 > DQ_POOL)
		return -1;
	memcpy(q->pool + q->used, s, len);
	q->pool[q->used + len] = '\0';
	out->s = q->pool + q->used;
	out->len = len;
	q->used += len + 1;
	return 0;
}

int enum_resolve_init(void)
{
	ldns_rdf *ns;

	if (!cpm_fixed.enum_server_host[0])
		return 0;
	enum_ldns = ldns_resolver_new();
	if (!enum_ldns)
		return -1;
	ns = ldns_rdf_new_frm_str(strchr(cpm_fixed.enum_server_host, ':')
			? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
			cpm_fixed.enum_server_host);
	if (!ns || ldns_resolver_push_nameserver(enum_ldns, ns) != LDNS_STATUS_OK) {
		LM_ERR("bad enum_server address '%s'\n", cpm_fixed.enum_server_host);
		if (ns)
			ldns_rdf_deep_free(ns);
		ldns_resolver_deep_free(enum_ldns);
		enum_ldns = NULL;
		return -1;
	}
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(enum_ldns,
			cpm_fixed.enum_server_port ? cpm_fixed.enum_server_port : 53);
	ldns_resolver_set_recursive(enum_ldns, true);
	ldns_resolver_set_retry(enum_ldns, 2);
	ldns_resolver_set_fallback(enum_ldns, true);
	{
		struct timeval tv = { 2, 0 };
		ldns_resolver_set_timeout(enum_ldns, tv);
	}
	return 0;
}

void enum_resolve_close(void)
{
	if (enum_ldns) {
		ldns_resolver_deep_free(enum_ldns);
		enum_ldns = NULL;
	}
}

/* ---- ldns backend (enum_server) ---- */

static dq_status ldns_query(const char *name, ldns_rr_type type,
		ldns_rr_list **answers)
{
	ldns_rdf *qname;
	ldns_pkt *pkt;
	ldns_pkt_rcode rcode;

	*answers = NULL;
	qname = ldns_dname_new_frm_str(name);
	if (!qname)
		return DQ_NXDOMAIN;
	/* ldns stops asking a server after one timeout (its RTT becomes
	 * "unreachable"): a passing outage must not fail every later lookup */
	ldns_resolver_set_nameserver_rtt(enum_ldns, 0, LDNS_RESOLV_RTT_MIN);
	pkt = ldns_resolver_query(enum_ldns, qname, type, LDNS_RR_CLASS_IN,
			LDNS_RD);
	ldns_rdf_deep_free(qname);
	if (!pkt)
		return DQ_TEMP;
	rcode = ldns_pkt_get_rcode(pkt);
	if (rcode == LDNS_RCODE_NXDOMAIN) {
		ldns_pkt_free(pkt);
		return DQ_NXDOMAIN;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		ldns_pkt_free(pkt);
		return DQ_TEMP;
	}
	*answers = ldns_pkt_rr_list_by_type(pkt, type, LDNS_SECTION_ANSWER);
	ldns_pkt_free(pkt);
	if (*answers) {
		size_t i;

		for (i = 0; i < ldns_rr_list_rr_count(*answers); i++)
			ttl_seen(ldns_rr_ttl(ldns_rr_list_rr(*answers, i)));
	}
	if (!*answers || ldns_rr_list_rr_count(*answers) == 0) {
		if (*answers)
			ldns_rr_list_deep_free(*answers);
		*answers = NULL;
		return DQ_NODATA;
	}
	return DQ_OK;
}

/* character-string rdf: length byte then data */
static int rdf_cstr(const ldns_rdf *r, const char **s)
{
	const uint8_t *d;

	if (!r || ldns_rdf_size(r) < 1)
		return -1;
	d = ldns_rdf_data(r);
	if (d[0] + 1 > (int)ldns_rdf_size(r))
		return -1;
	*s = (const char *)d + 1;
	return d[0];
}

/* dname rdf to text without the trailing dot */
static int rdf_dname(const ldns_rdf *r, char *out, int size)
{
	char *t = ldns_rdf2str(r);
	int len;

	if (!t)
		return -1;
	len = strlen(t);
	if (len > 1 && t[len - 1] == '.')
		t[--len] = '\0';
	if (len >= size) {
		free(t);
		return -1;
	}
	memcpy(out, t, len + 1);
	free(t);
	return len;
}

static dq_status ldns_naptr(const char *name, dq_naptrs *q)
{
	ldns_rr_list *ans;
	dq_status st;
	size_t i;

	st = ldns_query(name, LDNS_RR_TYPE_NAPTR, &ans);
	if (st != DQ_OK)
		return st;
	for (i = 0; i < ldns_rr_list_rr_count(ans) && q->n < DQ_MAX_NAPTR; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);
		naptr_rr *n = &q->rr[q->n];
		const char *s;
		int len;
		char repl[256];

		if (ldns_rr_rd_count(rr) < 6)
			continue;
		n->order = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		n->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 1));
		if ((len = rdf_cstr(ldns_rr_rdf(rr, 2), &s)) < 0
				|| pool_add(q, s, len, &n->flags) < 0)
			continue;
		if ((len = rdf_cstr(ldns_rr_rdf(rr, 3), &s)) < 0
				|| pool_add(q, s, len, &n->service) < 0)
			continue;
		if ((len = rdf_cstr(ldns_rr_rdf(rr, 4), &s)) < 0
				|| pool_add(q, s, len, &n->regexp) < 0)
			continue;
		len = rdf_dname(ldns_rr_rdf(rr, 5), repl, sizeof(repl));
		if (len < 0 || pool_add(q, repl, len, &n->replacement) < 0)
			continue;
		q->n++;
	}
	ldns_rr_list_deep_free(ans);
	return q->n ? DQ_OK : DQ_NODATA;
}

static dq_status ldns_mx(const char *name, dq_mx *mx, int *n)
{
	ldns_rr_list *ans;
	dq_status st;
	size_t i;

	*n = 0;
	st = ldns_query(name, LDNS_RR_TYPE_MX, &ans);
	if (st != DQ_OK)
		return st;
	for (i = 0; i < ldns_rr_list_rr_count(ans) && *n < DQ_MAX_MX; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);

		if (ldns_rr_rd_count(rr) < 2)
			continue;
		mx[*n].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		if (rdf_dname(ldns_rr_rdf(rr, 1), mx[*n].host,
					sizeof(mx[*n].host)) < 0)
			continue;
		(*n)++;
	}
	ldns_rr_list_deep_free(ans);
	return *n ? DQ_OK : DQ_NODATA;
}

static dq_status ldns_addr(const char *name, int v6, char ips[][64],
		int *n, int max)
{
	ldns_rr_list *ans;
	dq_status st;
	size_t i;

	st = ldns_query(name, v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, &ans);
	if (st != DQ_OK)
		return st;
	for (i = 0; i < ldns_rr_list_rr_count(ans) && *n < max; i++) {
		ldns_rdf *r = ldns_rr_rdf(ldns_rr_list_rr(ans, i), 0);

		if (!r)
			continue;
		if (!inet_ntop(v6 ? AF_INET6 : AF_INET, ldns_rdf_data(r), ips[*n], 64))
			continue;
		(*n)++;
	}
	ldns_rr_list_deep_free(ans);
	return DQ_OK;
}

/* ---- Kamailio DNS layer backend ---- */

static dq_status kam_status(void)
{
	switch (h_errno) {
	case HOST_NOT_FOUND:
		return DQ_NXDOMAIN;
	case NO_DATA:
		return DQ_NODATA;
	default:
		return DQ_TEMP;
	}
}

static dq_status kam_naptr(const char *name, dq_naptrs *q)
{
	struct rdata *head, *l;

	h_errno = 0;
	head = get_record((char *)name, T_NAPTR, RES_ONLY_TYPE);
	if (!head)
		return kam_status();
	for (l = head; l && q->n < DQ_MAX_NAPTR; l = l->next) {
		struct naptr_rdata *nr = l->rdata;
		naptr_rr *n = &q->rr[q->n];

		if (l->type != T_NAPTR || !nr)
			continue;
		ttl_seen(l->ttl);
		n->order = nr->order;
		n->pref = nr->pref;
		if (pool_add(q, nr->flags, nr->flags_len, &n->flags) < 0
				|| pool_add(q, nr->services, nr->services_len,
						&n->service) < 0
				|| pool_add(q, nr->regexp, nr->regexp_len, &n->regexp) < 0
				|| pool_add(q, nr->repl, strlen(nr->repl),
						&n->replacement) < 0)
			continue;
		q->n++;
	}
	free_rdata_list(head);
	return q->n ? DQ_OK : DQ_NODATA;
}

static dq_status kam_mx(const char *name, dq_mx *mx, int *n)
{
	unsigned char buf[4096];
	int len;
	ldns_pkt *pkt = NULL;
	ldns_rr_list *ans;
	size_t i;

	*n = 0;
	h_errno = 0;
	len = dns_func.sr_res_search(name, C_IN, T_MX, buf, sizeof(buf));
	if (len < 0)
		return kam_status();
	if (len > (int)sizeof(buf))
		len = sizeof(buf);
	if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK)
		return DQ_TEMP;
	ans = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_MX, LDNS_SECTION_ANSWER);
	for (i = 0; ans && i < ldns_rr_list_rr_count(ans) && *n < DQ_MAX_MX; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);

		if (ldns_rr_rd_count(rr) < 2)
			continue;
		ttl_seen(ldns_rr_ttl(rr));
		mx[*n].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		if (rdf_dname(ldns_rr_rdf(rr, 1), mx[*n].host,
					sizeof(mx[*n].host)) < 0)
			continue;
		(*n)++;
	}
	if (ans)
		ldns_rr_list_deep_free(ans);
	ldns_pkt_free(pkt);
	return *n ? DQ_OK : DQ_NODATA;
}

static dq_status kam_addr(const char *name, int v6, char ips[][64], int *n,
		int max)
{
	struct rdata *head, *l;

	h_errno = 0;
	head = get_record((char *)name, v6 ? T_AAAA : T_A, RES_ONLY_TYPE);
	if (!head)
		return kam_status();
	for (l = head; l && *n < max; l = l->next) {
		ttl_seen(l->ttl);
		if (l->type == T_A && !v6) {
			inet_ntop(AF_INET, ((struct a_rdata *)l->rdata)->ip, ips[*n], 64);
			(*n)++;
		} else if (l->type == T_AAAA && v6) {
			inet_ntop(AF_INET6, ((struct aaaa_rdata *)l->rdata)->ip6,
					ips[*n], 64);
			(*n)++;
		}
	}
	free_rdata_list(head);
	return DQ_OK;
}

/* ---- the shared TTL cache in front of both backends ---- */

#define QT_NAPTR 1
#define QT_MX 2
#define QT_ADDR 3

static void cache_store(int type, const char *name, dq_status st,
		const char *blob, int len)
{
	unsigned int ttl;

	if (st == DQ_TEMP)
		return; /* a failure may be over in a second: ask again */
	ttl = (st == DQ_OK) ? q_ttl : (unsigned int)cpm_get(dns_negative_ttl);
	if (ttl > (unsigned int)cpm_get(dns_max_ttl))
		ttl = cpm_get(dns_max_ttl);
	enum_cache_put(type, name, st, ttl, blob, len);
}

static int put_str(char *b, int *pos, int size, const cm_str *s)
{
	if (s->len > 255 || *pos + 1 + s->len > size)
		return -1;
	b[(*pos)++] = (char)s->len;
	memcpy(b + *pos, s->s, s->len);
	*pos += s->len;
	return 0;
}

static int get_str(const char *b, int *pos, int len, char **out, int *olen)
{
	int l;

	if (*pos >= len)
		return -1;
	l = (unsigned char)b[(*pos)++];
	if (*pos + l > len)
		return -1;
	*out = (char *)b + *pos;
	*olen = l;
	*pos += l;
	return 0;
}

static dq_status q_naptr(const char *name, dq_naptrs *q)
{
	char *blob, buf[DQ_POOL + DQ_MAX_NAPTR * 8];
	int len, pos = 0, st, i, sl;
	char *s;

	if (enum_cache_get(QT_NAPTR, name, &st, &blob, &len)) {
		q_hits++;
		stats_inc(CPM_ST_DNS_CACHE_HITS);
		while (pos + 4 <= len && q->n < DQ_MAX_NAPTR) {
			naptr_rr *n = &q->rr[q->n];
			cm_str *f[4] = { &n->flags, &n->service, &n->regexp,
				&n->replacement };

			n->order = ((unsigned char)blob[pos] << 8)
				| (unsigned char)blob[pos + 1];
			n->pref = ((unsigned char)blob[pos + 2] << 8)
				| (unsigned char)blob[pos + 3];
			pos += 4;
			for (i = 0; i < 4; i++) {
				if (get_str(blob, &pos, len, &s, &sl) < 0
						|| pool_add(q, s, sl, f[i]) < 0)
					break;
			}
			if (i < 4)
				break;
			q->n++;
		}
		if (blob)
			pkg_free(blob);
		return st;
	}
	q_queries++;
	stats_inc(CPM_ST_DNS_QUERIES);
	q_ttl = cpm_get(dns_max_ttl);
	st = enum_ldns ? ldns_naptr(name, q) : kam_naptr(name, q);
	for (i = 0; i < q->n; i++) {
		const naptr_rr *n = &q->rr[i];

		if (pos + 4 > (int)sizeof(buf))
			break;
		buf[pos++] = n->order >> 8;
		buf[pos++] = n->order & 0xff;
		buf[pos++] = n->pref >> 8;
		buf[pos++] = n->pref & 0xff;
		if (put_str(buf, &pos, sizeof(buf), &n->flags) < 0
				|| put_str(buf, &pos, sizeof(buf), &n->service) < 0
				|| put_str(buf, &pos, sizeof(buf), &n->regexp) < 0
				|| put_str(buf, &pos, sizeof(buf), &n->replacement) < 0)
			return st; /* too big to cache: fine */
	}
	cache_store(QT_NAPTR, name, st, buf, pos);
	return st;
}

static dq_status q_mx(const char *name, dq_mx *mx, int *n)
{
	char *blob, buf[DQ_MAX_MX * 132];
	int len, pos = 0, st, i, sl;
	char *s;

	*n = 0;
	if (enum_cache_get(QT_MX, name, &st, &blob, &len)) {
		q_hits++;
		stats_inc(CPM_ST_DNS_CACHE_HITS);
		while (pos + 2 < len && *n < DQ_MAX_MX) {
			mx[*n].pref = ((unsigned char)blob[pos] << 8)
				| (unsigned char)blob[pos + 1];
			pos += 2;
			if (get_str(blob, &pos, len, &s, &sl) < 0
					|| sl >= (int)sizeof(mx[*n].host))
				break;
			memcpy(mx[*n].host, s, sl);
			mx[*n].host[sl] = '\0';
			(*n)++;
		}
		if (blob)
			pkg_free(blob);
		return st;
	}
	q_queries++;
	stats_inc(CPM_ST_DNS_QUERIES);
	q_ttl = cpm_get(dns_max_ttl);
	st = enum_ldns ? ldns_mx(name, mx, n) : kam_mx(name, mx, n);
	for (i = 0; i < *n; i++) {
		cm_str h = cm_str_z(mx[i].host);

		buf[pos++] = mx[i].pref >> 8;
		buf[pos++] = mx[i].pref & 0xff;
		if (put_str(buf, &pos, sizeof(buf), &h) < 0)
			return st;
	}
	cache_store(QT_MX, name, st, buf, pos);
	return st;
}

/* A then AAAA of one name */
static dq_status q_addrs(const char *name, char ips[][64], int *n, int max)
{
	dq_status s4, s6;
	char *blob, buf[MM4_DEST_MAX_HOSTS * 65];
	int len, pos = 0, st, i, sl;
	char *s;

	*n = 0;
	if (enum_cache_get(QT_ADDR, name, &st, &blob, &len)) {
		q_hits++;
		stats_inc(CPM_ST_DNS_CACHE_HITS);
		while (pos < len && *n < max) {
			if (get_str(blob, &pos, len, &s, &sl) < 0 || sl >= 64)
				break;
			memcpy(ips[*n], s, sl);
			ips[*n][sl] = '\0';
			(*n)++;
		}
		if (blob)
			pkg_free(blob);
		return st;
	}
	q_queries++;
	stats_inc(CPM_ST_DNS_QUERIES);
	q_ttl = cpm_get(dns_max_ttl);
	s4 = enum_ldns ? ldns_addr(name, 0, ips, n, max)
		: kam_addr(name, 0, ips, n, max);
	if (s4 == DQ_NXDOMAIN) {
		cache_store(QT_ADDR, name, s4, NULL, 0);
		return s4;
	}
	s6 = enum_ldns ? ldns_addr(name, 1, ips, n, max)
		: kam_addr(name, 1, ips, n, max);
	if (*n > 0)
		st = DQ_OK;
	else
		st = (s4 == DQ_TEMP || s6 == DQ_TEMP) ? DQ_TEMP : DQ_NODATA;
	for (i = 0; i < *n; i++) {
		cm_str a = cm_str_z(ips[i]);

		if (put_str(buf, &pos, sizeof(buf), &a) < 0)
			return st;
	}
	cache_store(QT_ADDR, name, st, buf, pos);
	return st;
}

static int mx_cmp(const void *a, const void *b)
{
	return (int)((const dq_mx *)a)->pref - (int)((const dq_mx *)b)->pref;
}

static void dest_add_hosts(mm4_dest *d, const char *name, int port,
		char ips[][64], int n)
{
	int i;

	for (i = 0; i < n && d->nhosts < MM4_DEST_MAX_HOSTS; i++) {
		mm4_host *h = &d->hosts[d->nhosts++];

		snprintf(h->ip, sizeof(h->ip), "%s", ips[i]);
		h->port = port;
		snprintf(h->name, sizeof(h->name), "%s", name);
	}
}

/* the SMTP hosts of a mail domain (or of a static route's via name):
 * MX by preference, else the name's own A/AAAA; an address literal
 * ("[192.0.2.1]", as an ENUM mailto: or a static route may give it) is
 * the host itself (RFC 5321 5.1) */
static int resolve_hosts_of(mm4_dest *d, const char *domain)
{
	dq_mx mx[DQ_MAX_MX];
	char ips[MM4_DEST_MAX_HOSTS][64];
	int nmx = 0, n, i, temp = 0;
	dq_status st;
	char lit[1][64];

	if (domain_literal_ip(cm_str_z(domain), lit[0], sizeof(lit[0]))) {
		dest_add_hosts(d, domain, cpm_get(mm4_port), lit, 1);
		trace_add(d, " host %s (address literal %s);", lit[0], domain);
		return 0;
	}
	st = q_mx(domain, mx, &nmx);
	trace_add(d, " MX %s: %s;", domain, dq_name(st));
	if (st == DQ_TEMP)
		return MAP_LF_DNS_TEMP;
	if (st == DQ_NXDOMAIN)
		return MAP_LF_NO_HOST;
	if (st == DQ_OK) {
		qsort(mx, nmx, sizeof(mx[0]), mx_cmp);
		for (i = 0; i < nmx; i++) {
			char pref[8];

			snprintf(pref, sizeof(pref), "%u", mx[i].pref);
			trace_add(d, " MX %s %s;", pref, mx[i].host);
		}
		for (i = 0; i < nmx; i++) {
			st = q_addrs(mx[i].host, ips, &n, MM4_DEST_MAX_HOSTS);
			trace_add(d, " A %s: %s;", mx[i].host, dq_name(st));
			if (st == DQ_TEMP)
				temp = 1;
			dest_add_hosts(d, mx[i].host, cpm_get(mm4_port), ips, n);
		}
		for (i = 0; i < d->nhosts; i++)
			trace_add(d, " host %s (%s);", d->hosts[i].ip, d->hosts[i].name);
	} else {
		st = q_addrs(domain, ips, &n, MM4_DEST_MAX_HOSTS);
		trace_add(d, " A %s: %s;", domain, dq_name(st));
		if (st == DQ_TEMP)
			temp = 1;
		dest_add_hosts(d, domain, cpm_get(mm4_port), ips, n);
		for (i = 0; i < d->nhosts; i++)
			trace_add(d, " host %s (%s);", d->hosts[i].ip, d->hosts[i].name);
	}
	if (d->nhosts > 0)
		return 0;
	return temp ? MAP_LF_DNS_TEMP : MAP_LF_NO_HOST;
}

static int resolve_hosts(mm4_dest *d)
{
	return resolve_hosts_of(d, d->domain);
}

/* the next hop of a static route: its via (an IP as is, "[name]" A/AAAA
 * only, a name MX then A/AAAA), else the MMSE domain's hosts */
static int resolve_static(mm4_dest *d)
{
	char ips[MM4_DEST_MAX_HOSTS][64];
	char spec[2 * STATIC_ROUTE_HOST_MAX + 48];
	const static_route *r;
	dq_status st;
	int i, n = 0, ret;

	i = static_route_match(cpm_fixed.routes, cpm_fixed.nroutes, d->e164);
	if (i < 0)
		return -1;
	r = &cpm_fixed.routes[i];
	d->via_static = 1;
	d->nhosts = 0;
	snprintf(d->domain, sizeof(d->domain), "%s", r->domain);
	if (mm4_plmn_address(cm_str_z(d->e164), cm_str_z(d->domain), d->mailbox,
				sizeof(d->mailbox)) < 0)
		return -1;
	if (static_route_format(r, spec, sizeof(spec)) < 0)
		snprintf(spec, sizeof(spec), "%s", r->domain);
	trace_add(d, " static route %s;%s", spec, "");
	if (!r->via[0]) {
		ret = resolve_hosts(d);
	} else if (r->via_nomx) {
		st = q_addrs(r->via, ips, &n, MM4_DEST_MAX_HOSTS);
		trace_add(d, " A %s: %s;", r->via, dq_name(st));
		dest_add_hosts(d, r->via, cpm_get(mm4_port), ips, n);
		ret = d->nhosts > 0 ? 0 : -1;
	} else {
		ret = resolve_hosts_of(d, r->via);
	}
	if (ret != 0)
		return -1;
	if (r->port) {
		for (n = 0; n < d->nhosts; n++)
			d->hosts[n].port = r->port;
	}
	return 0;
}

int enum_resolve_domain(const char *domain, mm4_dest *d)
{
	int ret;

	memset(d, 0, sizeof(*d));
	if (strlen(domain) >= sizeof(d->domain))
		return MAP_LF_NO_HOST;
	strcpy(d->domain, domain);
	q_hits = q_queries = 0;
	ret = resolve_hosts(d);
	d->cache_hits = q_hits;
	d->dns_queries = q_queries;
	return ret;
}

/* E2U+mms:tel gives another number to look up; the chain is followed for
 * ENUM_TEL_HOPS numbers at most and never back to a number already in it */
#define ENUM_TEL_HOPS 2

/* NAPTR lookup of aus and its rules in RFC 3403 order (naptr_walk), until
 * one gives SMTP hosts; chain[0..nchain) are the numbers looked up so far */
static int resolve_number(const char *aus, mm4_dest *d,
		char chain[][E164_BUF], int nchain)
{
	char name[256];
	char uri[512];
	char num[E164_BUF];
	dq_naptrs *q;
	naptr_walk w;
	const naptr_rr *rr;
	int i, k, kind, ret, r;
	dq_status st;
	cm_str mailbox, domain;

	if (enum_domain(aus, cm_str_z(cpm_fixed.enum_suffix), name,
				sizeof(name)) < 0)
		return MAP_LF_NOT_E164;
	q = pkg_malloc(sizeof(*q));
	if (!q)
		return MAP_LF_INTERNAL;
	memset(q, 0, sizeof(*q));
	st = q_naptr(name, q);
	trace_add(d, "NAPTR %s: %s;", name, dq_name(st));
	ret = (st == DQ_TEMP) ? MAP_LF_DNS_TEMP : MAP_LF_NO_MMS_ROUTE;
	if (st != DQ_OK)
		goto done;
	for (i = 0; i < q->n; i++)
		trace_naptr(d, &q->rr[i], "seen");
	naptr_walk_init(&w, q->rr, q->n);
	if (w.n == 0)
		trace_add(d, " no usable MMS NAPTR;%s%s", "", "");
	while ((i = naptr_walk_next(&w, aus, uri, sizeof(uri), &kind)) >= 0) {
		rr = &q->rr[i];
		if (kind == NAPTR_MMS_TEL) {
			trace_naptr(d, rr, "chosen");
			/* DNS data: a global number, no numbering plan applied */
			if (e164_from_uri_plan(cm_str_z(uri), NULL, num) < 0) {
				LM_WARN("ENUM %s: NAPTR gives '%s', not an E.164 tel: URI\n",
						name, uri);
				continue;
			}
			for (k = 0; k < nchain && strcmp(chain[k], num) != 0; k++)
				;
			if (k < nchain || nchain > ENUM_TEL_HOPS) {
				LM_WARN("ENUM %s: E2U+mms:tel to %s not followed (%s)\n",
						name, num, k < nchain ? "loop" : "too many hops");
				trace_add(d, " tel %s not followed: %s;", num,
						k < nchain ? "loop" : "too many hops");
				continue;
			}
			trace_add(d, " tel %s;%s", num, "");
			strcpy(chain[nchain], num);
			r = resolve_number(num, d, chain, nchain + 1);
			if (r == 0) {
				ret = 0;
				break;
			}
			ret = r;
			continue;
		}
		if (kind != NAPTR_MMS_MAILTO
				|| mailto_split(cm_str_z(uri), &mailbox, &domain) < 0
				|| mailbox.len >= (int)sizeof(d->mailbox)
				|| domain.len >= (int)sizeof(d->domain)) {
			LM_WARN("ENUM %s: unusable result '%s' of NAPTR regexp '%.*s'\n",
					name, uri, rr->regexp.len, rr->regexp.s);
			continue;
		}
		trace_naptr(d, rr, "chosen");
		memcpy(d->mailbox, mailbox.s, mailbox.len);
		d->mailbox[mailbox.len] = '\0';
		memcpy(d->domain, domain.s, domain.len);
		d->domain[domain.len] = '\0';
		trace_add(d, " mailto %s;%s", d->mailbox, "");
		ret = resolve_hosts(d);
		if (ret == 0)
			break;
		/* this MMSE cannot be reached: the next rule of the same order
		 * may name another */
	}
done:
	pkg_free(q);
	return ret;
}

int enum_resolve(const char *e164, mm4_dest *d)
{
	char chain[ENUM_TEL_HOPS + 1][E164_BUF];
	int ret;

	memset(d, 0, sizeof(*d));
	snprintf(d->e164, sizeof(d->e164), "%s", e164);
	q_hits = q_queries = 0;
	if (strlen(e164) >= sizeof(chain[0]))
		return MAP_LF_NOT_E164;
	strcpy(chain[0], e164);
	ret = resolve_number(e164, d, chain, 1);
	if (ret != 0 && ret != MAP_LF_NOT_E164 && ret != MAP_LF_INTERNAL
			&& cpm_fixed.nroutes > 0) {
		if (resolve_static(d) == 0)
			ret = 0;
	}
	d->cache_hits = q_hits;
	d->dns_queries = q_queries;
	return ret;
}
