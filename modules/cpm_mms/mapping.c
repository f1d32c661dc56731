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
	const char *smil_type;       /* presentation part, dropped with one text */
	const char *text_type;       /* the one part type sent decoded */
	const char *default_type;    /* no Content-Type (RFC 2045 5.2) */
	const char *default_charset; /* of every text toward CPM (charset.h) */
	const char *mandatory[3];    /* missing -> Error-message-format-corrupt */
} t4 = {
	"Hide",
	"Anonymous",
	"sip:anonymous@anonymous.invalid",
	"Auto",
	CPIM_DN_POSITIVE_DELIVERY | CPIM_DN_NEGATIVE_DELIVERY,
	CPIM_DN_DISPLAY,
	"application/smil",
	"text/plain",
	"text/plain",
	"utf-8",
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

/* Table 4, row Content-Type: WSP multipart types -> MIME (MM4.md 3.1) */
static const token_row t4_wsp_types[] = {
	{"application/vnd.wap.multipart.related", "multipart/related"},
	{"application/vnd.wap.multipart.mixed", "multipart/mixed"},
	{"application/vnd.wap.multipart.alternative", "multipart/alternative"},
};

/* Table 4, row Content-Type: the payloads refused in Table 1 are refused
 * here too (an MMS must not inject an IMDN or a second CPIM wrapper into
 * the CPM client) -> Error-content-not-accepted; see t1_refused_types */

/* parts of a multipart looked at (beyond it the multipart is passed) */
#define T4_MAX_PARTS 64

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

/*
 * Table 4, row Subject: RFC 2047 decoded to UTF-8 (any charset: words via
 * iconv, raw 8-bit text that is not UTF-8 as windows-1252, mm4.c), then
 * made a clean header value of at most size - 1 bytes: CR, LF, NUL and
 * other controls dropped (HTAB -> SP), C1 controls -> '?'; cut at a
 * character boundary. Returns CS_OK, or CS_UNKNOWN / CS_INVALID (a word
 * in a charset iconv does not know / not valid in it, *bad its label) or
 * CS_NOMEM.
 */
static int t4_subject(cm_str raw, char *out, int size, cm_str *bad)
{
	cm_buf dec;
	const unsigned char *s;
	int i, k = 0, len, n, rc;
	unsigned char c;
	char tmp[4];
	cm_str t;

	out[0] = '\0';
	bad->s = NULL;
	bad->len = 0;
	raw = cm_str_trim(raw);
	if (raw.len <= 0)
		return CS_OK;
	cm_buf_init(&dec);
	rc = mm4_rfc2047_decode(&dec, raw, bad);
	if (rc != CS_OK) {
		cm_buf_free(&dec);
		return rc;
	}
	s = (const unsigned char *)dec.s;
	for (i = 0; i < dec.len; i += len) {
		c = s[i];
		len = cs_utf8_seq(s, dec.len, i);
		if (len == 0 || (len == 2 && c == 0xc2 && s[i + 1] < 0xa0)) {
			len = len ? len : 1; /* (the decoder gives UTF-8 only) */
			tmp[0] = '?';
			n = 1;
		} else if (len > 1) {
			memcpy(tmp, s + i, len);
			n = len;
		} else if (c == '\t') {
			tmp[0] = ' ';
			n = 1;
		} else if (c < 0x20 || c == 0x7f) {
			continue; /* CR, LF, NUL, other controls */
		} else {
			tmp[0] = (char)c;
			n = 1;
		}
		if (k + n > size - 1)
			break; /* whole characters only */
		memcpy(out + k, tmp, n);
		k += n;
	}
	cm_buf_free(&dec);
	out[k] = '\0';
	t = cm_str_trim(cm_str_z(out));
	memmove(out, t.s, t.len);
	out[t.len] = '\0';
	return CS_OK;
}

/* 64-bit FNV-1a over salt and s, finished with the splitmix64 mixer */
static unsigned long long t4_hash64(unsigned long long seed,
		const char *salt, cm_str s)
{
	unsigned long long h = 0xcbf29ce484222325ULL ^ seed;
	const char *p;
	int i;

	for (p = salt; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.s[i]) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* 128 bits derived from unique, different per salt */
static void t4_hash128(const char *salt, cm_str unique, unsigned char b[16])
{
	unsigned long long h[2];
	int i;

	h[0] = t4_hash64(0, salt, unique);
	h[1] = t4_hash64(0x9e3779b97f4a7c15ULL ^ h[0], salt, unique);
	for (i = 0; i < 16; i++)
		b[i] = (unsigned char)(h[i / 8] >> (8 * (i % 8)));
}

/* Table 4, rows Conversation-ID / Contribution-ID: a UUID (RFC 9562
 * version 8, name-based) from unique; out >= 37 bytes */
static void t4_uuid(const char *salt, cm_str unique, char *out)
{
	unsigned char b[16];

	t4_hash128(salt, unique, b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x80);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			"%02x%02x%02x%02x%02x%02x",
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
			b[10], b[11], b[12], b[13], b[14], b[15]);
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
		t4_uuid("conversation", unique, out->conversation_id);
		return;
	}
	if (strcmp(a, b) > 0) {
		a = out->ruri;
		b = out->pai;
	}
	n = snprintf(key, sizeof(key), "%s\n%s", a, b);
	t4_uuid("conversation-pair", (cm_str){key, n}, out->conversation_id);
}

