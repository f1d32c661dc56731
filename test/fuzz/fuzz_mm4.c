/*
 * cpm_mms - libFuzzer harness of mm4.c: RFC 5322 header block parsing,
 * header writing (folding, RFC 2047), base64 and quoted-printable.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: a mail as received after DATA. It is also written back as a
 * header value: whatever the value, the writer must produce exactly one
 * header (no injected line, no early end of the header block). */
#include "fuzz_common.h"
#include "mm4.h"

static const char *const names[] = {"X-Mms-Message-Type",
	"X-Mms-Transaction-ID", "X-Mms-Message-ID", "X-Mms-Request-Status-Code",
	"From", "To", "Content-Type", "Date", "Subject", "nonexistent"};

static void check_parse(const uint8_t *data, size_t size)
{
	mm4_msg m;
	char *buf = fz_dup(data, size, 0);
	cm_str v;
	int rc, i, k;

	rc = mm4_parse(buf, (int)size, &m);
	FZ_ASSERT(rc == MM4_OK || rc == MM4_ERR_SYNTAX || rc == MM4_ERR_TOO_MANY);
	if (rc != MM4_OK) {
		FZ_ASSERT(m.nhdr == 0);
		free(buf);
		return;
	}
	FZ_ASSERT(m.nhdr > 0 && m.nhdr <= MM4_MAX_HEADERS);
	FZ_ASSERT(fz_in(m.body, buf, size));
	for (i = 0; i < m.nhdr; i++) {
		FZ_ASSERT(m.hdr[i].name.len > 0);
		FZ_ASSERT(fz_in(m.hdr[i].name, buf, size));
		FZ_ASSERT(fz_in(m.hdr[i].value, buf, size));
		/* unfolded: no line end survives in a name or value */
		for (k = 0; k < m.hdr[i].name.len; k++)
			FZ_ASSERT(m.hdr[i].name.s[k] > ' ' && m.hdr[i].name.s[k] != ':');
		for (k = 0; k < m.hdr[i].value.len; k++)
			FZ_ASSERT(m.hdr[i].value.s[k] != '\r'
					&& m.hdr[i].value.s[k] != '\n'
					&& m.hdr[i].value.s[k] != '\0');
		/* the header area is compacted below the body */
		FZ_ASSERT(m.hdr[i].value.len == 0
				|| m.hdr[i].value.s + m.hdr[i].value.len <= m.body.s);
	}
	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		v = mm4_get(&m, names[i]);
		FZ_ASSERT(fz_in(v, buf, size));
		v = mm4_get_unquoted(&m, names[i]);
		FZ_ASSERT(fz_in(v, buf, size));
	}
	FZ_ASSERT((int)m.type >= MM4_UNKNOWN
			&& (int)m.type <= MM4_READ_REPLY_REPORT_RES);
	FZ_ASSERT(mm4_type_from_str(cm_str_z(mm4_type_name(m.type))) == m.type);
	free(buf);
}

/* To/Cc address-list split: items inside the input, trimmed, non-empty,
 * in order, no separator outside quotes/comments/brackets lost */
static void check_addr_list(cm_str v)
{
	cm_str a[8];
	int n, i;

	n = mm4_addr_list(v, a, 8);
	FZ_ASSERT(n >= -1 && n <= 8);
	for (i = 0; i < n; i++) {
		FZ_ASSERT(a[i].len > 0 && fz_in(a[i], v.s, v.len));
		FZ_ASSERT(cm_str_trim(a[i]).len == a[i].len);
		if (i)
			FZ_ASSERT(a[i].s >= a[i - 1].s + a[i - 1].len);
	}
	if (n > 0)
		FZ_ASSERT(mm4_addr_list(v, a, n - 1) == -1);
}

/* one header written from an arbitrary value must read back as one */
static void check_add_header(const char *name, cm_str value, int encode)
{
	cm_buf b;
	mm4_msg m;
	int rc, i, k;

	cm_buf_init(&b);
	rc = mm4_add_header(&b, name, value, encode);
	if (rc < 0) {
		cm_buf_free(&b);
		return;
	}
	FZ_ASSERT(b.len >= 4 && b.s[b.len - 2] == '\r' && b.s[b.len - 1] == '\n');
	FZ_ASSERT(fz_crlf_only(b.s, b.len));
	FZ_ASSERT(fz_max_line(b.s, b.len) <= 998);
	FZ_ASSERT(memchr(b.s, '\0', b.len) == NULL);
	for (i = 0; i + 1 < b.len; i++) {
		if (b.s[i] != '\n')
			continue;
		/* every further line continues the header, and is not blank
		 * (a whitespace-only line could end the block for some readers) */
		FZ_ASSERT(b.s[i + 1] == ' ' || b.s[i + 1] == '\t');
		for (k = i + 1; b.s[k] == ' ' || b.s[k] == '\t'; k++)
			;
		FZ_ASSERT(b.s[k] != '\r');
	}
	/* 8-bit bytes are encoded (encode) or replaced, never sent raw */
	for (i = 0; i < b.len; i++)
		FZ_ASSERT((unsigned char)b.s[i] < 0x80);
	/* end of header block, then read it back */
	cm_buf_add(&b, "\r\n", 2);
	FZ_ASSERT(!b.failed);
	rc = mm4_parse(b.s, b.len, &m);
	FZ_ASSERT(rc == MM4_OK);
	FZ_ASSERT(m.nhdr == 1);
	FZ_ASSERT(cm_str_ieqz(m.hdr[0].name, name));
	FZ_ASSERT(m.body.len == 0);
	cm_buf_free(&b);
}

