/*
 * cpm_mms - libFuzzer harness of cpim.c: CPIM/IMDN parsing, name-addr
 * split, dispositions, MIME multipart split and resource-lists URIs.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: the whole input is a message/cpim body. For mime_split its first
 * line is a Content-Type value with a boundary parameter (or the bare
 * boundary) and the rest the multipart body, so one seed file drives both.
 * Everything returned must point into the input. */
#include "fuzz_common.h"
#include "cpim.h"
#include "mime.h"
#include "resource_lists.h"
#include "xml_scan.h"

static void check_addr(cm_str v, const uint8_t *data, size_t size)
{
	cm_str disp, uri;

	if (cpim_split_addr(v, &disp, &uri) == 0) {
		FZ_ASSERT(fz_in(disp, data, size));
		FZ_ASSERT(fz_in(uri, data, size));
		FZ_ASSERT(uri.len > 0);
	} else {
		/* -1 promises nothing about the outputs, but they stay inside */
		FZ_ASSERT(fz_in(disp, data, size) && fz_in(uri, data, size));
	}
}

static void check_cpim(const uint8_t *data, size_t size)
{
	cpim_msg m;
	cm_str v;
	int i, rc, bits;

	rc = cpim_parse((const char *)data, (int)size, &m);
	FZ_ASSERT(rc == CPIM_OK || rc == CPIM_ERR_SYNTAX
			|| rc == CPIM_ERR_TOO_MANY);
	if (rc != CPIM_OK) {
		FZ_ASSERT(m.nhdr == 0 && m.nto == 0 && m.body.len == 0);
		return;
	}
	FZ_ASSERT(m.nhdr >= 0 && m.nhdr <= CPIM_MAX_HEADERS);
	FZ_ASSERT(m.nto >= 0 && m.nto <= CPIM_MAX_RCPT);
	FZ_ASSERT(m.ncc >= 0 && m.ncc <= CPIM_MAX_RCPT);
	FZ_ASSERT(m.nrecord_route >= 0 && m.nrecord_route <= CPIM_MAX_RCPT);
	FZ_ASSERT(m.nmime >= 0 && m.nmime <= CPIM_MAX_MIME_HEADERS);
	for (i = 0; i < m.nhdr; i++) {
		FZ_ASSERT(m.hdr[i].name.len > 0);
		FZ_ASSERT(fz_in(m.hdr[i].name, data, size));
		FZ_ASSERT(fz_in(m.hdr[i].value, data, size));
	}
	for (i = 0; i < m.nmime; i++) {
		FZ_ASSERT(fz_in(m.mime[i].name, data, size));
		FZ_ASSERT(fz_in(m.mime[i].value, data, size));
	}
	for (i = 0; i < m.nto; i++) {
		FZ_ASSERT(fz_in(m.to[i], data, size));
		check_addr(m.to[i], data, size);
	}
	for (i = 0; i < m.ncc; i++) {
		FZ_ASSERT(fz_in(m.cc[i], data, size));
		check_addr(m.cc[i], data, size);
	}
	for (i = 0; i < m.nrecord_route; i++)
		FZ_ASSERT(fz_in(m.imdn_record_route[i], data, size));
	FZ_ASSERT(fz_in(m.from, data, size));
	check_addr(m.from, data, size);
	FZ_ASSERT(fz_in(m.datetime, data, size));
	FZ_ASSERT(fz_in(m.subject, data, size));
	FZ_ASSERT(fz_in(m.imdn_message_id, data, size));
	FZ_ASSERT(fz_in(m.imdn_disposition, data, size));
	FZ_ASSERT(fz_in(m.content_type, data, size));
	FZ_ASSERT(fz_in(m.content_transfer_encoding, data, size));
	FZ_ASSERT(fz_in(m.body, data, size));
	FZ_ASSERT((m.dispositions & ~0x0f) == 0);
	bits = cpim_parse_dispositions(m.imdn_disposition);
	FZ_ASSERT(bits == m.dispositions);

	v = cpim_get(&m, "NS");
	FZ_ASSERT(fz_in(v, data, size));
	v = mime_ct_type(m.content_type);
	FZ_ASSERT(fz_in(v, data, size));
	v = mime_ct_param(m.content_type, "charset");
	FZ_ASSERT(fz_in(v, data, size));
}

