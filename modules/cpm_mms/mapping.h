/*
 * cpm_mms - the CPM <-> MM4 mapping tables (seed Table 1 and the proposed
 * Tables 2-5 of ../shared/spec/CPM_MMS_MAPPING.md). Every mapping decision
 * of the module lives in mapping.c, so the tables can be read in one place.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MAPPING_H
#define CPM_MMS_MAPPING_H

#include <time.h>
#include "cm_str.h"
#include "cpim.h"
#include "resource_lists.h"
#include "mm4.h"
#include "e164.h"

#define MAP_MAX_RCPT 32

/* what the glue extracts from the SIP MESSAGE (all may be empty) */
typedef struct cpm_request {
	cm_str ruri;           /* Request-URI, or the recipient_uri argument */
	cm_str from;           /* From header value (name-addr, with params) */
	cm_str to;             /* To header value: the address the sender used */
	cm_str pai;            /* first P-Asserted-Identity value */
	cm_str privacy;        /* Privacy header value */
	cm_str subject;        /* SIP Subject */
	cm_str priority;       /* SIP Priority */
	cm_str date;           /* SIP Date (RFC 1123) */
	int expires;           /* SIP Expires seconds, -1 if absent */
	int max_forwards;      /* -1 if absent */
	cm_str content_type;   /* of the SIP body */
	cm_str body;           /* SIP body */
} cpm_request;

typedef struct map_config {
	cm_str mms_version;      /* "6.16.0" */
	cm_str domain;           /* the IWF's MMS domain, e.g. mms.iwf.example */
	cm_str system_address;   /* e.g. system-user@mms.iwf.example */
	int max_message_size;    /* bytes of payload, 0 = no limit */
	int max_recipients;      /* <= MAP_MAX_RCPT */
	int use_cpim_recipients; /* 1: CPIM To/cc are recipients too */
} map_config;

typedef struct map_result {
	/* the REQ, complete except to[]/nto, transaction_id (the glue sets
	 * those after ENUM); strings point into the request, the CPIM buffer
	 * or the buffers below */
	mm4_forward_req req;
	char sender_e164[E164_BUF];
	char sender_addr[MM4_ADDR_MAX];   /* +E164/TYPE=PLMN@domain (From, MAIL FROM) */
	char rcpt_e164[MAP_MAX_RCPT][E164_BUF];
	/* RL_COPY_TO -> MM4 To, RL_COPY_CC -> Cc, RL_COPY_BCC -> RCPT TO
	 * only (req.nbcc counts these) */
	unsigned char rcpt_copy[MAP_MAX_RCPT];
	int nrcpt;
	int dispositions;                  /* CPIM_DN_* requested */
	cm_str imdn_message_id;            /* from CPIM, may be empty */
	cm_str cpm_to;                     /* SIP To of the request (glue) */
	char message_id[128];              /* X-Mms-Message-ID we assign */
	char rfc822_id[160];               /* Message-ID we assign (no <>) */
	char priority_buf[16];
	cpim_msg cpim;
	int is_cpim;
	/* on failure */
	int sip_code;
	const char *sip_reason;
} map_result;

/* Table 1. 'unique' is a fresh unguessable token from the glue (used for
 * the ids). Returns 0, or -1 with sip_code/sip_reason set (400 bad CPIM,
 * 404/484 recipient not E.164, 413 too large, 415 type not convertible,
 * 403 too many recipients, 400 no usable sender). */
int map_cpm_to_mm4(const cpm_request *in, const map_config *cfg,
		cm_str unique, time_t now, map_result *out);

/* ---- Tables 2, 3: MM4_forward.RES status -> SIP final response ---- */
typedef struct map_sip_status {
	int code;
	const char *reason;
} map_sip_status;

/* token is X-Mms-Request-Status-Code (case-insensitive, trimmed); unknown
 * tokens -> 500. status_text (X-Mms-Status-Text) decides 413 vs 415 for
 * content-not-accepted when it mentions size. */
void map_res_status_to_sip(cm_str token, cm_str status_text,
		map_sip_status *out);

/* ---- Table 3b: local failures ---- */
typedef enum map_local_failure {
	MAP_LF_NOT_E164 = 1,     /* 404 */
	MAP_LF_SHORT_NUMBER,     /* 484 */
	MAP_LF_NO_MMS_ROUTE,     /* ENUM NXDOMAIN / no NAPTR, no static: 404 */
	MAP_LF_DNS_TEMP,         /* SERVFAIL / timeout: 503 */
	MAP_LF_NO_HOST,          /* no MX/A, or all unreachable: 503 */
	MAP_LF_SMTP_TEMP,        /* 4xx at MAIL/RCPT/DATA: 503 */
	MAP_LF_SMTP_RCPT_UNKNOWN,/* 550/551/553: 404 */
	MAP_LF_SMTP_SIZE,        /* 552: 413 */
	MAP_LF_SMTP_POLICY,      /* 554: 403 */
	MAP_LF_SMTP_PERM,        /* other 5xx: 500 */
	MAP_LF_CONTENT_TYPE,     /* 415 */
	MAP_LF_TOO_LARGE,        /* 413 */
	MAP_LF_TIMEOUT,          /* 202, or 504 in strict mode */
	MAP_LF_OVERLOAD,         /* 503 */
	MAP_LF_INTERNAL,         /* 500 */
} map_local_failure;

