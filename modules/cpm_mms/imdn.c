/*
 * cpm_mms - message/imdn+xml (RFC 5438) reading and writing, and IMDN
 * notification MESSAGE bodies (message/cpim wrapping an IMDN).
 *
 * Copyright (C) 2026 cpm_mms authors
 *
 * This file is part of cpm_mms, a Kamailio module.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure: no XML library, no Kamailio header. The reader is a flat, bounded
 * scanner (no recursion, a fixed element stack) that only understands the
 * few RFC 5438 elements the IWF needs; it never relies on a NUL terminator
 * and never reads past xml.len. */
#include <string.h>

#include "imdn.h"
#include "cpim.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* an IMDN is 3-4 levels deep; extensions get some room, hostile nesting
 * does not */
#define IMDN_MAX_DEPTH 32

#define IMDN_XML_TYPE "message/imdn+xml"
#define IMDN_CPIM_TYPE "message/cpim"

static cm_str mk_str(const char *s, int len)
{
	cm_str r;

	r.s = (char *)s;
	r.len = len;
	return r;
}

static int is_xml_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ------------------------------------------------------------------ */
/* RFC 5438 vocabulary                                                 */
/* ------------------------------------------------------------------ */

static const struct {
	imdn_status st;
	const char *name;
} imdn_status_names[] = {
	{IMDN_ST_DELIVERED, "delivered"},
	{IMDN_ST_FAILED, "failed"},
	{IMDN_ST_FORBIDDEN, "forbidden"},
	{IMDN_ST_ERROR, "error"},
	{IMDN_ST_DISPLAYED, "displayed"},
	{IMDN_ST_PROCESSED, "processed"},
	{IMDN_ST_STORED, "stored"},
};

static const struct {
	imdn_kind kind;
	const char *element;
} imdn_kind_names[] = {
	{IMDN_KIND_DELIVERY, "delivery-notification"},
	{IMDN_KIND_DISPLAY, "display-notification"},
	{IMDN_KIND_PROCESSING, "processing-notification"},
};

/* the statuses the RFC 5438 schema allows inside each notification */
static const struct {
	imdn_kind kind;
	imdn_status st;
} imdn_allowed[] = {
	{IMDN_KIND_DELIVERY, IMDN_ST_DELIVERED},
	{IMDN_KIND_DELIVERY, IMDN_ST_FAILED},
	{IMDN_KIND_DELIVERY, IMDN_ST_FORBIDDEN},
	{IMDN_KIND_DELIVERY, IMDN_ST_ERROR},
	{IMDN_KIND_DISPLAY, IMDN_ST_DISPLAYED},
	{IMDN_KIND_DISPLAY, IMDN_ST_FORBIDDEN},
	{IMDN_KIND_DISPLAY, IMDN_ST_ERROR},
	{IMDN_KIND_PROCESSING, IMDN_ST_PROCESSED},
	{IMDN_KIND_PROCESSING, IMDN_ST_STORED},
	{IMDN_KIND_PROCESSING, IMDN_ST_FORBIDDEN},
	{IMDN_KIND_PROCESSING, IMDN_ST_ERROR},
};

const char *imdn_status_name(imdn_status st)
{
	int i;

	for (i = 0; i < ARRAY_LEN(imdn_status_names); i++)
		if (imdn_status_names[i].st == st)
			return imdn_status_names[i].name;
	return "none";
}

static const char *kind_element(imdn_kind k)
{
	int i;

	for (i = 0; i < ARRAY_LEN(imdn_kind_names); i++)
		if (imdn_kind_names[i].kind == k)
			return imdn_kind_names[i].element;
	return NULL;
}

static int status_allowed(imdn_kind k, imdn_status st)
{
	int i;

	for (i = 0; i < ARRAY_LEN(imdn_allowed); i++)
		if (imdn_allowed[i].kind == k && imdn_allowed[i].st == st)
			return 1;
	return 0;
}

/* XML names are case-sensitive */
static int name_is(cm_str n, const char *z)
{
	int zl = (int)strlen(z);

	return n.len == zl && memcmp(n.s, z, zl) == 0;
}

static imdn_status status_from_name(cm_str n)
{
	int i;

	for (i = 0; i < ARRAY_LEN(imdn_status_names); i++)
		if (name_is(n, imdn_status_names[i].name))
			return imdn_status_names[i].st;
	return IMDN_ST_NONE;
}

