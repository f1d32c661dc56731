/*
 * cpm_mms - libFuzzer harness of e164.c: numbers from URIs and MM4
 * addresses, ENUM names, NAPTR selection and RFC 3402 rewriting, mailto,
 * static routes, host[:port], numbering plans, address literals.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: lines. Each line goes through every one-argument parser; line 1
 * is a NAPTR regexp applied to line 2 (the application string), lines
 * taken four by four are NAPTR records (flags, service, regexp,
 * replacement) for naptr_select and naptr_walk. Line 1 is also the
 * numbering plan (intl, national, cc separated by ','), tried on every
 * line. */
#include "fuzz_common.h"
#include "e164.h"
#include "mm4.h"

#define FZ_FIELDS 16
/* DNS character-strings are at most 255 bytes; glibc regcomp/regexec time
 * grows fast with the expression, so longer ones are not tried */
#define FZ_RE_MAX 256
/* the module applies the regexp to "+digits" only */
#define FZ_AUS_MAX 32

static void check_e164(const char *n)
{
	int i, len = (int)strlen(n);

	FZ_ASSERT(len >= 2 && len <= 16 && n[0] == '+' && n[1] != '0');
	for (i = 1; i < len; i++)
		FZ_ASSERT(n[i] >= '0' && n[i] <= '9');
}

static void check_enum(const char *e164, cm_str suffix)
{
	char out[96];
	char *small;
	int n, m, i;

	n = enum_domain(e164, suffix, out, (int)sizeof(out));
	if (n < 0)
		return;
	/* (the suffix is configuration and not checked: it may hold a NUL) */
	FZ_ASSERT(n < (int)sizeof(out) && out[n] == '\0');
	/* reversed digits, one label each */
	for (i = 0; i < 2 * ((int)strlen(e164) - 1); i += 2)
		FZ_ASSERT(out[i] == e164[strlen(e164) - 1 - i / 2]
				&& out[i + 1] == '.');
	/* exactly fitting buffer works, one byte less fails cleanly */
	small = malloc((size_t)n + 1);
	FZ_ASSERT(small != NULL);
	m = enum_domain(e164, suffix, small, n + 1);
	FZ_ASSERT(m == n && memcmp(small, out, (size_t)n + 1) == 0);
	m = enum_domain(e164, suffix, small, n);
	FZ_ASSERT(m == -1);
	free(small);
}

static e164_plan fz_plan;