/* Table 1, row Content-Type: the Accept of a 415 (RFC 3261 21.4.13):
 * any user content; message/imdn+xml and im-iscomposing are refused */
#define MAP_CPM_ACCEPT "message/cpim, text/*, image/*, audio/*, video/*, " \
	"multipart/mixed, multipart/related, application/octet-stream"

#define MAP_TIMEOUT_202 0
#define MAP_TIMEOUT_504 1
void map_local_failure_to_sip(map_local_failure lf, int timeout_mode,
		map_sip_status *out);
/* SMTP reply code (MAIL/RCPT/DATA stage) -> local failure */
map_local_failure map_smtp_code(int smtp_code);
/* the same with the reply text (after the 3-digit code): an RFC 3463
 * enhanced code 5.7.x there -> MAP_LF_SMTP_POLICY, 5.1.x (not the sender
 * rows 5.1.7/5.1.8) -> MAP_LF_SMTP_RCPT_UNKNOWN; else map_smtp_code() */
map_local_failure map_smtp_reply(int smtp_code, cm_str text);
/* for combining several RES of one MESSAGE: the answer with the higher
 * rank wins (2xx lowest; 6xx > 5xx > 4xx; within a class the first) */
int map_sip_rank(int code);

/* ---- Table 5 (MMS -> CPM, used by the next direction) ---- */
const char *map_sip_to_res_status(int sip_code);

/* ---- single rows, exposed for tests and the reverse direction ---- */
/* SIP Priority -> X-Mms-Priority (empty if no mapping) */
cm_str map_priority_cpm_to_mm4(cm_str prio);
cm_str map_priority_mm4_to_cpm(cm_str prio);
/* Table 4: Max-Forwards from X-Mms-Forward-Counter: 70 - counter, at
 * least 1 (Table 1 writes no X-Mms-Forward-Counter) */
int map_max_forwards(int forward_counter);
/* 1 if the sender asked for anonymity: display name "Anonymous" (any
 * case, quoted or not) in From, or Privacy containing id or header */
int map_sender_hidden(cm_str from, cm_str privacy);

/* ---- Table 4: MM4_forward.REQ -> SIP MESSAGE (MMS -> CPM) ---- */

#define MAP_URI_TEL 0           /* recipients as tel:+E164 */
#define MAP_URI_SIP_PHONE 1     /* sip:+E164@<cpm_domain>;user=phone */

typedef struct mm4_in_config {
	cm_str domain;           /* the IWF's MMS domain */
	cm_str cpm_domain;       /* host part of sip: URIs (empty: domain) */
	int uri_form;            /* MAP_URI_TEL / MAP_URI_SIP_PHONE */
	cm_str iwf_uri;          /* imdn.IMDN-Record-Route, e.g. <sip:iwf@dom> */
	int max_body_size;       /* CPIM payload limit (pager mode), 0 = none */
	int max_forward_counter; /* X-Mms-Forward-Counter above it = loop */
	int ack_default;         /* X-Mms-Ack-Request absent: 1 = RES anyway */
} mm4_in_config;

/* Table 4, row X-Mms-Ack-Request (any REQ from MMS): Yes/1 -> 1, No/0 ->
 * 0, absent or another value -> ack_default (TS 23.140: absent = no RES) */
int map_ack_requested(cm_str value, int ack_default);

/* one SIP MESSAGE to build, for one local recipient of the REQ */
typedef struct cpm_out {
	char ruri[256];          /* Request-URI = SIP To = CPIM To */
	char from_uri[256];      /* originator (tel:/sip:/mailto:) */
	char from_display[64];   /* "Anonymous" when hidden, else empty */
	int anonymous;           /* X-Mms-Sender-Visibility: Hide */
	char pai[256];           /* P-Asserted-Identity URI (real originator) */
	char subject[512];       /* decoded (RFC 2047 -> UTF-8), no CR/LF */
	const char *priority;    /* SIP Priority token or NULL */
	int expires;             /* seconds, -1 = no Expires */
	int max_forwards;        /* from X-Mms-Forward-Counter */
	char sip_date[40];       /* RFC 1123 "Tue, 24 Nov 2026 17:10:02 GMT" */
	char imdn_message_id[64];/* new, globally unique */
	int dispositions;        /* CPIM_DN_* requested of the CPM side */
	char conversation_id[40];
	char contribution_id[40];
	cm_str body;             /* whole message/cpim body, cm_malloc'd */
	/* what the REQ asked for, for the RES and later reports */
	int ack_request;         /* map_ack_requested() */
	int delivery_report;     /* X-Mms-Delivery-Report: Yes */
	int read_reply;          /* X-Mms-Read-Reply / X-Mms-Read-Report: Yes */
	int rs_delivery_report;  /* X-Mms-Originator-R/S-Delivery-Report: Yes
	                          * (a DR for the R/S only: the glue sends it
	                          * with X-Mms-Forward-To-Originator-UA: No
	                          * unless delivery_report is set too) */
	/* on failure: the X-Mms-Request-Status-Code for the RES and a text */
	const char *res_status;
	const char *res_text;    /* points to res_text_buf */
	char res_text_buf[96];
} cpm_out;