static imdn_kind kind_from_name(cm_str n)
{
	int i;

	for (i = 0; i < ARRAY_LEN(imdn_kind_names); i++)
		if (name_is(n, imdn_kind_names[i].element))
			return imdn_kind_names[i].kind;
	return IMDN_KIND_NONE;
}

/* ------------------------------------------------------------------ */
/* reading                                                             */
/* ------------------------------------------------------------------ */

typedef enum el_id {
	EL_OTHER = 0,
	EL_IMDN,
	EL_MESSAGE_ID,
	EL_DATETIME,
	EL_RCPT,
	EL_ORIG_RCPT,
	EL_NOTIFICATION,
	EL_STATUS,
} el_id;

typedef struct el_frame {
	cm_str qname;        /* as written, to match the end tag */
	el_id id;
	int content;         /* offset just after the start tag */
} el_frame;

typedef struct xml_scan {
	const char *s;
	int len;
	el_frame st[IMDN_MAX_DEPTH];
	int depth;
	int root_done;
	int have_status_el;
	imdn_doc *out;
	/* which value elements were seen (duplicates are refused) */
	int seen[EL_STATUS + 1];
} xml_scan;

/* local part of a qualified name: whatever the prefix is */
static cm_str local_name(cm_str q)
{
	int i;

	for (i = q.len - 1; i >= 0; i--)
		if (q.s[i] == ':')
			return mk_str(q.s + i + 1, q.len - i - 1);
	return q;
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

static int top_is_value(const xml_scan *x)
{
	el_id id;

	if (x->depth == 0)
		return 0;
	id = x->st[x->depth - 1].id;
	return id == EL_MESSAGE_ID || id == EL_DATETIME || id == EL_RCPT
			|| id == EL_ORIG_RCPT;
}

/* decide what a new element at the current depth is; -1 if it cannot be
 * there */
static int classify_start(xml_scan *x, cm_str qname, el_id *id)
{
	cm_str ln = local_name(qname);
	el_id parent;
	imdn_status st;

	*id = EL_OTHER;
	if (x->depth == 0) {
		/* one root, and it is <imdn> */
		if (x->root_done || !name_is(ln, "imdn"))
			return -1;
		*id = EL_IMDN;
		return 0;
	}
	parent = x->st[x->depth - 1].id;
	if (top_is_value(x))
		return -1; /* markup inside a value */
	if (parent == EL_IMDN) {
		imdn_kind k;

		if (name_is(ln, "message-id"))
			*id = EL_MESSAGE_ID;
		else if (name_is(ln, "datetime"))
			*id = EL_DATETIME;
		else if (name_is(ln, "recipient-uri"))
			*id = EL_RCPT;
		else if (name_is(ln, "original-recipient-uri"))
			*id = EL_ORIG_RCPT;
		else if ((k = kind_from_name(ln)) != IMDN_KIND_NONE) {
			/* exactly one notification per IMDN */
			if (x->out->kind != IMDN_KIND_NONE)
				return -1;
			x->out->kind = k;
			*id = EL_NOTIFICATION;
			return 0;
		}
		if (*id != EL_OTHER && x->seen[*id]++)
			return -1;
		return 0;
	}
	if (parent == EL_NOTIFICATION && name_is(ln, "status")) {
		if (x->have_status_el)
			return -1;
		x->have_status_el = 1;
		*id = EL_STATUS;
		return 0;
	}
	if (parent == EL_STATUS) {
		/* the status is the (only) child element of <status> */
		st = status_from_name(ln);
		if (x->out->status != IMDN_ST_NONE || st == IMDN_ST_NONE
				|| !status_allowed(x->out->kind, st))
			return -1;
		x->out->status = st;
	}
	return 0;
}

static int push(xml_scan *x, cm_str qname, el_id id, int content)
{
	if (x->depth >= IMDN_MAX_DEPTH)
		return -1;
	x->st[x->depth].qname = qname;
	x->st[x->depth].id = id;
	x->st[x->depth].content = content;
	x->depth++;
	return 0;
}

/* an element was closed (end tag or empty-element tag); tag is where its
 * end tag starts (for the value) */
static int closed(xml_scan *x, el_id id, int content, int tag)
{
	cm_str v;

	if (id == EL_MESSAGE_ID || id == EL_DATETIME || id == EL_RCPT
			|| id == EL_ORIG_RCPT) {
		v = cm_str_trim(mk_str(x->s + content, tag - content));
		if (id == EL_MESSAGE_ID)
			x->out->message_id = v;
		else if (id == EL_DATETIME)
			x->out->datetime = v;
		else if (id == EL_RCPT)
			x->out->recipient_uri = v;
		else
			x->out->original_recipient_uri = v;
	} else if (id == EL_NOTIFICATION) {
		if (x->out->status == IMDN_ST_NONE)
			return -1;
	} else if (id == EL_IMDN) {
		x->root_done = 1;
	}
	return 0;
}

/* "<name attrs>", "<name attrs/>" at i (s[i] == '<'); returns the offset
 * after '>' or -1 */
static int start_tag(xml_scan *x, int i)
{
	const char *s = x->s;
	int len = x->len;
	int n0 = i + 1;
	int p = n0;
	char q = 0;
	int empty = 0;
	cm_str qname;
	el_id id;

	while (p < len && !is_xml_ws(s[p]) && s[p] != '/' && s[p] != '>'
			&& s[p] != '<')
		p++;
	if (p == n0 || p >= len)
		return -1;
	qname = mk_str(s + n0, p - n0);
	/* attributes: skipped, but a '>' inside quotes does not end the tag */
	for (; p < len; p++) {
		if (q) {
			if (s[p] == q)
				q = 0;
			continue;
		}
		if (s[p] == '"' || s[p] == '\'')
			q = s[p];
		else if (s[p] == '<')
			return -1;
		else if (s[p] == '>')
			break;
	}
	if (p >= len)
		return -1;
	empty = s[p - 1] == '/' && p - 1 >= n0 + qname.len;
	if (classify_start(x, qname, &id) < 0)
		return -1;
	if (empty) {
		if (closed(x, id, p + 1, p + 1) < 0)
			return -1;
		return p + 1;
	}
	if (push(x, qname, id, p + 1) < 0)
		return -1;
	return p + 1;
}

/* "</name WS>" at i (s[i] == '<', s[i+1] == '/') */
static int end_tag(xml_scan *x, int i)
{
	const char *s = x->s;
	int len = x->len;
	int n0 = i + 2;
	int p = n0;
	el_frame *f;

	while (p < len && !is_xml_ws(s[p]) && s[p] != '>' && s[p] != '<')
		p++;
	if (p == n0 || x->depth == 0)
		return -1;
	f = &x->st[x->depth - 1];
	if (!cm_str_eq(f->qname, mk_str(s + n0, p - n0)))
		return -1;
	while (p < len && is_xml_ws(s[p]))
		p++;
	if (p >= len || s[p] != '>')
		return -1;
	x->depth--;
	if (closed(x, f->id, f->content, i) < 0)
		return -1;
	return p + 1;
}

/* comments, PIs, CDATA: where they may be and how long they are */
static int markup_decl(xml_scan *x, int i)
{
	const char *s = x->s;
	int len = x->len;
	int e;

	/* inside a value they would end up in the zero-copy value */
	if (top_is_value(x))
		return -1;
	if (len - i >= 2 && s[i + 1] == '?') {
		e = find_seq(s, len, i + 2, "?>");
		return e < 0 ? -1 : e + 2;
	}
	if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
		e = find_seq(s, len, i + 4, "-->");
		return e < 0 ? -1 : e + 3;
	}
	if (len - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
		if (x->depth == 0)
			return -1;
		e = find_seq(s, len, i + 9, "]]>");
		return e < 0 ? -1 : e + 3;
	}
	/* <!DOCTYPE and the like: never in an IMDN, and entity
	 * declarations are the classic XML attack */
	return -1;
}