/* Table 4, row X-Mms-Message-ID -> imdn.Message-ID: the glue's token when
 * it is a safe id that fits, else 32 hex digits derived from it */
static void t4_imdn_id(cm_str unique, char *out, int size)
{
	unsigned char b[16];
	int i;

	if (id_safe(unique) && unique.len < size) {
		memcpy(out, unique.s, unique.len);
		out[unique.len] = '\0';
		return;
	}
	t4_hash128("imdn", unique, b);
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* MIME token (RFC 2045 5.1) */
static int t4_token(cm_str v)
{
	int i;
	unsigned char c;

	if (v.len <= 0)
		return 0;
	for (i = 0; i < v.len; i++) {
		c = (unsigned char)v.s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c))
			return 0;
	}
	return 1;
}

/* type "/" subtype */
static int t4_media_type_ok(cm_str t)
{
	int i;

	for (i = 0; i < t.len && t.s[i] != '/'; i++)
		;
	if (i >= t.len)
		return 0;
	return t4_token((cm_str){t.s, i})
		   && t4_token((cm_str){t.s + i + 1, t.len - i - 1});
}

typedef struct t4_payload {
	cm_buf ct;    /* Content-Type to write */
	cm_str cte;   /* Content-Transfer-Encoding to write, or empty */
	cm_buf dec;   /* decoded bytes */
	cm_buf conv;  /* converted to UTF-8 text, or the rewritten multipart */
	cm_str data;  /* the payload: dec, conv, or a slice of the mail */
	int crlf;     /* line ends to be made CRLF when written */
	int max;      /* limit of a conversion's output (max_body_size) */
	char why[96]; /* res_text naming a charset */
} t4_payload;

#define T4_DEC_OK 0
#define T4_DEC_BAD -1     /* undecodable */
#define T4_DEC_UNKNOWN -2 /* a transfer encoding we cannot decode */
#define T4_DEC_NOMEM -3

static int t4_cte_identity(cm_str cte)
{
	return cte.len == 0 || cm_str_ieqz(cte, "7bit") || cm_str_ieqz(cte, "8bit")
		   || cm_str_ieqz(cte, "binary");
}

/* a text body: base64 / quoted-printable decoded, 7bit/8bit as they are
 * (line ends made CRLF, the canonical form of text, RFC 2046 4.1.1) */
static int t4_decode_text(cm_str cte, cm_str raw, t4_payload *p)
{
	int rc;

	cte = cm_str_trim(cte);
	if (cm_str_ieqz(cte, "base64") || cm_str_ieqz(cte, "quoted-printable")) {
		if (cm_str_ieqz(cte, "base64"))
			rc = mm4_base64_decode(&p->dec, raw.s, raw.len);
		else
			rc = mm4_qp_decode(&p->dec, raw.s, raw.len);
		if (rc < 0)
			return p->dec.failed ? T4_DEC_NOMEM : T4_DEC_BAD;
		p->data.s = p->dec.s;
		p->data.len = p->dec.len;
		return T4_DEC_OK;
	}
	if (!t4_cte_identity(cte))
		return T4_DEC_UNKNOWN;
	p->data = raw;
	p->crlf = !cm_str_ieqz(cte, "binary");
	return T4_DEC_OK;
}

