/*
 * cpm_mms - the body of a SIP MESSAGE as the module reads it: its
 * Content-Type and the content with any Content-Encoding removed.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_SIP_BODY_H
#define CPM_MMS_SIP_BODY_H

#include "core/parser/msg_parser.h"
#include "cm_str.h"

typedef struct sip_body {
	cm_str content_type;  /* trimmed Content-Type value, may be empty */
	cm_str content;       /* the body, decoded when it was encoded */
	cm_buf decoded;       /* owns content when the body was decoded */
	int coded;            /* 1: a Content-Encoding was removed */
	/* on failure: the SIP answer to give */
	int sip_code;
	const char *sip_reason;
} sip_body;

/* Reads msg's body (headers must be parsed) and inflates a deflate/gzip
 * Content-Encoding into b->decoded, at most max decoded bytes. Returns 0,
 * or -1 with sip_code/sip_reason set: 415 for an unknown coding (answer
 * with sip_body_accept_encoding), 400 for a body that does not decode,
 * 413 for one over max, 500 without memory. A message with no body is 0
 * with an empty content. sip_body_free() in both cases. */
int sip_body_get(struct sip_msg *msg, int max, sip_body *b);
void sip_body_free(sip_body *b);

/* the trimmed value of msg's first header of that type, or empty */
cm_str sip_first_hdr(struct sip_msg *msg, int type);

/* adds "Accept-Encoding: ..." to the reply of msg (for a 415) */
void sip_body_accept_encoding(struct sip_msg *msg);

#endif
