/*
 * cpm_mms - unit tests: the XML scanner (xml_scan.c)
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "xml_scan.h"

#define S(lit) cm_str_z(lit)

static void assert_str(cm_str s, const char *want)
{
	if (s.len != (int)strlen(want) || (s.len && memcmp(s.s, want, s.len)))
		fail_msg("got '%.*s', want '%s'", s.len, s.s ? s.s : "", want);
}

/* the tokens of doc as one line: S(ns|local) E(local) T(text) C(cdata),
 * attributes as @local=value, then "EOF" or "ERROR" */
static void tokens(const char *doc, char *out, int size)
{
	xml_scanner x;
	xml_tok t;
	xml_tok_type tt;
	int n = 0, i;

	xml_scan_init(&x, S(doc));
	out[0] = '\0';
	for (;;) {
		tt = xml_next(&x, &t);
		if (tt == XML_START) {
			n += snprintf(out + n, size - n, "S(%.*s|%.*s)%d", t.name.ns.len,
					t.name.ns.s, t.name.local.len, t.name.local.s, t.depth);
			for (i = 0; i < t.nattr; i++)
				n += snprintf(out + n, size - n, "@%.*s%s%.*s=%.*s",
						t.attr[i].name.ns.len, t.attr[i].name.ns.s,
						t.attr[i].name.ns.len ? "|" : "",
						t.attr[i].name.local.len, t.attr[i].name.local.s,
						t.attr[i].value.len, t.attr[i].value.s);
			n += snprintf(out + n, size - n, " ");
		} else if (tt == XML_END) {
			n += snprintf(out + n, size - n, "E(%.*s) ", t.name.local.len,
					t.name.local.s);
		} else if (tt == XML_TEXT) {
			n += snprintf(out + n, size - n, "%c(%.*s) ", t.cdata ? 'C' : 'T',
					t.text.len, t.text.s);
		} else {
			snprintf(out + n, size - n, "%s", tt == XML_EOF ? "EOF" : "ERROR");
			break;
		}
		assert_true(n < size);
	}
	/* and it stays there */
	assert_int_equal(xml_next(&x, &t), tt);
}

static void expect(const char *doc, const char *want)
{
	char got[1024];

	tokens(doc, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("%s\n got  %s\n want %s", doc, got, want);
}

static void test_tokens(void **state)
{
	expect("<a/>", "S(|a)1 E(a) EOF");
	expect("\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c --><a x='1' y=\"2\">"
			"hi<b>&amp;</b><![CDATA[<x>]]></a >\n",
			"S(|a)1@x=1@y=2 T(hi) S(|b)2 T(&amp;) E(b) C(<x>) E(a) EOF");
	/* '>' inside a quoted value does not end the tag */
	expect("<a v='x>y'/>", "S(|a)1@v=x>y E(a) EOF");
	/* comments and PIs anywhere, whitespace around the root */
	expect(" <a><?p x?><!--<b>--></a> <!-- t --> ",
			"S(|a)1 E(a) EOF");
}

static void test_namespaces(void **state)
{
	/* default namespace, prefixes, redeclaration in scope, attributes
	 * without prefix in no namespace */
	expect("<r xmlns='urn:d' xmlns:p='urn:p'><p:e p:a='1' b='2'/>"
			"<e xmlns='urn:e'/><q:e/></r>",
			"S(urn:d|r)1 S(urn:p|e)2@urn:p|a=1@b=2 E(e) S(urn:e|e)2 E(e) "
			"S(|e)2 E(e) E(r) EOF");
	/* a declaration ends with its element */
	expect("<r><a xmlns:p='urn:p'><p:b/></a><p:b/></r>",
			"S(|r)1 S(|a)2 S(urn:p|b)3 E(b) E(a) S(|b)2 E(b) E(r) EOF");
	{
		xml_scanner x;
		xml_tok t;

		xml_scan_init(&x, S("<r xmlns='urn:d' c:k='v' xmlns:c='urn:c'/>"));
		assert_int_equal(xml_next(&x, &t), XML_START);
		assert_true(xml_in_ns(&t.name, "urn:d"));
		assert_false(xml_in_ns(&t.name, "urn:other"));
		assert_true(xml_local_is(&t.name, "r"));
		assert_non_null(xml_attr_get(&t, "k", "urn:c"));
		assert_null(xml_attr_get(&t, "k", "urn:x"));
		assert_null(xml_attr_get(&t, "z", "urn:c"));
		assert_int_equal(t.nattr, 1);
	}
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
		"", " ", "<a>", "<a></b>", "<a/><b/>", "</a>", "<a/>x",
		"<a x=1/>", "<a x='1/>", "<a x='1'y='2'/>", "<a x/>", "<a <b/>",
		"<a p:=\"1\"/>", "<:a/>", "<a:/>", "<1a/>",
		"<a>&</a>", "<a>&x;</a>", "<a>&#;</a>", "<a>&#x110000;</a>",
		"<a>&#1;</a>", "<a x='&'/>", "<a x='<'/>", "<!DOCTYPE a><a/>",
		"<a><!ELEMENT x></a>", "<!-- x", "<?x", "<a><![CDATA[x</a>",
		"<![CDATA[x]]><a/>", "<a></a >x", "<>", "</>", "<a></ a>",
	};
	char doc[XML_MAX_DEPTH * 8 + 16];
	xml_scanner x;
	xml_tok t;
	int i, n = 0;
	char nul[] = "<a>x</a>";

	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		char got[256];

		tokens(bad[i], got, sizeof(got));
		if (!strstr(got, "ERROR"))
			fail_msg("accepted bad[%d] %s: %s", i, bad[i], got);
	}
	/* NUL */
	nul[4] = '\0';
	xml_scan_init(&x, (cm_str){nul, 8});
	assert_int_equal(xml_next(&x, &t), XML_ERROR);
	/* nesting beyond XML_MAX_DEPTH */
	for (i = 0; i <= XML_MAX_DEPTH; i++)
		n += snprintf(doc + n, sizeof(doc) - n, "<a>");
	xml_scan_init(&x, (cm_str){doc, n});
	for (i = 0; i < XML_MAX_DEPTH; i++)
		assert_int_equal(xml_next(&x, &t), XML_START);
	assert_int_equal(xml_next(&x, &t), XML_ERROR);
	/* a NULL document */
	xml_scan_init(&x, (cm_str){NULL, 0});
	assert_int_equal(xml_next(&x, &t), XML_ERROR);
}

