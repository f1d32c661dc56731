/*
 * cpm_mms - libFuzzer harness of mapping.c Table 4: MM4_forward.REQ ->
 * SIP MESSAGE (map_mm4_to_cpm) end to end from the mail as received,
 * through the MM4 reader, the RFC 2047 / base64 / quoted-printable
 * decoders and the CPIM writer, read back by the CPIM reader.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: one set-up byte, then the mail as received after DATA
 * (dot-unstuffed). Bit 0 of the set-up byte is the recipient uri_form
 * (0 tel:, 1 sip:...;user=phone). With bit 1 set the rest is no mail but
 * a charset case (charset.c, fuzz_charset below): one byte picks the
 * charset (and, bit 7, a small output limit), the bytes after it are the
 * text, converted alone and read as a Subject (RFC 2047). The other bits
 * are unused.
 * A mapped MESSAGE must carry a CPIM body the CPIM reader takes, whose
 * header blocks hold no NUL and only the writer's own CPIM headers, and
 * which is never an IMDN; the strings the glue puts into SIP headers hold
 * no line break. A refused mail always says why (res_status). */
#include "fuzz_common.h"
#include "mapping.h"
#include "imdn.h"
#include "mime.h"
#include "charset.h"

#define FZ_NOW ((time_t)1714558505) /* 2024-05-01T10:15:05Z */
#define FZ_DOMAIN "mms.iwf.test"
#define FZ_RCPT "+4711111111/TYPE=PLMN@" FZ_DOMAIN
#define FZ_UNIQUE "0123456789abcdef0123456789abcdef"
#define FZ_MAX_BODY 60000

/* every CPIM header the Table 4 writer may write */
static const char *const known[] = {"From", "To", "NS", "imdn.Message-ID",
	"DateTime", "imdn.Disposition-Notification", "imdn.IMDN-Record-Route",
	"Subject", "cc"};
#define NKNOWN ((int)(sizeof(known) / sizeof(known[0])))

/* a NUL-ended string inside its array, without CR or LF */
static FZ_NOCOV void assert_line(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	FZ_ASSERT(n < size);
	FZ_ASSERT(strpbrk(s, "\r\n") == NULL);
}

static FZ_NOCOV void assert_z(cm_str v, const char *want)
{
	FZ_ASSERT(v.len == (int)strlen(want)
			&& (v.len == 0 || memcmp(v.s, want, (size_t)v.len) == 0));
}

