/*
 * cpm_mms - the recipients of a URI-list request: resource-lists documents
 * (RFC 4826) with RFC 5364 copy control.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "resource_lists.h"
#include "xml_scan.h"

#define RL_NS "urn:ietf:params:xml:ns:resource-lists"
#define RL_CP_NS "urn:ietf:params:xml:ns:copycontrol"

/* RFC 5364 section 4: copyControl to/cc/bcc (absent: to) */
static int copy_control(cm_str v, int *copy)
{
	v = cm_str_trim(v);
	if (cm_str_ieqz(v, "to"))
		*copy = RL_COPY_TO;
	else if (cm_str_ieqz(v, "cc"))
		*copy = RL_COPY_CC;
	else if (cm_str_ieqz(v, "bcc"))
		*copy = RL_COPY_BCC;
	else
		return -1;
	return 0;
}

/* xs:boolean */
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

/* one <entry>: 1 with e filled if it has a uri, 0 if not, -1 on a bad
 * copyControl or anonymize */
static int entry_of(const xml_tok *t, rl_entry *e)
{
	const xml_attr *a;

	memset(e, 0, sizeof(*e));
	a = xml_attr_get(t, "copyControl", RL_CP_NS);
	if (a && copy_control(a->value, &e->copy) < 0)
		return -1;
	a = xml_attr_get(t, "anonymize", RL_CP_NS);
	if (a && xs_boolean(a->value, &e->anonymize) < 0)
		return -1;
	a = xml_attr_get(t, "uri", RL_NS);
	if (!a)
		return 0;
	e->uri = a->value;
	return 1;
}

int resource_list_entries(cm_str xml, rl_entry *out, int max)
{
	xml_scanner x;
	xml_tok t;
	xml_tok_type tt;
	rl_entry e;
	int n = 0, rc;

	if (!out || max < 0)
		return -1;
	xml_scan_init(&x, xml);
	while ((tt = xml_next(&x, &t)) > XML_EOF) {
		if (tt != XML_START || !xml_local_is(&t.name, "entry")
				|| !xml_in_ns(&t.name, RL_NS))
			continue;
		rc = entry_of(&t, &e);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			if (n >= max)
				return -1;
			out[n++] = e;
		}
	}
	return tt == XML_EOF ? n : -1;
}
