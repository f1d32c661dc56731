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

/* Recipient or sender number from a URI or name-addr:
 *   tel:+4712345678[;params]            (visual separators - . ( ) removed)
 *   sip:+4712345678@host;user=phone     (also sips:)
 *   sip:+4712345678@host                (user part starting with '+')
 *   "Name" <tel:...> / <sip:...>        (brackets and display name skipped)
 * Local numbers (no '+', tel: with phone-context) are not E.164: -1.
 * On success out holds "+digits" (1 to 15 digits) and 0 is returned. */
int e164_from_uri(cm_str uri, char *out);

/* Number from an MM4 address "+4712345678/TYPE=PLMN@domain", also without
 * '@domain', without '+' (then '+' is added), or in <...>. 0 / -1 */
int e164_from_mm4_address(cm_str addr, char *out);

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

/* 1 for services that route MMS by mailto: "E2U+mms:mailto" (any case) and
 * the legacy spellings "mms+E2U" and "E2U+mms" (no subtype); 0 otherwise */
int naptr_is_mms_mailto(cm_str service);

/* Terminal MMS NAPTRs (flag "u", service per naptr_is_mms_mailto) sorted
 * by order then preference: writes their indices into idx; returns count.
 * Per RFC 3761, once a usable record of some order is found, records of a
 * higher order are not used: only the lowest usable order is returned. */
int naptr_select(const naptr_rr *rrs, int n, int *idx, int max);

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

/* static route "prefix=>host[:port]"; prefix "+4779" or "4779" or "*"
 * (matches everything, lowest priority) */
#define STATIC_ROUTE_HOST_MAX 128
typedef struct static_route {
	char prefix[E164_BUF]; /* digits only, no '+'; "" for "*" */
	char host[STATIC_ROUTE_HOST_MAX];
	int port;              /* 0 = default */
} static_route;

int static_route_parse(cm_str spec, static_route *out); /* 0 / -1 */
/* longest-prefix match of e164 ("+digits"); index or -1 */
int static_route_match(const static_route *routes, int n, const char *e164);

/* "host[:port]" or "[v6]:port" or "ip" -> host and port (port 0 if none);
 * 0 / -1 */
int hostport_split(cm_str hp, char *host, int hostsize, int *port);

#endif
