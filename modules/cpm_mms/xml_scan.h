/*
 * cpm_mms - a small XML scanner for the documents the IWF reads: IMDN
 * (RFC 5438) and resource-lists (RFC 4826, RFC 5364 copy control).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure and bounded: a fixed element and namespace stack, no recursion, no
 * allocation, never reads past the document's length. It checks what the
 * readers rely on (well-formed tags, matching end tags, one root, quoted
 * attribute values, valid entity and character references, namespace
 * prefixes resolved in scope) and refuses what no IMDN or resource list
 * needs: NUL bytes and DTDs (<!DOCTYPE ...>, the door to entity
 * expansion attacks). Values are zero-copy and raw; xml_decode() gives
 * their text. */
#ifndef CPM_MMS_XML_SCAN_H
#define CPM_MMS_XML_SCAN_H

#include "cm_str.h"

#define XML_MAX_DEPTH 32
#define XML_MAX_NS 16
#define XML_MAX_ATTRS 16

typedef enum xml_tok_type {
	XML_ERROR = -1,
	XML_EOF = 0,
	XML_START,    /* start tag or empty-element tag (an XML_END follows) */
	XML_END,
	XML_TEXT,     /* character data or a CDATA section's content */
} xml_tok_type;

typedef struct xml_name {
	cm_str qname;            /* as written */
	cm_str local;            /* without its prefix */
	cm_str ns;               /* namespace URI in scope; empty: none (no
	                          * default namespace, or an undeclared prefix) */
} xml_name;

typedef struct xml_attr {
	xml_name name;
	cm_str value;            /* raw, between the quotes */
} xml_attr;

typedef struct xml_tok {
	xml_tok_type type;
	xml_name name;           /* XML_START / XML_END */
	xml_attr attr[XML_MAX_ATTRS]; /* XML_START, xmlns declarations left out;
	                          * attributes beyond XML_MAX_ATTRS are checked
	                          * and dropped */
	int nattr;
	int depth;               /* of the element; of its parent for text */
	cm_str text;             /* XML_TEXT */
	int cdata;               /* XML_TEXT from a CDATA section: literal */
	cm_str raw;              /* the token's bytes in the document (a tag,
	                          * the text, the whole CDATA section; empty,
	                          * just after the tag, for the XML_END of an
	                          * empty-element tag) */
} xml_tok;

typedef struct xml_frame {
	cm_str qname;
	int nns;                 /* namespace declarations in scope before it */
} xml_frame;

typedef struct xml_ns_decl {
	cm_str prefix;           /* empty: the default namespace */
	cm_str uri;
} xml_ns_decl;

typedef struct xml_scanner {
	const char *s;
	int len;
	int pos;
	xml_frame st[XML_MAX_DEPTH];
	int depth;
	xml_ns_decl ns[XML_MAX_NS];
	int nns;
	int root_done;
	int pending_end;         /* an empty-element tag's XML_END is next */
	xml_name pending;
	int failed;
} xml_scanner;

/* a byte order mark at the start is skipped */
void xml_scan_init(xml_scanner *x, cm_str doc);
/* the next token; XML_EOF only after a complete document (one root, every
 * element closed), XML_ERROR (and from then on) when it is not well formed */
xml_tok_type xml_next(xml_scanner *x, xml_tok *t);

/* the text of a raw value: the five predefined entities and character
 * references replaced (as UTF-8), into out (NUL-terminated). Returns its
 * length, or -1 for a bad reference or when it does not fit in size - 1 */
int xml_decode(cm_str raw, char *out, int size);
/* 1 if v holds no '&', '<' or NUL: the raw value is its own text */
int xml_is_plain(cm_str v);

/* the name is in namespace uri, or in none (documents that leave out their
 * xmlns are read as if they had it; one in another namespace is not) */
int xml_in_ns(const xml_name *n, const char *uri);
/* local name equals z (XML names are case-sensitive) */
int xml_local_is(const xml_name *n, const char *z);
/* the attribute of this local name in namespace uri (or none), NULL if
 * absent */
const xml_attr *xml_attr_get(const xml_tok *t, const char *local,
		const char *uri);

#endif