/* Table 4, row text charset: the failure of a conversion (charset.h) ->
 * status, with the text in why */
static const char *t4_cs_fail(int rc, const char *what, cm_str cs, char *why,
		int size, const char **text)
{
	cs = cm_str_trim(cs);
	if (rc == CS_NOMEM) {
		*text = "out of memory";
		return T4_UNSPECIFIED;
	}
	if (rc == CS_TOO_LARGE) {
		*text = "content too large for pager mode";
		return T4_CONTENT;
	}
	if (cs.len <= 0)
		cs = cm_str_z("us-ascii");
	/* the label is printable ASCII (header syntax), cut for the RES */
	snprintf(why, size, "%s %s: %.*s", what,
			rc == CS_UNKNOWN ? "in an unknown charset" : "not valid in charset",
			cs.len > CS_NAME_MAX ? CS_NAME_MAX : cs.len, cs.s);
	*text = why;
	return T4_CONTENT;
}

/* Table 4, row text charset: p->data in charset -> UTF-8 (p->conv unless
 * it is UTF-8 already); NULL or the status */
static const char *t4_text_utf8(t4_payload *p, cm_str charset,
		const char **text)
{
	int rc;

	charset = cm_str_trim(charset);
	if ((charset.len == 0 || cs_is_utf8(charset))
			&& cs_utf8_valid(p->data.s, p->data.len)
			&& !(p->data.len >= 3 && memcmp(p->data.s, "\xef\xbb\xbf", 3) == 0))
		return NULL; /* nothing to change: no copy */
	p->conv.len = 0;
	rc = cs_to_utf8(&p->conv, charset, p->data.s, p->data.len, p->max);
	if (rc != CS_OK)
		return t4_cs_fail(rc, "text", charset, p->why, sizeof(p->why), text);
	p->data.s = p->conv.s ? p->conv.s : "";
	p->data.len = p->conv.len;
	return NULL;
}

/* Content-Type of a decoded text payload: type; charset=utf-8, the text
 * converted to it (CPM text is UTF-8, RFC 3862 / OMA CPM) */
static const char *t4_text_ct(t4_payload *p, cm_str type, cm_str charset,
		const char **text)
{
	const char *st = t4_text_utf8(p, charset, text);

	if (st)
		return st;
	cm_buf_printf(&p->ct, "%.*s; charset=%s", type.len, type.s,
			t4.default_charset);
	return NULL;
}

/* "--boundary--" line present (mime_split also fails on too many parts) */
static int t4_has_close(cm_str body, cm_str bnd)
{
	int i, j;

	for (i = 0; i + bnd.len + 4 <= body.len; i++) {
		if ((i == 0 || body.s[i - 1] == '\n') && body.s[i] == '-'
				&& body.s[i + 1] == '-'
				&& memcmp(body.s + i + 2, bnd.s, bnd.len) == 0
				&& body.s[i + 2 + bnd.len] == '-'
				&& body.s[i + 3 + bnd.len] == '-') {
			for (j = i + 4 + bnd.len; j < body.len && (body.s[j] == ' '
					|| body.s[j] == '\t'); j++)
				;
			if (j == body.len || body.s[j] == '\r' || body.s[j] == '\n')
				return 1;
		}
	}
	return 0;
}

/* nested multiparts rewritten below the top level (deeper: as received) */
#define T4_MAX_DEPTH 4

/* a WSP multipart type's MIME name, else the type itself */
static cm_str t4_mime_type(cm_str type)
{
	int i;

	for (i = 0; i < ARRAY_LEN(t4_wsp_types); i++)
		if (cm_str_ieqz(type, t4_wsp_types[i].from))
			return cm_str_z(t4_wsp_types[i].to);
	return type;
}

/* ct's parameters after the media type, as received, from the first ';' */
static cm_str t4_ct_rest(cm_str ct)
{
	cm_str type = mime_ct_type(ct), rest = {NULL, 0};

	if (!type.s || !ct.s)
		return rest;
	rest.s = type.s + type.len;
	rest.len = ct.len - (int)(rest.s - ct.s);
	return cm_str_trim(rest);
}