static void test_raw(void **state)
{
	static const char doc[] = "<a><b>x</b><c/></a>";
	xml_scanner x;
	xml_tok t;

	xml_scan_init(&x, S(doc));
	assert_int_equal(xml_next(&x, &t), XML_START);
	assert_str(t.raw, "<a>");
	assert_int_equal(xml_next(&x, &t), XML_START);
	assert_str(t.raw, "<b>");
	assert_int_equal(xml_next(&x, &t), XML_TEXT);
	assert_str(t.raw, "x");
	assert_int_equal(xml_next(&x, &t), XML_END);
	assert_str(t.raw, "</b>");
	assert_int_equal(xml_next(&x, &t), XML_START);
	assert_str(t.raw, "<c/>");
	assert_int_equal(xml_next(&x, &t), XML_END);
	assert_int_equal(t.raw.len, 0);
	assert_ptr_equal(t.raw.s, doc + 15);
	assert_int_equal(xml_next(&x, &t), XML_END);
	assert_str(t.raw, "</a>");
	assert_int_equal(xml_next(&x, &t), XML_EOF);
}

static void test_decode(void **state)
{
	char out[32];

	assert_int_equal(xml_decode(S("a&amp;b&lt;&gt;&quot;&apos;"), out,
			sizeof(out)), 7);
	assert_string_equal(out, "a&b<>\"'");
	assert_int_equal(xml_decode(S("&#65;&#x42;&#xe9;&#x20AC;&#x1F600;"), out,
			sizeof(out)), 1 + 1 + 2 + 3 + 4);
	assert_string_equal(out, "AB\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_int_equal(xml_decode(S(""), out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* bad references */
	assert_int_equal(xml_decode(S("a&b"), out, sizeof(out)), -1);
	assert_int_equal(xml_decode(S("&amp"), out, sizeof(out)), -1);
	assert_int_equal(xml_decode(S("&#xD800;"), out, sizeof(out)), -1);
	assert_int_equal(xml_decode(S("&#99999999999;"), out, sizeof(out)), -1);
	/* does not fit: size - 1 bytes at most */
	assert_int_equal(xml_decode(S("abcd"), out, 5), 4);
	assert_int_equal(xml_decode(S("abcde"), out, 5), -1);
	assert_int_equal(xml_decode(S("abc&#xe9;"), out, 5), -1);
	assert_int_equal(xml_decode(S("a"), out, 0), -1);

	assert_true(xml_is_plain(S("sip:a@b;x=y")));
	assert_true(xml_is_plain((cm_str){NULL, 0}));
	assert_false(xml_is_plain(S("a&amp;b")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