int imdn_parse(cm_str xml, imdn_doc *out)
{
	xml_scan *x;
	xml_scan scan;
	int i = 0;
	int r;

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!xml.s || xml.len <= 0)
		return -1;
	/* NUL is not an XML character */
	if (memchr(xml.s, '\0', xml.len))
		return -1;
	x = &scan;
	memset(x, 0, sizeof(*x));
	x->s = xml.s;
	x->len = xml.len;
	x->out = out;
	/* UTF-8 byte order mark */
	if (xml.len >= 3 && memcmp(xml.s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < x->len) {
		if (x->s[i] != '<') {
			/* text outside the root must be whitespace */
			if (x->depth == 0 && !is_xml_ws(x->s[i]))
				goto error;
			i++;
			continue;
		}
		if (i + 1 >= x->len)
			goto error;
		if (x->s[i + 1] == '/')
			r = end_tag(x, i);
		else if (x->s[i + 1] == '?' || x->s[i + 1] == '!')
			r = markup_decl(x, i);
		else
			r = start_tag(x, i);
		if (r < 0)
			goto error;
		i = r;
	}
	/* truncated documents end with open elements */
	if (x->depth != 0 || !x->root_done || out->message_id.len == 0
			|| out->kind == IMDN_KIND_NONE || out->status == IMDN_ST_NONE)
		goto error;
	return 0;

error:
	memset(out, 0, sizeof(*out));
	return -1;
}