/* a text part's Content-Type with charset=utf-8 in place of its charset,
 * the other parameters (name, format, ...) as received */
static void t4_ct_utf8(cm_buf *b, cm_str ct)
{
	cm_str type = mime_ct_type(ct), rest = t4_ct_rest(ct), prm, nm;
	int i = 0, j, q;

	cm_buf_addstr(b, type.len > 0 ? type : cm_str_z(t4.text_type));
	while (i < rest.len) {
		if (rest.s[i] == ';') {
			i++;
			continue;
		}
		for (j = i, q = 0; j < rest.len && (q || rest.s[j] != ';'); j++) {
			if (rest.s[j] == '\\' && q && j + 1 < rest.len)
				j++;
			else if (rest.s[j] == '"')
				q = !q;
		}
		prm = cm_str_trim((cm_str){rest.s + i, j - i});
		for (nm.s = prm.s, nm.len = 0; nm.len < prm.len
				&& prm.s[nm.len] != '='; nm.len++)
			;
		if (prm.len > 0 && !cm_str_ieqz(cm_str_trim(nm), "charset")) {
			cm_buf_adds(b, "; ");
			cm_buf_addstr(b, prm);
		}
		i = j;
	}
	cm_buf_printf(b, "; charset=%s", t4.default_charset);
}

/* 1 if the header line (unfolded or not) is the header name */
static int t4_hdr_is(cm_str line, const char *name)
{
	int n = (int)strlen(name);
	cm_str v;

	if (line.len <= n || !cm_str_iprefix(line, name))
		return 0;
	v = cm_str_trim((cm_str){line.s + n, line.len - n});
	return v.len > 0 && v.s[0] == ':';
}

/* a part's header block with Content-Type / Content-Transfer-Encoding
 * replaced by ct / cte where those are not empty (added if missing); the
 * other header lines as received */
static void t4_part_headers(cm_buf *b, cm_str hdrs, cm_str ct, cm_str cte)
{
	int i = 0, end, ct_done = 0, cte_done = 0;
	cm_str line;

	while (i < hdrs.len) {
		/* one header with its continuation lines */
		for (end = i; end < hdrs.len; end++)
			if (hdrs.s[end] == '\n' && (end + 1 >= hdrs.len
						|| (hdrs.s[end + 1] != ' ' && hdrs.s[end + 1] != '\t')))
				break;
		end = end < hdrs.len ? end + 1 : end;
		line = (cm_str){hdrs.s + i, end - i};
		if (ct.len > 0 && t4_hdr_is(line, "Content-Type")) {
			if (!ct_done)
				cm_buf_printf(b, "Content-Type: %.*s\r\n", ct.len, ct.s);
			ct_done = 1;
		} else if (cte.len > 0 && t4_hdr_is(line, "Content-Transfer-Encoding")) {
			if (!cte_done)
				cm_buf_printf(b, "Content-Transfer-Encoding: %.*s\r\n",
						cte.len, cte.s);
			cte_done = 1;
		} else {
			cm_buf_addstr(b, line);
			if (line.len > 0 && line.s[line.len - 1] != '\n')
				cm_buf_adds(b, "\r\n");
		}
		i = end;
	}
	if (ct.len > 0 && !ct_done)
		cm_buf_printf(b, "Content-Type: %.*s\r\n", ct.len, ct.s);
	if (cte.len > 0 && !cte_done)
		cm_buf_printf(b, "Content-Transfer-Encoding: %.*s\r\n", cte.len,
				cte.s);
}

typedef struct t4_rewrite {
	cm_buf *b;     /* the rewritten multipart */
	cm_buf tmp;    /* one text part decoded */
	cm_buf utf8;   /* ... converted */
	cm_buf hdr;    /* its new Content-Type */
	int max;
	int changed;   /* anything differs from the mail */
	char *why;
	int whysize;
} t4_rewrite;

static int t4_has_8bit(cm_str v)
{
	int i;

	for (i = 0; i < v.len; i++)
		if ((unsigned char)v.s[i] >= 0x80)
			return 1;
	return 0;
}

