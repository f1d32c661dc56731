/*
 * cpm_mms - unit tests: the mapped request as the MM4 worker needs it
 * (map_flat.c)
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
#include <stdlib.h>
#include <string.h>

#include "map_flat.h"

#define NOW ((time_t)1795540202)
#define DOMAIN "mms.iwf.example"

/* exact-size heap copy, poisoned and freed by the test: ASan catches a
 * flat copy that still reads it */
static cm_str heap(const char *z, char **keep)
{
	int n = (int)strlen(z);

	*keep = malloc(n ? n : 1);
	assert_non_null(*keep);
	memcpy(*keep, z, n);
	return (cm_str){*keep, n};
}

static void assert_str(cm_str s, const char *want)
{
	if (s.len != (int)strlen(want) || (s.len && memcmp(s.s, want, s.len)))
		fail_msg("got '%.*s', want '%s'", s.len, s.s ? s.s : "", want);
}

static void drop(char *p, int n)
{
	memset(p, 'x', n);
	free(p);
}

static void assert_inside(cm_str v, const char *data, int size)
{
	if (!v.s)
		return;
	if (v.s >= data && v.s + v.len < data + size && v.s[v.len] == '\0')
		return;
	fail_msg("'%.*s' is not a terminated string in the copy", v.len, v.s);
}

static map_config cfg(void)
{
	map_config c;

	memset(&c, 0, sizeof(c));
	c.mms_version = cm_str_z("6.16.0");
	c.domain = cm_str_z(DOMAIN);
	c.system_address = cm_str_z("system-user@" DOMAIN);
	return c;
}

static const char cpim_head[] =
	"From: \"Kari\" <tel:+4712345678>\r\n"
	"To: <tel:+358401234567>\r\n"
	"NS: imdn <urn:ietf:params:imdn>\r\n"
	"imdn.Message-ID: Ab12Cd34\r\n"
	"imdn.IMDN-Record-Route: <sip:as1.example.net>\r\n"
	"DateTime: 2024-05-01T10:15:00.000Z\r\n"
	"Subject: flat\r\n"
	"imdn.Disposition-Notification: positive-delivery, display\r\n"
	"\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n";

static void write_req(mm4_forward_req *req, cm_buf *b)
{
	req->to[0] = cm_str_z("+358401234567/TYPE=PLMN@mms.op.example");
	req->nto = 1;
	req->transaction_id = cm_str_z("1.2.abc-1");
	cm_buf_init(b);
	assert_int_equal(mm4_write_forward_req(b, req), 0);
}

/* the copy writes the same REQ as the original, after the request, its
 * CPIM body and the original map_result are gone; the payload is copied
 * once; the block may start anywhere */
