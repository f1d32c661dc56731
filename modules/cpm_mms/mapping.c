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
#include <strings.h>
#include <time.h>

#include "mapping.h"
#include "charset.h"
#include "rfcdate.h"
#include "msg_ids.h"
#include "mm4_payload.h"
#include "mime.h"
#include "resource_lists.h"
#include "xml_scan.h"

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
	{402, "Payment Required"},
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
	int max_forwards_base;       /* Table 4: Max-Forwards = base - counter */
	const char *default_type;    /* payload without Content-Type */
	int dr_bits;                 /* Disposition-Notification -> DR Yes */
	int rr_bits;                 /* Disposition-Notification -> RR Yes */
} t1 = {
	"Personal",
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
	/* MMS_ENC 1.3 (234, 235): the sender's account / the peer's policy */
	{"Error-permanent-lack-of-prepaid", 0, 402, 0},
	{"Error-permanent-address-hiding-not-supported", 0, 403, 0},
	/* some recipients reached: accepted; the RES names none, so each
	 * recipient's outcome is only known from its delivery report */
	{"Error-transient-partial-success", 0, 202, 0},
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

/* RFC 3463 enhanced status code "class.subject.detail" at the start of
 * the reply text: 0 and the three numbers, or -1 */
static int smtp_enhanced(cm_str text, int *cls, int *subj, int *det)
{
	int v[3], i, k, p = 0, digits;

	text = cm_str_trim(text);
	for (k = 0; k < 3; k++) {
		if (k > 0) {
			if (p >= text.len || text.s[p] != '.')
				return -1;
			p++;
		}
		v[k] = 0;
		digits = 0;
		/* class is one digit, subject and detail one to three */
		for (i = p; i < text.len && text.s[i] >= '0' && text.s[i] <= '9'
				&& digits < (k == 0 ? 1 : 3); i++, digits++)
			v[k] = v[k] * 10 + (text.s[i] - '0');
		if (digits == 0)
			return -1;
		p = i;
	}
	if (p < text.len && text.s[p] != ' ' && text.s[p] != '\t')
		return -1;
	*cls = v[0];
	*subj = v[1];
	*det = v[2];
	return 0;
}

map_local_failure map_smtp_reply(int smtp_code, cm_str text)
{
	int cls, subj, det;

	/* the enhanced code counts only when its class agrees with the
	 * reply's (RFC 3463 2); 4.x.x stays temporary whatever it says */
	if (smtp_code >= 500 && smtp_code <= 599
			&& smtp_enhanced(text, &cls, &subj, &det) == 0 && cls == 5) {
		if (subj == 7)
			return MAP_LF_SMTP_POLICY;
		/* X.1.7 / X.1.8 are the sender's address, not the recipient's */
		if (subj == 1 && det != 7 && det != 8)
			return MAP_LF_SMTP_RCPT_UNKNOWN;
	}
	return map_smtp_code(smtp_code);
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
	if (privacy.len <= 0)
		return 0; /* also no arithmetic on a NULL s (no Privacy) */
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
		if (cm_is_digit(c))
			nd++;
		else if (c != '-' && c != '.' && c != '(' && c != ')')
			return 0;
	}
	return nd > 0 && nd < 8;
}

/* Table 1, recipient rows: copy is RL_COPY_TO (MM4 To), RL_COPY_CC (CPIM
 * cc, RFC 5364 cc: MM4 Cc) or RL_COPY_BCC (RFC 5364 bcc or anonymize:
 * RCPT TO only). One number named twice keeps the more hidden kind, so a
 * bcc entry never surfaces in a header through its Request-URI or CPIM
 * To copy. */