/* one text part of a passed multipart: NULL (written to rw->b, converted
 * or as received) or the status */
static const char *t4_rewrite_text(t4_rewrite *rw, const mime_part *part,
		const char **text)
{
	cm_str cs = cm_str_trim(mime_ct_param(part->content_type, "charset"));
	cm_str cte = cm_str_trim(block_header(part->headers,
			"Content-Transfer-Encoding"));
	cm_str data, ncte = {NULL, 0}, hdr;
	int rc, b64 = cm_str_ieqz(cte, "base64"),
			qp = cm_str_ieqz(cte, "quoted-printable");

	rw->tmp.len = 0;
	if (b64 || qp) {
		rc = b64 ? mm4_base64_decode(&rw->tmp, part->body.s, part->body.len)
				 : mm4_qp_decode(&rw->tmp, part->body.s, part->body.len);
		if (rc < 0 && rw->tmp.failed) {
			*text = "out of memory";
			return T4_UNSPECIFIED;
		}
		if (rc < 0) { /* (a nested part: not checked before) */
			*text = "undecodable text part";
			return T4_CORRUPT;
		}
		data = (cm_str){rw->tmp.s ? rw->tmp.s : "", rw->tmp.len};
	} else if (t4_cte_identity(cte)) {
		data = part->body;
	} else {
		data.s = NULL; /* an encoding we cannot decode: as received */
		data.len = 0;
	}
	if (data.s && cs_is_utf8(cs) && !cs_utf8_valid(data.s, data.len))
		return t4_cs_fail(CS_INVALID, "text part", cs, rw->why, rw->whysize,
				text);
	/* UTF-8, or no label / US-ASCII and only ASCII: nothing to change */
	if (!data.s || cs_is_utf8(cs)
			|| ((cs.len == 0 || cm_str_ieqz(cs, "us-ascii"))
					&& !t4_has_8bit(data))) {
		t4_part_headers(rw->b, part->headers, ncte, ncte);
		cm_buf_adds(rw->b, "\r\n");
		cm_buf_addstr(rw->b, part->body);
		return NULL;
	}
	rw->utf8.len = 0;
	rc = cs_to_utf8(&rw->utf8, cs, data.s, data.len, rw->max);
	if (rc != CS_OK)
		return t4_cs_fail(rc, "text part", cs, rw->why, rw->whysize, text);
	rw->changed = 1;
	rw->hdr.len = 0;
	t4_ct_utf8(&rw->hdr, part->content_type);
	hdr = (cm_str){rw->hdr.s, rw->hdr.len};
	/* the part's own transfer encoding again; 8-bit text as 8bit (SIP
	 * bodies are 8-bit clean) */
	if (!b64 && !qp && t4_has_8bit((cm_str){rw->utf8.s, rw->utf8.len})
			&& !cm_str_ieqz(cte, "binary"))
		ncte = cm_str_z("8bit");
	t4_part_headers(rw->b, part->headers, hdr, ncte);
	cm_buf_adds(rw->b, "\r\n");
	if (b64) {
		mm4_base64_encode(rw->b, (const unsigned char *)rw->utf8.s,
				rw->utf8.len, 76);
		/* the line end before the delimiter is written by the caller */
		if (rw->b->len >= 2 && rw->b->s[rw->b->len - 1] == '\n')
			rw->b->len -= 2;
	} else if (qp) {
		mm4_qp_encode(rw->b, (const unsigned char *)rw->utf8.s, rw->utf8.len);
	} else {
		cm_buf_add(rw->b, rw->utf8.s, rw->utf8.len);
	}
	return NULL;
}

/*
 * Table 4, rows text charset and Content-Type, for a multipart passed to
 * CPM: rewritten part by part into rw->b, every text part in a charset
 * other than UTF-8 converted (charset=utf-8, its own transfer encoding
 * again), WSP multipart types renamed and nested multiparts rewritten the
 * same way (T4_MAX_DEPTH); other parts, preamble and epilogue dropped, as
 * received. A multipart that does not split (more than T4_MAX_PARTS parts)
 * is copied as received. NULL or the status.
 */
