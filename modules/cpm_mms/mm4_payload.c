/*
 * cpm_mms - what of an MM's body goes to CPM: the MIME payload policy of
 * Table 4 (rows Content-Type and text charset), MMS -> CPM.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure: decodes transfer encodings (mm4.c), converts text to UTF-8
 * (charset.c) and rewrites multiparts, bounded by the given lengths. The
 * X-Mms-Request-Status-Code of each failure kind is mapping.c's. */
#include <stdio.h>
#include <string.h>

#include "mm4_payload.h"
#include "mime.h"
#include "charset.h"

/* the one part type sent decoded, with its charset (CPM text is UTF-8,
 * RFC 3862 / OMA CPM) */
#define MP_TEXT_TYPE "text/plain"
#define MP_CHARSET "utf-8"
/* presentation part, dropped with a single text (TS 23.140 SMIL) */
#define MP_SMIL_TYPE "application/smil"
/* no Content-Type (RFC 2045 5.2) */
#define MP_DEFAULT_TYPE "text/plain"

/* parts of a multipart looked at (beyond it the multipart is passed) */
#define MP_MAX_PARTS 64

/* Table 4, row Content-Type: WSP multipart types -> MIME (MM4.md 3.1) */
static const struct {
	const char *from;
	const char *to;
} mp_wsp_types[] = {
	{"application/vnd.wap.multipart.related", "multipart/related"},
	{"application/vnd.wap.multipart.mixed", "multipart/mixed"},
	{"application/vnd.wap.multipart.alternative", "multipart/alternative"},
};
#define MP_NWSP ((int)(sizeof(mp_wsp_types) / sizeof(mp_wsp_types[0])))

/* MIME token (RFC 2045 5.1) */
static int mp_token(cm_str v)
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
static int mp_media_type_ok(cm_str t)
{
	int i;

	for (i = 0; i < t.len && t.s[i] != '/'; i++)
		;
	if (i >= t.len)
		return 0;
	return mp_token((cm_str){t.s, i})
		   && mp_token((cm_str){t.s + i + 1, t.len - i - 1});
}


#define MP_DEC_OK 0
#define MP_DEC_BAD -1     /* undecodable */
#define MP_DEC_UNKNOWN -2 /* a transfer encoding we cannot decode */
#define MP_DEC_NOMEM -3

static int mp_cte_identity(cm_str cte)
{
	return cte.len == 0 || cm_str_ieqz(cte, "7bit") || cm_str_ieqz(cte, "8bit")
		   || cm_str_ieqz(cte, "binary");
}

/* a text body: base64 / quoted-printable decoded, 7bit/8bit as they are
 * (line ends made CRLF, the canonical form of text, RFC 2046 4.1.1) */
static int mp_decode_text(cm_str cte, cm_str raw, mm4_payload *p)
{
	int rc;

	cte = cm_str_trim(cte);
	if (cm_str_ieqz(cte, "base64") || cm_str_ieqz(cte, "quoted-printable")) {
		if (cm_str_ieqz(cte, "base64"))
			rc = mm4_base64_decode(&p->dec, raw.s, raw.len);
		else
			rc = mm4_qp_decode(&p->dec, raw.s, raw.len);
		if (rc < 0)
			return p->dec.failed ? MP_DEC_NOMEM : MP_DEC_BAD;
		p->data.s = p->dec.s;
		p->data.len = p->dec.len;
		return MP_DEC_OK;
	}
	if (!mp_cte_identity(cte))
		return MP_DEC_UNKNOWN;
	p->data = raw;
	p->crlf = !cm_str_ieqz(cte, "binary");
	return MP_DEC_OK;
}

/* Table 4, row text charset: the failure of a conversion (charset.h) ->
 * status, with the text in why */
