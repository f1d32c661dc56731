/*
 * cpm_mms - E.164 numbers, ENUM names, NAPTR selection and rewriting,
 * static routes.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure: no Kamailio header, no DNS traffic. Every input may come from the
 * network (SIP headers, DNS answers): lengths are always checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <regex.h>
#include <arpa/inet.h>

#include "e164.h"

#define E164_MAX_DIGITS 15

static int parse_port(cm_str p, int *port);

/* RFC 3966 visual-separator (the SP-free subset seen in practice) */
static int is_visual_sep(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

static cm_str sub(cm_str s, int from, int to)
{
	cm_str r;

	r.s = s.s + from;
	r.len = to - from;
	return r;
}

static int find_chr(cm_str s, int from, char c)
{
	int i;

	for (i = from; i < s.len; i++)
		if (s.s[i] == c)
			return i;
	return -1;
}

/* The addr-spec of a name-addr ("Name" <uri>;params) or the bare value.
 * The display name is skipped first so a '<' inside quotes cannot fool
 * us. Empty on syntax error. */
static cm_str addr_spec(cm_str v)
{
	cm_str none = {NULL, 0};
	int i = 0, lt, gt, quoted = 0;

	v = cm_str_trim(v);
	if (v.len <= 0)
		return none;
	if (v.s[0] == '"') {
		quoted = 1;
		for (i = 1; i < v.len && v.s[i] != '"'; i++)
			if (v.s[i] == '\\' && i + 1 < v.len)
				i++;
		if (i >= v.len)
			return none;
		i++;
	}
	lt = find_chr(v, i, '<');
	if (lt < 0)
		return quoted ? none : v;
	gt = find_chr(v, lt + 1, '>');
	if (gt < 0)
		return none;
	return cm_str_trim(sub(v, lt + 1, gt));
}

/* ---- numbering plan ---- */

static e164_plan g_plan; /* zero: no rule */

static int all_digits(cm_str s)
{
	int i;

	for (i = 0; i < s.len; i++)
		if (!cm_is_digit(s.s[i]))
			return 0;
	return s.len > 0;
}

static int starts_with(cm_str s, const char *z)
{
	int n = (int)strlen(z);

	return n > 0 && s.len >= n && memcmp(s.s, z, n) == 0;
}

int e164_plan_init(e164_plan *p, cm_str intl, cm_str natl, cm_str cc)
{
	if (!p)
		return -1;
	memset(p, 0, sizeof(*p));
	intl = intl.s ? cm_str_trim(intl) : intl;
	natl = natl.s ? cm_str_trim(natl) : natl;
	cc = cc.s ? cm_str_trim(cc) : cc;
	if ((intl.len > 0 && (!all_digits(intl) || intl.len >= E164_PFX_MAX))
			|| (natl.len > 0 && (!all_digits(natl)
					|| natl.len >= E164_PFX_MAX))
			|| (cc.len > 0 && (!all_digits(cc) || cc.len > 3
					|| cc.s[0] == '0'))
			/* a trunk prefix alone says nothing about the country */
			|| (natl.len > 0 && cc.len <= 0)
			|| (intl.len > 0 && natl.len > 0 && cm_str_eq(intl, natl)))
		return -1;
	if (intl.len > 0)
		memcpy(p->intl, intl.s, intl.len);
	if (natl.len > 0)
		memcpy(p->natl, natl.s, natl.len);
	if (cc.len > 0)
		memcpy(p->cc, cc.s, cc.len);
	return 0;
}

void e164_plan_set(const e164_plan *p)
{
	if (p)
		g_plan = *p;
	else
		memset(&g_plan, 0, sizeof(g_plan));
}

/* what a number without '+' and without a prefix of the plan is */
enum { BARE_REFUSE, BARE_GLOBAL, BARE_NATIONAL };

/* num: digits with an optional leading '+', nothing else */
static int normalise(cm_str num, const e164_plan *plan, int bare, char *out)
{
	char tmp[E164_BUF];
	cm_str rest;
	int k = 0, i, li = 0, ln = 0, national = 0;

	if (num.len <= 0)
		return -1;
	if (num.s[0] == '+') {
		rest = sub(num, 1, num.len);
	} else {
		if (plan && plan->intl[0] && starts_with(num, plan->intl))
			li = (int)strlen(plan->intl);
		if (plan && plan->natl[0] && plan->cc[0]
				&& starts_with(num, plan->natl))
			ln = (int)strlen(plan->natl);
		if (li > 0 && li >= ln) {
			rest = sub(num, li, num.len);
		} else if (ln > 0) {
			rest = sub(num, ln, num.len);
			/* "0" + "0..." is an international prefix the plan lacks */
			if (rest.len <= 0 || rest.s[0] == '0')
				return -1;
			national = 1;
		} else if (bare == BARE_NATIONAL && plan && plan->cc[0]) {
			rest = num;
			national = 1;
		} else if (bare == BARE_GLOBAL) {
			rest = num;
		} else {
			return -1;
		}
	}
	if (!all_digits(rest))
		return -1;
	tmp[k++] = '+';
	if (national) {
		for (i = 0; plan->cc[i]; i++)
			tmp[k++] = plan->cc[i];
	} else if (rest.s[0] == '0') {
		return -1; /* no E.164 country code starts with 0 */
	}
	for (i = 0; i < rest.len; i++) {
		if (k > E164_MAX_DIGITS)
			return -1;
		tmp[k++] = rest.s[i];
	}
	tmp[k] = '\0';
	memcpy(out, tmp, k + 1);
	return 0;
}

int e164_normalise(cm_str num, const e164_plan *plan, int bare_global,
		char *out)
{
	int bare = BARE_REFUSE;

	if (!out || !num.s)
		return -1;
	if (bare_global)
		bare = BARE_GLOBAL;
	else if (plan && plan->cc[0] && !plan->natl[0])
		bare = BARE_NATIONAL; /* no trunk prefix: every number is national */
	return normalise(num, plan, bare, out);
}

/* a number of a URI, "+47-123.456(78)" or "0412 345 678" minus the SP:
 * visual separators dropped, then normalised */
static int dialled_number(cm_str n, const e164_plan *plan, int bare,
		char *out)
{
	char tmp[E164_BUF + E164_PFX_MAX];
	int i, k = 0;

	for (i = 0; i < n.len; i++) {
		if (cm_is_digit(n.s[i]) || (i == 0 && n.s[i] == '+')) {
			if (k >= (int)sizeof(tmp))
				return -1;
			tmp[k++] = n.s[i];
		} else if (!is_visual_sep(n.s[i])) {
			return -1;
		}
	}
	return normalise((cm_str){tmp, k}, plan, bare, out);
}

/* value of a ';'-separated parameter: 1 and *val if present */
static int param_get(cm_str params, const char *name, cm_str *val)
{
	int i = 0, end, eq;
	cm_str p, pn;

	while (i < params.len) {
		end = find_chr(params, i, ';');
		if (end < 0)
			end = params.len;
		p = sub(params, i, end);
		eq = find_chr(p, 0, '=');
		pn = cm_str_trim(eq < 0 ? p : sub(p, 0, eq));
		if (cm_str_ieqz(pn, name)) {
			*val = eq < 0 ? sub(p, p.len, p.len)
				: cm_str_trim(sub(p, eq + 1, p.len));
			return 1;
		}
		i = end + 1;
	}
	return 0;
}

/* telephone-subscriber "number;params". A global number with a
 * phone-context is malformed; a local one is E.164 only in the context of
 * our own country code (RFC 3966 5.1.5: the context names its country). */
static int tel_subscriber(cm_str ts, const e164_plan *plan, char *out)
{
	int semi = find_chr(ts, 0, ';'), bare = BARE_REFUSE;
	cm_str num = semi < 0 ? ts : sub(ts, 0, semi), ctx;
	char cc[E164_BUF];

	if (plan && plan->cc[0] && !plan->natl[0])
		bare = BARE_NATIONAL;
	if (semi >= 0 && param_get(sub(ts, semi + 1, ts.len), "phone-context",
				&ctx)) {
		if (!plan || !plan->cc[0] || (num.len > 0 && num.s[0] == '+')
				|| ctx.len < 2 || ctx.s[0] != '+'
				|| dialled_number(ctx, NULL, BARE_REFUSE, cc) < 0
				|| strcmp(cc + 1, plan->cc) != 0)
			return -1;
		bare = BARE_NATIONAL;
	}
	return dialled_number(num, plan, bare, out);
}

int e164_from_uri_plan(cm_str uri, const e164_plan *plan, char *out)
{
	cm_str a, rest, user;
	int at, colon;

	if (!out || !uri.s || uri.len <= 0)
		return -1;
	a = addr_spec(uri);
	if (a.len <= 0)
		return -1;
	if (cm_str_iprefix(a, "tel:"))
		return tel_subscriber(sub(a, 4, a.len), plan, out);
	if (cm_str_iprefix(a, "sip:") || cm_str_iprefix(a, "sips:")) {
		rest = sub(a, a.s[3] == ':' ? 4 : 5, a.len);
		at = find_chr(rest, 0, '@');
		if (at <= 0)
			return -1;
		user = sub(rest, 0, at);
		/* drop a password; user params stay for tel_subscriber */
		colon = find_chr(user, 0, ':');
		if (colon >= 0)
			user.len = colon;
		/* with or without user=phone: a '+' makes the number E.164,
		 * else only a rule of the plan does */
		return tel_subscriber(user, plan, out);
	}
	/* a bare number (e.g. a recipient_uri argument) */
	if (a.s[0] == '+' || cm_is_digit(a.s[0]))
		return tel_subscriber(a, plan, out);
	return -1;
}

int e164_from_uri(cm_str uri, char *out)
{
	return e164_from_uri_plan(uri, &g_plan, out);
}

int e164_from_mm4_address_plan(cm_str addr, const e164_plan *plan,
		char *out)
{
	cm_str a;
	int at, slash;

	if (!out || !addr.s)
		return -1;
	a = addr_spec(addr);
	if (a.len <= 0)
		return -1;
	at = find_chr(a, 0, '@');
	if (at >= 0)
		a.len = at;
	slash = find_chr(a, 0, '/');
	if (slash >= 0) {
		/* only the PLMN address type carries a number */
		if (!cm_str_ieqz(cm_str_trim(sub(a, slash + 1, a.len)), "TYPE=PLMN"))
			return -1;
		a.len = slash;
	}
	/* no visual separators in MM4 addresses */
	return normalise(cm_str_trim(a), plan, BARE_GLOBAL, out);
}

int e164_from_mm4_address(cm_str addr, char *out)
{
	return e164_from_mm4_address_plan(addr, &g_plan, out);
}

int enum_domain(const char *e164, cm_str suffix, char *out, int size)
{
	char digits[E164_MAX_DIGITS];
	int nd = 0, i, k = 0;

	if (!e164 || !out || size <= 0)
		return -1;
	/* RFC 3761: strip everything but the digits */
	for (i = 0; e164[i]; i++) {
		if (!cm_is_digit(e164[i]))
			continue;
		if (nd >= E164_MAX_DIGITS)
			return -1;
		digits[nd++] = e164[i];
	}
	if (nd == 0)
		return -1;
	suffix = cm_str_trim(suffix);
	while (suffix.len > 0 && suffix.s[suffix.len - 1] == '.')
		suffix.len--;
	while (suffix.len > 0 && suffix.s[0] == '.') {
		suffix.s++;
		suffix.len--;
	}
	if (suffix.len <= 0)
		suffix = cm_str_z("e164.arpa");
	if (2 * nd + suffix.len + 1 > size)
		return -1;
	for (i = nd - 1; i >= 0; i--) {
		out[k++] = digits[i];
		out[k++] = '.';
	}
	memcpy(out + k, suffix.s, suffix.len);
	k += suffix.len;
	out[k] = '\0';
	return k;
}

int naptr_mms_services(cm_str service)
{
	cm_str es, type, st;
	int i, end, colon, next, mask = 0;

	service = cm_str_trim(service);
	/* RFC 2916 era "mms+E2U": no subtypes then, the URI tells */
	if (cm_str_ieqz(service, "mms+E2U"))
		return NAPTR_MMS_MAILTO | NAPTR_MMS_TEL;
	/* RFC 6116 3.4.3: "E2U" 1*("+" type *(":" subtype)); any of the
	 * listed enumservices may be ours. RFC 3403 leaves the field to the
	 * application; like the flags (RFC 3403 4.1) it is compared without
	 * regard to case, as RFC 5483 recommends for ENUM clients. */
	if (service.len < 4 || !cm_str_iprefix(service, "E2U+"))
		return 0;
	i = 4;
	while (i <= service.len) {
		end = find_chr(service, i, '+');
		if (end < 0)
			end = service.len;
		es = sub(service, i, end);
		colon = find_chr(es, 0, ':');
		type = colon < 0 ? es : sub(es, 0, colon);
		if (cm_str_ieqz(type, "mms")) {
			if (colon < 0) /* legacy "E2U+mms", no subtype */
				mask |= NAPTR_MMS_MAILTO | NAPTR_MMS_TEL;
			while (colon >= 0) {
				next = find_chr(es, colon + 1, ':');
				st = sub(es, colon + 1, next < 0 ? es.len : next);
				if (cm_str_ieqz(st, "mailto"))
					mask |= NAPTR_MMS_MAILTO;
				else if (cm_str_ieqz(st, "tel"))
					mask |= NAPTR_MMS_TEL;
				colon = next;
			}
		}
		i = end + 1;
	}
	return mask;
}

int naptr_is_mms_mailto(cm_str service)
{
	return (naptr_mms_services(service) & NAPTR_MMS_MAILTO) != 0;
}

static int naptr_usable(const naptr_rr *rr)
{
	/* terminal rule with a regexp: the replacement field is unused
	 * (non-terminal ENUM rules are not followed) */
	return cm_str_ieqz(cm_str_trim(rr->flags), "u")
			&& naptr_mms_services(rr->service) != 0
			&& cm_str_trim(rr->regexp).len > 0;
}

/* a before b: lower order, then lower preference */
static int naptr_before(const naptr_rr *a, const naptr_rr *b)
{
	return a->order < b->order
			|| (a->order == b->order && a->pref < b->pref);
}

int naptr_select(const naptr_rr *rrs, int n, int *idx, int max)
{
	int i, j, k, cnt = 0;

	if (!rrs || !idx || n <= 0 || max <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!naptr_usable(&rrs[i]))
			continue;
		if (cnt == max && !naptr_before(&rrs[i], &rrs[idx[cnt - 1]]))
			continue; /* full, and not better than the worst kept */
		/* insertion, stable for equal order and preference */
		for (j = cnt; j > 0 && naptr_before(&rrs[i], &rrs[idx[j - 1]]); j--)
			;
		if (cnt < max)
			cnt++;
		for (k = cnt - 1; k > j; k--)
			idx[k] = idx[k - 1];
		idx[j] = i;
	}
	return cnt;
}