static void plan_from(cm_str f)
{
	cm_str part[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
	int i, k = 0, start = 0;

	for (i = 0; i <= f.len && k < 3; i++)
		if (i == f.len || f.s[i] == ',') {
			part[k].s = f.s + start;
			part[k++].len = i - start;
			start = i + 1;
		}
	if (e164_plan_init(&fz_plan, part[0], part[1], part[2]) < 0) {
		/* a rejected plan is empty; else the one documented here */
		FZ_ASSERT(!fz_plan.intl[0] && !fz_plan.natl[0] && !fz_plan.cc[0]);
		(void)e164_plan_init(&fz_plan, cm_str_z("00"), cm_str_z("0"),
				cm_str_z("47"));
	}
	FZ_ASSERT(!fz_plan.natl[0] || fz_plan.cc[0]);
	FZ_ASSERT(!fz_plan.cc[0] || fz_plan.cc[0] != '0');
}

static void check_one(cm_str f)
{
	char route[2 * STATIC_ROUTE_HOST_MAX + 48];
	char lit[64];
	cm_str one;
	int pos, kind = 0;
	char num[E164_BUF];
	char plmn[MM4_ADDR_MAX];
	char host[16];
	char *hostbig;
	cm_str mb, dom;
	static_route r[2];
	int port, n;

	memset(num, 'X', sizeof(num));
	if (e164_from_uri(f, num) == 0) {
		check_e164(num);
		check_enum(num, f);
		n = mm4_plmn_address(cm_str_z(num), cm_str_z("mms.example.net"),
				plmn, (int)sizeof(plmn));
		FZ_ASSERT(n > 0 && (int)strlen(plmn) == n);
		/* and back */
		FZ_ASSERT(e164_from_mm4_address(cm_str_z(plmn), num) == 0);
		check_e164(num);
	}
	memset(num, 'X', sizeof(num));
	if (e164_from_mm4_address(f, num) == 0)
		check_e164(num);
	/* with the plan: still E.164, and a '+' number is unchanged */
	memset(num, 'X', sizeof(num));
	if (e164_from_uri_plan(f, &fz_plan, num) == 0)
		check_e164(num);
	if (e164_from_uri(f, plmn) == 0)
		FZ_ASSERT(e164_from_uri_plan(f, &fz_plan, num) == 0
				&& strcmp(num, plmn) == 0);
	memset(num, 'X', sizeof(num));
	if (e164_from_mm4_address_plan(f, &fz_plan, num) == 0)
		check_e164(num);
	if (e164_normalise(f, &fz_plan, f.len & 1, num) == 0)
		check_e164(num);
	kind = naptr_mms_services(f);
	FZ_ASSERT((kind & ~(NAPTR_MMS_MAILTO | NAPTR_MMS_TEL)) == 0);
	FZ_ASSERT(!!(kind & NAPTR_MMS_MAILTO) == naptr_is_mms_mailto(f));
	if (domain_literal_ip(f, lit, (int)sizeof(lit)))
		FZ_ASSERT(lit[0] != '\0' && strlen(lit) < sizeof(lit));
	pos = 0;
	while (static_route_next(f, &pos, &one))
		FZ_ASSERT(one.len > 0 && fz_in(one, f.s, (size_t)f.len));

	/* mm4_plmn_address with the field as the domain */
	n = mm4_plmn_address(cm_str_z("+4712345678"), f, plmn, (int)sizeof(plmn));
	FZ_ASSERT(n == -1 || (n > 0 && n < (int)sizeof(plmn)
								  && (int)strlen(plmn) == n));

	(void)naptr_is_mms_mailto(f);

	if (mailto_split(f, &mb, &dom) == 0) {
		FZ_ASSERT(fz_in(mb, f.s, (size_t)f.len) && mb.len > 0);
		FZ_ASSERT(fz_in(dom, f.s, (size_t)f.len) && dom.len > 0);
		FZ_ASSERT(memchr(mb.s, '<', (size_t)mb.len) == NULL);
		FZ_ASSERT(memchr(mb.s, '>', (size_t)mb.len) == NULL);
		FZ_ASSERT(memchr(mb.s, '\n', (size_t)mb.len) == NULL);
	}

	if (static_route_parse(f, &r[0]) == 0) {
		FZ_ASSERT(memchr(r[0].prefix, '\0', sizeof(r[0].prefix)) != NULL);
		FZ_ASSERT(memchr(r[0].domain, '\0', sizeof(r[0].domain)) != NULL);
		FZ_ASSERT(memchr(r[0].via, '\0', sizeof(r[0].via)) != NULL);
		FZ_ASSERT(r[0].domain[0] != '\0');
		FZ_ASSERT(r[0].port >= 0 && r[0].port <= 65535);
		FZ_ASSERT(!r[0].port || r[0].via[0]);
		FZ_ASSERT(r[0].prefix[0] != '0');
		/* the domain can go into an address */
		n = mm4_plmn_address(cm_str_z("+4712345678"), cm_str_z(r[0].domain),
				plmn, (int)sizeof(plmn));
		FZ_ASSERT(n > 0);
		/* the formatted form reads back as the same route */
		n = static_route_format(&r[0], route, (int)sizeof(route));
		FZ_ASSERT(n > 0 && (int)strlen(route) == n);
		FZ_ASSERT(static_route_parse(cm_str_z(route), &r[1]) == 0);
		FZ_ASSERT(strcmp(r[1].prefix, r[0].prefix) == 0
				&& strcmp(r[1].domain, r[0].domain) == 0
				&& strcmp(r[1].via, r[0].via) == 0
				&& r[1].via_nomx == r[0].via_nomx && r[1].port == r[0].port);
		FZ_ASSERT(strspn(r[0].prefix, "0123456789") == strlen(r[0].prefix));
		r[1] = r[0];
		r[1].prefix[0] = '\0';
		n = static_route_match(r, 2, "+4712345678");
		FZ_ASSERT(n == 0 || n == 1);
	}

	/* host buffers of several sizes, exact-size on the heap */
	n = hostport_split(f, host, (int)sizeof(host), &port);
	if (n == 0) {
		FZ_ASSERT(strlen(host) < sizeof(host) && host[0] != '\0');
		FZ_ASSERT(port >= 0 && port <= 65535);
	}
	hostbig = malloc((size_t)f.len + 1);
	FZ_ASSERT(hostbig != NULL);
	if (hostport_split(f, hostbig, f.len + 1, &port) == 0)
		FZ_ASSERT((int)strlen(hostbig) <= f.len && hostbig[0] != '\0');
	free(hostbig);
}

static void check_regexp(cm_str re, cm_str aus_s, int outsize)
{
	char *aus, *out, *rec;
	int n;

	if (re.len > FZ_RE_MAX)
		return;
	if (aus_s.len > FZ_AUS_MAX)
		aus_s.len = FZ_AUS_MAX;
	aus = fz_dup((const uint8_t *)aus_s.s, (size_t)aus_s.len, 1);
	rec = fz_dup((const uint8_t *)re.s, (size_t)re.len, 0);
	re.s = rec;
	out = malloc((size_t)outsize);
	FZ_ASSERT(out != NULL);
	n = naptr_apply_regexp(re, aus, out, outsize);
	FZ_ASSERT(n >= -1 && n < outsize);
	if (n >= 0)
		FZ_ASSERT((int)strlen(out) == n);
	free(out);
	free(rec);
	free(aus);
}

static unsigned short fz_u16(cm_str f)
{
	return f.len > 0 ? (unsigned short)((unsigned char)f.s[0] % 4) : 0;
}

/* the documented usability rule, restated */
static int usable(const naptr_rr *rr)
{
	return cm_str_ieqz(cm_str_trim(rr->flags), "u")
			&& naptr_mms_services(rr->service) != 0
			&& cm_str_trim(rr->regexp).len > 0;
}

static int before(const naptr_rr *a, const naptr_rr *b)
{
	return a->order < b->order || (a->order == b->order && a->pref < b->pref);
}

static void check_select(const cm_str *f, int nf, int max, cm_str aus_s)
{
	naptr_rr rr[FZ_FIELDS / 4];
	int idx[FZ_FIELDS / 4];
	int n = 0, i, k, cnt, u, got, settled = -1, last = -1, kind;
	naptr_walk w;
	char aus[FZ_AUS_MAX + 1], out[256];

	for (i = 0; i + 3 < nf && n < FZ_FIELDS / 4; i += 4, n++) {
		rr[n].flags = f[i];
		rr[n].service = f[i + 1];
		rr[n].regexp = f[i + 2];
		rr[n].replacement = f[i + 3];
		/* few distinct values so that ties happen */
		rr[n].order = fz_u16(f[i + 2]);
		rr[n].pref = fz_u16(f[i + 3]);
	}
	if (n == 0)
		return;
	cnt = naptr_select(rr, n, idx, max);
	FZ_ASSERT(cnt >= 0 && cnt <= max && cnt <= n);
	for (i = 0; i < cnt; i++) {
		FZ_ASSERT(idx[i] >= 0 && idx[i] < n);
		FZ_ASSERT(usable(&rr[idx[i]]));
		/* by order, then preference, stable for equal ones */
		if (i > 0)
			FZ_ASSERT(before(&rr[idx[i - 1]], &rr[idx[i]])
					|| (!before(&rr[idx[i]], &rr[idx[i - 1]])
							&& idx[i - 1] < idx[i]));
		for (k = 0; k < i; k++)
			FZ_ASSERT(idx[k] != idx[i]);
	}
	/* all usable ones if they fit, else the best */
	for (i = 0, u = 0; i < n; i++)
		u += usable(&rr[i]);
	FZ_ASSERT(cnt == (u < max ? u : max));
	for (i = 0; i < n && cnt > 0; i++) {
		for (k = 0; k < cnt && idx[k] != i; k++)
			;
		if (k == cnt && usable(&rr[i]))
			FZ_ASSERT(!before(&rr[i], &rr[idx[cnt - 1]]));
	}

	/* the walk: matching rules only, in that order, one order at most */
	if (aus_s.len > FZ_AUS_MAX)
		aus_s.len = FZ_AUS_MAX;
	for (i = 0; i < aus_s.len && aus_s.s[i]; i++)
		aus[i] = aus_s.s[i];
	aus[i] = '\0';
	for (i = 0; i < n; i++)
		if (rr[i].regexp.len > FZ_RE_MAX)
			return;
	naptr_walk_init(&w, rr, n);
	while ((got = naptr_walk_next(&w, aus, out, (int)sizeof(out), &kind))
			>= 0) {
		FZ_ASSERT(got < n && usable(&rr[got]));
		FZ_ASSERT(settled < 0 || rr[got].order == settled);
		FZ_ASSERT(last < 0 || !before(&rr[got], &rr[last]));
		FZ_ASSERT(kind == 0 || kind == NAPTR_MMS_MAILTO
				|| kind == NAPTR_MMS_TEL);
		FZ_ASSERT(strlen(out) < sizeof(out));
		settled = rr[got].order;
		last = got;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_str f[FZ_FIELDS];
	int nf, i;

	if (size > 4096)
		return 0;
	nf = fz_split(data, size, '\n', f, FZ_FIELDS);
	plan_from(nf > 0 ? f[0] : cm_str_z(""));
	/* each field in its own exact-size buffer for ASan */
	for (i = 0; i < nf; i++) {
		char *c = fz_dup((const uint8_t *)f[i].s, (size_t)f[i].len, 0);
		cm_str g;

		g.s = c;
		g.len = f[i].len;
		check_one(g);
		free(c);
	}
	if (nf >= 2) {
		check_regexp(f[0], f[1], 128);
		check_regexp(f[0], f[1], 1 + (int)(size % 24));
	} else {
		check_regexp(f[0], cm_str_z("+4712345678"), 128);
	}
	check_select(f, nf, 4, nf >= 2 ? f[1] : cm_str_z("+4712345678"));
	check_select(f, nf, 1, cm_str_z("+4712345678"));
	return 0;
}