int imdn_from_sip_body(cm_str content_type, cm_str body, imdn_request *out)
{
	cpim_msg m;
	cm_str ct;

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!body.s || body.len <= 0)
		return -1;
	ct = mime_ct_type(content_type);
	if (cm_str_ieqz(ct, IMDN_XML_TYPE)) {
		/* a bare IMDN (no CPIM around it): nothing but the document */
		return imdn_parse(body, &out->doc);
	}
	if (!cm_str_ieqz(ct, IMDN_CPIM_TYPE))
		return -1;
	if (cpim_parse(body.s, body.len, &m) != CPIM_OK)
		return -1;
	if (!cm_str_ieqz(mime_ct_type(m.content_type), IMDN_XML_TYPE))
		return -1;
	if (imdn_parse(m.body, &out->doc) < 0)
		return -1;
	out->cpim_from = m.from;
	if (m.nto > 0)
		out->cpim_to = m.to[0];
	out->imdn_message_id = m.imdn_message_id;
	out->datetime = m.datetime;
	return 0;
}

/* ------------------------------------------------------------------ */
/* writing                                                             */
/* ------------------------------------------------------------------ */

/* bytes that would end a CPIM header line (or the string) */
static int is_line_ctl(char c)
{
	return c == '\r' || c == '\n' || c == '\0';
}

/* at least one visible character (not blank, not a control byte) */
static int has_content(cm_str v)
{
	int i;

	if (!v.s || v.len <= 0)
		return 0;
	for (i = 0; i < v.len; i++)
		if ((unsigned char)v.s[i] > 0x20 && v.s[i] != 0x7f)
			return 1;
	return 0;
}

/* trimmed, and the line breaking bytes removed: they cannot start a new
 * CPIM header (or the payload) that way */
static void add_line_value(cm_buf *b, cm_str v)
{
	int i;
	int run;

	v = cm_str_trim(v);
	i = 0;
	while (i < v.len) {
		run = i;
		while (run < v.len && !is_line_ctl(v.s[run]))
			run++;
		cm_buf_add(b, v.s + i, run - i);
		i = run + 1;
	}
}

/* last byte of v that survives add_line_value, or 0 */
static char last_kept(cm_str v)
{
	int i;

	v = cm_str_trim(v);
	for (i = v.len - 1; i >= 0; i--)
		if (!is_line_ctl(v.s[i]) && !is_xml_ws(v.s[i]))
			return v.s[i];
	return 0;
}

/* "Name: <uri>\r\n"; a value that already is a name-addr (has "<...>")
 * is kept as it is */
static void add_addr_header(cm_buf *b, const char *name, cm_str v)
{
	int bracketed;

	v = cm_str_trim(v);
	bracketed = memchr(v.s, '<', v.len) != NULL && last_kept(v) == '>';
	cm_buf_adds(b, name);
	cm_buf_add(b, ": ", 2);
	if (!bracketed)
		cm_buf_add(b, "<", 1);
	add_line_value(b, v);
	if (!bracketed)
		cm_buf_add(b, ">", 1);
	cm_buf_add(b, "\r\n", 2);
}

static void add_text_header(cm_buf *b, const char *name, cm_str v)
{
	cm_buf_adds(b, name);
	cm_buf_add(b, ": ", 2);
	add_line_value(b, v);
	cm_buf_add(b, "\r\n", 2);
}

/* Split an imdn.IMDN-Route value list at commas (not inside <> or
 * quotes) into its non-blank entries; -1 if there are more than max */