void naptr_walk_init(naptr_walk *w, const naptr_rr *rrs, int n)
{
	memset(w, 0, sizeof(*w));
	w->rrs = rrs;
	w->settled = -1;
	w->n = naptr_select(rrs, n, w->idx, NAPTR_WALK_MAX);
}

int naptr_walk_next(naptr_walk *w, const char *aus, char *out, int size,
		int *kind)
{
	const naptr_rr *rr;
	cm_str res;
	int i, len, svc, colon, at;

	if (!w || !aus || !out || size <= 0 || !kind)
		return -1;
	while (w->pos < w->n) {
		i = w->idx[w->pos++];
		rr = &w->rrs[i];
		/* RFC 3403 4.1: once a rule of an order matched, no other order */
		if (w->settled >= 0 && rr->order != w->settled)
			break;
		len = naptr_apply_regexp(rr->regexp, aus, out, size);
		if (len < 0)
			continue; /* does not apply: the order is still open */
		w->settled = rr->order;
		svc = naptr_mms_services(rr->service);
		res = (cm_str){out, len};
		colon = find_chr(res, 0, ':');
		at = find_chr(res, 0, '@');
		if (cm_str_iprefix(res, "tel:"))
			*kind = (svc & NAPTR_MMS_TEL) ? NAPTR_MMS_TEL : 0;
		else if (cm_str_iprefix(res, "mailto:") || colon < 0
				|| (at >= 0 && at < colon)) /* scheme-less address */
			*kind = (svc & NAPTR_MMS_MAILTO) ? NAPTR_MMS_MAILTO : 0;
		else
			*kind = 0; /* sip:, http:, ...: not for MMS */
		return i;
	}
	w->pos = w->n;
	return -1;
}