static void test_fwd_copy(void **state)
{
	static char text[20000];
	char *kbody, *kfrom, *kto, *kruri, *body;
	cpm_request r;
	map_config c;
	map_result *m = calloc(1, sizeof(*m));
	map_fwd dst;
	cm_buf want, got;
	char *block, *data;
	int size, blen;

	assert_non_null(m);
	memset(text, 'a', sizeof(text) - 1);
	blen = (int)strlen(cpim_head) + (int)sizeof(text) - 1;
	body = malloc(blen + 1);
	assert_non_null(body);
	snprintf(body, blen + 1, "%s%s", cpim_head, text);

	c = cfg();
	memset(&r, 0, sizeof(r));
	r.ruri = heap("sip:+358401234567@ims.example.net;user=phone", &kruri);
	r.from = heap("<tel:+4712345678>;tag=abc", &kfrom);
	r.to = heap("<sip:+358401234567@ims.example.net>", &kto);
	r.expires = 3600;
	r.max_forwards = -1;
	r.content_type = cm_str_z("message/cpim");
	r.body = heap(body, &kbody);
	free(body);
	assert_int_equal(map_cpm_to_mm4(&r, &c, cm_str_z("u-1"), NOW, m), 0);
	m->cpm_to = r.to;
	write_req(&m->req, &want);
	m->req.nto = 0;
	m->req.transaction_id = (cm_str){NULL, 0};

	size = map_fwd_size(m);
	/* the payload once, not once per string that holds it */
	assert_true(size < (int)sizeof(text) + 1000);
	assert_true(size > (int)sizeof(text));
	block = malloc(size + 1);
	assert_non_null(block);
	data = block + 1;
	map_fwd_copy(m, &dst, data);
	drop(kbody, r.body.len);
	drop(kfrom, r.from.len);
	drop(kto, r.to.len);
	drop(kruri, r.ruri.len);
	memset(m, 0x55, sizeof(*m));
	free(m);

	assert_int_equal(((unsigned long)dst.rcpt_e164) % sizeof(void *), 0);
	assert_int_equal(dst.nrcpt, 1);
	assert_str(dst.rcpt_e164[0], "+358401234567");
	assert_inside(dst.rcpt_e164[0], data, size);
	assert_int_equal(dst.nrecord_route, 1);
	assert_str(dst.record_route[0], "<sip:as1.example.net>");
	assert_str(dst.cpim_datetime, "2024-05-01T10:15:00.000Z");
	assert_str(dst.imdn_message_id, "Ab12Cd34");
	assert_str(dst.cpm_to, "<sip:+358401234567@ims.example.net>");
	assert_str(dst.cpim_from, "\"Kari\" <tel:+4712345678>");
	assert_str(dst.sender_addr, "+4712345678/TYPE=PLMN@" DOMAIN);
	assert_int_equal(dst.dispositions,
			CPIM_DN_POSITIVE_DELIVERY | CPIM_DN_DISPLAY);
	/* the REQ's From and X-Mms-Message-ID share the envelope's strings */
	assert_true(dst.req.from.s == dst.sender_addr.s);
	assert_true(dst.req.message_id.s == dst.message_id.s);
	assert_inside(dst.req.body, data, size);
	assert_inside(dst.req.subject, data, size);
	assert_inside(dst.req.version, data, size);
	assert_inside(dst.req.rfc822_message_id, data, size);
	assert_inside(dst.req.content_type, data, size);
	assert_inside(dst.message_id, data, size);
	assert_inside(dst.sender_addr, data, size);
	assert_inside(dst.record_route[0], data, size);

	write_req(&dst.req, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.s, want.s, want.len);
	cm_buf_free(&want);
	cm_buf_free(&got);
	free(block);
}

/* a plain text MESSAGE: no CPIM, empty strings stay empty */
static void test_fwd_plain(void **state)
{
	char *kbody;
	cpm_request r;
	map_config c;
	map_result *m = calloc(1, sizeof(*m));
	map_fwd dst;
	cm_buf want, got;
	char *data;
	int size;

	assert_non_null(m);
	c = cfg();
	memset(&r, 0, sizeof(r));
	r.ruri = cm_str_z("tel:+358401234567");
	r.from = cm_str_z("<tel:+4712345678>;tag=abc");
	r.expires = -1;
	r.max_forwards = -1;
	r.content_type = cm_str_z("text/plain");
	r.body = heap("hello", &kbody);
	assert_int_equal(map_cpm_to_mm4(&r, &c, cm_str_z("u-2"), NOW, m), 0);
	write_req(&m->req, &want);
	m->req.nto = 0;
	size = map_fwd_size(m);
	data = malloc(size);
	assert_non_null(data);
	map_fwd_copy(m, &dst, data);
	drop(kbody, r.body.len);
	free(m);
	write_req(&dst.req, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.s, want.s, want.len);
	assert_int_equal(dst.imdn_message_id.len, 0);
	assert_int_equal(dst.cpim_from.len, 0);
	assert_int_equal(dst.nrecord_route, 0);
	assert_int_equal(dst.dispositions, 0);
	assert_str(dst.rcpt_e164[0], "+358401234567");
	cm_buf_free(&want);
	cm_buf_free(&got);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fwd_copy),
		cmocka_unit_test(test_fwd_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