static const char *t4_rewrite_mp(t4_rewrite *rw, cm_str body, cm_str bnd,
		int depth, const char **text)
{
	mime_part parts[T4_MAX_PARTS];
	cm_str pt, mt, nb, ct;
	const char *st;
	int i, n;

	n = mime_split(body, bnd, parts, T4_MAX_PARTS);
	if (n <= 0) {
		cm_buf_addstr(rw->b, body);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		cm_buf_printf(rw->b, "--%.*s\r\n", bnd.len, bnd.s);
		pt = mime_ct_type(parts[i].content_type);
		mt = t4_mime_type(pt);
		if (pt.len == 0 || cm_str_iprefix(pt, "text/")) {
			st = t4_rewrite_text(rw, &parts[i], text);
			if (st)
				return st;
		} else if (cm_str_iprefix(mt, "multipart/") && depth < T4_MAX_DEPTH
				&& t4_cte_identity(cm_str_trim(block_header(
						parts[i].headers, "Content-Transfer-Encoding")))
				&& (nb = mime_ct_param(parts[i].content_type, "boundary")).len
						> 0) {
			/* the renamed type with the parameters as received */
			ct = (cm_str){NULL, 0};
			if (mt.s != pt.s) {
				rw->changed = 1;
				rw->hdr.len = 0;
				cm_buf_addstr(&rw->hdr, mt);
				ct = t4_ct_rest(parts[i].content_type);
				if (ct.len > 0) {
					cm_buf_adds(&rw->hdr, ct.s[0] == ';' ? "" : "; ");
					cm_buf_addstr(&rw->hdr, ct);
				}
				ct = (cm_str){rw->hdr.s, rw->hdr.len};
			}
			t4_part_headers(rw->b, parts[i].headers, ct, (cm_str){NULL, 0});
			cm_buf_adds(rw->b, "\r\n");
			st = t4_rewrite_mp(rw, parts[i].body, nb, depth + 1, text);
			if (st)
				return st;
		} else {
			cm_buf_addstr(rw->b, parts[i].headers);
			cm_buf_adds(rw->b, "\r\n");
			cm_buf_addstr(rw->b, parts[i].body);
		}
		cm_buf_adds(rw->b, "\r\n");
	}
	cm_buf_printf(rw->b, "--%.*s--\r\n", bnd.len, bnd.s);
	return NULL;
}

/* the multipart in p->data rewritten (t4_rewrite_mp) into p->conv when
 * anything changes; NULL or the status */
static const char *t4_rewrite_payload(t4_payload *p, cm_str bnd,
		const char **text)
{
	t4_rewrite rw;
	const char *st;

	memset(&rw, 0, sizeof(rw));
	rw.b = &p->conv;
	cm_buf_init(&rw.tmp);
	cm_buf_init(&rw.utf8);
	cm_buf_init(&rw.hdr);
	rw.max = p->max;
	rw.why = p->why;
	rw.whysize = sizeof(p->why);
	p->conv.len = 0;
	st = t4_rewrite_mp(&rw, p->data, bnd, 0, text);
	if (!st && (rw.b->failed || rw.tmp.failed || rw.utf8.failed
					|| rw.hdr.failed)) {
		*text = "out of memory";
		st = T4_UNSPECIFIED;
	}
	cm_buf_free(&rw.tmp);
	cm_buf_free(&rw.utf8);
	cm_buf_free(&rw.hdr);
	if (!st && rw.changed) {
		p->data.s = p->conv.s;
		p->data.len = p->conv.len;
	}
	return st;
}

/*
 * Table 4, row Content-Type + body. Policy:
 *  - top-level text/<sub>: decoded and converted to UTF-8 -> text/<sub>;
 *    charset=utf-8 (one trailing line end dropped: it ends the SMTP data,
 *    not the text)
 *  - multipart (WSP types rewritten): exactly one text/plain part and
 *    otherwise only application/smil parts -> that part decoded and
 *    converted as text/plain; charset=utf-8; anything else -> the
 *    multipart with its top-level Content-Type (boundary) and
 *    Content-Transfer-Encoding, its text parts in UTF-8 and nested WSP
 *    types renamed (t4_rewrite_mp), else as received
 *  - any other single part: as received, with its Content-Type and
 *    Content-Transfer-Encoding
 * Broken MIME (no boundary, no closing delimiter, undecodable base64, an
 * encoded multipart) -> Error-message-format-corrupt; text in a charset
 * iconv does not know or not valid in its charset ->
 * Error-content-not-accepted (charset.h has the labels and fallbacks).
 * Returns NULL, or the status with *text set.
 */
