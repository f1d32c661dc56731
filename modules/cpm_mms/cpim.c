/*
 * cpm_mms - message/cpim (RFC 3862) and IMDN request header parsing.
 *
 * Copyright (C) 2026 cpm_mms authors
 *
 * This file is part of cpm_mms, a Kamailio module.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Every scan below is bounded by the given length and never relies on a
 * NUL terminator: SIP bodies may carry NUL bytes and are not terminated. */
#include <string.h>

#include "cpim.h"
#include "mime.h"

#define CPIM_MAX_NS 8

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* value of a header as stored while parsing: from after the colon up to
 * 'end' (continuation lines included, as zero-copy cannot unfold them) */
static void extend_value(cm_str *v, const char *end)
{
	v->len = (int)(end - v->s);
}

/* CPIM header block: lines up to the first empty line. Returns the offset
 * of the line after the empty line, or an error code. */
static int parse_cpim_block(const char *buf, int len, cpim_msg *out)
{
	int pos = 0;
	int next;
	int le;
	cm_str name;
	cm_str value;

	for (;;) {
		if (pos >= len)
			return CPIM_ERR_SYNTAX; /* truncated: no empty line */
		next = mime_next_line(buf, len, pos, &le);
		if (le == pos)
			return next;
		if (memchr(buf + pos, '\0', next - pos))
			return CPIM_ERR_SYNTAX;
		if (is_wsp(buf[pos])) {
			/* folded line: continues the previous value */
			if (out->nhdr == 0)
				return CPIM_ERR_SYNTAX;
			extend_value(&out->hdr[out->nhdr - 1].value, buf + le);
		} else {
			if (!mime_split_header(buf + pos, le - pos, &name, &value))
				return CPIM_ERR_SYNTAX;
			if (out->nhdr >= CPIM_MAX_HEADERS)
				return CPIM_ERR_TOO_MANY;
			out->hdr[out->nhdr].name = name;
			out->hdr[out->nhdr].value = value;
			out->nhdr++;
		}
		pos = next;
	}
}

/*
 * Encapsulated MIME header block starting at pos. Some clients omit it and
 * put the payload right after the CPIM headers, so the block is only taken
 * as MIME headers if every line is a header (or folded) line and at least
 * one of them is Content-* or MIME-Version; a payload such as "Note: hi"
 * then stays payload. An empty first line is an empty MIME block (RFC).
 */
static int parse_mime_block(const char *buf, int len, int pos, cpim_msg *out)
{
	int p = pos;
	int next;
	int le;
	int n = 0;
	int looks = 0;
	int toomany = 0;
	int bodypos = len;
	int i;
	cm_str name;
	cm_str value;

	while (p < len) {
		next = mime_next_line(buf, len, p, &le);
		if (le == p) {
			bodypos = next;
			if (n == 0)
				looks = 1; /* empty MIME block, then the payload */
			break;
		}
		if (memchr(buf + p, '\0', next - p))
			goto payload;
		if (is_wsp(buf[p])) {
			if (n == 0)
				goto payload;
			if (n <= CPIM_MAX_MIME_HEADERS)
				extend_value(&out->mime[n - 1].value, buf + le);
		} else {
			if (!mime_split_header(buf + p, le - p, &name, &value))
				goto payload;
			if (cm_str_iprefix(name, "Content-")
					|| cm_str_ieqz(name, "MIME-Version"))
				looks = 1;
			if (n < CPIM_MAX_MIME_HEADERS) {
				out->mime[n].name = name;
				out->mime[n].value = value;
			} else {
				toomany = 1;
			}
			n++;
		}
		p = next;
	}
	if (p >= len && n == 0)
		looks = 1; /* nothing after the CPIM headers at all */
	if (!looks)
		goto payload;
	if (toomany)
		return CPIM_ERR_TOO_MANY;
	out->nmime = n;
	for (i = 0; i < n; i++) {
		out->mime[i].value = cm_str_trim(out->mime[i].value);
		if (cm_str_ieqz(out->mime[i].name, "Content-Type")
				&& !out->content_type.len)
			out->content_type = out->mime[i].value;
		else if (cm_str_ieqz(out->mime[i].name,
						 "Content-Transfer-Encoding")
				&& !out->content_transfer_encoding.len)
			out->content_transfer_encoding = out->mime[i].value;
	}
	out->body = cm_str_mk(buf + bodypos, len - bodypos);
	return CPIM_OK;

payload:
	memset(out->mime, 0, sizeof(out->mime));
	out->nmime = 0;
	out->body = cm_str_mk(buf + pos, len - pos);
	return CPIM_OK;
}