static FZ_NOCOV void check_out(const cpm_out *o, int uri_form)
{
	cpim_msg *c;
	imdn_request req;
	char want[600];
	char *copy;
	int i, k, hlen;
	cm_str t;

	FZ_ASSERT(o->res_status == NULL);
	assert_line(o->ruri, sizeof(o->ruri));
	assert_line(o->from_uri, sizeof(o->from_uri));
	assert_line(o->from_display, sizeof(o->from_display));
	assert_line(o->pai, sizeof(o->pai));
	assert_line(o->subject, sizeof(o->subject));
	assert_line(o->sip_date, sizeof(o->sip_date));
	assert_line(o->imdn_message_id, sizeof(o->imdn_message_id));
	assert_line(o->conversation_id, sizeof(o->conversation_id));
	assert_line(o->contribution_id, sizeof(o->contribution_id));
	/* the subject is clean UTF-8 text: no control byte at all */
	for (i = 0; o->subject[i]; i++)
		FZ_ASSERT((unsigned char)o->subject[i] >= 0x20
				&& o->subject[i] != 0x7f);
	FZ_ASSERT(cs_utf8_valid(o->subject, (int)strlen(o->subject)));
	FZ_ASSERT(strcmp(o->ruri, uri_form == MAP_URI_SIP_PHONE
					? "sip:+4711111111@" FZ_DOMAIN ";user=phone"
					: "tel:+4711111111")
			== 0);
	FZ_ASSERT(o->from_uri[0] != '\0');
	FZ_ASSERT((o->dispositions & ~0x0f) == 0);

	FZ_ASSERT(o->body.s != NULL && o->body.len > 0);
	FZ_ASSERT(o->body.s[o->body.len] == '\0'); /* cm_buf_take */

	/* the body as the CPIM reader sees it (own exact-size copy) */
	c = malloc(sizeof(*c)); /* large: keep it off the stack */
	FZ_ASSERT(c != NULL);
	copy = fz_dup((const uint8_t *)o->body.s, (size_t)o->body.len, 0);
	FZ_ASSERT(cpim_parse(copy, o->body.len, c) == CPIM_OK);
	hlen = (int)(c->body.s - copy);
	FZ_ASSERT(hlen > 0 && hlen <= o->body.len);
	FZ_ASSERT(memchr(copy, '\0', (size_t)hlen) == NULL);
	FZ_ASSERT(fz_crlf_only(copy, hlen));
	FZ_ASSERT(o->body.len - hlen <= FZ_MAX_BODY);
	for (i = 0; i < c->nhdr; i++) {
		for (k = 0; k < NKNOWN; k++)
			if (cm_str_eq(c->hdr[i].name, cm_str_z(known[k])))
				break;
		FZ_ASSERT(k < NKNOWN); /* nothing injected */
	}
	FZ_ASSERT(c->nto == 1);
	/* group MMS: the other To/Cc recipients, each a <tel:|sip:|mailto:>
	 * URI, never the recipient itself, never twice */
	for (i = 0; i < c->ncc; i++) {
		FZ_ASSERT(c->cc[i].len > 2 && c->cc[i].s[0] == '<'
				&& c->cc[i].s[c->cc[i].len - 1] == '>');
		t = (cm_str){c->cc[i].s + 1, c->cc[i].len - 2};
		FZ_ASSERT(cm_str_iprefix(t, "tel:") || cm_str_iprefix(t, "sip:")
				|| cm_str_iprefix(t, "mailto:"));
		FZ_ASSERT(memchr(t.s, '<', t.len) == NULL
				&& memchr(t.s, '>', t.len) == NULL);
		FZ_ASSERT(!cm_str_eq(c->cc[i], c->to[0]));
		for (k = 0; k < i; k++)
			FZ_ASSERT(!cm_str_eq(c->cc[i], c->cc[k]));
	}
	if (o->anonymous)
		snprintf(want, sizeof(want), "\"%s\" <%s>", o->from_display,
				o->from_uri);
	else
		snprintf(want, sizeof(want), "<%s>", o->from_uri);
	assert_z(c->from, want);
	snprintf(want, sizeof(want), "<%s>", o->ruri);
	assert_z(c->to[0], want);
	assert_z(c->imdn_message_id, o->imdn_message_id);
	FZ_ASSERT(c->dispositions == o->dispositions);
	t = cpim_get(c, "Subject");
	assert_z(t, o->subject);
	FZ_ASSERT(c->content_type.len > 0);
	/* an MMS never becomes an IMDN or a second CPIM wrapper */
	t = mime_ct_type(c->content_type);
	FZ_ASSERT(!cm_str_ieqz(t, "message/imdn+xml")
			&& !cm_str_ieqz(t, "message/cpim"));
	/* decoded text reaches CPM as UTF-8 and says so (text with a transfer
	 * encoding is one we could not decode, passed as received) */
	if (cm_str_iprefix(t, "text/") && c->content_transfer_encoding.len == 0) {
		FZ_ASSERT(cm_str_ieqz(mime_ct_param(c->content_type, "charset"),
				"utf-8"));
		FZ_ASSERT(cs_utf8_valid(c->body.s, c->body.len));
	}
	FZ_ASSERT(imdn_from_sip_body(cm_str_z("message/cpim"),
					  (cm_str){copy, o->body.len}, &req)
			< 0);
	free(copy);
	free(c);
}

/* the charsets a case may name: the ones handled apart, iconv's, and
 * names that must be refused */
static const char *const fz_charsets[] = {"", "utf-8", "us-ascii",
	"iso-8859-1", "iso-8859-2", "iso-8859-5", "iso-8859-7", "iso-8859-15",
	"windows-1251", "windows-1252", "windows-1256", "koi8-r", "gb2312",
	"gbk", "gb18030", "big5", "shift_jis", "euc-kr", "euc-jp",
	"iso-2022-jp", "utf-16", "utf-16be", "utf-16le", "ucs-2", "utf-32",
	"utf-7", "x-no-such", "UTF-8//IGNORE", "utf-8*en", "ISO-8859-1,x"};