static int rcpt_add(map_result *out, const char *e164, int max, int copy)
{
	int i;

	for (i = 0; i < out->nrcpt; i++) {
		if (strcmp(out->rcpt_e164[i], e164) == 0) {
			if (copy > out->rcpt_copy[i])
				out->rcpt_copy[i] = (unsigned char)copy;
			return 0; /* de-duplicated by E.164 */
		}
	}
	if (out->nrcpt >= max)
		return -1;
	memcpy(out->rcpt_e164[out->nrcpt], e164, E164_BUF);
	out->rcpt_copy[out->nrcpt] = (unsigned char)copy;
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
		if (!cm_is_alpha(c) && !cm_is_digit(c) && c != '.' && c != '_' && c != '-'
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
			p->cte = mime_block_header(parts[msg].headers,
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
	rl_entry rl[MAP_RL_MAX];
	char uri[256];
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
		n = resource_list_entries(p.resource_list, rl, MAP_RL_MAX);
		if (n < 0)
			return map_fail(out, 400);
	}
	ruri_ok = e164_from_uri(in->ruri, e164) == 0;
	if (ruri_ok) {
		if (rcpt_add(out, e164, max, RL_COPY_TO) < 0)
			return map_fail(out, 403);
	} else if (n <= 0) {
		return map_fail(out, looks_short(in->ruri) ? 484 : 404);
	}
	/* (a non-E.164 Request-URI of a URI-list request addresses the
	 * list service, i.e. us, not a recipient) */
	for (i = 0; i < n; i++) {
		if (xml_decode(rl[i].uri, uri, sizeof(uri)) < 0
				|| e164_from_uri(cm_str_z(uri), e164) < 0)
			return map_fail(out, looks_short(rl[i].uri) ? 484 : 404);
		/* RFC 5364: an anonymized entry is hidden from the others */
		if (rcpt_add(out, e164, max, rl[i].anonymize ? RL_COPY_BCC
						: rl[i].copy) < 0)
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
				if (rcpt_add(out, e164, max, k ? RL_COPY_CC : RL_COPY_TO)
						< 0)
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
	if (out->is_cpim && rfcdate_parse_iso8601(out->cpim.datetime, &t) == 0)
		r->date = t;
	else if (rfcdate_parse_rfc5322(in->date, &t) == 0)
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
	/* Table 1, row Max-Forwards: no X-Mms-Forward-Counter. It counts MMS
	 * forwardings of the MM (TS 23.140 MM1_forward), and SIP hops are
	 * none: 70 - Max-Forwards made a fresh MM look forwarded many times
	 * and run into a peer's loop limit */
	r->forward_counter = 0;
	r->message_class = cm_str_z(t1.message_class);
	r->version = cfg->mms_version;
	r->originator_system = cfg->system_address;

	/* ids: always the IWF's own unguessable token. A client's
	 * imdn.Message-ID is unique only per sender: two senders using the
	 * same one toward one MMS user would share an MM id, and one would
	 * get the other's reports. It lives in the correlation row only. */
	unique = cm_str_trim(unique);
	if (!atext_dot(unique))
		return map_fail(out, 500);
	imid = out->is_cpim ? cm_str_trim(out->cpim.imdn_message_id) : none;
	out->imdn_message_id = imid;
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

/* ------------------------------------------------------------------ */
/* Table 4: MM4_forward.REQ -> SIP MESSAGE (MMS -> CPM)                 */
/* ------------------------------------------------------------------ */

/* X-Mms-Request-Status-Code values this table answers with */
#define T4_CORRUPT "Error-message-format-corrupt"
#define T4_UNRESOLVED "Error-sending-address-unresolved"
#define T4_DENIED "Error-service-denied"
#define T4_CONTENT "Error-content-not-accepted"
#define T4_UNSUPPORTED "Error-unsupported-message"
#define T4_UNSPECIFIED "Error-unspecified"

/* Table 4, the rows with fixed values */
static const struct t4_fixed {
	const char *hide;            /* X-Mms-Sender-Visibility that hides */
	const char *anon_display;    /* ... -> From display name */
	const char *anon_uri;        /* ... -> From URI (PAI keeps the real one) */
	const char *auto_class;      /* X-Mms-Message-Class: no IMDN request */
	int dr_bits;                 /* Delivery-Report: Yes -> dispositions */
	int rr_bits;                 /* Read-Reply: Yes -> dispositions */
	const char *mandatory[3];    /* missing -> Error-message-format-corrupt */
} t4 = {
	"Hide",
	"Anonymous",
	"sip:anonymous@anonymous.invalid",
	"Auto",
	CPIM_DN_POSITIVE_DELIVERY | CPIM_DN_NEGATIVE_DELIVERY,
	CPIM_DN_DISPLAY,
	{"X-Mms-Transaction-ID", "X-Mms-Message-ID", "From"},
};

/* Table 4, boolean values; "1"/"0" are sent by one Python gateway
 * (MM4.md 4.3) */
static const char *const t4_yes[] = {"Yes", "1"};
static const char *const t4_no[] = {"No", "0"};

/* Table 4, rows X-Mms-Delivery-Report / X-Mms-Originator-R/S-Delivery-Report
 * / X-Mms-Read-Reply: the headers that request each report. Real MMSCs send
 * X-Mms-Read-Report (the MM1 name) instead of X-Mms-Read-Reply. */
static const char *const t4_dr_ua_headers[] = {"X-Mms-Delivery-Report"};
static const char *const t4_dr_rs_headers[] = {
	"X-Mms-Originator-R/S-Delivery-Report"};
static const char *const t4_rr_headers[] = {"X-Mms-Read-Reply",
	"X-Mms-Read-Report"};

/* Table 4 + RFC 5438: imdn.Disposition-Notification tokens, in the order
 * they are written */
static const struct t4_dn_row {
	int bit;
	const char *token;
} t4_dn[] = {
	{CPIM_DN_POSITIVE_DELIVERY, "positive-delivery"},
	{CPIM_DN_NEGATIVE_DELIVERY, "negative-delivery"},
	{CPIM_DN_DISPLAY, "display"},
};

/* Table 4, row Content-Type: the payloads refused in Table 1 are refused
 * here too (an MMS must not inject an IMDN or a second CPIM wrapper into
 * the CPM client) -> Error-content-not-accepted; see t1_refused_types.
 * The rest of the payload policy (text, SMIL, multiparts, charsets) is
 * mm4_payload.c's */

/* RFC 1123 date for SIP, from the RFC 5322 writer ("... +0000") */
#define T4_SIP_DATE_ZONE "GMT"

static int t4_fail(cpm_out *out, const char *status, const char *text)
{
	cm_free(out->body.s);
	out->body.s = NULL;
	out->body.len = 0;
	out->res_status = status;
	/* a text built on the stack (it names a charset) is kept in out */
	snprintf(out->res_text_buf, sizeof(out->res_text_buf), "%s", text);
	out->res_text = out->res_text_buf;
	return -1;
}

static int t4_in(cm_str v, const char *const *toks, int n)
{
	int i;

	v = cm_str_trim(v);
	for (i = 0; i < n; i++)
		if (cm_str_ieqz(v, toks[i]))
			return 1;
	return 0;
}

int map_ack_requested(cm_str value, int ack_default)
{
	if (t4_in(value, t4_yes, ARRAY_LEN(t4_yes)))
		return 1;
	if (t4_in(value, t4_no, ARRAY_LEN(t4_no)))
		return 0;
	/* absent (TS 23.140: optional, no RES asked for) or not a boolean */
	return ack_default ? 1 : 0;
}

/* 1 if any of the headers says Yes */
static int t4_any_yes(const mm4_msg *m, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (t4_in(mm4_get(m, names[i]), t4_yes, ARRAY_LEN(t4_yes)))
			return 1;
	return 0;
}

/* decimal digits only, clamped to max; -1 if not a number */
static long long t4_number(cm_str v, long long max)
{
	long long x = 0;
	int i;

	v = cm_str_trim(v);
	if (v.len <= 0)
		return -1;
	for (i = 0; i < v.len; i++) {
		if (!cm_is_digit(v.s[i]))
			return -1;
		if (x <= max)
			x = x * 10 + (v.s[i] - '0');
	}
	return x > max ? max : x;
}

/* host part of a sip: URI from configuration: hostname, IP literal and
 * port characters only, so nothing can break the URI or a header */
static int t4_host_ok(cm_str h)
{
	int i;
	char c;

	if (h.len <= 0)
		return 0;
	for (i = 0; i < h.len; i++) {
		c = h.s[i];
		if (!cm_is_alpha(c) && !cm_is_digit(c) && !strchr("-.:[]", c))
			return 0;
	}
	return 1;
}

/* Table 4, row To (and From for PLMN senders): tel:+E164 or
 * sip:+E164@host;user=phone */
static int t4_number_uri(const char *e164, const mm4_in_config *cfg,
		char *out, int size)
{
	cm_str host = cm_str_trim(cfg->cpm_domain);
	int n;

	if (cfg->uri_form != MAP_URI_SIP_PHONE)
		n = snprintf(out, size, "tel:%s", e164);
	else {
		if (host.len <= 0)
			host = cm_str_trim(cfg->domain);
		if (!t4_host_ok(host))
			return -1;
		n = snprintf(out, size, "sip:%s@%.*s;user=phone", e164, host.len,
				host.s);
	}
	return n < 0 || n >= size ? -1 : 0;
}

/* RFC 6068 qchar without the delimiters that mean something in a SIP
 * header: kept as they are; everything else printable is %-encoded */
static int t4_mailto_plain(char c)
{
	return cm_is_alpha(c) || cm_is_digit(c) || strchr("-._~!$'*+", c);
}

/* Table 4, row From for e-mail senders: mailto:local@domain, -1 if the
 * value is not a usable addr-spec */
static int t4_mailto(cm_str a, char *out, int size)
{
	static const char hex[] = "0123456789ABCDEF";
	int at = -1, i, k;
	unsigned char c;

	for (i = 0; i < a.len; i++)
		if (a.s[i] == '@')
			at = i;
	if (at <= 0 || at >= a.len - 1)
		return -1;
	k = snprintf(out, size, "mailto:");
	for (i = 0; i < a.len; i++) {
		c = (unsigned char)a.s[i];
		if (k + 4 > size)
			return -1;
		if (i > at) {
			/* domain: hostname or [literal] */
			if (!cm_is_alpha(c) && !cm_is_digit(c) && !strchr("-.[]:", c))
				return -1;
			out[k++] = (char)c;
		} else if (i == at || t4_mailto_plain((char)c)) {
			out[k++] = (char)c;
		} else if (c > 0x20 && c != 0x7f) {
			out[k++] = '%';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
		} else {
			return -1; /* SP, controls: not an addr-spec */
		}
	}
	out[k] = '\0';
	return 0;
}

/* Table 4, row From: PLMN address -> number URI, e-mail -> mailto: */
static int t4_originator(cm_str from, const mm4_in_config *cfg, char *out,
		int size)
{
	char e164[E164_BUF];
	cm_str disp, a;

	if (e164_from_mm4_address(from, e164) == 0)
		return t4_number_uri(e164, cfg, out, size);
	if (cpim_split_addr(from, &disp, &a) < 0)
		return -1;
	a = cm_str_trim(a);
	/* a PLMN address whose number is not E.164 is broken, not e-mail */
	if (ci_contains(a, "/TYPE=PLMN"))
		return -1;
	return t4_mailto(a, out, size);
}

/* Table 4, row Conversation-ID: one per originator/recipient pair, the
 * same for every MM between the two in either direction (the pair sorted),
 * so a CPM client threads an MMS conversation; per MM (from unique) when
 * the sender is hidden, since a fixed id per real originator would tell
 * the recipient which anonymous MMs came from the same (known) sender */
static void t4_conversation_id(cpm_out *out, cm_str unique)
{
	char key[2 * sizeof(out->pai) + 2];
	const char *a = out->pai, *b = out->ruri;
	int n;

	if (out->anonymous || !out->pai[0]) {
		ids_uuid("conversation", unique, out->conversation_id);
		return;
	}
	if (strcmp(a, b) > 0) {
		a = out->ruri;
		b = out->pai;
	}
	n = snprintf(key, sizeof(key), "%s\n%s", a, b);
	ids_uuid("conversation-pair", (cm_str){key, n}, out->conversation_id);
}

/* Table 4, row X-Mms-Message-ID -> imdn.Message-ID: the glue's token when
 * it is a safe id that fits, else 32 hex digits derived from it */
static void t4_imdn_id(cm_str unique, char *out, int size)
{
	if (id_safe(unique) && unique.len < size) {
		memcpy(out, unique.s, unique.len);
		out[unique.len] = '\0';
		return;
	}
	ids_hex128("imdn", unique, out);
}

/* Table 4, rows To / Cc of a group MMS: the recipients other than rcpt
 * named in the REQ's To and Cc headers (TS 23.140 8.4.1.1), as URIs like
 * the From row's, for CPIM cc (RFC 3862 4.3) so the CPM client sees the
 * group. Envelope recipients named in no header are Bcc and stay hidden;
 * addresses that are neither PLMN nor e-mail are left out. */
#define T4_MAX_CC MAP_MAX_RCPT
typedef struct t4_group {
	char uri[T4_MAX_CC][256];
	int n;
} t4_group;

static void t4_others(const mm4_msg *m, cm_str rcpt, const mm4_in_config *cfg,
		t4_group *g)
{
	cm_str a[T4_MAX_CC];
	char self[E164_BUF], e164[E164_BUF], uri[256];
	int i, k, j, na, have_self;

	g->n = 0;
	have_self = e164_from_mm4_address(rcpt, self) == 0;
	for (i = 0; i < m->nhdr; i++) {
		if (!cm_str_ieqz(m->hdr[i].name, "To")
				&& !cm_str_ieqz(m->hdr[i].name, "Cc"))
			continue;
		na = mm4_addr_list(m->hdr[i].value, a, T4_MAX_CC);
		for (k = 0; k < na; k++) {
			if (e164_from_mm4_address(a[k], e164) == 0 && have_self
					&& strcmp(e164, self) == 0)
				continue;
			/* IPv4/IPv6 MMS addresses have no CPM form */
			if ((e164_from_mm4_address(a[k], e164) < 0
						&& ci_contains(a[k], "/TYPE="))
					|| t4_originator(a[k], cfg, uri, sizeof(uri)) < 0)
				continue;
			for (j = 0; j < g->n && strcmp(g->uri[j], uri) != 0; j++)
				;
			if (j < g->n)
				continue;
			if (g->n >= T4_MAX_CC)
				return;
			memcpy(g->uri[g->n++], uri, sizeof(uri));
		}
	}
}

/* RFC 3862 message/cpim body (CPIM_IMDN_ENUM.md 2, 3.1) */
static void t4_write_cpim(cm_buf *b, const cpm_out *out, const char *datetime,
		cm_str iwf_uri, const mm4_payload *p, const t4_group *g)
{
	int i, k = 0;

	if (out->anonymous)
		cm_buf_printf(b, "From: \"%s\" <%s>\r\n", t4.anon_display,
				t4.anon_uri);
	else
		cm_buf_printf(b, "From: <%s>\r\n", out->from_uri);
	cm_buf_printf(b, "To: <%s>\r\n", out->ruri);
	for (i = 0; i < g->n; i++)
		cm_buf_printf(b, "cc: <%s>\r\n", g->uri[i]);
	cm_buf_adds(b, "NS: imdn <" CPIM_IMDN_NS_URN ">\r\n");
	cm_buf_printf(b, "imdn.Message-ID: %s\r\n", out->imdn_message_id);
	cm_buf_printf(b, "DateTime: %s\r\n", datetime);
	if (out->dispositions) {
		cm_buf_adds(b, "imdn.Disposition-Notification: ");
		for (i = 0; i < ARRAY_LEN(t4_dn); i++)
			if (out->dispositions & t4_dn[i].bit)
				cm_buf_printf(b, "%s%s", k++ ? ", " : "", t4_dn[i].token);
		cm_buf_adds(b, "\r\n");
		/* IMDNs must come back through the IWF: the CPIM From is an
		 * MMS user outside IMS */
		if (iwf_uri.len > 0) {
			if (iwf_uri.s[0] == '<')
				cm_buf_printf(b, "imdn.IMDN-Record-Route: %.*s\r\n",
						iwf_uri.len, iwf_uri.s);
			else
				cm_buf_printf(b, "imdn.IMDN-Record-Route: <%.*s>\r\n",
						iwf_uri.len, iwf_uri.s);
		}
	}
	if (out->subject[0])
		cm_buf_printf(b, "Subject: %s\r\n", out->subject);
	cm_buf_adds(b, "\r\n");
	cm_buf_printf(b, "Content-Type: %.*s\r\n", p->ct.len, p->ct.s);
	if (p->cte.len > 0)
		cm_buf_printf(b, "Content-Transfer-Encoding: %.*s\r\n", p->cte.len,
				p->cte.s);
	cm_buf_adds(b, "\r\n");
}

/* Table 4, rows Content-Type, text charset and Subject: what
 * mm4_payload.c finds wrong -> X-Mms-Request-Status-Code */
static const char *t4_payload_status(int kind)
{
	switch (kind) {
	case MP_CORRUPT:
		return T4_CORRUPT;   /* broken MIME */
	case MP_CONTENT:
		return T4_CONTENT;   /* charset, size, refused type */
	default:
		return T4_UNSPECIFIED;
	}
}

int map_mm4_to_cpm(const mm4_msg *m, cm_str rcpt, const mm4_in_config *cfg,
		cm_str unique, time_t now, cpm_out *out)
{
	char e164[E164_BUF], iso[32], d[32];
	cm_str v, iwf_uri;
	mm4_payload p;
	t4_group group;
	cm_buf b;
	const char *text = NULL;
	long long fc, secs;
	time_t date, expiry;
	int i, n, off, rc;
	cm_str bad;

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	out->expires = -1;
	out->max_forwards = map_max_forwards(0);
	if (!m || !cfg)
		return t4_fail(out, T4_UNSPECIFIED, "internal error");
	if (m->type != MM4_FORWARD_REQ)
		return t4_fail(out, T4_UNSUPPORTED, "not an MM4_forward.REQ");

	/* Table 3.1 mandatory elements (To/Cc may be absent: the envelope
	 * names the recipients) */
	for (i = 0; i < ARRAY_LEN(t4.mandatory); i++)
		if (mm4_get_unquoted(m, t4.mandatory[i]).len <= 0)
			return t4_fail(out, T4_CORRUPT, "missing mandatory header");
	unique = cm_str_trim(unique);
	if (unique.len <= 0)
		return t4_fail(out, T4_UNSPECIFIED, "internal error");
	iwf_uri = cm_str_trim(cfg->iwf_uri);
	if (cm_str_has_ctl(iwf_uri))
		return t4_fail(out, T4_UNSPECIFIED, "bad iwf_uri");

	/* row RCPT TO: Request-URI = SIP To = CPIM To */
	if (e164_from_mm4_address(rcpt, e164) < 0)
		return t4_fail(out, T4_UNRESOLVED, "recipient is not a PLMN address");
	if (t4_number_uri(e164, cfg, out->ruri, sizeof(out->ruri)) < 0)
		return t4_fail(out, T4_UNSPECIFIED, "bad cpm_domain");

	/* row From; row X-Mms-Sender-Visibility */
	if (t4_originator(mm4_get(m, "From"), cfg, out->pai, sizeof(out->pai))
			< 0)
		return t4_fail(out, T4_CORRUPT, "unusable From address");
	if (cm_str_ieqz(cm_str_trim(mm4_get(m, "X-Mms-Sender-Visibility")),
				t4.hide)) {
		out->anonymous = 1;
		snprintf(out->from_display, sizeof(out->from_display), "%s",
				t4.anon_display);
		snprintf(out->from_uri, sizeof(out->from_uri), "%s", t4.anon_uri);
	} else {
		memcpy(out->from_uri, out->pai, sizeof(out->from_uri));
	}

	/* row X-Mms-Forward-Counter -> Max-Forwards; above the limit a loop */
	fc = t4_number(mm4_get(m, "X-Mms-Forward-Counter"), 1000000);
	if (fc >= 0) {
		if (cfg->max_forward_counter > 0 && fc > cfg->max_forward_counter)
			return t4_fail(out, T4_DENIED, "forwarding loop");
		out->max_forwards = map_max_forwards((int)fc);
	}

	/* row Date -> DateTime and SIP Date; missing or bad: now */
	date = now;
	v = mm4_get(m, "Date");
	if (v.len > 0 && rfcdate_parse_rfc5322(v, &date) < 0)
		date = now;
	rfcdate_format_iso8601(date, iso);
	n = mm4_format_date(date, d);
	snprintf(out->sip_date, sizeof(out->sip_date), "%.*s" T4_SIP_DATE_ZONE,
			n > 5 ? n - 5 : 0, d);

	/* row X-Mms-Expiry -> Expires: absolute date or relative seconds */
	v = cm_str_trim(mm4_get(m, "X-Mms-Expiry"));
	secs = v.len > 0 ? t4_number(v, 0x7fffffff) : -1;
	if (secs < 0 && v.len > 0 && rfcdate_parse_rfc5322(v, &expiry) == 0) {
		secs = (long long)expiry - (long long)now;
		if (secs > 0x7fffffff)
			secs = 0x7fffffff;
		if (secs < 0)
			secs = 0;
	}
	/* (unreadable: no Expires rather than a refusal) */
	if (secs == 0)
		return t4_fail(out, T4_UNSPECIFIED, "message expired");
	if (secs > 0)
		out->expires = (int)secs;

	/* row X-Mms-Priority -> Priority */
	v = map_priority_mm4_to_cpm(mm4_get(m, "X-Mms-Priority"));
	out->priority = v.len > 0 ? v.s : NULL;

	/* rows Delivery-Report / Read-Reply -> imdn.Disposition-Notification;
	 * X-Mms-Message-Class: Auto is machine-generated: no IMDN request */
	out->delivery_report = t4_any_yes(m, t4_dr_ua_headers,
			ARRAY_LEN(t4_dr_ua_headers));
	out->rs_delivery_report = t4_any_yes(m, t4_dr_rs_headers,
			ARRAY_LEN(t4_dr_rs_headers));
	out->read_reply = t4_any_yes(m, t4_rr_headers, ARRAY_LEN(t4_rr_headers));
	if (out->delivery_report || out->rs_delivery_report)
		out->dispositions |= t4.dr_bits;
	if (out->read_reply)
		out->dispositions |= t4.rr_bits;
	if (cm_str_ieqz(cm_str_trim(mm4_get(m, "X-Mms-Message-Class")),
				t4.auto_class))
		out->dispositions = 0;
	out->ack_request = map_ack_requested(mm4_get(m, "X-Mms-Ack-Request"),
			cfg->ack_default);

	/* row Subject: RFC 3862 CPIM headers are UTF-8 */
	rc = mm4_header_utf8(mm4_get(m, "Subject"), out->subject,
			sizeof(out->subject), &bad);
	if (rc != CS_OK) {
		rc = mm4_payload_cs_fail(rc, "Subject", bad, p.why, sizeof(p.why),
				&text);
		return t4_fail(out, t4_payload_status(rc), text);
	}

	/* rows X-Mms-Message-ID, Conversation-ID, Contribution-ID (ids from
	 * the unique token, msg_ids.c) */
	t4_imdn_id(unique, out->imdn_message_id, sizeof(out->imdn_message_id));
	t4_conversation_id(out, unique);
	ids_uuid("contribution", unique, out->contribution_id);

	/* row Content-Type + body */
	mm4_payload_init(&p, cfg->max_body_size);
	rc = mm4_payload_select(m, t1_refused_types, ARRAY_LEN(t1_refused_types),
			&p, &text);
	if (rc == MP_OK && (p.ct.failed || p.conv.failed)) {
		rc = MP_NOMEM;
		text = "out of memory";
	}
	if (rc != MP_OK) {
		rc = t4_fail(out, t4_payload_status(rc), text);
		mm4_payload_free(&p);
		return rc;
	}
	t4_others(m, rcpt, cfg, &group);
	cm_buf_init(&b);
	t4_write_cpim(&b, out, iso, iwf_uri, &p, &group);
	off = b.len;
	mm4_payload_write(&b, &p);
	n = b.len - off;
	mm4_payload_free(&p);
	if (b.failed) {
		cm_buf_free(&b);
		return t4_fail(out, T4_UNSPECIFIED, "out of memory");
	}
	if (cfg->max_body_size > 0 && n > cfg->max_body_size) {
		cm_buf_free(&b);
		return t4_fail(out, T4_CONTENT, "content too large for pager mode");
	}
	if (cm_buf_take(&b, &out->body) < 0)
		return t4_fail(out, T4_UNSPECIFIED, "out of memory");
	return 0;
}

void cpm_out_free(cpm_out *out)
{
	if (!out)
		return;
	cm_free(out->body.s);
	out->body.s = NULL;
	out->body.len = 0;
}

static void sip_add_hdr(cm_buf *b, const char *name, const char *value)
{
	if (value && value[0])
		cm_buf_printf(b, "%s: %s\r\n", name, value);
}

int map_cpm_out_sip(const cpm_out *o, const char *target, map_sip_head *h)
{
	cm_buf *b = &h->hdrs;

	cm_buf_init(b);
	/* RFC 3325 allows sip:, sips: and tel: only */
	if (o->pai[0] && strncasecmp(o->pai, "mailto:", 7) != 0)
		cm_buf_printf(b, "P-Asserted-Identity: <%s>\r\n", o->pai);
	if (o->anonymous)
		sip_add_hdr(b, "Privacy", "id");
	sip_add_hdr(b, "Subject", o->subject);
	sip_add_hdr(b, "Priority", o->priority);
	if (o->expires >= 0)
		cm_buf_printf(b, "Expires: %d\r\n", o->expires);
	cm_buf_printf(b, "Max-Forwards: %d\r\n", o->max_forwards);
	sip_add_hdr(b, "Date", o->sip_date);
	sip_add_hdr(b, "Accept-Contact", "*;+g.3gpp.icsi-ref=\""
			"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"");
	sip_add_hdr(b, "P-Asserted-Service", MAP_CPM_ICSI);
	sip_add_hdr(b, "Conversation-ID", o->conversation_id);
	sip_add_hdr(b, "Contribution-ID", o->contribution_id);
	sip_add_hdr(b, "Content-Type", "message/cpim");
	/* RFC 3323 anonymous URI: the originator is hidden from the recipient */
	if (o->anonymous)
		snprintf(h->from, sizeof(h->from),
				"\"Anonymous\" <sip:anonymous@anonymous.invalid>");
	else
		snprintf(h->from, sizeof(h->from), "<%.*s>",
				(int)sizeof(o->from_uri) - 1, o->from_uri);
	snprintf(h->to, sizeof(h->to), "<%.*s>", (int)sizeof(h->to) - 3, target);
	return b->failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Table 5 companion: one RES for several recipients, worst wins        */
/* ------------------------------------------------------------------ */

typedef struct res_rank_row {
	const char *token;  /* exact token, or a prefix when prefix is set */
	int prefix;
	int rank;
} res_rank_row;

/*
 * Order, lowest first:
 *   0 Ok
 *   1 temporary: Error-network-problem, Error-transient-* (the MMSC
 *     retries; a final error elsewhere must not be hidden by it)
 *   2 generic final: Error-unspecified, Error-permanent-failure and any
 *     unknown token (MMS_ENC: unknown = permanent failure)
 *   3 final with a cause: service denied, address unresolved, content,
 *     format, unsupported, message not found, Error-permanent-* (tells the
 *     originator more than 2)
 * Ties keep the first status (the caller compares with >).
 */
static const res_rank_row t5_res_rank[] = {
	{"Ok", 0, 0},
	{"Error-network-problem", 0, 1},
	{"Error-unspecified", 0, 2},
	{"Error-permanent-failure", 0, 2},
	{"Error-service-denied", 0, 3},
	{"Error-message-format-corrupt", 0, 3},
	{"Error-sending-address-unresolved", 0, 3},
	{"Error-message-not-found", 0, 3},
	{"Error-content-not-accepted", 0, 3},
	{"Error-unsupported-message", 0, 3},
	/* prefix rows after the exact ones */
	{"Error-transient-", 1, 1},
	{"Error-permanent-", 1, 3},
};

/* Table 5 companion, row "unknown token" */
#define T5_UNKNOWN_RANK 2

int map_res_status_rank(const char *status)
{
	cm_str s;
	int i;

	if (!status)
		return T5_UNKNOWN_RANK;
	s = cm_str_trim(cm_str_z(status));
	for (i = 0; i < ARRAY_LEN(t5_res_rank); i++)
		if (!t5_res_rank[i].prefix && cm_str_ieqz(s, t5_res_rank[i].token))
			return t5_res_rank[i].rank;
	for (i = 0; i < ARRAY_LEN(t5_res_rank); i++)
		if (t5_res_rank[i].prefix && cm_str_iprefix(s, t5_res_rank[i].token))
			return t5_res_rank[i].rank;
	return T5_UNKNOWN_RANK;
}

/* ================================================================== */
/* Tables 6-9: delivery / read reports <-> IMDN (CPM_MMS_MAPPING.md    */
/* sec. 7-8). Tokens are compared case-insensitively, trimmed.         */
/* ================================================================== */

typedef struct report_imdn_row {
	const char *token;   /* X-Mms-MM-Status-Code / X-Mms-Read-Status */
	imdn_status status;  /* IMDN_ST_NONE: no IMDN for this value */
	int requested;       /* CPIM_DN_* bit the CPM sender must have set */
} report_imdn_row;

/* Table 6: MM4_delivery_report.REQ -> <delivery-notification> */
static const report_imdn_row t6_mm_status[] = {
	{"Retrieved", IMDN_ST_DELIVERED, CPIM_DN_POSITIVE_DELIVERY},
	/* the recipient acted on it */
	{"Forwarded", IMDN_ST_DELIVERED, CPIM_DN_POSITIVE_DELIVERY},
	{"Expired", IMDN_ST_FAILED, CPIM_DN_NEGATIVE_DELIVERY},
	{"Rejected", IMDN_ST_FAILED, CPIM_DN_NEGATIVE_DELIVERY},
	{"Unrecognised", IMDN_ST_FAILED, CPIM_DN_NEGATIVE_DELIVERY},
	/* US spelling seen from some peers; same meaning */
	{"Unrecognized", IMDN_ST_FAILED, CPIM_DN_NEGATIVE_DELIVERY},
	{"Unreachable", IMDN_ST_FAILED, CPIM_DN_NEGATIVE_DELIVERY},
	/* not final: no delivery IMDN */
	{"Deferred", IMDN_ST_NONE, 0},
	{"Indeterminate", IMDN_ST_NONE, 0},
};

/* Table 6, row "unknown value" (an empty one too: the peer gave no
 * usable status, which is an error from the sender's point of view) */
static const report_imdn_row t6_unknown = {
	NULL, IMDN_ST_ERROR, CPIM_DN_NEGATIVE_DELIVERY
};

/* Table 8: MM4_read_reply_report.REQ -> <display-notification> */
static const report_imdn_row t8_read_status[] = {
	{"Read", IMDN_ST_DISPLAYED, CPIM_DN_DISPLAY},
	/* RFC 5438 has no "deleted": no IMDN by default */
	{"Deleted without being read", IMDN_ST_NONE, 0},
};

/* Table 8, row "unknown value": nothing to report */
static const report_imdn_row t8_unknown = {NULL, IMDN_ST_NONE, 0};

static imdn_status report_to_imdn(const report_imdn_row *rows, int n,
		const report_imdn_row *unknown, cm_str token, int requested)
{
	const report_imdn_row *row = unknown;
	int i;

	token = cm_str_trim(token);
	for (i = 0; i < n; i++)
		if (cm_str_ieqz(token, rows[i].token)) {
			row = &rows[i];
			break;
		}
	if (row->status == IMDN_ST_NONE || !(requested & row->requested))
		return IMDN_ST_NONE;
	return row->status;
}

imdn_status map_mm_status_to_imdn(cm_str mm_status, int requested)
{
	return report_to_imdn(t6_mm_status, ARRAY_LEN(t6_mm_status),
			&t6_unknown, mm_status, requested);
}

imdn_status map_read_status_to_imdn(cm_str read_status, int requested)
{
	return report_to_imdn(t8_read_status, ARRAY_LEN(t8_read_status),
			&t8_unknown, read_status, requested);
}

typedef struct imdn_report_row {
	imdn_status status;
	const char *token;   /* X-Mms-MM-Status-Code / X-Mms-Read-Status */
} imdn_report_row;

/* Table 7: IMDN delivery (and processing) status -> X-Mms-MM-Status-Code.
 * The caller picks Table 7 or 9 by the notification kind; a status not
 * listed here (displayed, processed) gives no delivery report. The
 * "IWF's own expiry -> Expired" and "MESSAGE failed" rows are decided by
 * the glue, which knows the cause. */
static const imdn_report_row t7_imdn_to_mm[] = {
	{IMDN_ST_DELIVERED, "Retrieved"},
	{IMDN_ST_FAILED, "Rejected"},
	/* the recipient refuses to disclose */
	{IMDN_ST_FORBIDDEN, "Indeterminate"},
	{IMDN_ST_ERROR, "Indeterminate"},
	/* processing <stored/>: kept for later, not final */
	{IMDN_ST_STORED, "Deferred"},
};

/* Table 9: IMDN display status -> X-Mms-Read-Status; forbidden and error
 * send nothing */
static const imdn_report_row t9_imdn_to_read[] = {
	{IMDN_ST_DISPLAYED, "Read"},
};

static const char *imdn_to_report(const imdn_report_row *rows, int n,
		imdn_status st)
{
	int i;

	for (i = 0; i < n; i++)
		if (rows[i].status == st)
			return rows[i].token;
	return NULL;
}

const char *map_imdn_to_mm_status(imdn_status st)
{
	return imdn_to_report(t7_imdn_to_mm, ARRAY_LEN(t7_imdn_to_mm), st);
}

const char *map_imdn_to_read_status(imdn_status st)
{
	return imdn_to_report(t9_imdn_to_read, ARRAY_LEN(t9_imdn_to_read), st);
}

/* TS 23.140 8.4.x: the recipient MMSE reports Expired when the MM expires
 * before delivery. The IWF is that MMSE for CPM recipients; the CPM side
 * has no expiry of its own, so the IWF decides by the MM's X-Mms-Expiry,
 * or by how long it remembers the message at all. */
long long map_expired_report_due(int want_dr, int enabled, long long now,
		int expires_in, long long row_expires)
{
	long long due;

	if (!want_dr || !enabled || row_expires <= 0)
		return 0;
	due = row_expires;
	if (expires_in >= 0 && now + expires_in < due)
		due = now + expires_in;
	/* 0 means "none due": an expiry at the epoch is still due */
	return due > 0 ? due : 1;
}

int map_imdn_sip(const char *rcpt_uri, const char *sender, map_sip_head *h)
{
	cm_buf *b = &h->hdrs;

	cm_buf_init(b);
	cm_buf_printf(b, "P-Asserted-Identity: <%s>\r\n", rcpt_uri);
	sip_add_hdr(b, "P-Asserted-Service", MAP_CPM_ICSI);
	sip_add_hdr(b, "Content-Type", "message/cpim");
	snprintf(h->from, sizeof(h->from), "<%.*s>", (int)sizeof(h->from) - 3,
			rcpt_uri);
	snprintf(h->to, sizeof(h->to), "<%.*s>", (int)sizeof(h->to) - 3, sender);
	return b->failed ? -1 : 0;
}