/* an ERE of a DNS character-string is at most 255 bytes; keep slack */
#define NAPTR_RE_MAX 512

/*
 * glibc's regcomp/regexec are far from linear. Intervals copy their operand
 * ("((a{255}){255}){255}" costs seconds and gigabytes), and repeating an
 * operand that can match the empty string explodes even when short:
 * "(i?){1,455}" takes 90 s and 3.7 GB, "i{1,13585}" 6 s and 2 GB,
 * "(a?)+(a?)+..." or "($){1,200}" seconds to minutes. A DNS answer must not
 * do that to us, and ENUM needs none of it (RFC 3761 expressions look like
 * "^\+?(.*)$" or "^\+47([0-9]{8})$"), so these are refused:
 *  - '*', '+' or an interval with a maximum above 1 applied to an operand
 *    that can be empty (x?, x*, x{0,n}, anchors, a group with an empty
 *    alternative) or that has a quantifier already;
 *  - back-references in the ERE (POSIX EREs have none);
 *  - intervals whose bounds multiply above NAPTR_RE_REPEAT_MAX, or whose
 *    product times the ERE length exceeds NAPTR_RE_EXPAND_MAX.
 */
#define NAPTR_RE_REPEAT_MAX 1024
#define NAPTR_RE_EXPAND_MAX 16384
#define NAPTR_RE_DEPTH 16
#define NAPTR_RE_DUP_MAX 32767 /* glibc's RE_DUP_MAX */

