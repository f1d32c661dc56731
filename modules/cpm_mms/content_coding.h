/*
 * cpm_mms - SIP body Content-Encoding (RFC 3261 section 20.12): the
 * deflate and gzip codings that clients such as liblinphone put on
 * MESSAGE bodies, decoded with zlib before the body is classified.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_CONTENT_CODING_H
#define CPM_MMS_CONTENT_CODING_H

#include "cm_str.h"

typedef enum cc_coding {
	CC_IDENTITY = 0,  /* no header, empty, or "identity" */
	CC_DEFLATE,       /* "deflate": zlib stream (RFC 1950), raw accepted */
	CC_GZIP,          /* "gzip" / "x-gzip" (RFC 1952) */
	CC_UNKNOWN,       /* anything else, or several codings */
} cc_coding;

#define CC_OK 0
#define CC_CORRUPT -1   /* not a valid stream of the coding */
#define CC_TOO_LARGE -2 /* decoded size over the limit */
#define CC_NOMEM -3

/* the coding named by a Content-Encoding header value */
cc_coding cc_parse(cm_str value);

/* Decode in (coding CC_DEFLATE or CC_GZIP) into out, a cm_buf the caller
 * initialised; at most max decoded bytes. On any error out is freed. */
int cc_decode(cc_coding coding, cm_str in, int max, cm_buf *out);

/* the value for an Accept-Encoding header in a 415 answer */
#define CC_ACCEPT_ENCODING "identity, deflate, gzip"

#endif