static int split_routes(cm_str v, cm_str *routes, int max)
{
	int i = 0;
	int n = 0;
	int start;
	int angle;
	int quote;
	cm_str one;

	while (i < v.len) {
		start = i;
		angle = 0;
		quote = 0;
		for (; i < v.len; i++) {
			if (quote) {
				if (v.s[i] == '"')
					quote = 0;
			} else if (v.s[i] == '"') {
				quote = 1;
			} else if (v.s[i] == '<') {
				angle = 1;
			} else if (v.s[i] == '>') {
				angle = 0;
			} else if (v.s[i] == ',' && !angle) {
				break;
			}
		}
		one = mk_str(v.s + start, i - start);
		if (has_content(one)) {
			if (n >= max)
				return -1;
			routes[n++] = one;
		}
		i++; /* the comma */
	}
	return n;
}

/* XML character data / attribute-safe text: the five markup characters
 * escaped, C0 controls (not XML 1.0 characters, or line breaks inside a
 * one-line value) dropped */
static void add_xml_text(cm_buf *b, cm_str v)
{
	int i;
	int run = 0;
	const char *rep;
	unsigned char c;

	v = cm_str_trim(v);
	for (i = 0; i < v.len; i++) {
		c = (unsigned char)v.s[i];
		switch (c) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		default:
			rep = c < 0x20 && c != '\t' ? "" : NULL;
			break;
		}
		if (!rep)
			continue;
		cm_buf_add(b, v.s + run, i - run);
		cm_buf_adds(b, rep);
		run = i + 1;
	}
	cm_buf_add(b, v.s + run, v.len - run);
}

static void add_xml_element(cm_buf *b, const char *name, cm_str v)
{
	cm_buf_printf(b, "  <%s>", name);
	add_xml_text(b, v);
	cm_buf_printf(b, "</%s>\r\n", name);
}

int imdn_write_cpim(cm_buf *b, const imdn_out *o)
{
	cm_buf xml;
	const char *kel;
	cm_str routes[CPIM_MAX_RCPT];
	int nroutes = 0;
	int i;

	if (!b || !o || b->failed)
		return -1;
	if (!has_content(o->from_uri) || !has_content(o->to_uri)
			|| !has_content(o->imdn_message_id)
			|| !has_content(o->datetime)
			|| !has_content(o->orig_message_id)
			|| !has_content(o->orig_datetime)
			|| !has_content(o->recipient_uri))
		return -1;
	kel = kind_element(o->kind);
	if (!kel || !status_allowed(o->kind, o->status))
		return -1;
	/* more routes than a CPIM reader (ours included) keeps is no route
	 * a recipient could have asked for */
	if (has_content(o->imdn_route)) {
		nroutes = split_routes(o->imdn_route, routes, CPIM_MAX_RCPT);
		if (nroutes < 0)
			return -1;
	}

	/* the XML first: its exact length goes into Content-Length */
	cm_buf_init(&xml);
	cm_buf_adds(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			"<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n");
	add_xml_element(&xml, "message-id", o->orig_message_id);
	add_xml_element(&xml, "datetime", o->orig_datetime);
	add_xml_element(&xml, "recipient-uri", o->recipient_uri);
	if (has_content(o->original_recipient_uri))
		add_xml_element(&xml, "original-recipient-uri",
				o->original_recipient_uri);
	cm_buf_printf(&xml, "  <%s><status><%s/></status></%s>\r\n", kel,
			imdn_status_name(o->status), kel);
	cm_buf_adds(&xml, "</imdn>\r\n");
	if (xml.failed) {
		cm_buf_free(&xml);
		b->failed = 1;
		return -1;
	}

	/* CPIM header block (RFC 3862); an IMDN never asks for IMDNs */
	add_addr_header(b, "From", o->from_uri);
	add_addr_header(b, "To", o->to_uri);
	cm_buf_adds(b, "NS: imdn <" CPIM_IMDN_NS_URN ">\r\n");
	add_text_header(b, "imdn.Message-ID", o->imdn_message_id);
	add_text_header(b, "DateTime", o->datetime);
	/* one line per route entry (RFC 5438 sec. 6.3) */
	for (i = 0; i < nroutes; i++)
		add_addr_header(b, "imdn.IMDN-Route", routes[i]);
	cm_buf_add(b, "\r\n", 2);
	/* encapsulated MIME headers */
	cm_buf_adds(b, "Content-Type: " IMDN_XML_TYPE "\r\n"
			"Content-Disposition: notification\r\n");
	cm_buf_printf(b, "Content-Length: %d\r\n\r\n", xml.len);
	cm_buf_add(b, xml.s, xml.len);
	cm_buf_free(&xml);
	return b->failed ? -1 : 0;
}