int mm4_payload_cs_fail(int rc, const char *what, cm_str cs, char *why,
		int size, const char **text)
{
	cs = cm_str_trim(cs);
	if (rc == CS_NOMEM) {
		*text = "out of memory";
		return MP_NOMEM;
	}
	if (rc == CS_TOO_LARGE) {
		*text = "content too large for pager mode";
		return MP_CONTENT;
	}
	if (cs.len <= 0)
		cs = cm_str_z("us-ascii");
	/* the label is printable ASCII (header syntax), cut for the RES */
	snprintf(why, size, "%s %s: %.*s", what,
			rc == CS_UNKNOWN ? "in an unknown charset" : "not valid in charset",
			cs.len > CS_NAME_MAX ? CS_NAME_MAX : cs.len, cs.s);
	*text = why;
	return MP_CONTENT;
}

/* Table 4, row text charset: p->data in charset -> UTF-8 (p->conv unless
 * it is UTF-8 already); NULL or the status */
static int mp_text_utf8(mm4_payload *p, cm_str charset,
		const char **text)
{
	int rc;

	charset = cm_str_trim(charset);
	if ((charset.len == 0 || cs_is_utf8(charset))
			&& cs_utf8_valid(p->data.s, p->data.len)
			&& !(p->data.len >= 3 && memcmp(p->data.s, "\xef\xbb\xbf", 3) == 0))
		return MP_OK; /* nothing to change: no copy */
	p->conv.len = 0;
	rc = cs_to_utf8(&p->conv, charset, p->data.s, p->data.len, p->max);
	if (rc != CS_OK)
		return mm4_payload_cs_fail(rc, "text", charset, p->why, sizeof(p->why), text);
	p->data.s = p->conv.s ? p->conv.s : "";
	p->data.len = p->conv.len;
	return MP_OK;
}

/* Content-Type of a decoded text payload: type; charset=utf-8, the text
 * converted to it (CPM text is UTF-8, RFC 3862 / OMA CPM) */
static int mp_text_ct(mm4_payload *p, cm_str type, cm_str charset,
		const char **text)
{
	int st = mp_text_utf8(p, charset, text);

	if (st)
		return st;
	cm_buf_printf(&p->ct, "%.*s; charset=%s", type.len, type.s,
			MP_CHARSET);
	return MP_OK;
}

/* "--boundary--" line present (mime_split also fails on too many parts) */
static int mp_has_close(cm_str body, cm_str bnd)
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
#define MP_MAX_DEPTH 4

/* a WSP multipart type's MIME name, else the type itself */
static cm_str mp_mime_type(cm_str type)
{
	int i;

	for (i = 0; i < MP_NWSP; i++)
		if (cm_str_ieqz(type, mp_wsp_types[i].from))
			return cm_str_z(mp_wsp_types[i].to);
	return type;
}

/* ct's parameters after the media type, as received, from the first ';' */
static cm_str mp_ct_rest(cm_str ct)
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
static void mp_ct_utf8(cm_buf *b, cm_str ct)
{
	cm_str type = mime_ct_type(ct), rest = mp_ct_rest(ct), prm, nm;
	int i = 0, j, q;

	cm_buf_addstr(b, type.len > 0 ? type : cm_str_z(MP_TEXT_TYPE));
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
	cm_buf_printf(b, "; charset=%s", MP_CHARSET);
}