static int ere_cost_ok(const char *ere)
{
	int cur_null[NAPTR_RE_DEPTH + 1]; /* current alternative can be empty */
	int any_null[NAPTR_RE_DEPTH + 1]; /* an earlier alternative can */
	int d = 0, have_op = 0, op_null = 0, op_quant = 0;
	int i = 0, j, len = (int)strlen(ere);
	long prod = 1, m, n, f;
	char c, t;

	cur_null[0] = 1;
	any_null[0] = 0;
	while (i < len) {
		c = ere[i];
		if (c == '*' || c == '+' || c == '?'
				|| (c == '{' && (cm_is_digit(ere[i + 1]) || ere[i + 1] == ','))) {
			if (!have_op)
				return 0;
			m = c == '+' ? 1 : 0;
			n = c == '?' ? 1 : -1; /* -1: no maximum */
			i++;
			if (c == '{') {
				for (m = 0; cm_is_digit(ere[i]); i++)
					if ((m = m * 10 + (ere[i] - '0')) > NAPTR_RE_DUP_MAX)
						return 0;
				n = m;
				if (ere[i] == ',') {
					i++;
					n = cm_is_digit(ere[i]) ? 0 : -1;
					for (; cm_is_digit(ere[i]); i++)
						if ((n = n * 10 + (ere[i] - '0')) > NAPTR_RE_DUP_MAX)
							return 0;
				}
				if (ere[i] != '}' || (n >= 0 && n < m))
					return 0;
				i++;
				f = n < 0 ? m : n;
				prod *= f < 1 ? 1 : f;
				if (prod > NAPTR_RE_REPEAT_MAX)
					return 0;
			}
			if ((n < 0 || n > 1) && (op_null || op_quant))
				return 0;
			op_quant = 1;
			if (m == 0)
				op_null = 1;
			continue;
		}
		/* anything else ends the pending operand */
		if (have_op)
			cur_null[d] = cur_null[d] && op_null;
		have_op = 1;
		op_quant = 0;
		op_null = 0;
		if (c == '(') {
			if (d >= NAPTR_RE_DEPTH)
				return 0;
			d++;
			cur_null[d] = 1;
			any_null[d] = 0;
			have_op = 0;
			i++;
		} else if (c == '|') {
			any_null[d] |= cur_null[d];
			cur_null[d] = 1;
			have_op = 0;
			i++;
		} else if (c == ')' && d > 0) {
			op_null = any_null[d] || cur_null[d];
			d--;
			i++;
		} else if (c == '\\') {
			if (ere[i + 1] == '\0' || (ere[i + 1] >= '1' && ere[i + 1] <= '9'))
				return 0;
			/* GNU zero-width escapes */
			op_null = strchr("bB<>`'", ere[i + 1]) != NULL;
			i += 2;
		} else if (c == '[') {
			/* bracket expression: ']' first is literal; [:class:],
			 * [=e=] and [.c.] may hold a ']' */
			j = i + 1;
			if (ere[j] == '^')
				j++;
			if (ere[j] == ']')
				j++;
			while (ere[j] && ere[j] != ']') {
				t = ere[j + 1];
				if (ere[j] == '[' && (t == ':' || t == '=' || t == '.')) {
					for (j += 2; ere[j] && !(ere[j] == t && ere[j + 1] == ']');
							j++)
						;
					if (!ere[j])
						return 0;
					j++;
				}
				j++;
			}
			if (!ere[j])
				return 0;
			i = j + 1;
		} else {
			/* '^' and '$' match the empty string */
			op_null = c == '^' || c == '$';
			i++;
		}
	}
	if (d != 0)
		return 0;
	return (long)len * prod <= NAPTR_RE_EXPAND_MAX;
}

