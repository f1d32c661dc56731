/*
 * cpm_mms - message/cpim (RFC 3862) and IMDN request header parsing.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure, zero-copy: every cm_str points into the caller's buffer, which must
 * outlive the result. No allocation. Bare LF is accepted in place of CRLF. */
#ifndef CPM_MMS_CPIM_H
#define CPM_MMS_CPIM_H

#include "cm_str.h"

#define CPIM_MAX_HEADERS 64
#define CPIM_MAX_RCPT 32
#define CPIM_MAX_MIME_HEADERS 16

#define CPIM_IMDN_NS_URN "urn:ietf:params:imdn"

typedef struct cpim_header {
	cm_str name;  /* as written, e.g. "imdn.Message-ID" */
	cm_str value; /* trimmed */
} cpim_header;

/* dispositions of imdn.Disposition-Notification */
#define CPIM_DN_POSITIVE_DELIVERY 0x01
#define CPIM_DN_NEGATIVE_DELIVERY 0x02
#define CPIM_DN_DISPLAY 0x04
#define CPIM_DN_PROCESSING 0x08

typedef struct cpim_msg {
	cpim_header hdr[CPIM_MAX_HEADERS]; /* CPIM message headers, in order */
	int nhdr;
	cm_str from;                       /* whole value: "Name" <uri> */
	cm_str to[CPIM_MAX_RCPT];          /* every To header value */
	int nto;
	cm_str cc[CPIM_MAX_RCPT];
	int ncc;
	cm_str datetime;                   /* DateTime, raw */
	cm_str subject;                    /* first Subject (any ;lang) */
	/* imdn.* headers, recognised through the NS prefix bound to
	 * urn:ietf:params:imdn (whatever the prefix is) */
	cm_str imdn_message_id;
	cm_str imdn_disposition;           /* raw value */
	int dispositions;                  /* CPIM_DN_* bits of it */
	cm_str imdn_record_route[CPIM_MAX_RCPT];
	int nrecord_route;
	/* encapsulated MIME headers of the payload */
	cpim_header mime[CPIM_MAX_MIME_HEADERS];
	int nmime;
	cm_str content_type;               /* payload Content-Type value */
	cm_str content_transfer_encoding;
	cm_str body;                       /* payload, up to the end of buffer */
} cpim_msg;

/* return codes */
#define CPIM_OK 0
#define CPIM_ERR_SYNTAX -1        /* no blank line, header without ':' ... */
#define CPIM_ERR_TOO_MANY -2      /* a fixed limit above was exceeded */

int cpim_parse(const char *buf, int len, cpim_msg *out);

/* parse a comma list of dispositions into CPIM_DN_* bits (unknown tokens
 * ignored) */
int cpim_parse_dispositions(cm_str v);

/* split a name-addr / addr-spec: "Display" <uri> or <uri> or bare uri.
 * display is unquoted (no unescaping of \"), both may be empty. 0 / -1 */
int cpim_split_addr(cm_str v, cm_str *display, cm_str *uri);

/* find a header by exact (case-sensitive, CPIM rule) name; empty if none */
cm_str cpim_get(const cpim_msg *m, const char *name);

#endif