#define FZ_NCS ((int)(sizeof(fz_charsets) / sizeof(fz_charsets[0])))

static FZ_NOCOV void fuzz_charset(const uint8_t *data, size_t size)
{
	cm_str cs, bad;
	cm_buf b;
	char *in;
	int len, max, rc;

	if (size < 1)
		return;
	cs = cm_str_z(fz_charsets[(data[0] & 0x7f) % FZ_NCS]);
	max = data[0] & 0x80 ? 16 : 0;
	len = (int)size - 1;
	in = fz_dup(data + 1, (size_t)len, 0);

	/* converted: valid UTF-8 after what the buffer held, at most 3 bytes
	 * per input byte (4 per 4 for UTF-16 pairs / UTF-32), within max; on
	 * an error the buffer as it was */
	cm_buf_init(&b);
	cm_buf_adds(&b, "pre");
	rc = cs_to_utf8(&b, cs, in, len, max);
	FZ_ASSERT(rc == CS_OK || rc == CS_UNKNOWN || rc == CS_INVALID
			|| rc == CS_TOO_LARGE);
	FZ_ASSERT(!b.failed && b.len >= 3 && memcmp(b.s, "pre", 3) == 0);
	FZ_ASSERT(b.s[b.len] == '\0');
	if (rc == CS_OK) {
		FZ_ASSERT(cs_utf8_valid(b.s + 3, b.len - 3));
		FZ_ASSERT(b.len - 3 <= 3 * len);
		FZ_ASSERT(max == 0 || b.len - 3 <= max);
	} else {
		FZ_ASSERT(b.len == 3);
	}
	FZ_ASSERT(rc != CS_TOO_LARGE || max > 0);
	cm_buf_free(&b);

	/* the same bytes as a header value: UTF-8 out, or the label of the
	 * word that could not be converted, inside the value */
	cm_buf_init(&b);
	rc = mm4_rfc2047_decode(&b, (cm_str){in, len}, &bad);
	FZ_ASSERT(rc == CS_OK || rc == CS_UNKNOWN || rc == CS_INVALID);
	if (rc == CS_OK)
		FZ_ASSERT(cs_utf8_valid(b.s, b.len));
	else
		FZ_ASSERT(bad.len > 0 && fz_in(bad, in, (size_t)len));
	cm_buf_free(&b);
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mm4_in_config cfg;
	cpm_out *out;
	mm4_msg *m;
	char *mail;
	int uri_form, rc;

	if (size < 1 || size > FZ_MAX_INPUT)
		return 0;
	if (data[0] & 2) {
		fuzz_charset(data + 1, size - 1);
		return 0;
	}
	uri_form = data[0] & 1 ? MAP_URI_SIP_PHONE : MAP_URI_TEL;
	mail = fz_dup(data + 1, size - 1, 0);
	m = malloc(sizeof(*m));
	out = malloc(sizeof(*out));
	FZ_ASSERT(m != NULL && out != NULL);
	if (mm4_parse(mail, (int)size - 1, m) != MM4_OK)
		goto done;

	memset(&cfg, 0, sizeof(cfg));
	cfg.domain = cm_str_z(FZ_DOMAIN);
	cfg.uri_form = uri_form;
	cfg.iwf_uri = cm_str_z("<sip:iwf@" FZ_DOMAIN ">");
	cfg.max_body_size = FZ_MAX_BODY;
	cfg.max_forward_counter = 20;

	rc = map_mm4_to_cpm(m, cm_str_z(FZ_RCPT), &cfg, cm_str_z(FZ_UNIQUE),
			FZ_NOW, out);
	if (rc == 0) {
		check_out(out, uri_form);
	} else {
		FZ_ASSERT(rc == -1);
		FZ_ASSERT(out->res_status != NULL && out->res_text != NULL);
		FZ_ASSERT(out->body.s == NULL && out->body.len == 0);
	}
	cpm_out_free(out);
	FZ_ASSERT(out->body.s == NULL);
done:
	free(out);
	free(m);
	free(mail);
	return 0;
}