/* RFC 4826 / 5364: every entry's uri inside the input and decodable or
 * refused by xml_decode alone, a valid copy kind; never more than max */
static void check_resource_list(cm_str xml, const uint8_t *data, size_t size)
{
	rl_entry e[8];
	char uri[256];
	int n, i, k;

	n = resource_list_entries(xml, e, 8);
	FZ_ASSERT(n >= -1 && n <= 8);
	for (i = 0; i < n; i++) {
		FZ_ASSERT(fz_in(e[i].uri, data, size));
		check_addr(e[i].uri, data, size);
		FZ_ASSERT(e[i].copy == RL_COPY_TO || e[i].copy == RL_COPY_CC
				|| e[i].copy == RL_COPY_BCC);
		FZ_ASSERT(e[i].anonymize == 0 || e[i].anonymize == 1);
		/* the scanner checked the references: only a long value fails */
		k = xml_decode(e[i].uri, uri, sizeof(uri));
		FZ_ASSERT(k >= 0 || e[i].uri.len >= (int)sizeof(uri));
		FZ_ASSERT(k < 0 || (k <= e[i].uri.len && (int)strlen(uri) == k));
		if (xml_is_plain(e[i].uri))
			FZ_ASSERT(k < 0 || (k == e[i].uri.len
					&& memcmp(uri, e[i].uri.s, k) == 0));
	}
	/* no room at all: a list with entries must fail, not overflow */
	k = resource_list_entries(xml, e, 0);
	FZ_ASSERT(k == -1 || k == 0);
	FZ_ASSERT(k == 0 ? n == 0 : n != 0);
}

static void check_mime(const uint8_t *data, size_t size)
{
	mime_part parts[MIME_MAX_PARTS];
	cm_str bnd, body, v;
	const uint8_t *nl;
	int n, n1, i;

	nl = memchr(data, '\n', size);
	if (!nl)
		return;
	bnd.s = (char *)data;
	bnd.len = (int)(nl - data);
	if (bnd.len > 0 && bnd.s[bnd.len - 1] == '\r')
		bnd.len--;
	body.s = (char *)nl + 1;
	body.len = (int)(size - (size_t)(nl + 1 - data));

	/* a Content-Type value gives its boundary parameter, anything else
	 * is the boundary itself */
	v = mime_ct_param(bnd, "boundary");
	FZ_ASSERT(fz_in(v, data, size));
	if (v.len > 0)
		bnd = v;

	n = mime_split(body, bnd, parts, MIME_MAX_PARTS);
	FZ_ASSERT(n >= -1 && n <= MIME_MAX_PARTS);
	for (i = 0; i < n; i++) {
		FZ_ASSERT(fz_in(parts[i].headers, body.s, body.len));
		FZ_ASSERT(fz_in(parts[i].body, body.s, body.len));
		FZ_ASSERT(fz_in(parts[i].content_type, body.s, body.len));
		v = mime_ct_type(parts[i].content_type);
		FZ_ASSERT(fz_in(v, data, size));
		v = mime_ct_param(parts[i].content_type, "boundary");
		FZ_ASSERT(fz_in(v, data, size));
		check_resource_list(parts[i].body, data, size);
		if (cm_str_ieqz(mime_ct_type(parts[i].content_type),
					"message/cpim")) {
			/* own exact-size copy: ASan then sees reads past the part */
			char *c = fz_dup((const uint8_t *)parts[i].body.s,
					(size_t)parts[i].body.len, 0);

			check_cpim((const uint8_t *)c, (size_t)parts[i].body.len);
			free(c);
		}
	}
	/* a smaller array must give the same prefix or fail cleanly */
	n1 = mime_split(body, bnd, parts, 1);
	FZ_ASSERT(n1 == -1 || n1 <= 1);
	if (n >= 0 && n <= 1)
		FZ_ASSERT(n1 == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_str whole, disp, uri;

	if (size > FZ_MAX_INPUT)
		return 0;
	whole.s = (char *)data;
	whole.len = (int)size;

	check_cpim(data, size);
	check_mime(data, size);
	check_resource_list(whole, data, size);

	if (cpim_split_addr(whole, &disp, &uri) == 0) {
		FZ_ASSERT(fz_in(disp, data, size));
		FZ_ASSERT(fz_in(uri, data, size));
	}
	FZ_ASSERT((cpim_parse_dispositions(whole) & ~0x0f) == 0);
	return 0;
}