typedef struct ns_decl {
	cm_str prefix; /* empty: default namespace */
	int imdn;
} ns_decl;

/* "NS: prefix <uri>" or "NS: <uri>" */
static int parse_ns(cm_str v, ns_decl *d)
{
	int i = 0;
	cm_str uri;

	v = cm_str_trim(v);
	while (i < v.len && !is_wsp(v.s[i]) && v.s[i] != '<')
		i++;
	d->prefix = cm_str_mk(v.s, i);
	uri = cm_str_trim(cm_str_mk(v.s + i, v.len - i));
	if (uri.len < 2 || uri.s[0] != '<' || uri.s[uri.len - 1] != '>')
		return -1;
	uri = cm_str_trim(cm_str_mk(uri.s + 1, uri.len - 2));
	/* URN NID and NSS of this URN compare case-insensitively */
	d->imdn = cm_str_ieqz(uri, CPIM_IMDN_NS_URN);
	return 0;
}

static cm_str strip_lang(cm_str v)
{
	int i = 0;

	/* RFC 3862: Subject: ;lang=fr text */
	if (v.len == 0 || v.s[0] != ';')
		return v;
	while (i < v.len && !is_wsp(v.s[i]))
		i++;
	return cm_str_trim(cm_str_mk(v.s + i, v.len - i));
}

static int add_rcpt(cm_str *arr, int *n, cm_str v)
{
	if (*n >= CPIM_MAX_RCPT)
		return CPIM_ERR_TOO_MANY;
	arr[(*n)++] = v;
	return CPIM_OK;
}

static int classify_headers(cpim_msg *out)
{
	ns_decl ns[CPIM_MAX_NS];
	int nns = 0;
	int default_imdn = 0;
	int imdn_bound_elsewhere = 0;
	int i, j, dot, is_imdn, rc;
	ns_decl d;
	cm_str name, local, prefix, v;

	/* NS applies to the headers after it, but clients are sloppy about
	 * order: collect all declarations first */
	for (i = 0; i < out->nhdr; i++) {
		if (!cm_str_ieqz(out->hdr[i].name, "NS"))
			continue;
		if (parse_ns(out->hdr[i].value, &d) < 0)
			continue;
		if (d.prefix.len == 0) {
			default_imdn = d.imdn;
			continue;
		}
		if (!d.imdn && cm_str_ieqz(d.prefix, "imdn"))
			imdn_bound_elsewhere = 1;
		if (nns < CPIM_MAX_NS)
			ns[nns++] = d;
	}

	for (i = 0; i < out->nhdr; i++) {
		name = out->hdr[i].name;
		v = out->hdr[i].value;
		for (dot = 0; dot < name.len && name.s[dot] != '.'; dot++)
			;
		if (dot < name.len) {
			prefix = cm_str_mk(name.s, dot);
			local = cm_str_mk(name.s + dot + 1, name.len - dot - 1);
			is_imdn = 0;
			for (j = 0; j < nns; j++)
				if (ns[j].imdn && cm_str_ieq(ns[j].prefix, prefix))
					is_imdn = 1;
			/* undeclared "imdn." is common in the field */
			if (!is_imdn && !imdn_bound_elsewhere
					&& cm_str_ieqz(prefix, "imdn"))
				is_imdn = 1;
		} else {
			local = name;
			is_imdn = default_imdn;
			if (cm_str_ieqz(name, "From")) {
				if (!out->from.len)
					out->from = v;
				continue;
			} else if (cm_str_ieqz(name, "To")) {
				if ((rc = add_rcpt(out->to, &out->nto, v)) < 0)
					return rc;
				continue;
			} else if (cm_str_ieqz(name, "cc")) {
				if ((rc = add_rcpt(out->cc, &out->ncc, v)) < 0)
					return rc;
				continue;
			} else if (cm_str_ieqz(name, "DateTime")) {
				if (!out->datetime.len)
					out->datetime = v;
				continue;
			} else if (cm_str_ieqz(name, "Subject")) {
				if (!out->subject.len)
					out->subject = strip_lang(v);
				continue;
			}
		}
		if (!is_imdn)
			continue;
		if (cm_str_ieqz(local, "Message-ID")) {
			if (!out->imdn_message_id.len)
				out->imdn_message_id = v;
		} else if (cm_str_ieqz(local, "Disposition-Notification")) {
			if (!out->imdn_disposition.len) {
				out->imdn_disposition = v;
				out->dispositions = cpim_parse_dispositions(v);
			}
		} else if (cm_str_ieqz(local, "IMDN-Record-Route")) {
			rc = add_rcpt(out->imdn_record_route, &out->nrecord_route, v);
			if (rc < 0)
				return rc;
		}
	}
	return CPIM_OK;
}