/* Map one REQ for one envelope recipient (an MM4 address of ours, e.g.
 * "+4712345678/TYPE=PLMN@mms.iwf.test"). 'unique' is a fresh token for the
 * new ids (imdn.Message-ID, Contribution-ID; Conversation-ID only for a
 * hidden sender, else it is derived from the originator/recipient pair).
 * Body policy
 * (documented in mapping.c): a single text part (top level, or the only
 * non-SMIL part of a multipart) goes as text/plain; charset=utf-8,
 * decoded from base64/quoted-printable and converted from its charset
 * (charset.h); anything else goes as the original multipart (its text
 * parts converted to UTF-8 the same way) or single part with its own
 * headers; a payload bigger than max_body_size, or text in an unknown
 * charset or not valid in its charset -> Error-content-not-accepted. The
 * Subject is decoded to UTF-8 the same way (RFC 2047, mm4.c).
 * Returns 0, or -1 with res_status/res_text set (Error-message-format-corrupt
 * for missing mandatory headers or bad MIME, Error-sending-address-unresolved
 * for a recipient that is not a PLMN number, Error-service-denied for a
 * forward-counter loop, Error-content-not-accepted for size/type,
 * Error-unspecified for an MM already expired). cpm_out_free() in both
 * cases. */
int map_mm4_to_cpm(const mm4_msg *m, cm_str rcpt, const mm4_in_config *cfg,
		cm_str unique, time_t now, cpm_out *out);
void cpm_out_free(cpm_out *out);

/* the CPM standalone-message ICSI (OMA CPM; CPIM_IMDN_ENUM.md) */
#define MAP_CPM_ICSI "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"

/* what the IWF writes into a SIP request it originates, besides the body */
typedef struct map_sip_head {
	cm_buf hdrs;             /* header fields, each ending CRLF; caller frees
	                          * with cm_buf_free() */
	char from[320];          /* From value */
	char to[320];            /* To value */
} map_sip_head;

/* Table 4, SIP side: the MESSAGE carrying one mapped REQ to 'target':
 * P-Asserted-Identity (not for mailto:), Privacy: id for a hidden sender,
 * Subject, Priority, Expires, Max-Forwards, Date, the CPM ICSI in
 * Accept-Contact and P-Asserted-Service, Conversation-ID, Contribution-ID,
 * Content-Type message/cpim; From anonymous for a hidden sender. h is
 * initialised here. 0, or -1 out of memory (h->hdrs still to be freed) */
int map_cpm_out_sip(const cpm_out *o, const char *target, map_sip_head *h);

/* worst-status-wins order for one RES covering several recipients
 * (higher = worse); unknown tokens rank as Error-unspecified */
int map_res_status_rank(const char *status);

/* ---- Tables 6-9: reports <-> IMDN ---- */
#include "imdn.h"

/* Table 6: X-Mms-MM-Status-Code of an MM4_delivery_report.REQ -> IMDN
 * delivery status, given what the CPM sender requested (CPIM_DN_* bits).
 * Returns IMDN_ST_NONE when no IMDN is to be sent (not requested, or a
 * non-final status such as Deferred / Indeterminate). */
imdn_status map_mm_status_to_imdn(cm_str mm_status, int requested);
/* Table 8: X-Mms-Read-Status -> IMDN display status or IMDN_ST_NONE */
imdn_status map_read_status_to_imdn(cm_str read_status, int requested);
/* Table 7: IMDN delivery status -> X-Mms-MM-Status-Code, NULL = none */
const char *map_imdn_to_mm_status(imdn_status st);
/* Table 9: IMDN display status -> X-Mms-Read-Status, NULL = none */
const char *map_imdn_to_read_status(imdn_status st);

/* Table 7, expiry row: the X-Mms-MM-Status-Code of the report the IWF
 * sends itself when an MMS -> CPM message expires with no delivery report
 * sent */
#define MAP_MM_STATUS_EXPIRED "Expired"
/* when that report is due for a message whose originator asked for a
 * delivery report (want_dr): its X-Mms-Expiry (expires_in seconds after
 * now, -1 = none), but no later than the end of its correlation row
 * (row_expires); 0 = never (not asked, or enabled is 0) */
long long map_expired_report_due(int want_dr, int enabled, long long now,
		int expires_in, long long row_expires);

/* Tables 6/8, SIP side: the IMDN the IWF sends on behalf of the MMS
 * recipient rcpt_uri to the CPM sender: From and P-Asserted-Identity the
 * recipient, To the sender, the CPM ICSI in P-Asserted-Service,
 * Content-Type message/cpim. h is initialised here; 0 / -1 as above */
int map_imdn_sip(const char *rcpt_uri, const char *sender, map_sip_head *h);

#endif
