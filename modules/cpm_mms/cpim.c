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

#define CPIM_MAX_NS 8

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static cm_str mk_str(const char *s, int len)
{
	cm_str r;

	r.s = (char *)s;
	r.len = len;
	return r;
}

/* Find the line starting at pos. *le is set to the end of its content (a
 * CR before the LF is not content); returns the start of the next line.
 * CRLF and bare LF both end a line; the last line may have no end. */
static int next_line(const char *buf, int len, int pos, int *le)
{
	const char *nl;
	int e;
	int next;

	nl = memchr(buf + pos, '\n', len - pos);
	if (nl) {
		e = (int)(nl - buf);
		next = e + 1;
	} else {
		e = len;
		next = len;
	}
	if (e > pos && buf[e - 1] == '\r')
		e--;
	*le = e;
	return next;
}

/* "Name: value" with a printable-ASCII name (trailing WSP before the colon
 * tolerated). value is untrimmed. 1 if it is a header line, else 0. */
static int split_header(const char *s, int n, cm_str *name, cm_str *value)
{
	int colon;
	int nlen;
	int i;

	for (colon = 0; colon < n && s[colon] != ':'; colon++)
		;
	if (colon == n)
		return 0;
	nlen = colon;
	while (nlen > 0 && is_wsp(s[nlen - 1]))
		nlen--;
	if (nlen == 0)
		return 0;
	for (i = 0; i < nlen; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	*name = mk_str(s, nlen);
	*value = mk_str(s + colon + 1, n - colon - 1);
	return 1;
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
		next = next_line(buf, len, pos, &le);
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
			if (!split_header(buf + pos, le - pos, &name, &value))
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
		next = next_line(buf, len, p, &le);
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
			if (!split_header(buf + p, le - p, &name, &value))
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
	out->body = mk_str(buf + bodypos, len - bodypos);
	return CPIM_OK;

payload:
	memset(out->mime, 0, sizeof(out->mime));
	out->nmime = 0;
	out->body = mk_str(buf + pos, len - pos);
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
	d->prefix = mk_str(v.s, i);
	uri = cm_str_trim(mk_str(v.s + i, v.len - i));
	if (uri.len < 2 || uri.s[0] != '<' || uri.s[uri.len - 1] != '>')
		return -1;
	uri = cm_str_trim(mk_str(uri.s + 1, uri.len - 2));
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
	return cm_str_trim(mk_str(v.s + i, v.len - i));
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
			prefix = mk_str(name.s, dot);
			local = mk_str(name.s + dot + 1, name.len - dot - 1);
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
		tok = cm_str_trim(mk_str(v.s + start, i - start));
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
		*display = mk_str(v.s + 1, i - 1);
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
		*display = cm_str_trim(mk_str(v.s, lt));
	}
	for (gt = lt + 1; gt < v.len && v.s[gt] != '>'; gt++)
		;
	if (gt >= v.len)
		return -1;
	*uri = cm_str_trim(mk_str(v.s + lt + 1, gt - lt - 1));
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

/* ---- MIME ---- */

static int is_tspecial_end(char c)
{
	return c == ';' || is_wsp(c) || c == '\r' || c == '\n';
}

cm_str mime_ct_type(cm_str ct)
{
	int i;

	if (!ct.s || ct.len <= 0) {
		ct.len = 0;
		return ct;
	}
	for (i = 0; i < ct.len && ct.s[i] != ';'; i++)
		;
	return cm_str_trim(mk_str(ct.s, i));
}

cm_str mime_ct_param(cm_str ct, const char *param)
{
	cm_str none = {NULL, 0};
	cm_str pname;
	cm_str val;
	int i = 0;
	int start;

	if (!ct.s || ct.len <= 0 || !param)
		return none;
	/* skip the media type */
	while (i < ct.len && ct.s[i] != ';')
		i++;
	while (i < ct.len) {
		i++; /* the ';' */
		while (i < ct.len && (is_wsp(ct.s[i]) || ct.s[i] == '\r'
									  || ct.s[i] == '\n'))
			i++;
		start = i;
		while (i < ct.len && ct.s[i] != '=' && ct.s[i] != ';'
				&& !is_wsp(ct.s[i]))
			i++;
		pname = mk_str(ct.s + start, i - start);
		while (i < ct.len && is_wsp(ct.s[i]))
			i++;
		if (i >= ct.len || ct.s[i] != '=') {
			/* parameter without value: skip to the next ';' */
			while (i < ct.len && ct.s[i] != ';')
				i++;
			continue;
		}
		i++;
		while (i < ct.len && is_wsp(ct.s[i]))
			i++;
		if (i < ct.len && ct.s[i] == '"') {
			start = ++i;
			while (i < ct.len && ct.s[i] != '"') {
				if (ct.s[i] == '\\')
					i++;
				i++;
			}
			if (i > ct.len)
				i = ct.len;
			val = mk_str(ct.s + start, i - start);
			if (i < ct.len)
				i++; /* closing quote */
		} else {
			start = i;
			while (i < ct.len && !is_tspecial_end(ct.s[i]))
				i++;
			val = mk_str(ct.s + start, i - start);
		}
		if (cm_str_ieqz(pname, param))
			return val;
		while (i < ct.len && ct.s[i] != ';')
			i++;
	}
	return none;
}

/* Is the line [p, le) a delimiter "--boundary" (close = 1 if followed by
 * "--")? Transport padding (WSP) after it is allowed. */
static int is_delimiter(const char *p, int n, cm_str bnd, int *close)
{
	int i;

	if (n < bnd.len + 2 || p[0] != '-' || p[1] != '-'
			|| memcmp(p + 2, bnd.s, bnd.len) != 0)
		return 0;
	i = bnd.len + 2;
	*close = 0;
	if (i + 1 < n && p[i] == '-' && p[i + 1] == '-') {
		*close = 1;
		i += 2;
	}
	for (; i < n; i++)
		if (!is_wsp(p[i]))
			return 0;
	return 1;
}

/* fill a part from its raw bytes (between the delimiter lines) */
static void fill_part(const char *s, int n, mime_part *part)
{
	int p = 0;
	int next;
	int le;
	int hend = -1;
	int bstart = n;
	cm_str name;
	cm_str value;
	cm_str *ct = NULL;

	memset(part, 0, sizeof(*part));
	/* header block ends at the first empty line */
	while (p < n) {
		next = next_line(s, n, p, &le);
		if (le == p) {
			hend = p;
			bstart = next;
			break;
		}
		p = next;
	}
	if (hend < 0) {
		/* no empty line: all headers if it looks like it, else body */
		hend = n;
		bstart = n;
		for (p = 0; p < n; p = next) {
			next = next_line(s, n, p, &le);
			if (!is_wsp(s[p]) && !split_header(s + p, le - p, &name, &value)) {
				hend = 0;
				bstart = 0;
				break;
			}
		}
	}
	part->headers = mk_str(s, hend);
	part->body = mk_str(s + bstart, n - bstart);
	for (p = 0; p < hend; p = next) {
		next = next_line(s, hend, p, &le);
		if (le > p && is_wsp(s[p])) {
			if (ct)
				extend_value(ct, s + le);
			continue;
		}
		ct = NULL;
		if (split_header(s + p, le - p, &name, &value)
				&& cm_str_ieqz(name, "Content-Type")
				&& !part->content_type.len) {
			part->content_type = value;
			ct = &part->content_type;
		}
	}
	part->content_type = cm_str_trim(part->content_type);
}

int mime_split(cm_str body, cm_str boundary, mime_part *parts, int max)
{
	const char *s = body.s;
	int len = body.len;
	int p = 0;
	int next;
	int le;
	int close;
	int in_part = 0;
	int start = 0;
	int end;
	int n = 0;

	if (!s || len <= 0 || !boundary.s || boundary.len <= 0
			|| boundary.len > 200 || !parts || max < 0)
		return -1;
	if (cm_str_has_ctl(boundary))
		return -1;
	while (p < len) {
		next = next_line(s, len, p, &le);
		if (!is_delimiter(s + p, le - p, boundary, &close)) {
			p = next;
			continue;
		}
		if (in_part) {
			/* the line end before the delimiter belongs to it */
			end = p;
			if (end > start && s[end - 1] == '\n')
				end--;
			if (end > start && s[end - 1] == '\r')
				end--;
			if (n >= max)
				return -1;
			fill_part(s + start, end - start, &parts[n]);
			n++;
		}
		if (close)
			return n; /* epilogue ignored */
		in_part = 1;
		start = next;
		p = next;
	}
	/* no close delimiter: truncated */
	return -1;
}

/* ---- resource-lists ---- */

static int find_seq(const char *s, int len, int from, const char *z)
{
	int n = (int)strlen(z);
	int i;

	for (i = from; i + n <= len; i++)
		if (memcmp(s + i, z, n) == 0)
			return i;
	return -1;
}

static int is_xml_sp(char c)
{
	return is_wsp(c) || c == '\r' || c == '\n';
}

/* local name of a (possibly prefixed) attribute name */
static cm_str local_name(cm_str n)
{
	int k;

	for (k = n.len - 1; k >= 0 && n.s[k] != ':'; k--)
		;
	return mk_str(n.s + k + 1, n.len - k - 1);
}

static int name_eq(cm_str n, const char *z)
{
	int len = (int)strlen(z);

	return n.len == len && memcmp(n.s, z, len) == 0;
}

/* RFC 5364 section 4: copyControl to/cc/bcc (absent: to), anonymize a
 * boolean; anything else makes the document invalid (-1) */
static int copy_control(cm_str v, rl_entry *e)
{
	v = cm_str_trim(v);
	if (cm_str_ieqz(v, "to"))
		e->copy = RL_COPY_TO;
	else if (cm_str_ieqz(v, "cc"))
		e->copy = RL_COPY_CC;
	else if (cm_str_ieqz(v, "bcc"))
		e->copy = RL_COPY_BCC;
	else
		return -1;
	return 0;
}

static int xs_boolean(cm_str v, int *out)
{
	v = cm_str_trim(v);
	if (cm_str_ieqz(v, "true") || cm_str_ieqz(v, "1"))
		*out = 1;
	else if (cm_str_ieqz(v, "false") || cm_str_ieqz(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* the attributes of one <entry ...> tag, s[from..tagend): uri (without a
 * prefix), copyControl and anonymize (any prefix: the copycontrol
 * namespace's). 1 with e filled if it has a uri, 0 if not, -1 on an
 * unterminated or bad value of these attributes */
static int entry_attrs(const char *s, int from, int tagend, rl_entry *e)
{
	int k = from, nstart, q, have = 0;
	char quote;
	cm_str name, val, ln;

	memset(e, 0, sizeof(*e));
	while (k < tagend) {
		while (k < tagend && is_xml_sp(s[k]))
			k++;
		if (k >= tagend || s[k] == '/')
			break;
		nstart = k;
		while (k < tagend && !is_xml_sp(s[k]) && s[k] != '=' && s[k] != '/'
				&& s[k] != '"' && s[k] != '\'')
			k++;
		name = mk_str(s + nstart, k - nstart);
		while (k < tagend && is_xml_sp(s[k]))
			k++;
		if (k >= tagend || s[k] != '=') {
			/* not name="value": skip it (a stray quoted string whole) */
			if (name.len == 0 && (s[k] == '"' || s[k] == '\'')) {
				quote = s[k];
				for (k++; k < tagend && s[k] != quote; k++)
					;
			}
			if (name.len == 0)
				k++;
			continue;
		}
		k++;
		while (k < tagend && is_xml_sp(s[k]))
			k++;
		ln = local_name(name);
		if (k >= tagend || (s[k] != '"' && s[k] != '\'')) {
			if (name_eq(name, "uri") || name_eq(ln, "copyControl")
					|| name_eq(ln, "anonymize"))
				return -1;
			/* unquoted value of another attribute: skip it */
			while (k < tagend && !is_xml_sp(s[k]))
				k++;
			continue;
		}
		quote = s[k];
		q = ++k;
		while (k < tagend && s[k] != quote)
			k++;
		if (k >= tagend)
			return -1;
		val = mk_str(s + q, k - q);
		k++;
		if (name_eq(name, "uri")) {
			if (!have) {
				e->uri = val;
				have = 1;
			}
		} else if (name_eq(ln, "copyControl")) {
			if (copy_control(val, e) < 0)
				return -1;
		} else if (name_eq(ln, "anonymize")) {
			if (xs_boolean(val, &e->anonymize) < 0)
				return -1;
		}
	}
	return have;
}

int resource_list_entries(cm_str xml, rl_entry *out, int max)
{
	const char *s = xml.s;
	int len = xml.len;
	int i = 0;
	int n = 0;
	int j, k, nstart, tagend, rc;
	char quote;
	cm_str tag;
	rl_entry e;

	if (!s || len < 0 || !out || max < 0)
		return -1;
	while (i < len) {
		if (s[i] != '<') {
			i++;
			continue;
		}
		/* comments, CDATA, PIs may contain anything: skip them whole */
		if (i + 4 <= len && memcmp(s + i, "<!--", 4) == 0) {
			k = find_seq(s, len, i + 4, "-->");
			if (k < 0)
				return -1;
			i = k + 3;
			continue;
		}
		if (i + 9 <= len && memcmp(s + i, "<![CDATA[", 9) == 0) {
			k = find_seq(s, len, i + 9, "]]>");
			if (k < 0)
				return -1;
			i = k + 3;
			continue;
		}
		/* element name, possibly with a namespace prefix */
		nstart = i + 1;
		for (j = nstart; j < len && s[j] != '>' && s[j] != '/'
				&& !is_xml_sp(s[j]); j++)
			;
		tag = local_name(mk_str(s + nstart, j - nstart));
		/* end of this tag, honouring quoted attribute values */
		quote = 0;
		for (tagend = j; tagend < len; tagend++) {
			if (quote) {
				if (s[tagend] == quote)
					quote = 0;
			} else if (s[tagend] == '"' || s[tagend] == '\'') {
				quote = s[tagend];
			} else if (s[tagend] == '>') {
				break;
			}
		}
		if (tagend >= len)
			return -1;
		if (name_eq(tag, "entry")) {
			rc = entry_attrs(s, j, tagend, &e);
			if (rc < 0)
				return -1;
			if (rc > 0) {
				if (n >= max)
					return -1;
				out[n++] = e;
			}
		}
		i = tagend + 1;
	}
	return n;
}

int resource_list_uris(cm_str xml, cm_str *uris, int max)
{
	rl_entry e[RL_MAX_ENTRIES];
	int n, i;

	if (!uris || max < 0)
		return -1;
	n = resource_list_entries(xml, e,
			max < RL_MAX_ENTRIES ? max : RL_MAX_ENTRIES);
	/* (more than RL_MAX_ENTRIES: -1 even if max is larger) */
	for (i = 0; i < n; i++)
		uris[i] = e[i].uri;
	return n;
}
