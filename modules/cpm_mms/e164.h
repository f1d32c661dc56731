/*
 * cpm_mms - E.164 numbers, ENUM names, NAPTR selection and rewriting,
 * static routes.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure: no Kamailio header, no DNS traffic. */
#ifndef CPM_MMS_E164_H
#define CPM_MMS_E164_H

#include "cm_str.h"

#define E164_BUF 20 /* '+', up to 15 digits, NUL, slack */

/* Numbering plan of the IWF's own network, for numbers that arrive in
 * national or international dialling form (what a Kamailio dialplan rule
 * would rewrite): "00" + number -> "+number" (international prefix),
 * "0" + national number -> "+" country code + national number (national,
 * i.e. trunk, prefix; needs the country code). Empty fields: no rule. */
#define E164_PFX_MAX 8
typedef struct e164_plan {
	char intl[E164_PFX_MAX]; /* international prefix, e.g. "00" */
	char natl[E164_PFX_MAX]; /* national (trunk) prefix, e.g. "0" */
	char cc[4];              /* country code, e.g. "47" */
} e164_plan;

/* Checks and fills a plan: prefixes of 1..7 digits, a country code of 1..3
 * digits not starting with 0, the national prefix only with a country
 * code, the two prefixes different. 0 / -1 (*p zeroed on error). */
int e164_plan_init(e164_plan *p, cm_str intl, cm_str natl, cm_str cc);
/* The plan e164_from_uri() and e164_from_mm4_address() apply (copied;
 * NULL: none, the default). Set once before the processes fork. */
void e164_plan_set(const e164_plan *p);

/* A dialled number (digits, optionally a leading '+'; no separators) to
 * E.164: '+' and 1..15 digits, the first of them not 0 (E.164 country codes
 * never start with 0, so "+0..." is refused). Without '+': the plan's
 * international prefix, then its national prefix; a number with neither is
 * taken as global without its '+' if bare_global, else refused. 0 / -1 */
int e164_normalise(cm_str num, const e164_plan *plan, int bare_global,
		char *out);

/* Recipient or sender number from a URI or name-addr:
 *   tel:+4712345678[;params]            (visual separators - . ( ) removed)
 *   sip:+4712345678@host;user=phone     (also sips:)
 *   sip:+4712345678@host                (user part starting with '+')
 *   "Name" <tel:...> / <sip:...>        (brackets and display name skipped)
 * Numbers without '+' (tel:0412345678, sip:0047...@h) go through the plan
 * (bare_global 0): without a rule for them they are not E.164 (-1), nor is
 * a tel: with a phone-context, unless the number is local (no '+') and the
 * context is "+" and the plan's country code (RFC 3966 5.1.5).
 * On success out holds "+digits" (1 to 15 digits) and 0 is returned. */
int e164_from_uri(cm_str uri, char *out);
int e164_from_uri_plan(cm_str uri, const e164_plan *plan, char *out);

/* Number from an MM4 address "+4712345678/TYPE=PLMN@domain", also without
 * '@domain' or in <...>. Without '+' the plan applies with bare_global 1
 * (23.140 addresses are international: "4712345678" is +4712345678; with
 * a national prefix "0", "0412345678" is +<cc>412345678). 0 / -1 */
int e164_from_mm4_address(cm_str addr, char *out);
int e164_from_mm4_address_plan(cm_str addr, const e164_plan *plan,
		char *out);

/* ENUM domain: reversed digits dot-separated + suffix, e.g.
 * "8.7.6.5.4.3.2.1.7.4.e164.arpa" for "+4712345678" and "e164.arpa"
 * (a trailing dot on the suffix is dropped). Returns length or -1. */
int enum_domain(const char *e164, cm_str suffix, char *out, int size);

typedef struct naptr_rr {
	unsigned short order;
	unsigned short pref;
	cm_str flags;
	cm_str service;
	cm_str regexp;
	cm_str replacement;
} naptr_rr;

/* MMS enumservices of a NAPTR service field (RFC 6116 3.4.3 syntax
 * "E2U" 1*("+" type *(":" subtype)), any of the listed enumservices, case-
 * insensitive): NAPTR_MMS_MAILTO for "mms:mailto", NAPTR_MMS_TEL for
 * "mms:tel"; both for the legacy "E2U+mms" (no subtype: the URI scheme
 * tells) and "mms+E2U" (RFC 2916). 0: not for MMS. */
#define NAPTR_MMS_MAILTO 1
#define NAPTR_MMS_TEL 2
int naptr_mms_services(cm_str service);
/* 1 if naptr_mms_services() has NAPTR_MMS_MAILTO */
int naptr_is_mms_mailto(cm_str service);