static const char *t4_select_payload(const mm4_msg *m, t4_payload *p,
		const char **text)
{
	mime_part parts[T4_MAX_PARTS];
	cm_str ct, cte, body, type, otype, rest, bnd, pt, pcte;
	int i, n, rc, ntext = 0, nother = 0, itext = -1;

	bnd.s = NULL;
	bnd.len = 0;
	ct = cm_str_trim(mm4_get(m, "Content-Type"));
	cte = cm_str_trim(mm4_get(m, "Content-Transfer-Encoding"));
	body = m->body;
	if (!body.s)
		body.len = 0;
	if (cm_str_has_ctl(ct) || cm_str_has_ctl(cte)) {
		*text = "bad Content-Type";
		return T4_CORRUPT;
	}
	if (ct.len <= 0)
		ct = cm_str_z(t4.default_type);
	type = mime_ct_type(ct);
	if (!t4_media_type_ok(type)) {
		*text = "bad Content-Type";
		return T4_CORRUPT;
	}
	/* parameters as received, from the first ';' */
	rest.s = ct.s + (type.s - ct.s) + type.len;
	rest.len = ct.len - (int)(rest.s - ct.s);
	rest = cm_str_trim(rest);
	otype = type;
	for (i = 0; i < ARRAY_LEN(t4_wsp_types); i++)
		if (cm_str_ieqz(type, t4_wsp_types[i].from))
			otype = cm_str_z(t4_wsp_types[i].to);
	for (i = 0; i < ARRAY_LEN(t1_refused_types); i++) {
		if (cm_str_ieqz(otype, t1_refused_types[i])) {
			*text = "content type not accepted";
			return T4_CONTENT;
		}
	}

	if (cm_str_iprefix(otype, "text/")) {
		/* the CRLF before the SMTP "." ends the last line */
		if (body.len > 0 && body.s[body.len - 1] == '\n')
			body.len--;
		if (body.len > 0 && body.s[body.len - 1] == '\r')
			body.len--;
		rc = t4_decode_text(cte, body, p);
		if (rc == T4_DEC_OK)
			return t4_text_ct(p, otype, mime_ct_param(ct, "charset"), text);
		if (rc == T4_DEC_BAD) {
			*text = "undecodable text body";
			return T4_CORRUPT;
		}
		if (rc == T4_DEC_NOMEM) {
			*text = "out of memory";
			return T4_UNSPECIFIED;
		}
		body = m->body; /* unknown encoding: passed as it is */
	} else if (cm_str_iprefix(otype, "multipart/")) {
		/* RFC 2045 6.4: a multipart is never encoded */
		if (!t4_cte_identity(cte)) {
			*text = "encoded multipart";
			return T4_CORRUPT;
		}
		bnd = mime_ct_param(ct, "boundary");
		if (bnd.len <= 0) {
			*text = "multipart without boundary";
			return T4_CORRUPT;
		}
		n = mime_split(body, bnd, parts, T4_MAX_PARTS);
		if (n < 0 && !t4_has_close(body, bnd)) {
			*text = "multipart without closing delimiter";
			return T4_CORRUPT;
		}
		if (n == 0) {
			*text = "empty multipart";
			return T4_CORRUPT;
		}
		for (i = 0; i < n; i++) {
			pt = mime_ct_type(parts[i].content_type);
			pcte = block_header(parts[i].headers,
					"Content-Transfer-Encoding");
			if (cm_str_ieqz(pcte, "base64")
					&& mm4_base64_decode(NULL, parts[i].body.s,
							   parts[i].body.len)
							< 0) {
				*text = "undecodable base64 part";
				return T4_CORRUPT;
			}
			if (pt.len == 0 || cm_str_ieqz(pt, t4.text_type)) {
				ntext++;
				itext = i;
			} else if (!cm_str_ieqz(pt, t4.smil_type)) {
				nother++;
			}
		}
		if (n > 0 && ntext == 1 && nother == 0) {
			rc = t4_decode_text(block_header(parts[itext].headers,
										"Content-Transfer-Encoding"),
					parts[itext].body, p);
			if (rc == T4_DEC_OK)
				return t4_text_ct(p, cm_str_z(t4.text_type),
						mime_ct_param(parts[itext].content_type, "charset"),
						text);
			if (rc == T4_DEC_BAD) {
				*text = "undecodable text part";
				return T4_CORRUPT;
			}
			if (rc == T4_DEC_NOMEM) {
				*text = "out of memory";
				return T4_UNSPECIFIED;
			}
			/* unknown encoding: the multipart goes as it is */
			cm_buf_free(&p->dec);
			p->crlf = 0;
		}
	} else if (cm_str_ieqz(cte, "base64")
			&& mm4_base64_decode(NULL, body.s, body.len) < 0) {
		*text = "undecodable base64 body";
		return T4_CORRUPT;
	}
	/* passed through as received */
	if (cte.len > 0 && !t4_token(cte)) {
		*text = "bad Content-Transfer-Encoding";
		return T4_CORRUPT;
	}
	p->data = body;
	p->cte = cte;
	/* the text parts of a multipart passed on go in UTF-8 too */
	if (cm_str_iprefix(otype, "multipart/")) {
		const char *st = t4_rewrite_payload(p, bnd, text);

		if (st)
			return st;
	}
	cm_buf_addstr(&p->ct, otype);
	if (rest.len > 0) {
		cm_buf_adds(&p->ct, rest.s[0] == ';' ? "" : "; ");
		cm_buf_addstr(&p->ct, rest);
	}
	return NULL;
}

