/*
 * cpm_mms - the CPM <-> MM4 mapping tables (seed Table 1 and the proposed
 * Tables 2-5 of ../shared/spec/CPM_MMS_MAPPING.md). Every mapping decision
 * of the module lives here, so the tables can be read in one place.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure: no Kamailio header. Each table is a static const array of rows
 * named after the table (and row) of CPM_MMS_MAPPING.md it implements;
 * documentation can be generated from them. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mapping.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------------ */
/* SIP reason phrases (RFC 3261 sec. 21, RFC 3428 202)                     */
/* ------------------------------------------------------------------ */

typedef struct sip_phrase_row {
	int code;
	const char *reason;
} sip_phrase_row;

static const sip_phrase_row sip_phrases[] = {
	{200, "OK"},
	{202, "Accepted"},
	{400, "Bad Request"},
	{401, "Unauthorized"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{407, "Proxy Authentication Required"},
	{408, "Request Timeout"},
	{410, "Gone"},
	{413, "Request Entity Too Large"},
	{415, "Unsupported Media Type"},
	{480, "Temporarily Unavailable"},
	{484, "Address Incomplete"},
	{486, "Busy Here"},
	{488, "Not Acceptable Here"},
	{500, "Server Internal Error"},
	{501, "Not Implemented"},
	{503, "Service Unavailable"},
	{504, "Server Time-out"},
	{603, "Decline"},
	{604, "Does Not Exist Anywhere"},
	{606, "Not Acceptable"},
};

static const char *sip_reason(int code)
{
	int i;

	for (i = 0; i < ARRAY_LEN(sip_phrases); i++)
		if (sip_phrases[i].code == code)
			return sip_phrases[i].reason;
	return "Server Internal Error";
}

static void sip_status(int code, map_sip_status *out)
{
	out->code = code;
	out->reason = sip_reason(code);
}

/* ------------------------------------------------------------------ */
/* Table 1 rows with values                                            */
/* ------------------------------------------------------------------ */

typedef struct token_row {
	const char *from;
	const char *to;
} token_row;

/* Table 1, row Priority -> X-Mms-Priority (values proposed) */
static const token_row t1_priority[] = {
	{"non-urgent", "Low"},
	{"normal", "Normal"},
	{"urgent", "High"},
	{"emergency", "High"},
};

/* Table 4, row X-Mms-Priority -> Priority (reverse of Table 1) */
static const token_row t4_priority[] = {
	{"Low", "non-urgent"},
	{"Normal", "normal"},
	{"High", "urgent"},
};

/* Table 1, row Content-Type: payloads that are not user content and are
 * never sent on MM4 -> 415 (Table 3b "Body type not convertible") */
static const char *const t1_refused_types[] = {
	"message/cpim",                   /* CPIM must be unwrapped once only */
	"message/imdn+xml",               /* an IMDN: not ours to forward */
	"application/im-iscomposing+xml", /* RFC 3994 typing indication */
};

/* Table 1, the rows with fixed values and defaults */
static const struct t1_fixed {
	const char *message_class;   /* X-Mms-Message-Class (proposed) */
	int ack_request;             /* X-Mms-Ack-Request: Yes, always */
	int forward_counter;         /* without Max-Forwards */
	int max_forwards_base;       /* Forward-Counter = base - Max-Forwards */
	const char *default_type;    /* payload without Content-Type */
	int dr_bits;                 /* Disposition-Notification -> DR Yes */
	int rr_bits;                 /* Disposition-Notification -> RR Yes */
} t1 = {
	"Personal",
	1,
	1,
	70,
	"text/plain;charset=utf-8",
	CPIM_DN_POSITIVE_DELIVERY | CPIM_DN_NEGATIVE_DELIVERY,
	CPIM_DN_DISPLAY,
};

/* RFC 5365 URI-list part of a multipart/mixed MESSAGE body */
#define RESOURCE_LISTS_TYPE "application/resource-lists+xml"
#define MAP_RL_MAX 128

/* ------------------------------------------------------------------ */
/* Table 2 / Table 3: X-Mms-Request-Status-Code -> SIP                 */
/* ------------------------------------------------------------------ */

typedef struct res_status_row {
	const char *token;  /* exact token, or a prefix when prefix is set */
	int prefix;
	int code;
	int size_code;      /* if status text talks about size: this code */
} res_status_row;

/* exact rows first: they are searched before the prefix rows */
static const res_status_row t3_res_status[] = {
	/* Table 2 */
	{"Ok", 0, 200, 0},
	/* Table 3, classic codes */
	{"Error-unspecified", 0, 500, 0},
	{"Error-service-denied", 0, 403, 0},
	{"Error-message-format-corrupt", 0, 400, 0},
	{"Error-sending-address-unresolved", 0, 404, 0},
	{"Error-message-not-found", 0, 500, 0},
	{"Error-network-problem", 0, 503, 0},
	{"Error-content-not-accepted", 0, 415, 413},
	{"Error-unsupported-message", 0, 501, 0},
	/* Table 3, MMS_ENC 1.1+ graded codes */
	{"Error-transient-network-problem", 0, 503, 0},
	{"Error-permanent-service-denied", 0, 403, 0},
	{"Error-permanent-sending-address-unresolved", 0, 404, 0},
	{"Error-permanent-content-not-accepted", 0, 415, 413},
	{"Error-permanent-message-format-corrupt", 0, 400, 0},
	/* Table 3, classes */
	{"Error-transient-", 1, 480, 0},
	{"Error-permanent-", 1, 500, 0},
};

/* Table 3, row "unknown token" */
#define T3_UNKNOWN_CODE 500

/* words of X-Mms-Status-Text that make a content refusal a size one */
static const char *const t3_size_words[] = {"size", "large", "big"};

static int ci_contains(cm_str hay, const char *needle)
{
	int n = (int)strlen(needle), i;
	cm_str w;

	for (i = 0; i + n <= hay.len; i++) {
		w.s = hay.s + i;
		w.len = n;
		if (cm_str_ieqz(w, needle))
			return 1;
	}
	return 0;
}

void map_res_status_to_sip(cm_str token, cm_str status_text,
		map_sip_status *out)
{
	const res_status_row *row = NULL;
	int i, code = T3_UNKNOWN_CODE;

	if (!out)
		return;
	token = cm_str_trim(token);
	for (i = 0; i < ARRAY_LEN(t3_res_status) && !row; i++)
		if (!t3_res_status[i].prefix
				&& cm_str_ieqz(token, t3_res_status[i].token))
			row = &t3_res_status[i];
	for (i = 0; i < ARRAY_LEN(t3_res_status) && !row; i++)
		if (t3_res_status[i].prefix
				&& cm_str_iprefix(token, t3_res_status[i].token))
			row = &t3_res_status[i];
	if (row) {
		code = row->code;
		if (row->size_code) {
			status_text = cm_str_trim(status_text);
			for (i = 0; i < ARRAY_LEN(t3_size_words); i++)
				if (ci_contains(status_text, t3_size_words[i]))
					code = row->size_code;
		}
	}
	sip_status(code, out);
}

/* ------------------------------------------------------------------ */
/* Table 3b: IWF-local failures                                         */
/* ------------------------------------------------------------------ */

typedef struct local_failure_row {
	map_local_failure lf;
	int code;           /* MAP_TIMEOUT_202 mode */
	int strict_code;    /* MAP_TIMEOUT_504 mode */
} local_failure_row;

static const local_failure_row t3b_local[] = {
	{MAP_LF_NOT_E164, 404, 404},          /* recipient not E.164 */
	{MAP_LF_SHORT_NUMBER, 484, 484},      /* ... short number */
	{MAP_LF_NO_MMS_ROUTE, 404, 404},      /* ENUM NXDOMAIN / no NAPTR */
	{MAP_LF_DNS_TEMP, 503, 503},          /* DNS SERVFAIL / timeout */
	{MAP_LF_NO_HOST, 503, 503},           /* no MX/A, all unreachable */
	{MAP_LF_SMTP_TEMP, 503, 503},         /* SMTP 4xx (452 too) */
	{MAP_LF_SMTP_RCPT_UNKNOWN, 404, 404}, /* SMTP 550/551/553 */
	{MAP_LF_SMTP_SIZE, 413, 413},         /* SMTP 552 */
	{MAP_LF_SMTP_POLICY, 403, 403},       /* SMTP 554 */
	{MAP_LF_SMTP_PERM, 500, 500},         /* other SMTP 5xx */
	{MAP_LF_CONTENT_TYPE, 415, 415},      /* body type not convertible */
	{MAP_LF_TOO_LARGE, 413, 413},         /* over the MMS size limit */
	{MAP_LF_TIMEOUT, 202, 504},           /* no RES within res_wait */
	{MAP_LF_OVERLOAD, 503, 503},          /* IWF overload */
	{MAP_LF_INTERNAL, 500, 500},
};

void map_local_failure_to_sip(map_local_failure lf, int timeout_mode,
		map_sip_status *out)
{
	int i;

	if (!out)
		return;
	for (i = 0; i < ARRAY_LEN(t3b_local); i++) {
		if (t3b_local[i].lf == lf) {
			sip_status(timeout_mode == MAP_TIMEOUT_504
					? t3b_local[i].strict_code : t3b_local[i].code, out);
			return;
		}
	}
	sip_status(500, out);
}

typedef struct smtp_code_row {
	int lo, hi;
	map_local_failure lf;
} smtp_code_row;

/* Table 3b, SMTP rows: reply at MAIL/RCPT/DATA -> local failure; first
 * matching row wins */
static const smtp_code_row t3b_smtp[] = {
	{550, 551, MAP_LF_SMTP_RCPT_UNKNOWN},
	{553, 553, MAP_LF_SMTP_RCPT_UNKNOWN},
	{552, 552, MAP_LF_SMTP_SIZE},
	{554, 554, MAP_LF_SMTP_POLICY},
	{400, 499, MAP_LF_SMTP_TEMP},
	{500, 599, MAP_LF_SMTP_PERM},
	/* no reply (0) or no SMTP error: the connection failed */
	{-2147483647 - 1, 399, MAP_LF_NO_HOST},
};

map_local_failure map_smtp_code(int smtp_code)
{
	int i;

	for (i = 0; i < ARRAY_LEN(t3b_smtp); i++)
		if (smtp_code >= t3b_smtp[i].lo && smtp_code <= t3b_smtp[i].hi)
			return t3b_smtp[i].lf;
	return MAP_LF_SMTP_PERM; /* not a valid SMTP code: a permanent error */
}

int map_sip_rank(int code)
{
	/* the class decides; ties keep the first answer (caller uses >) */
	if (code < 100 || code > 699)
		return 5; /* garbage counts as a server failure */
	return code / 100;
}

/* ------------------------------------------------------------------ */
/* Table 5: SIP final response -> X-Mms-Request-Status-Code             */
/* ------------------------------------------------------------------ */

typedef struct sip_res_row {
	int lo, hi;
	const char *status;
} sip_res_row;

static const sip_res_row t5_sip_to_res[] = {
	{200, 299, "Ok"},                               /* 200, 202 */
	{400, 400, "Error-message-format-corrupt"},
	{401, 401, "Error-unspecified"},
	{407, 407, "Error-unspecified"},
	{403, 403, "Error-service-denied"},
	{603, 603, "Error-service-denied"},
	{404, 404, "Error-sending-address-unresolved"},
	{410, 410, "Error-sending-address-unresolved"},
	{484, 484, "Error-sending-address-unresolved"},
	{604, 604, "Error-sending-address-unresolved"},
	{405, 405, "Error-unsupported-message"},
	{501, 501, "Error-unsupported-message"},
	{413, 413, "Error-content-not-accepted"},
	{415, 415, "Error-content-not-accepted"},
	{488, 488, "Error-content-not-accepted"},
	{606, 606, "Error-content-not-accepted"},
	/* 408/480/486: option (a) of the note, the MMSC retries */
	{408, 408, "Error-network-problem"},
	{480, 480, "Error-network-problem"},
	{486, 486, "Error-network-problem"},
	{500, 500, "Error-network-problem"},
	{503, 504, "Error-network-problem"},
	{0, 0, "Error-network-problem"},                /* no response */
};

/* Table 5, row "any other" */
#define T5_OTHER "Error-unspecified"

const char *map_sip_to_res_status(int sip_code)
{
	int i;

	for (i = 0; i < ARRAY_LEN(t5_sip_to_res); i++)
		if (sip_code >= t5_sip_to_res[i].lo && sip_code <= t5_sip_to_res[i].hi)
			return t5_sip_to_res[i].status;
	return T5_OTHER;
}

/* ------------------------------------------------------------------ */
/* single rows                                                         */
/* ------------------------------------------------------------------ */

static cm_str token_map(const token_row *rows, int n, cm_str v)
{
	cm_str none = {NULL, 0};
	int i;

	v = cm_str_trim(v);
	for (i = 0; i < n; i++)
		if (cm_str_ieqz(v, rows[i].from))
			return cm_str_z(rows[i].to);
	return none;
}

cm_str map_priority_cpm_to_mm4(cm_str prio)
{
	return token_map(t1_priority, ARRAY_LEN(t1_priority), prio);
}

cm_str map_priority_mm4_to_cpm(cm_str prio)
{
	return token_map(t4_priority, ARRAY_LEN(t4_priority), prio);
}

/* Table 1, row Max-Forwards -> X-Mms-Forward-Counter (formula proposed) */
int map_forward_counter(int max_forwards)
{
	int fc;

	if (max_forwards < 0 || max_forwards >= t1.max_forwards_base)
		return 1;
	fc = t1.max_forwards_base - max_forwards;
	return fc < 1 ? 1 : fc;
}

/* Table 4, row X-Mms-Forward-Counter -> Max-Forwards */
int map_max_forwards(int forward_counter)
{
	int mf;

	if (forward_counter <= 0)
		return t1.max_forwards_base;
	if (forward_counter >= t1.max_forwards_base)
		return 1;
	mf = t1.max_forwards_base - forward_counter;
	return mf < 1 ? 1 : mf;
}

/* ------------------------------------------------------------------ */
/* dates                                                               */
/* ------------------------------------------------------------------ */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* exactly n digits at *i */
static int get_digits(cm_str v, int *i, int n, int *val)
{
	int k, x = 0;

	if (*i + n > v.len)
		return -1;
	for (k = 0; k < n; k++) {
		if (!is_digit(v.s[*i + k]))
			return -1;
		x = x * 10 + (v.s[*i + k] - '0');
	}
	*i += n;
	*val = x;
	return 0;
}

static int expect(cm_str v, int *i, char c)
{
	if (*i >= v.len || v.s[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_datetime(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31};
	int md;

	if (y < 1000 || y > 9999 || mo < 1 || mo > 12 || d < 1)
		return 0;
	md = mdays[mo - 1] + (mo == 2 && leap(y));
	if (d > md || h > 23 || mi > 59 || s > 60)
		return 0;
	return 1;
}

static int make_time(int y, int mo, int d, int h, int mi, int s, int off,
		time_t *t)
{
	struct tm tm;
	time_t r;

	if (!valid_datetime(y, mo, d, h, mi, s))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s; /* a leap second 60 rolls over, as timegm does */
	r = timegm(&tm);
	*t = r - off;
	return 0;
}

int map_parse_iso8601(cm_str v, time_t *t)
{
	int i = 0, y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, oh = 0, om = 0;
	int off = 0, sign;

	if (!t || !v.s)
		return -1;
	v = cm_str_trim(v);
	if (get_digits(v, &i, 4, &y) < 0 || expect(v, &i, '-') < 0
			|| get_digits(v, &i, 2, &mo) < 0 || expect(v, &i, '-') < 0
			|| get_digits(v, &i, 2, &d) < 0)
		return -1;
	/* RFC 3339 allows 't' and, as a note, a space */
	if (i >= v.len || (v.s[i] != 'T' && v.s[i] != 't' && v.s[i] != ' '))
		return -1;
	i++;
	if (get_digits(v, &i, 2, &h) < 0 || expect(v, &i, ':') < 0
			|| get_digits(v, &i, 2, &mi) < 0)
		return -1;
	if (i < v.len && v.s[i] == ':') {
		i++;
		if (get_digits(v, &i, 2, &s) < 0)
			return -1;
		if (i < v.len && (v.s[i] == '.' || v.s[i] == ',')) {
			i++;
			if (i >= v.len || !is_digit(v.s[i]))
				return -1;
			while (i < v.len && is_digit(v.s[i]))
				i++; /* fractions are dropped */
		}
	}
	if (i < v.len && (v.s[i] == 'Z' || v.s[i] == 'z')) {
		i++;
	} else if (i < v.len && (v.s[i] == '+' || v.s[i] == '-')) {
		sign = v.s[i] == '-' ? -1 : 1;
		i++;
		if (get_digits(v, &i, 2, &oh) < 0)
			return -1;
		if (i < v.len && v.s[i] == ':')
			i++;
		if (i < v.len && get_digits(v, &i, 2, &om) < 0)
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	/* no zone at all: taken as UTC */
	if (i != v.len)
		return -1;
	return make_time(y, mo, d, h, mi, s, off, t);
}

/* skip FWS and (nested) comments; i > v.len after an unclosed one */
static void skip_cfws(cm_str v, int *i)
{
	int depth;

	while (*i < v.len) {
		if (v.s[*i] == ' ' || v.s[*i] == '\t' || v.s[*i] == '\r'
				|| v.s[*i] == '\n') {
			(*i)++;
		} else if (v.s[*i] == '(') {
			depth = 0;
			while (*i < v.len) {
				if (v.s[*i] == '\\' && *i + 1 < v.len)
					(*i)++;
				else if (v.s[*i] == '(')
					depth++;
				else if (v.s[*i] == ')' && --depth == 0)
					break;
				(*i)++;
			}
			if (*i >= v.len) {
				/* unclosed comment: park past the end so that every
				 * later step of the parser fails */
				*i = v.len + 1;
				return;
			}
			(*i)++;
		} else {
			break;
		}
	}
}

static cm_str get_word(cm_str v, int *i)
{
	cm_str w;

	w.s = v.s + (*i < v.len ? *i : v.len);
	w.len = 0;
	while (*i < v.len && is_alpha(v.s[*i])) {
		(*i)++;
		w.len++;
	}
	return w;
}

/* 1 to max digits */
static int get_number(cm_str v, int *i, int max, int *val, int *ndig)
{
	int n = 0, x = 0;

	while (*i < v.len && is_digit(v.s[*i]) && n < max) {
		x = x * 10 + (v.s[*i] - '0');
		(*i)++;
		n++;
	}
	if (n == 0 || (*i < v.len && is_digit(v.s[*i])))
		return -1;
	*val = x;
	if (ndig)
		*ndig = n;
	return 0;
}

static const char *const rfc5322_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri",
	"Sat", "Sun"};
static const char *const rfc5322_days_long[] = {"Monday", "Tuesday",
	"Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
static const char *const rfc5322_months[] = {"Jan", "Feb", "Mar", "Apr",
	"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

typedef struct zone_row {
	const char *name;
	int minutes;
} zone_row;

/* RFC 5322 sec. 4.3 obs-zone, plus "UTC" and "Z" seen in the wild */
static const zone_row rfc5322_zones[] = {
	{"UT", 0}, {"GMT", 0}, {"UTC", 0}, {"Z", 0},
	{"EST", -300}, {"EDT", -240}, {"CST", -360}, {"CDT", -300},
	{"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420},
};

int map_parse_rfc5322_date(cm_str v, time_t *t)
{
	int i = 0, k, d = 0, mo = 0, y = 0, ny = 0, h = 0, mi = 0, s = 0, off = 0;
	int zh = 0, zm = 0, sign;
	cm_str w;

	if (!t || !v.s)
		return -1;
	skip_cfws(v, &i);
	if (i < v.len && is_alpha(v.s[i])) {
		w = get_word(v, &i);
		for (k = 0; k < 7; k++)
			if (cm_str_ieqz(w, rfc5322_days[k])
					|| cm_str_ieqz(w, rfc5322_days_long[k]))
				break;
		if (k == 7)
			return -1;
		skip_cfws(v, &i);
		if (expect(v, &i, ',') < 0)
			return -1;
		skip_cfws(v, &i);
	}
	if (get_number(v, &i, 2, &d, NULL) < 0)
		return -1;
	skip_cfws(v, &i);
	w = get_word(v, &i);
	for (k = 0; k < 12; k++)
		if (cm_str_ieqz(w, rfc5322_months[k]))
			mo = k + 1;
	if (!mo)
		return -1;
	skip_cfws(v, &i);
	if (get_number(v, &i, 4, &y, &ny) < 0 || ny < 2)
		return -1;
	/* RFC 5322 sec. 4.3 obsolete years */
	if (ny == 2)
		y += y < 50 ? 2000 : 1900;
	else if (ny == 3)
		y += 1900;
	skip_cfws(v, &i);
	if (get_number(v, &i, 2, &h, NULL) < 0)
		return -1;
	skip_cfws(v, &i);
	if (expect(v, &i, ':') < 0)
		return -1;
	skip_cfws(v, &i);
	if (get_number(v, &i, 2, &mi, NULL) < 0)
		return -1;
	skip_cfws(v, &i);
	if (i < v.len && v.s[i] == ':') {
		i++;
		skip_cfws(v, &i);
		if (get_number(v, &i, 2, &s, NULL) < 0)
			return -1;
		skip_cfws(v, &i);
	}
	if (i < v.len && (v.s[i] == '+' || v.s[i] == '-')) {
		sign = v.s[i] == '-' ? -1 : 1;
		i++;
		if (get_digits(v, &i, 2, &zh) < 0 || get_digits(v, &i, 2, &zm) < 0
				|| zm > 59)
			return -1;
		off = sign * (zh * 3600 + zm * 60);
	} else if (i < v.len && is_alpha(v.s[i])) {
		w = get_word(v, &i);
		for (k = 0; k < ARRAY_LEN(rfc5322_zones); k++)
			if (cm_str_ieqz(w, rfc5322_zones[k].name))
				break;
		if (k < ARRAY_LEN(rfc5322_zones))
			off = rfc5322_zones[k].minutes * 60;
		else if (w.len != 1 || w.s[0] == 'j' || w.s[0] == 'J')
			return -1;
		/* military zones: "equivalent to -0000" (RFC 5322 sec. 4.3) */
	}
	/* a missing zone is taken as UTC */
	skip_cfws(v, &i);
	if (i != v.len)
		return -1;
	return make_time(y, mo, d, h, mi, s, off, t);
}

int map_format_iso8601(time_t t, char *out)
{
	struct tm tm;
	size_t n;

	if (!out)
		return 0;
	if (!gmtime_r(&t, &tm)) {
		out[0] = '\0';
		return 0;
	}
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (n == 0)
		out[0] = '\0';
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* Table 1, row Display-name Anonymous / Privacy -> Sender-Visibility  */
/* ------------------------------------------------------------------ */

/* RFC 3323 priv-values that hide the sender's identity */
static const char *const t1_privacy_hide[] = {"id", "header"};
/* display name asking for anonymity (seed Table 1) */
#define T1_ANONYMOUS "Anonymous"

int map_sender_hidden(cm_str from, cm_str privacy)
{
	cm_str disp = {NULL, 0}, uri, tok;
	int i, start, k;

	from = cm_str_trim(from);
	if (from.len > 0 && cpim_split_addr(from, &disp, &uri) == 0
			&& cm_str_ieqz(cm_str_trim(disp), T1_ANONYMOUS))
		return 1;
	/* priv-value *(";" priv-value); a comma joins header instances */
	privacy = cm_str_trim(privacy);
	start = 0;
	for (i = 0; i <= privacy.len; i++) {
		if (i < privacy.len && privacy.s[i] != ';' && privacy.s[i] != ',')
			continue;
		tok.s = privacy.s + start;
		tok.len = i - start;
		tok = cm_str_trim(tok);
		for (k = 0; k < ARRAY_LEN(t1_privacy_hide); k++)
			if (cm_str_ieqz(tok, t1_privacy_hide[k]))
				return 1;
		start = i + 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Table 1: SIP MESSAGE -> MM4_forward.REQ                              */
/* ------------------------------------------------------------------ */

static int map_fail(map_result *out, int code)
{
	out->sip_code = code;
	out->sip_reason = sip_reason(code);
	return -1;
}

static int ct_is(cm_str ct, const char *type)
{
	ct = cm_str_trim(ct);
	if (ct.len <= 0)
		return 0;
	return cm_str_ieqz(cm_str_trim(mime_ct_type(ct)), type);
}

/* value of a header in a raw MIME header block (first line only) */
static cm_str block_header(cm_str block, const char *name)
{
	cm_str none = {NULL, 0}, line, v;
	int i = 0, end, n = (int)strlen(name);

	while (i < block.len) {
		for (end = i; end < block.len && block.s[end] != '\n'; end++)
			;
		line.s = block.s + i;
		line.len = end - i;
		if (line.len > n && cm_str_iprefix(line, name)) {
			v.s = line.s + n;
			v.len = line.len - n;
			v = cm_str_trim(v);
			if (v.len > 0 && v.s[0] == ':') {
				v.s++;
				v.len--;
				return cm_str_trim(v);
			}
		}
		i = end + 1;
	}
	return none;
}

/* digits only (visual separators allowed), no '+', fewer than 8 digits:
 * a local/short number -> 484 instead of 404 (Table 3b) */
static int looks_short(cm_str uri)
{
	cm_str disp, a, user;
	int i, nd = 0;
	char c;

	if (cpim_split_addr(uri, &disp, &a) < 0)
		a = uri;
	a = cm_str_trim(a);
	user = a;
	if (cm_str_iprefix(a, "tel:")) {
		user.s += 4;
		user.len -= 4;
	} else if (cm_str_iprefix(a, "sip:") || cm_str_iprefix(a, "sips:")) {
		i = a.s[3] == ':' ? 4 : 5;
		user.s = a.s + i;
		user.len = a.len - i;
		for (i = 0; i < user.len && user.s[i] != '@'; i++)
			;
		if (i >= user.len)
			return 0;
		user.len = i;
	}
	for (i = 0; i < user.len; i++) {
		c = user.s[i];
		if (c == ';' || c == ':')
			break;
		if (is_digit(c))
			nd++;
		else if (c != '-' && c != '.' && c != '(' && c != ')')
			return 0;
	}
	return nd > 0 && nd < 8;
}

static int rcpt_add(map_result *out, const char *e164, int max)
{
	int i;

	for (i = 0; i < out->nrcpt; i++)
		if (strcmp(out->rcpt_e164[i], e164) == 0)
			return 0; /* de-duplicated by E.164 */
	if (out->nrcpt >= max)
		return -1;
	memcpy(out->rcpt_e164[out->nrcpt], e164, E164_BUF);
	out->nrcpt++;
	return 0;
}

/* Table 1, row CPIM imdn.Message-ID -> X-Mms-Message-ID: only ids made
 * of these survive quoting and can be looked up again in reports */
static int id_safe(cm_str id)
{
	int i;
	char c;

	if (id.len <= 0)
		return 0;
	for (i = 0; i < id.len; i++) {
		c = id.s[i];
		if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '_' && c != '-'
				&& c != '+' && c != '=')
			return 0;
	}
	return 1;
}

/* RFC 5322 atext and '.', for the glue's unique token */
static int atext_dot(cm_str s)
{
	int i;
	unsigned char c;

	if (s.len <= 0)
		return 0;
	for (i = 0; i < s.len; i++) {
		c = (unsigned char)s.s[i];
		if (c <= ' ' || c >= 0x7f || strchr("()<>[]:;@\\,\"", c))
			return 0;
	}
	return 1;
}

typedef struct payload {
	cm_str content_type;
	cm_str cte;
	cm_str body;
	cm_str cpim;          /* message/cpim to parse, if any */
	cm_str resource_list; /* RFC 5365 URI list, if any */
} payload;

/* Table 1, rows Content-Type and SIP body / CPIM payload: find what is
 * carried (SIP body, CPIM payload, or the message part of a URI-list
 * request). Returns 0 or a SIP code. */
static int find_payload(const cpm_request *in, payload *p)
{
	mime_part parts[MIME_MAX_PARTS];
	cm_str ct = cm_str_trim(in->content_type), boundary;
	int n, i, msg = -1, cpim = -1, rl = -1;

	memset(p, 0, sizeof(*p));
	if (ct_is(ct, "message/cpim")) {
		p->cpim = in->body;
		return 0;
	}
	if (ct_is(ct, "multipart/mixed")) {
		boundary = mime_ct_param(ct, "boundary");
		if (boundary.len <= 0)
			return 400;
		n = mime_split(in->body, boundary, parts, MIME_MAX_PARTS);
		if (n < 0)
			return 400;
		for (i = 0; i < n; i++) {
			if (ct_is(parts[i].content_type, RESOURCE_LISTS_TYPE)) {
				if (rl < 0)
					rl = i;
			} else {
				if (msg < 0)
					msg = i;
				if (cpim < 0 && ct_is(parts[i].content_type, "message/cpim"))
					cpim = i;
			}
		}
		/* RFC 5365 URI-list request: a list part plus the message */
		if (rl >= 0) {
			p->resource_list = parts[rl].body;
			if (cpim >= 0) {
				p->cpim = parts[cpim].body;
				return 0;
			}
			if (msg < 0)
				return 400;
			p->content_type = parts[msg].content_type;
			p->cte = block_header(parts[msg].headers,
					"Content-Transfer-Encoding");
			p->body = parts[msg].body;
			return 0;
		}
		/* else an ordinary multipart message, kept whole */
	}
	p->content_type = ct;
	p->body = in->body;
	return 0;
}

int map_cpm_to_mm4(const cpm_request *in, const map_config *cfg,
		cm_str unique, time_t now, map_result *out)
{
	cm_str rl[MAP_RL_MAX];
	char e164[E164_BUF];
	payload p;
	mm4_forward_req *r;
	cm_str none = {NULL, 0}, ptype, subject, sender_src[3], imid;
	int code, i, k, n, max, len, ruri_ok, have_sender = 0;
	time_t t;

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!in || !cfg)
		return map_fail(out, 500);
	r = &out->req;

	/* body: SIP body, CPIM payload or the URI-list message part */
	code = find_payload(in, &p);
	if (code)
		return map_fail(out, code);
	if (p.cpim.s || ct_is(in->content_type, "message/cpim")) {
		if (!p.cpim.s || p.cpim.len <= 0
				|| cpim_parse(p.cpim.s, p.cpim.len, &out->cpim) != CPIM_OK)
			return map_fail(out, 400);
		out->is_cpim = 1;
		p.content_type = out->cpim.content_type;
		p.cte = out->cpim.content_transfer_encoding;
		p.body = out->cpim.body;
	}
	p.content_type = cm_str_trim(p.content_type);
	ptype = mime_ct_type(p.content_type);
	for (i = 0; i < ARRAY_LEN(t1_refused_types); i++)
		if (cm_str_ieqz(cm_str_trim(ptype), t1_refused_types[i]))
			return map_fail(out, 415);
	if (p.content_type.len <= 0)
		p.content_type = cm_str_z(t1.default_type);
	if (cfg->max_message_size > 0 && p.body.len > cfg->max_message_size)
		return map_fail(out, 413);
	/* content the MM4 writer cannot carry is refused now, not in a worker */
	if (mm4_check_content(p.content_type, p.cte, p.body) < 0)
		return map_fail(out, 415);

	/* recipients: Request-URI, URI list, CPIM To/cc */
	max = cfg->max_recipients;
	if (max <= 0 || max > MAP_MAX_RCPT)
		max = MAP_MAX_RCPT;
	n = 0;
	if (p.resource_list.len > 0) {
		n = resource_list_uris(p.resource_list, rl, MAP_RL_MAX);
		if (n < 0)
			return map_fail(out, 400);
	}
	ruri_ok = e164_from_uri(in->ruri, e164) == 0;
	if (ruri_ok) {
		if (rcpt_add(out, e164, max) < 0)
			return map_fail(out, 403);
	} else if (n <= 0) {
		return map_fail(out, looks_short(in->ruri) ? 484 : 404);
	}
	/* (a non-E.164 Request-URI of a URI-list request addresses the
	 * list service, i.e. us, not a recipient) */
	for (i = 0; i < n; i++) {
		if (e164_from_uri(rl[i], e164) < 0)
			return map_fail(out, looks_short(rl[i]) ? 484 : 404);
		if (rcpt_add(out, e164, max) < 0)
			return map_fail(out, 403);
	}
	if (out->is_cpim && cfg->use_cpim_recipients) {
		/* CPIM To may be anonymised (sip:anonymous@anonymous.invalid
		 * in group messages): only E.164 values count */
		for (k = 0; k < 2; k++) {
			const cm_str *v = k ? out->cpim.cc : out->cpim.to;
			int nv = k ? out->cpim.ncc : out->cpim.nto;

			for (i = 0; i < nv && i < CPIM_MAX_RCPT; i++) {
				if (e164_from_uri(v[i], e164) < 0)
					continue;
				if (rcpt_add(out, e164, max) < 0)
					return map_fail(out, 403);
			}
		}
	}
	if (out->nrcpt <= 0)
		return map_fail(out, 404);

	/* sender: P-Asserted-Identity, else From, else CPIM From */
	sender_src[0] = in->pai;
	sender_src[1] = in->from;
	sender_src[2] = out->is_cpim ? out->cpim.from : none;
	for (i = 0; i < 3 && !have_sender; i++)
		if (cm_str_trim(sender_src[i]).len > 0
				&& e164_from_uri(sender_src[i], out->sender_e164) == 0)
			have_sender = 1;
	if (!have_sender)
		return map_fail(out, 400);
	if (!cfg->domain.s || cfg->domain.len <= 0)
		return map_fail(out, 500);
	len = mm4_plmn_address(cm_str_z(out->sender_e164), cfg->domain,
			out->sender_addr, sizeof(out->sender_addr));
	if (len < 0)
		return map_fail(out, 500);
	r->from = cm_str_z(out->sender_addr);

	/* Date: CPIM DateTime, else SIP Date, else now */
	r->date = now;
	if (out->is_cpim && map_parse_iso8601(out->cpim.datetime, &t) == 0)
		r->date = t;
	else if (map_parse_rfc5322_date(in->date, &t) == 0)
		r->date = t;

	/* Expires -> X-Mms-Expiry (absolute) */
	if (in->expires > 0) {
		r->has_expiry = 1;
		r->expiry = now + (time_t)in->expires;
	}

	/* imdn.Disposition-Notification -> Delivery-Report / Read-Reply */
	if (out->is_cpim)
		out->dispositions = out->cpim.dispositions
				| cpim_parse_dispositions(out->cpim.imdn_disposition);
	r->delivery_report = (out->dispositions & t1.dr_bits) ? 1 : 0;
	r->read_reply = (out->dispositions & t1.rr_bits) ? 1 : 0;

	r->priority = map_priority_cpm_to_mm4(in->priority);
	r->sender_hidden = map_sender_hidden(in->from, in->privacy)
			|| (out->is_cpim && map_sender_hidden(out->cpim.from, none));
	if (r->priority.len > 0
			&& r->priority.len < (int)sizeof(out->priority_buf)) {
		memcpy(out->priority_buf, r->priority.s, r->priority.len);
		out->priority_buf[r->priority.len] = '\0';
		r->priority.s = out->priority_buf;
	}

	/* Subject: CPIM wins */
	subject = out->is_cpim ? cm_str_trim(out->cpim.subject) : none;
	if (subject.len <= 0)
		subject = cm_str_trim(in->subject);
	r->subject = subject;

	r->ack_request = t1.ack_request;
	r->forward_counter = in->max_forwards >= 0
			? map_forward_counter(in->max_forwards) : t1.forward_counter;
	r->message_class = cm_str_z(t1.message_class);
	r->version = cfg->mms_version;
	r->originator_system = cfg->system_address;

	/* ids: X-Mms-Message-ID from imdn.Message-ID when usable */
	unique = cm_str_trim(unique);
	if (!atext_dot(unique))
		return map_fail(out, 500);
	imid = out->is_cpim ? cm_str_trim(out->cpim.imdn_message_id) : none;
	out->imdn_message_id = imid;
	len = -1;
	if (id_safe(imid))
		len = snprintf(out->message_id, sizeof(out->message_id), "%.*s@%.*s",
				imid.len, imid.s, cfg->domain.len, cfg->domain.s);
	if (len < 0 || len >= (int)sizeof(out->message_id))
		len = snprintf(out->message_id, sizeof(out->message_id), "%.*s@%.*s",
				unique.len, unique.s, cfg->domain.len, cfg->domain.s);
	if (len < 0 || len >= (int)sizeof(out->message_id))
		return map_fail(out, 500);
	len = snprintf(out->rfc822_id, sizeof(out->rfc822_id), "%.*s@%.*s",
			unique.len, unique.s, cfg->domain.len, cfg->domain.s);
	if (len < 0 || len >= (int)sizeof(out->rfc822_id))
		return map_fail(out, 500);
	r->message_id = cm_str_z(out->message_id);
	r->rfc822_message_id = cm_str_z(out->rfc822_id);

	/* content */
	r->content_type = p.content_type;
	r->content_transfer_encoding = cm_str_trim(p.cte);
	r->body = p.body;
	out->sip_code = 0;
	out->sip_reason = NULL;
	return 0;
}