/* 1 if the header line (unfolded or not) is the header name */
static int mp_hdr_is(cm_str line, const char *name)
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
static void mp_part_headers(cm_buf *b, cm_str hdrs, cm_str ct, cm_str cte)
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
		if (ct.len > 0 && mp_hdr_is(line, "Content-Type")) {
			if (!ct_done)
				cm_buf_printf(b, "Content-Type: %.*s\r\n", ct.len, ct.s);
			ct_done = 1;
		} else if (cte.len > 0 && mp_hdr_is(line, "Content-Transfer-Encoding")) {
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

typedef struct mp_rewrite {
	cm_buf *b;     /* the rewritten multipart */
	cm_buf tmp;    /* one text part decoded */
	cm_buf utf8;   /* ... converted */
	cm_buf hdr;    /* its new Content-Type */
	int max;
	int changed;   /* anything differs from the mail */
	char *why;
	int whysize;
} mp_rewrite;

static int mp_has_8bit(cm_str v)
{
	int i;

	for (i = 0; i < v.len; i++)
		if ((unsigned char)v.s[i] >= 0x80)
			return 1;
	return 0;
}

/* one text part of a passed multipart: NULL (written to rw->b, converted
 * or as received) or the status */
static int mp_rewrite_text(mp_rewrite *rw, const mime_part *part,
		const char **text)
{
	cm_str cs = cm_str_trim(mime_ct_param(part->content_type, "charset"));
	cm_str cte = cm_str_trim(mime_block_header(part->headers,
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
			return MP_NOMEM;
		}
		if (rc < 0) { /* (a nested part: not checked before) */
			*text = "undecodable text part";
			return MP_CORRUPT;
		}
		data = (cm_str){rw->tmp.s ? rw->tmp.s : "", rw->tmp.len};
	} else if (mp_cte_identity(cte)) {
		data = part->body;
	} else {
		data.s = NULL; /* an encoding we cannot decode: as received */
		data.len = 0;
	}
	if (data.s && cs_is_utf8(cs) && !cs_utf8_valid(data.s, data.len))
		return mm4_payload_cs_fail(CS_INVALID, "text part", cs, rw->why, rw->whysize,
				text);
	/* UTF-8, or no label / US-ASCII and only ASCII: nothing to change */
	if (!data.s || cs_is_utf8(cs)
			|| ((cs.len == 0 || cm_str_ieqz(cs, "us-ascii"))
					&& !mp_has_8bit(data))) {
		mp_part_headers(rw->b, part->headers, ncte, ncte);
		cm_buf_adds(rw->b, "\r\n");
		cm_buf_addstr(rw->b, part->body);
		return MP_OK;
	}
	rw->utf8.len = 0;
	rc = cs_to_utf8(&rw->utf8, cs, data.s, data.len, rw->max);
	if (rc != CS_OK)
		return mm4_payload_cs_fail(rc, "text part", cs, rw->why, rw->whysize, text);
	rw->changed = 1;
	rw->hdr.len = 0;
	mp_ct_utf8(&rw->hdr, part->content_type);
	hdr = (cm_str){rw->hdr.s, rw->hdr.len};
	/* the part's own transfer encoding again; 8-bit text as 8bit (SIP
	 * bodies are 8-bit clean) */
	if (!b64 && !qp && mp_has_8bit((cm_str){rw->utf8.s, rw->utf8.len})
			&& !cm_str_ieqz(cte, "binary"))
		ncte = cm_str_z("8bit");
	mp_part_headers(rw->b, part->headers, hdr, ncte);
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
	return MP_OK;
}

/*
 * Table 4, rows text charset and Content-Type, for a multipart passed to
 * CPM: rewritten part by part into rw->b, every text part in a charset
 * other than UTF-8 converted (charset=utf-8, its own transfer encoding
 * again), WSP multipart types renamed and nested multiparts rewritten the
 * same way (MP_MAX_DEPTH); other parts, preamble and epilogue dropped, as
 * received. A multipart that does not split (more than MP_MAX_PARTS parts)
 * is copied as received. NULL or the status.
 */
static int mp_rewrite_mp(mp_rewrite *rw, cm_str body, cm_str bnd,
		int depth, const char **text)
{
	mime_part parts[MP_MAX_PARTS];
	cm_str pt, mt, nb, ct;
	int st;
	int i, n;

	n = mime_split(body, bnd, parts, MP_MAX_PARTS);
	if (n <= 0) {
		cm_buf_addstr(rw->b, body);
		return MP_OK;
	}
	for (i = 0; i < n; i++) {
		cm_buf_printf(rw->b, "--%.*s\r\n", bnd.len, bnd.s);
		pt = mime_ct_type(parts[i].content_type);
		mt = mp_mime_type(pt);
		if (pt.len == 0 || cm_str_iprefix(pt, "text/")) {
			st = mp_rewrite_text(rw, &parts[i], text);
			if (st)
				return st;
		} else if (cm_str_iprefix(mt, "multipart/") && depth < MP_MAX_DEPTH
				&& mp_cte_identity(cm_str_trim(mime_block_header(
						parts[i].headers, "Content-Transfer-Encoding")))
				&& (nb = mime_ct_param(parts[i].content_type, "boundary")).len
						> 0) {
			/* the renamed type with the parameters as received */
			ct = (cm_str){NULL, 0};
			if (mt.s != pt.s) {
				rw->changed = 1;
				rw->hdr.len = 0;
				cm_buf_addstr(&rw->hdr, mt);
				ct = mp_ct_rest(parts[i].content_type);
				if (ct.len > 0) {
					cm_buf_adds(&rw->hdr, ct.s[0] == ';' ? "" : "; ");
					cm_buf_addstr(&rw->hdr, ct);
				}
				ct = (cm_str){rw->hdr.s, rw->hdr.len};
			}
			mp_part_headers(rw->b, parts[i].headers, ct, (cm_str){NULL, 0});
			cm_buf_adds(rw->b, "\r\n");
			st = mp_rewrite_mp(rw, parts[i].body, nb, depth + 1, text);
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
	return MP_OK;
}

/* the multipart in p->data rewritten (mp_rewrite_mp) into p->conv when
 * anything changes; NULL or the status */
static int mp_rewrite_payload(mm4_payload *p, cm_str bnd,
		const char **text)
{
	mp_rewrite rw;
	int st;

	memset(&rw, 0, sizeof(rw));
	rw.b = &p->conv;
	cm_buf_init(&rw.tmp);
	cm_buf_init(&rw.utf8);
	cm_buf_init(&rw.hdr);
	rw.max = p->max;
	rw.why = p->why;
	rw.whysize = sizeof(p->why);
	p->conv.len = 0;
	st = mp_rewrite_mp(&rw, p->data, bnd, 0, text);
	if (!st && (rw.b->failed || rw.tmp.failed || rw.utf8.failed
					|| rw.hdr.failed)) {
		*text = "out of memory";
		st = MP_NOMEM;
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
 *    types renamed (mp_rewrite_mp), else as received
 *  - any other single part: as received, with its Content-Type and
 *    Content-Transfer-Encoding
 * Broken MIME (no boundary, no closing delimiter, undecodable base64, an
 * encoded multipart) -> Error-message-format-corrupt; text in a charset
 * iconv does not know or not valid in its charset ->
 * Error-content-not-accepted (charset.h has the labels and fallbacks).
 * Returns NULL, or the status with *text set.
 */
int mm4_payload_select(const mm4_msg *m, const char *const *refused,
		int nrefused, mm4_payload *p, const char **text)
{
	mime_part parts[MP_MAX_PARTS];
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
		return MP_CORRUPT;
	}
	if (ct.len <= 0)
		ct = cm_str_z(MP_DEFAULT_TYPE);
	type = mime_ct_type(ct);
	if (!mp_media_type_ok(type)) {
		*text = "bad Content-Type";
		return MP_CORRUPT;
	}
	/* parameters as received, from the first ';' */
	rest.s = ct.s + (type.s - ct.s) + type.len;
	rest.len = ct.len - (int)(rest.s - ct.s);
	rest = cm_str_trim(rest);
	otype = type;
	for (i = 0; i < MP_NWSP; i++)
		if (cm_str_ieqz(type, mp_wsp_types[i].from))
			otype = cm_str_z(mp_wsp_types[i].to);
	for (i = 0; i < nrefused; i++) {
		if (cm_str_ieqz(otype, refused[i])) {
			*text = "content type not accepted";
			return MP_CONTENT;
		}
	}

	if (cm_str_iprefix(otype, "text/")) {
		/* the CRLF before the SMTP "." ends the last line */
		if (body.len > 0 && body.s[body.len - 1] == '\n')
			body.len--;
		if (body.len > 0 && body.s[body.len - 1] == '\r')
			body.len--;
		rc = mp_decode_text(cte, body, p);
		if (rc == MP_DEC_OK)
			return mp_text_ct(p, otype, mime_ct_param(ct, "charset"), text);
		if (rc == MP_DEC_BAD) {
			*text = "undecodable text body";
			return MP_CORRUPT;
		}
		if (rc == MP_DEC_NOMEM) {
			*text = "out of memory";
			return MP_NOMEM;
		}
		body = m->body; /* unknown encoding: passed as it is */
	} else if (cm_str_iprefix(otype, "multipart/")) {
		/* RFC 2045 6.4: a multipart is never encoded */
		if (!mp_cte_identity(cte)) {
			*text = "encoded multipart";
			return MP_CORRUPT;
		}
		bnd = mime_ct_param(ct, "boundary");
		if (bnd.len <= 0) {
			*text = "multipart without boundary";
			return MP_CORRUPT;
		}
		n = mime_split(body, bnd, parts, MP_MAX_PARTS);
		if (n < 0 && !mp_has_close(body, bnd)) {
			*text = "multipart without closing delimiter";
			return MP_CORRUPT;
		}
		if (n == 0) {
			*text = "empty multipart";
			return MP_CORRUPT;
		}
		for (i = 0; i < n; i++) {
			pt = mime_ct_type(parts[i].content_type);
			pcte = mime_block_header(parts[i].headers,
					"Content-Transfer-Encoding");
			if (cm_str_ieqz(pcte, "base64")
					&& mm4_base64_decode(NULL, parts[i].body.s,
							   parts[i].body.len)
							< 0) {
				*text = "undecodable base64 part";
				return MP_CORRUPT;
			}
			if (pt.len == 0 || cm_str_ieqz(pt, MP_TEXT_TYPE)) {
				ntext++;
				itext = i;
			} else if (!cm_str_ieqz(pt, MP_SMIL_TYPE)) {
				nother++;
			}
		}
		if (n > 0 && ntext == 1 && nother == 0) {
			rc = mp_decode_text(mime_block_header(parts[itext].headers,
										"Content-Transfer-Encoding"),
					parts[itext].body, p);
			if (rc == MP_DEC_OK)
				return mp_text_ct(p, cm_str_z(MP_TEXT_TYPE),
						mime_ct_param(parts[itext].content_type, "charset"),
						text);
			if (rc == MP_DEC_BAD) {
				*text = "undecodable text part";
				return MP_CORRUPT;
			}
			if (rc == MP_DEC_NOMEM) {
				*text = "out of memory";
				return MP_NOMEM;
			}
			/* unknown encoding: the multipart goes as it is */
			cm_buf_free(&p->dec);
			p->crlf = 0;
		}
	} else if (cm_str_ieqz(cte, "base64")
			&& mm4_base64_decode(NULL, body.s, body.len) < 0) {
		*text = "undecodable base64 body";
		return MP_CORRUPT;
	}
	/* passed through as received */
	if (cte.len > 0 && !mp_token(cte)) {
		*text = "bad Content-Transfer-Encoding";
		return MP_CORRUPT;
	}
	p->data = body;
	p->cte = cte;
	/* the text parts of a multipart passed on go in UTF-8 too */
	if (cm_str_iprefix(otype, "multipart/")) {
		int st = mp_rewrite_payload(p, bnd, text);

		if (st)
			return st;
	}
	cm_buf_addstr(&p->ct, otype);
	if (rest.len > 0) {
		cm_buf_adds(&p->ct, rest.s[0] == ';' ? "" : "; ");
		cm_buf_addstr(&p->ct, rest);
	}
	return MP_OK;
}

/* payload bytes, line ends made CRLF when asked */
void mm4_payload_write(cm_buf *b, const mm4_payload *p)
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

void mm4_payload_init(mm4_payload *p, int max)
{
	memset(p, 0, sizeof(*p));
	cm_buf_init(&p->ct);
	cm_buf_init(&p->dec);
	cm_buf_init(&p->conv);
	p->max = max;
}

void mm4_payload_free(mm4_payload *p)
{
	cm_buf_free(&p->ct);
	cm_buf_free(&p->dec);
	cm_buf_free(&p->conv);
}