/* Compiled expressions, per process: under load every message applies
 * the same few NAPTR regexps, and regcomp() costs far more than regexec(). */
#define RE_CACHE_SIZE 16

typedef struct re_cache_slot {
	char ere[NAPTR_RE_MAX];
	int cflags;
	unsigned long used;      /* 0 = empty; else last use, for LRU */
	regex_t re;
} re_cache_slot;

static re_cache_slot re_cache[RE_CACHE_SIZE];
static unsigned long re_cache_clock;

/* the compiled form of ere, or NULL if it does not compile */
static const regex_t *re_cache_get(const char *ere, int cflags)
{
	re_cache_slot *victim = &re_cache[0];
	int i;

	for (i = 0; i < RE_CACHE_SIZE; i++) {
		re_cache_slot *c = &re_cache[i];

		if (c->used && c->cflags == cflags && strcmp(c->ere, ere) == 0) {
			c->used = ++re_cache_clock;
			return &c->re;
		}
		if (c->used < victim->used)
			victim = c;
	}
	if (!ere_cost_ok(ere))
		return NULL;
	if (victim->used) {
		regfree(&victim->re);
		victim->used = 0;
	}
	if (regcomp(&victim->re, ere, cflags) != 0)
		return NULL;
	snprintf(victim->ere, sizeof(victim->ere), "%s", ere);
	victim->cflags = cflags;
	victim->used = ++re_cache_clock;
	return &victim->re;
}

