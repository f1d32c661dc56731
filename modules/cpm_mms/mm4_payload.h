/*
 * cpm_mms - what of an MM's body goes to CPM: the MIME payload policy of
 * Table 4 (rows Content-Type and text charset), MMS -> CPM.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MM4_PAYLOAD_H
#define CPM_MMS_MM4_PAYLOAD_H

#include "cm_str.h"
#include "mm4.h"

/* what is wrong with a payload (0: nothing) */
#define MP_OK 0
#define MP_CORRUPT 1   /* broken MIME */
#define MP_CONTENT 2   /* a charset unknown or not valid, too large, refused */
#define MP_NOMEM 3

typedef struct mm4_payload {
	cm_buf ct;    /* Content-Type to write */
	cm_str cte;   /* Content-Transfer-Encoding to write, or empty */
	cm_buf dec;   /* decoded bytes */
	cm_buf conv;  /* converted to UTF-8 text, or the rewritten multipart */
	cm_str data;  /* the payload: dec, conv, or a slice of the mail */
	int crlf;     /* line ends to be made CRLF when written */
	int max;      /* limit of a conversion's output (max_body_size) */
	char why[96]; /* res_text naming a charset */
} mm4_payload;

void mm4_payload_init(mm4_payload *p, int max);
void mm4_payload_free(mm4_payload *p);
/* Select the payload of m (policy in mm4_payload.c): p->ct, p->cte and
 * p->data say what to write. A top-level type in refused is MP_CONTENT.
 * MP_OK, or the kind with *text saying why */
int mm4_payload_select(const mm4_msg *m, const char *const *refused,
		int nrefused, mm4_payload *p, const char **text);
/* the payload bytes, line ends made CRLF where the policy says so */
void mm4_payload_write(cm_buf *b, const mm4_payload *p);
/* a failed conversion (charset.h rc) of 'what' in charset cs: MP_NOMEM or
 * MP_CONTENT, *text the reason (in why when it names the charset) */
int mm4_payload_cs_fail(int rc, const char *what, cm_str cs, char *why,
		int size, const char **text);

#endif
