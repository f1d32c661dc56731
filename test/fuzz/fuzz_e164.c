/*
 * cpm_mms - libFuzzer harness of e164.c: numbers from URIs and MM4
 * addresses, ENUM names, NAPTR selection and RFC 3402 rewriting, mailto,
 * static routes, host[:port].
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: lines. Each line goes through every one-argument parser; line 1
 * is a NAPTR regexp applied to line 2 (the application string), lines
 * taken four by four are NAPTR records (flags, service, regexp,
 * replacement) for naptr_select. */
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

	FZ_ASSERT(len >= 2 && len <= 16 && n[0] == '+');
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

static void check_one(cm_str f)
{
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
		FZ_ASSERT(memchr(r[0].host, '\0', sizeof(r[0].host)) != NULL);
		FZ_ASSERT(r[0].host[0] != '\0');
		FZ_ASSERT(r[0].port >= 0 && r[0].port <= 65535);
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
			&& naptr_is_mms_mailto(rr->service)
			&& cm_str_trim(rr->regexp).len > 0;
}

static void check_select(const cm_str *f, int nf, int max)
{
	naptr_rr rr[FZ_FIELDS / 4];
	int idx[FZ_FIELDS / 4];
	int n = 0, i, k, cnt, best, u;

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
		/* by preference, stable for equal ones */
		if (i > 0)
			FZ_ASSERT(rr[idx[i - 1]].pref < rr[idx[i]].pref
					|| (rr[idx[i - 1]].pref == rr[idx[i]].pref
							&& idx[i - 1] < idx[i]));
		for (k = 0; k < i; k++)
			FZ_ASSERT(idx[k] != idx[i]);
	}
	/* the lowest usable order, all of it if it fits, else the best
	 * preferences */
	for (i = 0, best = -1, u = 0; i < n; i++)
		if (usable(&rr[i]) && (best < 0 || rr[i].order < best))
			best = rr[i].order;
	for (i = 0; i < n; i++)
		u += usable(&rr[i]) && rr[i].order == best;
	FZ_ASSERT(cnt == (u < max ? u : max));
	for (i = 0; i < cnt; i++) {
		FZ_ASSERT(rr[idx[i]].order == best);
		FZ_ASSERT(usable(&rr[idx[i]]));
	}
	for (i = 0; i < n && cnt > 0; i++) {
		for (k = 0; k < cnt && idx[k] != i; k++)
			;
		if (k == cnt && usable(&rr[i]) && rr[i].order == best)
			FZ_ASSERT(rr[i].pref >= rr[idx[cnt - 1]].pref);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_str f[FZ_FIELDS];
	int nf, i;

	if (size > 4096)
		return 0;
	nf = fz_split(data, size, '\n', f, FZ_FIELDS);
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
	check_select(f, nf, 4);
	check_select(f, nf, 1);
	return 0;
}