/* Terminal MMS NAPTRs (flag "u", an MMS service, a regexp) sorted by order
 * then preference (stable): writes their indices into idx, the best max
 * ones if there are more; returns the count. */
int naptr_select(const naptr_rr *rrs, int n, int *idx, int max);

/* The rules of one NAPTR answer in the order RFC 3403 4.1 / RFC 3402 use
 * them: by order, then preference; a rule whose regexp does not match the
 * application string (or does not compile) is passed over and does not
 * count; the first that matches settles the order: after it only rules of
 * that same order are offered (for failover), never a higher order. */
#define NAPTR_WALK_MAX 16
typedef struct naptr_walk {
	const naptr_rr *rrs;
	int idx[NAPTR_WALK_MAX];
	int n;
	int pos;
	int settled;      /* order settled by a matching rule, -1 none yet */
} naptr_walk;

void naptr_walk_init(naptr_walk *w, const naptr_rr *rrs, int n);
/* Next matching rule: its rewritten URI in out, *kind NAPTR_MMS_MAILTO
 * ("mailto:" or scheme-less result of a mailto service), NAPTR_MMS_TEL
 * ("tel:" result of a tel service) or 0 (matched, but the result is not
 * of a kind its service allows: the caller skips it). Returns the rule's
 * index in rrs, -1 when none is left. */
int naptr_walk_next(naptr_walk *w, const char *aus, char *out, int size,
		int *kind);

/* Apply an RFC 3402 substitution expression ("!^\\+?(.*)$!mailto:+\\1@x!",
 * any delimiter that is not a digit, backslash or flag; flag "i" allowed)
 * to the application string (the E.164 with '+'). Extended POSIX regexp,
 * backrefs \0..\9 in the replacement, \\ and \<delim> escapes.
 * Returns the result length, or -1 (bad expression / no match / too long). */
int naptr_apply_regexp(cm_str regexp, const char *aus, char *out, int size);

/* From "mailto:+4712345678/TYPE=PLMN@mms.example.net" (scheme optional,
 * any case): mailbox = whole address after "mailto:", domain = after the
 * last '@'. 0 / -1 */
int mailto_split(cm_str uri, cm_str *mailbox, cm_str *domain);

/* Static route "prefix=>mmse-domain[;via=host[:port]]"; prefix "+4779" or
 * "4779" or "*" (matches everything, lowest priority). The MMSE domain goes
 * into the recipient address (an IP address as an RFC 5321 literal
 * "[192.0.2.1]" / "[IPv6:2001:db8::1]"); the mail goes to via when given
 * (as Postfix's nexthop: "host" MX then A/AAAA, "[host]" A/AAAA only, an
 * IP address as is), else to the domain's MX, else A/AAAA (an IP literal
 * as is). The old "prefix=>host:port" is read as "prefix=>host" with the
 * port applied to the hosts found, as before (STATIC_ROUTE_OLD_PORT). */
#define STATIC_ROUTE_HOST_MAX 128
#define STATIC_ROUTE_OLD_PORT 1  /* old "host:port" form: deprecated */
#define STATIC_ROUTE_IP_DOMAIN 2 /* domain is an IP (was "@ip", now "@[ip]") */
typedef struct static_route {
	char prefix[E164_BUF]; /* digits only, no '+'; "" for "*" */
	char domain[STATIC_ROUTE_HOST_MAX]; /* as written in addresses */
	char via[STATIC_ROUTE_HOST_MAX];    /* next hop, "" = the domain's */
	int via_nomx;          /* via was "[host]": no MX lookup */
	int port;              /* 0 = default */
	int flags;             /* STATIC_ROUTE_* notes for the log */
} static_route;

int static_route_parse(cm_str spec, static_route *out); /* 0 / -1 */
/* longest-prefix match of e164 ("+digits"); index or -1 */
int static_route_match(const static_route *routes, int n, const char *e164);
/* the route in the new form, for logs and RPC; length or -1 */
int static_route_format(const static_route *r, char *out, int size);
/* Next route of a modparam value: routes are separated by ',', ' ' or
 * ';', except the ';' that starts a route's ";via=". *pos advances;
 * returns 1 with *route set, 0 at the end. */
int static_route_next(cm_str spec, int *pos, cm_str *route);

/* An SMTP domain that is an address literal ("[192.0.2.1]",
 * "[IPv6:2001:db8::1]", also "[2001:db8::1]" and a bare IPv4/IPv6
 * address): 1 and the address in ip; else 0. */
int domain_literal_ip(cm_str domain, char *ip, int size);

/* "host[:port]" or "[v6]:port" or "ip" -> host and port (port 0 if none);
 * 0 / -1 */
int hostport_split(cm_str hp, char *host, int hostsize, int *port);

#endif
