/*
 * cpm_mms - libFuzzer harness of xml_scan.c: the token stream of any input
 * and xml_decode of every value.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: the whole input is an XML document. Checked on every token: it
 * lies inside the input, the raw spans follow each other in order, depths
 * go up and down by one, every XML_END names the XML_START it closes, a
 * value's text is no longer than its raw form; at the end, XML_EOF only
 * with every element closed, and the scanner stays where it ended. */
#include "fuzz_common.h"
#include "xml_scan.h"

#define FZ_TOKENS 100000

static FZ_NOCOV void check_value(cm_str v, const char *p, size_t n, int cdata)
{
	char *text;
	int k;

	FZ_ASSERT(fz_in(v, p, n));
	if (cdata)
		return;
	text = malloc((size_t)v.len + 1);
	FZ_ASSERT(text != NULL);
	/* the scanner checked every reference: decoding cannot fail */
	k = xml_decode(v, text, v.len + 1);
	FZ_ASSERT(k >= 0 && k <= v.len && (int)strlen(text) == k);
	if (xml_is_plain(v))
		FZ_ASSERT(k == v.len && memcmp(text, v.s, (size_t)k) == 0);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_str open[XML_MAX_DEPTH + 1];
	xml_scanner x;
	xml_tok t;
	xml_tok_type tt;
	const char *last = NULL;
	char *p;
	int depth = 0, i, count;

	if (size > FZ_MAX_INPUT)
		return 0;
	p = fz_dup(data, size, 0);
	xml_scan_init(&x, (cm_str){p, (int)size});
	for (count = 0; count < FZ_TOKENS; count++) {
		tt = xml_next(&x, &t);
		if (tt == XML_ERROR || tt == XML_EOF)
			break;
		FZ_ASSERT(fz_in(t.raw, p, size));
		FZ_ASSERT(last == NULL || t.raw.s >= last);
		last = t.raw.s + t.raw.len;
		if (tt == XML_START) {
			FZ_ASSERT(t.depth == depth + 1 && t.depth <= XML_MAX_DEPTH);
			FZ_ASSERT(t.name.qname.len > 0 && fz_in(t.name.qname, p, size));
			FZ_ASSERT(t.nattr >= 0 && t.nattr <= XML_MAX_ATTRS);
			for (i = 0; i < t.nattr; i++) {
				FZ_ASSERT(t.attr[i].name.local.len > 0);
				check_value(t.attr[i].value, p, size, 0);
			}
			open[++depth] = t.name.qname;
		} else if (tt == XML_END) {
			FZ_ASSERT(t.depth == depth && depth > 0);
			FZ_ASSERT(cm_str_eq(t.name.qname, open[depth]));
			depth--;
		} else {
			FZ_ASSERT(tt == XML_TEXT && t.depth == depth && depth > 0);
			check_value(t.text, p, size, t.cdata);
		}
	}
	FZ_ASSERT(count < FZ_TOKENS);
	if (tt == XML_EOF)
		FZ_ASSERT(depth == 0 && last != NULL);
	/* and it stays there */
	FZ_ASSERT(xml_next(&x, &t) == tt);
	free(p);
	return 0;
}
