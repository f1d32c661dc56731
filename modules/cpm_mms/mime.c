/*
 * cpm_mms - MIME (RFC 2045/2046): Content-Type values and multipart bodies.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Zero-copy and bounded by the given lengths: bodies may hold NUL bytes
 * and are not terminated. */
#include <string.h>

#include "mime.h"

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Find the line starting at pos. *le is set to the end of its content (a
 * CR before the LF is not content); returns the start of the next line.
 * CRLF and bare LF both end a line; the last line may have no end. */
int mime_next_line(const char *buf, int len, int pos, int *le)
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
int mime_split_header(const char *s, int n, cm_str *name, cm_str *value)
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
	*name = cm_str_mk(s, nlen);
	*value = cm_str_mk(s + colon + 1, n - colon - 1);
	return 1;
}

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
	return cm_str_trim(cm_str_mk(ct.s, i));
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
		pname = cm_str_mk(ct.s + start, i - start);
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
			val = cm_str_mk(ct.s + start, i - start);
			if (i < ct.len)
				i++; /* closing quote */
		} else {
			start = i;
			while (i < ct.len && !is_tspecial_end(ct.s[i]))
				i++;
			val = cm_str_mk(ct.s + start, i - start);
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
		next = mime_next_line(s, n, p, &le);
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
			next = mime_next_line(s, n, p, &le);
			if (!is_wsp(s[p]) && !mime_split_header(s + p, le - p, &name, &value)) {
				hend = 0;
				bstart = 0;
				break;
			}
		}
	}
	part->headers = cm_str_mk(s, hend);
	part->body = cm_str_mk(s + bstart, n - bstart);
	for (p = 0; p < hend; p = next) {
		next = mime_next_line(s, hend, p, &le);
		if (le > p && is_wsp(s[p])) {
			if (ct)
				ct->len = (int)(s + le - ct->s);
			continue;
		}
		ct = NULL;
		if (mime_split_header(s + p, le - p, &name, &value)
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
		next = mime_next_line(s, len, p, &le);
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

/* value of a header in a raw MIME header block (first line only) */
cm_str mime_block_header(cm_str block, const char *name)
{
	cm_str none = {NULL, 0}, line, v;
	int i = 0, end, n = (int)strlen(name);

	while (i < block.len) {
		for (end = i; end < block.len && block.s[end] != '\n'; end++)
			;
		line.s = block.s + i;
		line.len = end - i;
		if (line.len > n && cm_str_iprefix(line, name)) {
			v.s = line.s + n;
			v.len = line.len - n;
			v = cm_str_trim(v);
			if (v.len > 0 && v.s[0] == ':') {
				v.s++;
				v.len--;
				return cm_str_trim(v);
			}
		}
		i = end + 1;
	}
	return none;
}
