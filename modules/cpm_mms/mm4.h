/*
 * cpm_mms - MM4 codec: RFC 5322 header block reading and MM4 mail writing.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure. Reading is in place (headers are unfolded inside the caller's
 * buffer); writing goes to a cm_buf. All output lines end in CRLF. */
#ifndef CPM_MMS_MM4_H
#define CPM_MMS_MM4_H

#include <time.h>
#include "cm_str.h"

#define MM4_MAX_HEADERS 128

typedef enum mm4_type {
	MM4_UNKNOWN = 0,
	MM4_FORWARD_REQ,
	MM4_FORWARD_RES,
	MM4_DELIVERY_REPORT_REQ,
	MM4_DELIVERY_REPORT_RES,
	MM4_READ_REPLY_REPORT_REQ,
	MM4_READ_REPLY_REPORT_RES,
} mm4_type;

typedef struct mm4_header {
	cm_str name;
	cm_str value; /* unfolded (CRLF WSP -> WSP) and trimmed */
} mm4_header;

typedef struct mm4_msg {
	mm4_header hdr[MM4_MAX_HEADERS];
	int nhdr;
	cm_str body;  /* after the empty line; empty if none */
	mm4_type type;
} mm4_msg;

#define MM4_OK 0
#define MM4_ERR_SYNTAX -1     /* line without ':' in the header block, NUL */
#define MM4_ERR_TOO_MANY -2

/* Parse a whole mail (as received after DATA, dot-unstuffed, CRLF or LF).
 * The buffer is modified (unfolding). Sets type from X-Mms-Message-Type
 * (case-insensitive). */
int mm4_parse(char *buf, int len, mm4_msg *m);
/* m was parsed from 'from' and the buffer was copied to 'to': point every
 * header and the body into 'to' (the parsed mail handed to another
 * process without parsing it again) */
void mm4_msg_move(mm4_msg *m, const char *from, char *to);

/* first header of that name (case-insensitive); empty cm_str if absent */
cm_str mm4_get(const mm4_msg *m, const char *name);
/* same, with one level of surrounding double quotes removed (for
 * X-Mms-Transaction-ID / X-Mms-Message-ID; quoted-pair \x unescaping is
 * not done: the value is echoed byte for byte) */
cm_str mm4_get_unquoted(const mm4_msg *m, const char *name);
/* "addr" or "Name <addr>" -> addr, trimmed (zero-copy) */
cm_str mm4_bare_address(cm_str v);
/* Split an RFC 5322 address-list (a To/Cc value) into its addresses,
 * trimmed, empty ones dropped: commas inside quoted strings, comments,
 * <...> and [...] do not separate; a group "name: a, b;" gives its
 * members (the empty "undisclosed-recipients:;" none). Returns the count,
 * or -1 if unbalanced or more than max. Zero-copy into v. */
int mm4_addr_list(cm_str v, cm_str *out, int max);
mm4_type mm4_type_from_str(cm_str v);
const char *mm4_type_name(mm4_type t);

/* ---- writing ---- */

/* Append "Name: value\r\n". CR, LF and NUL in value are replaced by a
 * space so a value can never start a new header or the body. Values with
 * non-ASCII bytes are written as RFC 2047 encoded-words (UTF-8, B) when
 * encode is set, else the bytes are replaced by '?'. Long values are folded
 * at whitespace near 78 columns. Returns 0 / -1 (buffer failed). */
int mm4_add_header(cm_buf *b, const char *name, cm_str value, int encode);

/* RFC 5322 date-time "Tue, 24 Nov 2026 17:10:02 +0000" (UTC), NUL-ended,
 * out must hold 32 bytes; returns length */
int mm4_format_date(time_t t, char *out);

#define MM4_ADDR_MAX 256
/* "+4712345678/TYPE=PLMN@mms.example.net" from an E.164 with '+' (added if
 * missing). Returns the length, or -1 if it does not fit, the number is not
 * 1-15 digits or the domain has characters invalid in an address. */
int mm4_plmn_address(cm_str e164, cm_str domain, char *out, int size);

typedef struct mm4_forward_req {
	cm_str version;            /* X-Mms-3GPP-MMS-Version, e.g. 6.16.0 */
	cm_str transaction_id;     /* written quoted */
	cm_str message_id;         /* X-Mms-Message-ID, written quoted */
	cm_str to[32];             /* full addresses (mm4_plmn_address) */
	int nto;
	cm_str cc[32];
	int ncc;
	int nbcc;                  /* envelope-only recipients: never written;
	                            * with no To/Cc the To is the empty group
	                            * "undisclosed-recipients:;" (RFC 5322
	                            * 3.6.3) */
	cm_str from;               /* full address */
	time_t date;
	int has_expiry;
	time_t expiry;             /* absolute */
	int delivery_report;       /* -1 omit, 0 No, 1 Yes */
	int read_reply;            /* -1 omit, 0 No, 1 Yes */
	cm_str priority;           /* Low/Normal/High or empty */
	int sender_hidden;         /* 1 -> X-Mms-Sender-Visibility: Hide */
	cm_str message_class;      /* e.g. Personal, or empty */
	cm_str subject;            /* raw UTF-8; RFC 2047 encoded if needed */
	int ack_request;           /* 1 -> Yes */
	int forward_counter;       /* <=0: omit */
	cm_str originator_system;  /* system address, also Sender */
	cm_str rfc822_message_id;  /* without <> */
	/* content: media type with parameters, and the raw payload bytes. The
	 * writer chooses Content-Transfer-Encoding: multipart is passed
	 * through (line ends normalised to CRLF), text that is 7-bit with
	 * lines <= 998 goes as 7bit, other text as quoted-printable, anything
	 * else as base64. Empty content_type -> text/plain; charset=utf-8. */
	cm_str content_type;
	cm_str content_transfer_encoding; /* of the payload as received, or empty */
	cm_str body;
} mm4_forward_req;

