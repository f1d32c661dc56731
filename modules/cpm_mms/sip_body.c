/*
 * cpm_mms - reading a SIP MESSAGE body, Content-Encoding removed.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* liblinphone sends its IMDNs (and may send messages) with
 * "Content-Encoding: deflate"; the classification (cpm_mms_is_imdn) and
 * the mapping read the decoded content. */
#include <string.h>

#include "core/parser/hf.h"
#include "core/data_lump_rpl.h"
#include "core/dprint.h"

#include "sip_body.h"
#include "content_coding.h"

cm_str sip_first_hdr(struct sip_msg *msg, int type)
{
	struct hdr_field *hf;
	cm_str v = { NULL, 0 };

	for (hf = msg->headers; hf; hf = hf->next) {
		if (hf->type == type) {
			v.s = hf->body.s;
			v.len = hf->body.len;
			return cm_str_trim(v);
		}
	}
	return v;
}

static int body_fail(sip_body *b, int code, const char *reason)
{
	b->sip_code = code;
	b->sip_reason = reason;
	return -1;
}

int sip_body_get(struct sip_msg *msg, int max, sip_body *b)
{
	cm_str raw = { NULL, 0 }, ce;
	cc_coding coding;
	char *s;
	int ret;

	memset(b, 0, sizeof(*b));
	cm_buf_init(&b->decoded);
	b->content_type = sip_first_hdr(msg, HDR_CONTENTTYPE_T);
	s = get_body(msg);
	if (s) {
		raw.s = s;
		raw.len = msg->buf + msg->len - s;
	}
	b->content = raw;
	ce = sip_first_hdr(msg, HDR_CONTENTENCODING_T);
	coding = cc_parse(ce);
	if (coding == CC_IDENTITY || raw.len <= 0)
		return 0;
	if (coding == CC_UNKNOWN) {
		LM_NOTICE("MESSAGE Call-ID %.*s: unsupported Content-Encoding "
				"'%.*s'\n", msg->callid ? msg->callid->body.len : 0,
				msg->callid ? msg->callid->body.s : "", ce.len, ce.s);
		return body_fail(b, 415, "Unsupported Content-Encoding");
	}
	ret = cc_decode(coding, raw, max, &b->decoded);
	if (ret != CC_OK) {
		LM_NOTICE("MESSAGE Call-ID %.*s: %s body (%d bytes) %s\n",
				msg->callid ? msg->callid->body.len : 0,
				msg->callid ? msg->callid->body.s : "",
				coding == CC_GZIP ? "gzip" : "deflate", raw.len,
				ret == CC_TOO_LARGE ? "decodes to more than the limit"
				: ret == CC_NOMEM ? "cannot be decoded (no memory)"
				: "does not decode");
		if (ret == CC_TOO_LARGE)
			return body_fail(b, 413, "Decoded Body Too Large");
		if (ret == CC_NOMEM)
			return body_fail(b, 500, "Server Internal Error");
		return body_fail(b, 400, "Body Does Not Decode");
	}
	b->content.s = b->decoded.s;
	b->content.len = b->decoded.len;
	b->coded = 1;
	return 0;
}

void sip_body_free(sip_body *b)
{
	cm_buf_free(&b->decoded);
	b->content.s = NULL;
	b->content.len = 0;
}

void sip_body_accept_encoding(struct sip_msg *msg)
{
	static char hdr[] = "Accept-Encoding: " CC_ACCEPT_ENCODING "\r\n";

	if (add_lump_rpl(msg, hdr, sizeof(hdr) - 1, LUMP_RPL_HDR) == 0)
		LM_ERR("cannot add Accept-Encoding to the reply\n");
}