int naptr_apply_regexp(cm_str regexp, const char *aus, char *out, int size)
{
	char ere[NAPTR_RE_MAX];
	const regex_t *re;
	regmatch_t pm[10];
	cm_str repl, flags;
	char delim, c;
	int i, k, d1, d2, cflags, len, ref, n;

	if (!regexp.s || !aus || !out || size <= 0)
		return -1;
	regexp = cm_str_trim(regexp);
	if (regexp.len < 3)
		return -1;
	delim = regexp.s[0];
	if (cm_is_digit(delim) || delim == '\\' || delim == 'i' || delim == '\0')
		return -1;

	/* ERE up to the first unescaped delimiter; "\<delim>" -> delim, the
	 * other escapes are the regexp's own */
	k = 0;
	for (i = 1; i < regexp.len && regexp.s[i] != delim; i++) {
		if (k + 2 >= NAPTR_RE_MAX)
			return -1;
		c = regexp.s[i];
		if (c == '\0')
			return -1;
		if (c == '\\') {
			if (i + 1 >= regexp.len)
				return -1;
			if (regexp.s[i + 1] != delim)
				ere[k++] = c;
			c = regexp.s[++i];
			if (c == '\0')
				return -1;
		}
		ere[k++] = c;
	}
	if (i >= regexp.len || k == 0)
		return -1;
	ere[k] = '\0';
	d1 = i;

	/* replacement up to the next unescaped delimiter */
	for (i = d1 + 1; i < regexp.len && regexp.s[i] != delim; i++)
		if (regexp.s[i] == '\\')
			i++;
	if (i >= regexp.len)
		return -1;
	d2 = i;
	repl.s = regexp.s + d1 + 1;
	repl.len = d2 - d1 - 1;

	/* flags: only "i" is defined */
	cflags = REG_EXTENDED;
	flags = sub(regexp, d2 + 1, regexp.len);
	for (i = 0; i < flags.len; i++) {
		if (flags.s[i] == 'i')
			cflags |= REG_ICASE;
		else
			return -1;
	}

	re = re_cache_get(ere, cflags);
	if (!re || regexec(re, aus, 10, pm, 0) != 0)
		return -1;

	/* RFC 3402: the result is the replacement with its back-references
	 * expanded (as Kamailio's enum module does); ENUM expressions are
	 * anchored, so this equals sed's substitution there */
	len = 0;
	for (i = 0; i < repl.len; i++) {
		c = repl.s[i];
		if (c == '\\') {
			if (i + 1 >= repl.len)
				goto fail;
			c = repl.s[++i];
			if (cm_is_digit(c)) {
				ref = c - '0';
				if (ref > (int)re->re_nsub)
					goto fail;
				if (pm[ref].rm_so < 0)
					continue; /* group did not take part */
				n = (int)(pm[ref].rm_eo - pm[ref].rm_so);
				if (len + n >= size)
					goto fail;
				memcpy(out + len, aus + pm[ref].rm_so, n);
				len += n;
				continue;
			}
			/* "\\", "\<delim>" and any other escaped char: literal */
		}
		if (c == '\0')
			goto fail;
		if (len + 1 >= size)
			goto fail;
		out[len++] = c;
	}
	out[len] = '\0';
	return len;

fail:
	out[0] = '\0';
	return -1;
}

int mailto_split(cm_str uri, cm_str *mailbox, cm_str *domain)
{
	cm_str a;
	int i, at = -1, q;

	if (!mailbox || !domain || !uri.s)
		return -1;
	/* a URI, not a name-addr: only enclosing brackets are dropped */
	a = cm_str_trim(uri);
	if (a.len >= 2 && a.s[0] == '<' && a.s[a.len - 1] == '>')
		a = cm_str_trim(sub(a, 1, a.len - 1));
	if (cm_str_iprefix(a, "mailto:")) {
		a.s += 7;
		a.len -= 7;
	}
	/* hfields ("?subject=...") are not part of the address */
	q = find_chr(a, 0, '?');
	if (q >= 0)
		a.len = q;
	if (a.len <= 0)
		return -1;
	/* the mailbox goes into RCPT TO:<...>: nothing that could break the
	 * SMTP command line or the brackets */
	for (i = 0; i < a.len; i++) {
		unsigned char c = (unsigned char)a.s[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
			return -1;
		if (c == '@')
			at = i;
	}
	if (at <= 0 || at == a.len - 1)
		return -1;
	*mailbox = a;
	domain->s = a.s + at + 1;
	domain->len = a.len - at - 1;
	return 0;
}

/* an IPv4 or IPv6 address (no brackets): AF_INET / AF_INET6, else 0 */
static int ip_family(cm_str h)
{
	char buf[64];
	unsigned char a[16];

	if (h.len <= 0 || h.len >= (int)sizeof(buf))
		return 0;
	memcpy(buf, h.s, h.len);
	buf[h.len] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, buf, a) == 1)
		return AF_INET6;
	return 0;
}

int domain_literal_ip(cm_str domain, char *ip, int size)
{
	cm_str d = cm_str_trim(domain);

	if (!ip || size <= 0 || !d.s)
		return 0;
	if (d.len >= 2 && d.s[0] == '[' && d.s[d.len - 1] == ']') {
		d = sub(d, 1, d.len - 1);
		/* RFC 5321 4.1.3: "[IPv6:...]"; "[v6]" is tolerated */
		if (cm_str_iprefix(d, "IPv6:")) {
			d = sub(d, 5, d.len);
			if (ip_family(d) != AF_INET6)
				return 0;
		}
	}
	if (!ip_family(d) || d.len >= size)
		return 0;
	memcpy(ip, d.s, d.len);
	ip[d.len] = '\0';
	return 1;
}