static FZ_NOCOV int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* base64 must decode back to the input; lines no longer than asked */
static FZ_NOCOV void check_base64(const uint8_t *data, size_t size,
		int line_len)
{
	cm_buf b;
	unsigned char *dec;
	unsigned acc = 0;
	int i, bits = 0, n = 0, pad = 0, v;

	cm_buf_init(&b);
	FZ_ASSERT(mm4_base64_encode(&b, data, (int)size, line_len) == 0);
	FZ_ASSERT(fz_crlf_only(b.s, b.len));
	if (line_len > 0 && line_len <= 998)
		FZ_ASSERT(fz_max_line(b.s, b.len) <= (line_len < 4 ? 4 : line_len));
	if (line_len <= 0)
		FZ_ASSERT(b.len == (int)((size + 2) / 3 * 4));
	dec = malloc(size + 1);
	FZ_ASSERT(dec != NULL);
	for (i = 0; i < b.len; i++) {
		if (b.s[i] == '\r' || b.s[i] == '\n')
			continue;
		if (b.s[i] == '=') {
			pad++;
			continue;
		}
		FZ_ASSERT(pad == 0); /* '=' only at the very end */
		v = b64_val(b.s[i]);
		FZ_ASSERT(v >= 0);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			FZ_ASSERT(n < (int)size);
			dec[n++] = (unsigned char)(acc >> bits);
		}
	}
	FZ_ASSERT(pad <= 2);
	FZ_ASSERT(n == (int)size);
	FZ_ASSERT(size == 0 || memcmp(dec, data, size) == 0);
	free(dec);
	cm_buf_free(&b);
}

static FZ_NOCOV int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* quoted-printable: 7-bit, lines <= 76, and decodes back to the input
 * with its line ends made CRLF */
static FZ_NOCOV void check_qp(const uint8_t *data, size_t size)
{
	cm_buf b, want;
	cm_buf dec;
	int i, start;
	char c;

	cm_buf_init(&b);
	FZ_ASSERT(mm4_qp_encode(&b, data, (int)size) == 0);
	FZ_ASSERT(fz_crlf_only(b.s, b.len));
	FZ_ASSERT(fz_max_line(b.s, b.len) <= 76);
	for (i = 0; i < b.len; i++) {
		c = b.s[i];
		FZ_ASSERT(c == '\r' || c == '\n' || c == '\t'
				|| (c >= ' ' && c <= '~'));
		/* no whitespace right before a line end */
		if (c == '\r')
			FZ_ASSERT(i == 0 || (b.s[i - 1] != ' ' && b.s[i - 1] != '\t'));
	}
	if (b.len > 0)
		FZ_ASSERT(b.s[b.len - 1] != ' ' && b.s[b.len - 1] != '\t');

	/* decode */
	cm_buf_init(&dec);
	for (i = 0; i < b.len; i++) {
		if (b.s[i] == '=') {
			if (i + 2 < b.len && b.s[i + 1] == '\r' && b.s[i + 2] == '\n') {
				i += 2; /* soft break */
				continue;
			}
			FZ_ASSERT(i + 2 < b.len && hexv(b.s[i + 1]) >= 0
					&& hexv(b.s[i + 2]) >= 0);
			c = (char)(hexv(b.s[i + 1]) * 16 + hexv(b.s[i + 2]));
			cm_buf_add(&dec, &c, 1);
			i += 2;
			continue;
		}
		cm_buf_add(&dec, b.s + i, 1);
	}
	/* the input with LF and CRLF line ends as CRLF (a bare CR is data) */
	cm_buf_init(&want);
	for (i = 0, start = 0; i < (int)size; i++) {
		if (data[i] != '\n')
			continue;
		if (i > start && data[i - 1] == '\r')
			cm_buf_add(&want, (const char *)data + start, i - 1 - start);
		else
			cm_buf_add(&want, (const char *)data + start, i - start);
		cm_buf_add(&want, "\r\n", 2);
		start = i + 1;
	}
	cm_buf_add(&want, (const char *)data + start, (int)size - start);
	FZ_ASSERT(!dec.failed && !want.failed);
	FZ_ASSERT(dec.len == want.len);
	FZ_ASSERT(dec.len == 0 || memcmp(dec.s, want.s, dec.len) == 0);
	cm_buf_free(&dec);
	cm_buf_free(&want);
	cm_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_str v;
	char name[64];
	const uint8_t *colon;
	size_t n;

	if (size > FZ_MAX_INPUT)
		return 0;
	check_parse(data, size);

	v.s = (char *)data;
	v.len = (int)size;
	check_add_header("Subject", v, 1);
	check_add_header("X-Mms-Status-Text", v, 0);
	check_addr_list(v);
	/* a name from the input: invalid ones must be refused */
	colon = memchr(data, ':', size < sizeof(name) ? size : sizeof(name));
	if (colon) {
		n = (size_t)(colon - data);
		memcpy(name, data, n);
		name[n] = '\0';
		v.s = (char *)colon + 1;
		v.len = (int)(size - n - 1);
		check_add_header(name, v, (int)(size & 1));
	}

	if (size <= 4096) {
		check_base64(data, size, 76);
		/* 0 (no wrapping) and odd widths too */
		check_base64(data, size, size > 0 ? (int)data[0] : 0);
		check_qp(data, size);
	}
	return 0;
}
