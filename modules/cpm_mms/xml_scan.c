/*
 * cpm_mms - a small XML scanner for IMDN and resource-lists documents.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "xml_scan.h"

#define XML_NS_XML "http://www.w3.org/XML/1998/namespace"

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int find_seq(const char *s, int len, int from, const char *z)
{
	int n = (int)strlen(z);
	int i;

	for (i = from; i + n <= len; i++)
		if (s[i] == z[0] && memcmp(s + i, z, n) == 0)
			return i;
	return -1;
}

/* XML 1.0 Char */
static int is_xml_char(unsigned long c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff)
		|| (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* the reference at s[0] == '&' within n bytes: its code point and length
 * (up to and with ';'); -1 if it is not a valid one */
static int read_ref(const char *s, int n, unsigned long *cp)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {
		{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'},
		{"apos;", '\''},
	};
	unsigned long v = 0;
	int i, k, hex, digits = 0;

	for (k = 0; k < (int)(sizeof(named) / sizeof(named[0])); k++) {
		int len = (int)strlen(named[k].name);

		if (n > len && memcmp(s + 1, named[k].name, len) == 0) {
			*cp = (unsigned char)named[k].c;
			return len + 1;
		}
	}
	if (n < 4 || s[1] != '#')
		return -1;
	hex = s[2] == 'x';
	for (i = hex ? 3 : 2; i < n && s[i] != ';'; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (hex && s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (hex && s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		v = v * (hex ? 16 : 10) + d;
		if (v > 0x10ffff)
			return -1;
		digits++;
	}
	if (i >= n || digits == 0 || !is_xml_char(v))
		return -1;
	*cp = v;
	return i + 1;
}

/* every '&' starts a valid reference; no '<' */
static int refs_ok(cm_str v)
{
	unsigned long cp;
	int i, r;

	for (i = 0; i < v.len; i++) {
		if (v.s[i] == '<')
			return 0;
		if (v.s[i] != '&')
			continue;
		r = read_ref(v.s + i, v.len - i, &cp);
		if (r < 0)
			return 0;
		i += r - 1;
	}
	return 1;
}

static int put_utf8(unsigned long c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

int xml_decode(cm_str raw, char *out, int size)
{
	unsigned long cp;
	char u[4];
	int i, k = 0, r, n;

	if (size <= 0)
		return -1;
	for (i = 0; i < raw.len; i++) {
		if (raw.s[i] == '&') {
			r = read_ref(raw.s + i, raw.len - i, &cp);
			if (r < 0)
				return -1;
			n = put_utf8(cp, u);
			i += r - 1;
		} else {
			u[0] = raw.s[i];
			n = 1;
		}
		if (k + n > size - 1)
			return -1;
		memcpy(out + k, u, n);
		k += n;
	}
	out[k] = '\0';
	return k;
}

int xml_is_plain(cm_str v)
{
	if (v.len <= 0)
		return 1;
	return !memchr(v.s, '&', v.len) && !memchr(v.s, '<', v.len)
		&& !memchr(v.s, '\0', v.len);
}

void xml_scan_init(xml_scanner *x, cm_str doc)
{
	memset(x, 0, sizeof(*x));
	x->s = doc.s;
	x->len = doc.s && doc.len > 0 ? doc.len : 0;
	if (x->len >= 3 && memcmp(x->s, "\xef\xbb\xbf", 3) == 0)
		x->pos = 3;
	/* NUL is not an XML character */
	if (x->len == 0 || memchr(x->s, '\0', x->len))
		x->failed = 1;
}

/* prefix and local part; the namespace of the prefix in scope (for an
 * attribute, no prefix means no namespace) */
static void resolve(const xml_scanner *x, cm_str qname, int is_attr,
		xml_name *n)
{
	cm_str prefix = {NULL, 0};
	int i;

	n->qname = qname;
	n->local = qname;
	n->ns = cm_str_mk(NULL, 0);
	for (i = 0; i < qname.len; i++) {
		if (qname.s[i] == ':') {
			prefix = cm_str_mk(qname.s, i);
			n->local = cm_str_mk(qname.s + i + 1, qname.len - i - 1);
			break;
		}
	}
	if (prefix.len == 0 && is_attr)
		return;
	if (prefix.len == 3 && memcmp(prefix.s, "xml", 3) == 0) {
		n->ns = cm_str_z(XML_NS_XML);
		return;
	}
	for (i = x->nns - 1; i >= 0; i--) {
		if (cm_str_eq(x->ns[i].prefix, prefix)
				|| (prefix.len == 0 && x->ns[i].prefix.len == 0)) {
			n->ns = x->ns[i].uri;
			return;
		}
	}
}

static int name_end(char c)
{
	return is_ws(c) || c == '/' || c == '>' || c == '<' || c == '='
		|| c == '"' || c == '\'' || c == '&';
}

/* a QName with neither part empty, not starting as no name may */
static int name_ok(cm_str n)
{
	return n.len > 0 && !strchr(":-.0123456789", n.s[0])
		&& n.s[n.len - 1] != ':';
}

/* "<name attrs>" or "<name attrs/>" at x->pos */
static xml_tok_type start_tag(xml_scanner *x, xml_tok *t)
{
	const char *s = x->s;
	int len = x->len, p = x->pos + 1, n0, nns0 = x->nns, i, sep;
	cm_str raw_names[XML_MAX_ATTRS];
	cm_str qname, aname, val;
	char q;

	if (x->depth == 0 && x->root_done)
		return XML_ERROR;        /* a second root */
	if (x->depth >= XML_MAX_DEPTH)
		return XML_ERROR;
	for (n0 = p; p < len && !name_end(s[p]); p++)
		;
	qname = cm_str_mk(s + n0, p - n0);
	if (!name_ok(qname) || p >= len)
		return XML_ERROR;
	t->nattr = 0;
	for (;;) {
		sep = 0;
		while (p < len && is_ws(s[p])) {
			p++;
			sep = 1;
		}
		if (p >= len)
			return XML_ERROR;
		if (s[p] == '>' || (s[p] == '/' && p + 1 < len && s[p + 1] == '>'))
			break;
		if (!sep)
			return XML_ERROR;
		for (n0 = p; p < len && !name_end(s[p]); p++)
			;
		aname = cm_str_mk(s + n0, p - n0);
		while (p < len && is_ws(s[p]))
			p++;
		if (!name_ok(aname) || p >= len || s[p] != '=')
			return XML_ERROR;
		for (p++; p < len && is_ws(s[p]); p++)
			;
		if (p >= len || (s[p] != '"' && s[p] != '\''))
			return XML_ERROR;
		q = s[p++];
		for (n0 = p; p < len && s[p] != q; p++)
			;
		if (p >= len)
			return XML_ERROR;
		val = cm_str_mk(s + n0, p - n0);
		p++;
		if (!refs_ok(val))
			return XML_ERROR;
		if (aname.len >= 5 && memcmp(aname.s, "xmlns", 5) == 0
				&& (aname.len == 5 || aname.s[5] == ':')) {
			if (x->nns >= XML_MAX_NS)
				return XML_ERROR;
			x->ns[x->nns].prefix = aname.len == 5 ? cm_str_mk(NULL, 0)
				: cm_str_mk(aname.s + 6, aname.len - 6);
			x->ns[x->nns].uri = val;
			x->nns++;
			continue;
		}
		if (t->nattr < XML_MAX_ATTRS) {
			raw_names[t->nattr] = aname;
			t->attr[t->nattr].value = val;
			t->nattr++;
		}
	}
	/* the declarations of this tag apply to its own names */
	resolve(x, qname, 0, &t->name);
	for (i = 0; i < t->nattr; i++)
		resolve(x, raw_names[i], 1, &t->attr[i].name);
	x->st[x->depth].qname = qname;
	x->st[x->depth].nns = nns0;
	x->depth++;
	t->type = XML_START;
	t->depth = x->depth;
	if (s[p] == '/') {
		x->pending_end = 1;
		x->pending = t->name;
		p++;
	}
	t->raw = cm_str_mk(s + x->pos, p + 1 - x->pos);
	x->pos = p + 1;
	return XML_START;
}

static void pop(xml_scanner *x)
{
	x->depth--;
	x->nns = x->st[x->depth].nns;
	if (x->depth == 0)
		x->root_done = 1;
}

/* "</name WS>" at x->pos */
static xml_tok_type end_tag(xml_scanner *x, xml_tok *t)
{
	const char *s = x->s;
	int len = x->len, p = x->pos + 2, n0;
	cm_str qname;

	for (n0 = p; p < len && !name_end(s[p]); p++)
		;
	qname = cm_str_mk(s + n0, p - n0);
	if (x->depth == 0 || !cm_str_eq(qname, x->st[x->depth - 1].qname))
		return XML_ERROR;
	while (p < len && is_ws(s[p]))
		p++;
	if (p >= len || s[p] != '>')
		return XML_ERROR;
	resolve(x, qname, 0, &t->name);
	t->type = XML_END;
	t->depth = x->depth;
	t->raw = cm_str_mk(s + x->pos, p + 1 - x->pos);
	pop(x);
	x->pos = p + 1;
	return XML_END;
}

static xml_tok_type scan(xml_scanner *x, xml_tok *t)
{
	const char *s = x->s;
	int len = x->len, e, i;

	if (x->pending_end) {
		x->pending_end = 0;
		t->type = XML_END;
		t->name = x->pending;
		t->depth = x->depth;
		t->raw = cm_str_mk(s + x->pos, 0);
		pop(x);
		return XML_END;
	}
	while (x->pos < len) {
		i = x->pos;
		if (s[i] != '<') {
			for (e = i; e < len && s[e] != '<'; e++)
				;
			x->pos = e;
			if (x->depth == 0) {
				/* outside the root: whitespace only */
				for (; i < e; i++)
					if (!is_ws(s[i]))
						return XML_ERROR;
				continue;
			}
			t->type = XML_TEXT;
			t->text = cm_str_mk(s + i, e - i);
			t->raw = t->text;
			t->cdata = 0;
			t->depth = x->depth;
			return refs_ok(t->text) ? XML_TEXT : XML_ERROR;
		}
		if (i + 1 >= len)
			return XML_ERROR;
		if (s[i + 1] == '?') {
			e = find_seq(s, len, i + 2, "?>");
			if (e < 0)
				return XML_ERROR;
			x->pos = e + 2;
			continue;
		}
		if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			e = find_seq(s, len, i + 4, "-->");
			if (e < 0)
				return XML_ERROR;
			x->pos = e + 3;
			continue;
		}
		if (len - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
			if (x->depth == 0)
				return XML_ERROR;
			e = find_seq(s, len, i + 9, "]]>");
			if (e < 0)
				return XML_ERROR;
			x->pos = e + 3;
			t->type = XML_TEXT;
			t->text = cm_str_mk(s + i + 9, e - i - 9);
			t->raw = cm_str_mk(s + i, e + 3 - i);
			t->cdata = 1;
			t->depth = x->depth;
			return XML_TEXT;
		}
		if (s[i + 1] == '!')
			return XML_ERROR;    /* DOCTYPE and other declarations */
		if (s[i + 1] == '/')
			return end_tag(x, t);
		return start_tag(x, t);
	}
	/* truncated documents end with open elements */
	return x->depth == 0 && x->root_done ? XML_EOF : XML_ERROR;
}

xml_tok_type xml_next(xml_scanner *x, xml_tok *t)
{
	xml_tok_type r;

	memset(t, 0, sizeof(*t));
	if (x->failed) {
		t->type = XML_ERROR;
		return XML_ERROR;
	}
	r = scan(x, t);
	if (r == XML_ERROR) {
		x->failed = 1;
		memset(t, 0, sizeof(*t));
		t->type = XML_ERROR;
	}
	return r;
}

int xml_in_ns(const xml_name *n, const char *uri)
{
	return n->ns.len == 0 || cm_str_eq(n->ns, cm_str_z(uri));
}

int xml_local_is(const xml_name *n, const char *z)
{
	return cm_str_eq(n->local, cm_str_z(z));
}

const xml_attr *xml_attr_get(const xml_tok *t, const char *local,
		const char *uri)
{
	int i;

	for (i = 0; i < t->nattr; i++)
		if (xml_local_is(&t->attr[i].name, local)
				&& xml_in_ns(&t->attr[i].name, uri))
			return &t->attr[i];
	return NULL;
}