/* a DNS name as MMSE domain: LDH labels (and '_'), nothing an address or
 * an SMTP command could choke on */
static int dns_name_ok(cm_str h)
{
	int i;

	if (h.len <= 0 || h.s[0] == '.' || h.s[0] == '-')
		return 0;
	for (i = 0; i < h.len; i++) {
		char c = h.s[i];

		if (!cm_is_digit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z')
				&& c != '-' && c != '.' && c != '_')
			return 0;
	}
	return 1;
}

/* "host[:port]" / "[host][:port]" / "[v6][:port]" / "v6": host without
 * brackets, *bracketed if they were there. 0 / -1 */
static int host_port(cm_str hp, char *host, int size, int *port,
		int *bracketed)
{
	int rb;
	cm_str h;

	*bracketed = 0;
	*port = 0;
	if (hp.len > 0 && hp.s[0] == '[') {
		rb = find_chr(hp, 1, ']');
		if (rb < 0)
			return -1;
		h = sub(hp, 1, rb);
		if (cm_str_iprefix(h, "IPv6:")) {
			h = sub(h, 5, h.len);
			if (ip_family(h) != AF_INET6)
				return -1;
		}
		if (rb + 1 < hp.len && (hp.s[rb + 1] != ':'
					|| parse_port(sub(hp, rb + 2, hp.len), port) < 0))
			return -1;
		if (!ip_family(h) && !dns_name_ok(h))
			return -1;
		*bracketed = 1;
	} else {
		if (hostport_split(hp, host, size, port) < 0)
			return -1;
		h = cm_str_z(host);
		if (!ip_family(h) && !dns_name_ok(h))
			return -1;
	}
	if (h.len >= size)
		return -1;
	memmove(host, h.s, h.len);
	host[h.len] = '\0';
	return 0;
}