/* Whole mail: header block, empty line, body. 0 / -1. Also -1 if a
 * mandatory element (version, ids, from, a recipient, originator_system,
 * rfc822_message_id) is empty or mm4_check_content() fails. */
int mm4_write_forward_req(cm_buf *b, const mm4_forward_req *r);

/* Can this payload be written? -1 (answer 415) for a multipart or
 * message/rfc822 body that cannot be passed through SMTP as it is (a line
 * over 998 octets, NUL, no boundary) or an unknown received transfer
 * encoding; 0 otherwise. Empty content_type means text/plain. */
int mm4_check_content(cm_str content_type, cm_str content_transfer_encoding,
		cm_str body);

/* Generic *.RES (forward, delivery report, read reply) */
typedef struct mm4_res {
	mm4_type type;             /* one of the *_RES */
	cm_str version;
	cm_str transaction_id;     /* echoed byte for byte, written quoted */
	cm_str message_id;         /* may be empty */
	cm_str status;             /* X-Mms-Request-Status-Code token */
	cm_str status_text;        /* optional */
	cm_str sender;             /* our system address */
	cm_str to;                 /* peer's originator system */
	cm_str rfc822_message_id;
	time_t date;
	int raw_ids;               /* 1: transaction_id/message_id are the
	                            * peer's header values as received (quotes
	                            * included) and are written unchanged */
} mm4_res;

/* 0 / -1; -1 also for a type that is not *_RES or an empty version,
 * status, sender, to or rfc822_message_id (transaction_id may be empty) */
int mm4_write_res(cm_buf *b, const mm4_res *r);

/* base64 / quoted-printable encoders used by the writer (exposed for tests) */
int mm4_base64_encode(cm_buf *b, const unsigned char *in, int len, int line_len);
int mm4_qp_encode(cm_buf *b, const unsigned char *in, int len);

/* ---- decoders (MMS -> CPM direction) ---- */

/* RFC 2045 base64: whitespace is skipped, any other character outside the
 * alphabet, data after '=' padding or a lone last character is an
 * error (missing padding is tolerated). out may be NULL to only check.
 * Returns 0 / -1 (invalid input or buffer failed). */
int mm4_base64_decode(cm_buf *out, const char *in, int len);
/* RFC 2045 quoted-printable, lenient (a stray '=' stays literal): soft
 * breaks removed, hard line breaks written as CRLF. 0 / -1 (buffer). */
int mm4_qp_decode(cm_buf *out, const char *in, int len);
/* RFC 2047 header decoding to UTF-8 (charset.h): B and Q words in any
 * charset iconv knows are converted, adjacent words in one charset as one
 * run (a character split over two words comes out whole) and the
 * whitespace between two decoded words dropped; a word that does not
 * decode (bad base64 / "=XX") stays as written. Text outside words is
 * copied when the whole value is valid UTF-8, else read as windows-1252.
 * No other cleaning (CR/LF/NUL may come out). Returns CS_OK (0),
 * CS_NOMEM (-1, also for bad arguments), or CS_UNKNOWN / CS_INVALID for a
 * word in a charset iconv does not know / bytes not valid in it, with
 * *bad_charset (may be NULL) set to that word's label. */
int mm4_rfc2047_decode(cm_buf *out, cm_str in, cm_str *bad_charset);
/* a header value (Subject) as clean UTF-8 text of at most size - 1 bytes:
 * RFC 2047 decoded as above, CR, LF, NUL and other controls dropped (HTAB
 * -> SP), C1 controls -> '?', cut at a character boundary, trimmed.
 * CS_OK, or CS_UNKNOWN / CS_INVALID (a word in a charset iconv does not
 * know / not valid in it, *bad its label) or CS_NOMEM */
int mm4_header_utf8(cm_str raw, char *out, int size, cm_str *bad);

/* MM4_delivery_report.REQ and MM4_read_reply_report.REQ (MM4.md 3.3, 3.5) */
typedef struct mm4_report_req {
	mm4_type type;             /* MM4_DELIVERY_REPORT_REQ / _READ_REPLY_REPORT_REQ */
	cm_str version;
	cm_str transaction_id;     /* new, written quoted */
	cm_str message_id;         /* of the original MM, written quoted */
	cm_str to;                 /* the original MM's originator (full address) */
	cm_str from;               /* the reporting recipient (full address) */
	time_t date;               /* when the reported event happened */
	cm_str mm_status;          /* X-Mms-MM-Status-Code (delivery report) */
	cm_str read_status;        /* X-Mms-Read-Status (read reply) */
	cm_str status_text;        /* optional */
	int forward_to_ua;         /* -1 omit, else X-Mms-Forward-To-Originator-UA */
	int ack_request;           /* 1 -> X-Mms-Ack-Request: Yes */
	cm_str originator_system;  /* ours; also Sender */
	cm_str rfc822_message_id;  /* without <> */
} mm4_report_req;

/* whole mail, no body; 0 / -1 (missing mandatory field) */
int mm4_write_report_req(cm_buf *b, const mm4_report_req *r);

#endif
