/*
 * cpm_mms - MIME (RFC 2045/2046): Content-Type values and multipart bodies.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MIME_H
#define CPM_MMS_MIME_H

#include "cm_str.h"

/* a header block's line at pos: *le is set to the end of its content (a
 * CR before the LF is not content); returns the start of the next line.
 * CRLF and bare LF both end a line; the last line may have no end. */
int mime_next_line(const char *buf, int len, int pos, int *le);
/* "Name: value" with a printable-ASCII name (trailing WSP before the colon
 * tolerated); value untrimmed. 1 if it is a header line, else 0 */
int mime_split_header(const char *s, int n, cm_str *name, cm_str *value);

/* the parts of a multipart body, zero-copy (SIP bodies of CPM URI-list
 * requests are multipart/mixed with a message/cpim part and an
 * application/resource-lists+xml part, RFC 5365) */
#define MIME_MAX_PARTS 16
typedef struct mime_part {
	cm_str content_type;   /* of the part, trimmed; empty = text/plain */
	cm_str headers;        /* raw header block of the part */
	cm_str body;           /* part body without the CRLF before the delimiter */
} mime_part;

/* get a parameter (e.g. "boundary", "charset") of a Content-Type value,
 * quotes removed; empty if missing */
cm_str mime_ct_param(cm_str content_type, const char *param);
/* media type without parameters, trimmed (e.g. "multipart/mixed") */
cm_str mime_ct_type(cm_str content_type);
/* split; returns the number of parts or -1 on a syntax error */
int mime_split(cm_str body, cm_str boundary, mime_part *parts, int max);
 /* value of a header in a raw MIME header block (first line only, trimmed);
 * empty if absent */
cm_str mime_block_header(cm_str block, const char *name);

#endif