int static_route_parse(cm_str spec, static_route *out)
{
	char host[STATIC_ROUTE_HOST_MAX];
	cm_str pfx, rest, dom, par;
	int i, arrow = -1, k = 0, semi, port, br, fam;

	if (!out || !spec.s)
		return -1;
	memset(out, 0, sizeof(*out));
	for (i = 0; i + 1 < spec.len; i++)
		if (spec.s[i] == '=' && spec.s[i + 1] == '>') {
			arrow = i;
			break;
		}
	if (arrow < 0)
		return -1;
	pfx = cm_str_trim(sub(spec, 0, arrow));
	rest = cm_str_trim(sub(spec, arrow + 2, spec.len));
	if (pfx.len == 1 && pfx.s[0] == '*') {
		out->prefix[0] = '\0';
	} else {
		i = 0;
		if (pfx.len > 0 && pfx.s[0] == '+')
			i = 1;
		/* E.164 numbers never start with 0: such a prefix never matches */
		if (i >= pfx.len || pfx.s[i] == '0')
			goto fail;
		for (; i < pfx.len; i++) {
			if (!cm_is_digit(pfx.s[i]) || k >= E164_MAX_DIGITS)
				goto fail;
			out->prefix[k++] = pfx.s[i];
		}
		out->prefix[k] = '\0';
	}

	semi = find_chr(rest, 0, ';');
	dom = cm_str_trim(semi < 0 ? rest : sub(rest, 0, semi));
	par = semi < 0 ? sub(rest, rest.len, rest.len) : sub(rest, semi, rest.len);
	/* ";via=host[:port]" is the only parameter */
	if (par.len > 0) {
		if (!cm_str_iprefix(par, ";via="))
			goto fail;
		par = cm_str_trim(sub(par, 5, par.len));
		if (find_chr(par, 0, ';') >= 0
				|| host_port(par, out->via, sizeof(out->via), &out->port,
						&br) < 0)
			goto fail;
		/* "[name]": A/AAAA only (brackets around an IP change nothing) */
		out->via_nomx = br && !ip_family(cm_str_z(out->via));
	}
	if (host_port(dom, host, sizeof(host), &port, &br) < 0)
		goto fail;
	if (br && !ip_family(cm_str_z(host)))
		goto fail; /* brackets in a domain only around an address */
	if (port) {
		/* old "host:port": the next hop was host's MX/A at that port,
		 * which is exactly ";via=host:port" */
		if (par.len > 0)
			goto fail;
		snprintf(out->via, sizeof(out->via), "%s", host);
		out->port = port;
		out->flags |= STATIC_ROUTE_OLD_PORT;
	}
	fam = ip_family(cm_str_z(host));
	if (fam) {
		/* RFC 5321 4.1.3 address literal, not "user@192.0.2.1" (what
		 * an unbracketed IP gave before: worth a note at start-up) */
		if (!br)
			out->flags |= STATIC_ROUTE_IP_DOMAIN;
		if (snprintf(out->domain, sizeof(out->domain),
					fam == AF_INET6 ? "[IPv6:%s]" : "[%s]", host)
				>= (int)sizeof(out->domain))
			goto fail;
	} else {
		snprintf(out->domain, sizeof(out->domain), "%s", host);
	}
	return 0;

fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

int static_route_format(const static_route *r, char *out, int size)
{
	const char *lb = "", *rb = "";
	char port[8] = "";
	int n;

	if (!r || !out || size <= 0)
		return -1;
	if (r->via[0]) {
		if (r->via_nomx || ip_family(cm_str_z(r->via)) == AF_INET6) {
			lb = "[";
			rb = "]";
		}
		if (r->port)
			snprintf(port, sizeof(port), ":%d", r->port);
	}
	n = snprintf(out, size, "%s%s=>%s%s%s%s%s%s", r->prefix[0] ? "+" : "*",
			r->prefix, r->domain, r->via[0] ? ";via=" : "", lb, r->via, rb,
			port);
	if (n < 0 || n >= size)
		return -1;
	return n;
}

int static_route_next(cm_str spec, int *pos, cm_str *route)
{
	int i, start;

	if (!spec.s || !pos || !route)
		return 0;
	i = *pos < 0 ? 0 : *pos;
	while (i < spec.len && (spec.s[i] == ',' || spec.s[i] == ';'
				|| spec.s[i] == ' ' || spec.s[i] == '\t'))
		i++;
	if (i >= spec.len) {
		*pos = spec.len;
		return 0;
	}
	start = i;
	for (; i < spec.len; i++) {
		if (spec.s[i] == ',' || spec.s[i] == ' ' || spec.s[i] == '\t')
			break;
		if (spec.s[i] == ';' && !cm_str_iprefix(sub(spec, i + 1, spec.len),
					"via="))
			break;
	}
	*route = sub(spec, start, i);
	*pos = i;
	return 1;
}

int static_route_match(const static_route *routes, int n, const char *e164)
{
	const char *num;
	int i, best = -1, blen = -1, plen;

	if (!routes || !e164 || n <= 0)
		return -1;
	num = e164[0] == '+' ? e164 + 1 : e164;
	for (i = 0; i < n; i++) {
		plen = (int)strnlen(routes[i].prefix, sizeof(routes[i].prefix));
		if (plen >= (int)sizeof(routes[i].prefix))
			continue; /* not NUL-terminated: not from static_route_parse */
		if (strncmp(num, routes[i].prefix, plen) != 0)
			continue;
		/* first of equally long prefixes wins */
		if (plen > blen) {
			best = i;
			blen = plen;
		}
	}
	return best;
}

static int parse_port(cm_str p, int *port)
{
	int i, v = 0;

	if (p.len <= 0 || p.len > 5)
		return -1;
	for (i = 0; i < p.len; i++) {
		if (!cm_is_digit(p.s[i]))
			return -1;
		v = v * 10 + (p.s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

static int host_ok(cm_str h)
{
	int i;

	if (h.len <= 0)
		return 0;
	for (i = 0; i < h.len; i++) {
		unsigned char c = (unsigned char)h.s[i];

		if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '/'
				|| c == '@' || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

int hostport_split(cm_str hp, char *host, int hostsize, int *port)
{
	cm_str h;
	int p = 0, rb, colon, colon2;

	if (!host || !port || hostsize <= 0 || !hp.s)
		return -1;
	hp = cm_str_trim(hp);
	if (hp.len <= 0)
		return -1;
	if (hp.s[0] == '[') {
		/* "[v6]" or "[v6]:port"; the brackets are dropped */
		rb = find_chr(hp, 1, ']');
		if (rb < 0)
			return -1;
		h = sub(hp, 1, rb);
		if (find_chr(h, 0, ':') < 0)
			return -1;
		if (rb + 1 < hp.len) {
			if (hp.s[rb + 1] != ':'
					|| parse_port(sub(hp, rb + 2, hp.len), &p) < 0)
				return -1;
		}
	} else {
		colon = find_chr(hp, 0, ':');
		colon2 = colon < 0 ? -1 : find_chr(hp, colon + 1, ':');
		if (colon >= 0 && colon2 < 0) {
			h = sub(hp, 0, colon);
			if (parse_port(sub(hp, colon + 1, hp.len), &p) < 0)
				return -1;
		} else {
			/* a name, an IPv4 or a bare IPv6 address without port */
			h = hp;
		}
	}
	if (!host_ok(h) || h.len >= hostsize)
		return -1;
	memcpy(host, h.s, h.len);
	host[h.len] = '\0';
	*port = p;
	return 0;
}