/* payload bytes, line ends made CRLF when asked */
static void t4_add_payload(cm_buf *b, const t4_payload *p)
{
	int i, start = 0;
	const char *s = p->data.s;

	if (!p->crlf) {
		cm_buf_add(b, s, p->data.len);
		return;
	}
	for (i = 0; i < p->data.len; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			continue;
		cm_buf_add(b, s + start, i - start);
		cm_buf_add(b, "\r\n", 2);
		if (s[i] == '\r' && i + 1 < p->data.len && s[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	cm_buf_add(b, s + start, p->data.len - start);
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
		cm_str iwf_uri, const t4_payload *p, const t4_group *g)
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

int map_mm4_to_cpm(const mm4_msg *m, cm_str rcpt, const mm4_in_config *cfg,
		cm_str unique, time_t now, cpm_out *out)
{
	char e164[E164_BUF], iso[32], d[32];
	cm_str v, iwf_uri;
	t4_payload p;
	t4_group group;
	cm_buf b;
	const char *status, *text = NULL;
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
	rc = t4_subject(mm4_get(m, "Subject"), out->subject, sizeof(out->subject),
			&bad);
	if (rc != CS_OK) {
		status = t4_cs_fail(rc, "Subject", bad, p.why, sizeof(p.why), &text);
		return t4_fail(out, status, text);
	}

	/* rows X-Mms-Message-ID, Conversation-ID, Contribution-ID */
	t4_imdn_id(unique, out->imdn_message_id, sizeof(out->imdn_message_id));
	t4_conversation_id(out, unique);
	t4_uuid("contribution", unique, out->contribution_id);

	/* row Content-Type + body */
	cm_buf_init(&p.ct);
	cm_buf_init(&p.dec);
	cm_buf_init(&p.conv);
	p.max = cfg->max_body_size;
	status = t4_select_payload(m, &p, &text);
	if (!status && (p.ct.failed || p.conv.failed)) {
		status = T4_UNSPECIFIED;
		text = "out of memory";
	}
	if (status) {
		rc = t4_fail(out, status, text);
		cm_buf_free(&p.ct);
		cm_buf_free(&p.dec);
		cm_buf_free(&p.conv);
		return rc;
	}
	t4_others(m, rcpt, cfg, &group);
	cm_buf_init(&b);
	t4_write_cpim(&b, out, iso, iwf_uri, &p, &group);
	off = b.len;
	t4_add_payload(&b, &p);
	n = b.len - off;
	cm_buf_free(&p.ct);
	cm_buf_free(&p.dec);
	cm_buf_free(&p.conv);
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
