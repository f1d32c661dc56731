/*
 * cpm_mms - message/imdn+xml (RFC 5438) reading and writing, and IMDN
 * notification MESSAGE bodies (message/cpim wrapping an IMDN).
 *
 * Copyright (C) 2026 cpm_mms authors
 *
 * This file is part of cpm_mms, a Kamailio module.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure: no XML library, no Kamailio header. The reader takes the tokens
 * of xml_scan.c and only understands the few RFC 5438 elements the IWF
 * needs, in the IMDN namespace (or in none). */
#include <string.h>

#include "imdn.h"
#include "cpim.h"
#include "mime.h"
#include "xml_scan.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define IMDN_NS "urn:ietf:params:xml:ns:imdn"
#define IMDN_XML_TYPE "message/imdn+xml"
#define IMDN_CPIM_TYPE "message/cpim"

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

typedef struct imdn_reader {
	el_id st[XML_MAX_DEPTH + 1];   /* by depth; st[0] is the document */
	int have_status_el;
	int seen[EL_STATUS + 1];       /* value elements seen (once each) */
	const char *content;           /* where the open value's content starts */
	imdn_doc *out;
} imdn_reader;

static int is_value(el_id id)
{
	return id == EL_MESSAGE_ID || id == EL_DATETIME || id == EL_RCPT
			|| id == EL_ORIG_RCPT;
}

static int is_imdn_el(const xml_name *n, const char *local)
{
	return xml_local_is(n, local) && xml_in_ns(n, IMDN_NS);
}

static imdn_status status_from_name(const xml_name *n)
{
	int i;

	for (i = 0; i < ARRAY_LEN(imdn_status_names); i++)
		if (is_imdn_el(n, imdn_status_names[i].name))
			return imdn_status_names[i].st;
	return IMDN_ST_NONE;
}

static imdn_kind kind_from_name(const xml_name *n)
{
	int i;

	for (i = 0; i < ARRAY_LEN(imdn_kind_names); i++)
		if (is_imdn_el(n, imdn_kind_names[i].element))
			return imdn_kind_names[i].kind;
	return IMDN_KIND_NONE;
}

/* what a new element at depth (1: the root) is; -1 if it cannot be there */
static int classify_start(imdn_reader *r, int depth, const xml_name *n,
		el_id *id)
{
	el_id parent = r->st[depth - 1];
	imdn_kind k;
	imdn_status st;

	*id = EL_OTHER;
	if (depth == 1) {
		/* the (only) root, and it is <imdn> */
		if (!is_imdn_el(n, "imdn"))
			return -1;
		*id = EL_IMDN;
		return 0;
	}
	if (is_value(parent))
		return -1; /* markup inside a value */
	if (parent == EL_IMDN) {
		if (is_imdn_el(n, "message-id"))
			*id = EL_MESSAGE_ID;
		else if (is_imdn_el(n, "datetime"))
			*id = EL_DATETIME;
		else if (is_imdn_el(n, "recipient-uri"))
			*id = EL_RCPT;
		else if (is_imdn_el(n, "original-recipient-uri"))
			*id = EL_ORIG_RCPT;
		else if ((k = kind_from_name(n)) != IMDN_KIND_NONE) {
			/* exactly one notification per IMDN */
			if (r->out->kind != IMDN_KIND_NONE)
				return -1;
			r->out->kind = k;
			*id = EL_NOTIFICATION;
			return 0;
		}
		if (*id != EL_OTHER && r->seen[*id]++)
			return -1;
		return 0;
	}
	if (parent == EL_NOTIFICATION && is_imdn_el(n, "status")) {
		if (r->have_status_el)
			return -1;
		r->have_status_el = 1;
		*id = EL_STATUS;
		return 0;
	}
	if (parent == EL_STATUS) {
		/* the status is the (only) child element of <status> */
		st = status_from_name(n);
		if (r->out->status != IMDN_ST_NONE || st == IMDN_ST_NONE
				|| !status_allowed(r->out->kind, st))
			return -1;
		r->out->status = st;
	}
	return 0;
}

static void set_value(imdn_doc *d, el_id id, cm_str v)
{
	v = cm_str_trim(v);
	if (id == EL_MESSAGE_ID)
		d->message_id = v;
	else if (id == EL_DATETIME)
		d->datetime = v;
	else if (id == EL_RCPT)
		d->recipient_uri = v;
	else if (id == EL_ORIG_RCPT)
		d->original_recipient_uri = v;
}

int imdn_parse(cm_str xml, imdn_doc *out)
{
	xml_scanner x;
	xml_tok t;
	imdn_reader r;
	xml_tok_type tt;
	el_id id;

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.out = out;
	xml_scan_init(&x, xml);
	while ((tt = xml_next(&x, &t)) > XML_EOF) {
		if (tt == XML_START) {
			if (classify_start(&r, t.depth, &t.name, &id) < 0)
				goto error;
			r.st[t.depth] = id;
			r.content = t.raw.s + t.raw.len;
		} else if (tt == XML_END) {
			id = r.st[t.depth];
			if (id == EL_NOTIFICATION && out->status == IMDN_ST_NONE)
				goto error;
			/* a value is the raw content between its tags: a comment, PI
			 * or CDATA in it would leave a value that is not its text */
			if (is_value(id)) {
				cm_str v = {(char *)r.content, (int)(t.raw.s - r.content)};

				if (v.len > 0 && memchr(v.s, '<', v.len))
					goto error;
				set_value(out, id, v);
			}
		}
	}
	if (tt == XML_ERROR || out->message_id.len == 0
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
		one = cm_str_mk(v.s + start, i - start);
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