int cpim_parse(const char *buf, int len, cpim_msg *out)
{
	int pos;
	int rc;
	int i;

	if (!out)
		return CPIM_ERR_SYNTAX;
	memset(out, 0, sizeof(*out));
	if (!buf || len <= 0)
		return CPIM_ERR_SYNTAX;

	pos = parse_cpim_block(buf, len, out);
	if (pos < 0)
		goto error;
	for (i = 0; i < out->nhdr; i++)
		out->hdr[i].value = cm_str_trim(out->hdr[i].value);
	rc = parse_mime_block(buf, len, pos, out);
	if (rc < 0) {
		pos = rc;
		goto error;
	}
	rc = classify_headers(out);
	if (rc < 0) {
		pos = rc;
		goto error;
	}
	return CPIM_OK;

error:
	memset(out, 0, sizeof(*out));
	return pos;
}

int cpim_parse_dispositions(cm_str v)
{
	int bits = 0;
	int i = 0;
	int start;
	cm_str tok;

	if (!v.s || v.len <= 0)
		return 0;
	while (i < v.len) {
		start = i;
		while (i < v.len && v.s[i] != ',')
			i++;
		tok = cm_str_trim(cm_str_mk(v.s + start, i - start));
		if (cm_str_ieqz(tok, "positive-delivery"))
			bits |= CPIM_DN_POSITIVE_DELIVERY;
		else if (cm_str_ieqz(tok, "negative-delivery"))
			bits |= CPIM_DN_NEGATIVE_DELIVERY;
		else if (cm_str_ieqz(tok, "display"))
			bits |= CPIM_DN_DISPLAY;
		else if (cm_str_ieqz(tok, "processing"))
			bits |= CPIM_DN_PROCESSING;
		i++; /* skip the comma */
	}
	return bits;
}

int cpim_split_addr(cm_str v, cm_str *display, cm_str *uri)
{
	int i;
	int lt;
	int gt;

	display->s = NULL;
	display->len = 0;
	uri->s = NULL;
	uri->len = 0;
	if (!v.s || v.len <= 0)
		return -1;
	v = cm_str_trim(v);
	if (v.len == 0)
		return -1;

	if (v.s[0] == '"') {
		/* quoted display name; \" does not end it */
		for (i = 1; i < v.len && v.s[i] != '"'; i++)
			if (v.s[i] == '\\')
				i++;
		if (i >= v.len)
			return -1;
		*display = cm_str_mk(v.s + 1, i - 1);
		for (lt = i + 1; lt < v.len && v.s[lt] != '<'; lt++)
			if (!is_wsp(v.s[lt]))
				return -1;
		if (lt >= v.len)
			return -1;
	} else {
		for (lt = 0; lt < v.len && v.s[lt] != '<'; lt++)
			;
		if (lt == v.len) {
			/* bare addr-spec */
			for (i = 0; i < v.len; i++)
				if (is_wsp(v.s[i]) || v.s[i] == '>')
					return -1;
			*uri = v;
			return 0;
		}
		*display = cm_str_trim(cm_str_mk(v.s, lt));
	}
	for (gt = lt + 1; gt < v.len && v.s[gt] != '>'; gt++)
		;
	if (gt >= v.len)
		return -1;
	*uri = cm_str_trim(cm_str_mk(v.s + lt + 1, gt - lt - 1));
	if (uri->len == 0)
		return -1;
	return 0;
}

cm_str cpim_get(const cpim_msg *m, const char *name)
{
	cm_str n = cm_str_z(name);
	cm_str none = {NULL, 0};
	int i;

	if (!m || !name)
		return none;
	for (i = 0; i < m->nhdr && i < CPIM_MAX_HEADERS; i++)
		if (cm_str_eq(m->hdr[i].name, n))
			return m->hdr[i].value;
	return none;
}
