/*
 * cpm_mms - libFuzzer harness of imdn.c: IMDN XML reading, IMDN
 * notification bodies (message/cpim or bare message/imdn+xml) and the
 * IMDN writer read back by the reader.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: the whole input is an IMDN document for imdn_parse. Its first
 * byte also selects, and the rest is:
 *   bit 0      the SIP Content-Type for imdn_from_sip_body of the rest:
 *              0 message/cpim, 1 message/imdn+xml
 *   bits 1-2   imdn_kind, bits 3-5 imdn_status of the notification written
 * and the rest, split at the byte 0x1e (RS), gives the imdn_out fields in
 * this order: from_uri, to_uri, imdn_message_id, datetime,
 * orig_message_id, orig_datetime, recipient_uri, original_recipient_uri,
 * imdn_route (the last takes the rest).
 * Whatever the values, a written IMDN must read back (same status, kind,
 * ids) and its CPIM header block must hold only the writer's headers. */
#include "fuzz_common.h"
#include "imdn.h"
#include "cpim.h"
#include "xml_scan.h"

#define FZ_SEP 0x1e
#define FZ_NFIELDS 9

/* every CPIM header imdn_write_cpim may write, and how often at most */
static const struct {
	const char *name;
	int max;
} known[] = {
	{"From", 1},
	{"To", 1},
	{"NS", 1},
	{"imdn.Message-ID", 1},
	{"DateTime", 1},
	{"imdn.IMDN-Route", CPIM_MAX_RCPT},
};
#define NKNOWN ((int)(sizeof(known) / sizeof(known[0])))

/* exact-size copy of a slice: ASan sees any read past it */
static cm_str dup_str(cm_str v)
{
	cm_str r;

	r.s = fz_dup((const uint8_t *)v.s, (size_t)v.len, 0);
	r.len = v.len;
	return r;
}

static FZ_NOCOV int known_index(const char *s, int n)
{
	int k, len;

	for (k = 0; k < NKNOWN; k++) {
		len = (int)strlen(known[k].name);
		if (n > len + 1 && memcmp(s, known[k].name, (size_t)len) == 0
				&& s[len] == ':' && s[len + 1] == ' ')
			return k;
	}
	return -1;
}

/* what a value becomes once written and read back: the bytes the writer
 * drops removed (C0 controls but HTAB for the XML, CR/LF/NUL for a CPIM
 * line), then trimmed as both sides trim. want must hold v.len bytes. */
static FZ_NOCOV cm_str expect(cm_str v, int xml, char *want)
{
	int i, n = 0;
	unsigned char c;

	for (i = 0; i < v.len; i++) {
		c = (unsigned char)v.s[i];
		if (xml ? (c < 0x20 && c != '\t')
				: (c == '\r' || c == '\n' || c == '\0'))
			continue;
		want[n++] = (char)c;
	}
	return cm_str_trim((cm_str){want, n});
}

/* at least one byte that is not blank or a control */
static FZ_NOCOV int visible(cm_str v)
{
	int i;

	for (i = 0; i < v.len; i++)
		if ((unsigned char)v.s[i] > 0x20 && v.s[i] != 0x7f)
			return 1;
	return 0;
}

/* the XML value of v reads back as it was written: its text (xml_decode)
 * is v without what the writer drops */
static FZ_NOCOV void assert_xml_value(cm_str got, cm_str v)
{
	char *want, *text;
	cm_str w;
	int n;

	want = malloc((size_t)v.len + 1);
	text = malloc((size_t)got.len + 1);
	FZ_ASSERT(want != NULL && text != NULL);
	w = expect(v, 1, want);
	n = xml_decode(got, text, got.len + 1);
	FZ_ASSERT(n >= 0);
	FZ_ASSERT(cm_str_eq((cm_str){text, n}, w) || (n == 0 && w.len == 0));
	free(text);
	free(want);
}

static FZ_NOCOV void assert_line_value(cm_str got, cm_str v)
{
	char *want = malloc((size_t)v.len + 1);
	cm_str w;

	FZ_ASSERT(want != NULL);
	w = expect(v, 0, want);
	FZ_ASSERT(cm_str_eq(got, w) || (got.len == 0 && w.len == 0));
	free(want);
}

/* the CPIM header block: only the writer's own headers, each line one
 * header; returns the offset of the blank line */
static FZ_NOCOV int check_headers(cm_str out)
{
	int seen[NKNOWN];
	int start = 0, len, k;
	const char *nl;

	memset(seen, 0, sizeof(seen));
	for (;;) {
		nl = memchr(out.s + start, '\n', (size_t)(out.len - start));
		FZ_ASSERT(nl != NULL);
		len = (int)(nl - (out.s + start)) - 1;
		FZ_ASSERT(len >= 0 && out.s[start + len] == '\r');
		if (len == 0)
			break;
		k = known_index(out.s + start, len);
		FZ_ASSERT(k >= 0); /* nothing injected */
		FZ_ASSERT(++seen[k] <= known[k].max);
		start += len + 2;
	}
	for (k = 0; k < NKNOWN - 1; k++)
		FZ_ASSERT(seen[k] == 1);
	return start;
}

static void check_write(const cm_str *f, int nf, uint8_t sel)
{
	imdn_out o;
	imdn_request req;
	cm_buf b;
	cm_str out, mime, none = {NULL, 0};
	char *copy, *end;
	long clen;
	int rc, blank;

	memset(&o, 0, sizeof(o));
	o.from_uri = f[0];
	o.to_uri = nf > 1 ? f[1] : none;
	o.imdn_message_id = nf > 2 ? f[2] : none;
	o.datetime = nf > 3 ? f[3] : none;
	o.orig_message_id = nf > 4 ? f[4] : none;
	o.orig_datetime = nf > 5 ? f[5] : none;
	o.recipient_uri = nf > 6 ? f[6] : none;
	o.original_recipient_uri = nf > 7 ? f[7] : none;
	o.imdn_route = nf > 8 ? f[8] : none;
	o.kind = (imdn_kind)((sel >> 1) & 3);
	o.status = (imdn_status)((sel >> 3) & 7);

	cm_buf_init(&b);
	rc = imdn_write_cpim(&b, &o);
	if (rc != 0) {
		FZ_ASSERT(rc == -1);
		cm_buf_free(&b);
		return;
	}
	FZ_ASSERT(cm_buf_take(&b, &out) == 0);
	FZ_ASSERT(out.len > 0);
	FZ_ASSERT(memchr(out.s, '\0', (size_t)out.len) == NULL);
	FZ_ASSERT(fz_crlf_only(out.s, out.len));

	/* headers, blank line, the MIME block with an exact Content-Length */
	blank = check_headers(out);
	mime.s = out.s + blank + 2;
	mime.len = out.len - blank - 2;
#define FZ_MIME "Content-Type: message/imdn+xml\r\n" \
		"Content-Disposition: notification\r\nContent-Length: "
	FZ_ASSERT(mime.len > (int)strlen(FZ_MIME)
			&& memcmp(mime.s, FZ_MIME, strlen(FZ_MIME)) == 0);
	clen = strtol(mime.s + strlen(FZ_MIME), &end, 10);
	FZ_ASSERT(end + 4 <= out.s + out.len && memcmp(end, "\r\n\r\n", 4) == 0);
	FZ_ASSERT(clen == (long)(out.s + out.len - (end + 4)));
#undef FZ_MIME

	/* and the reader takes it back */
	copy = fz_dup((const uint8_t *)out.s, (size_t)out.len, 0);
	rc = imdn_from_sip_body(cm_str_z("message/cpim"),
			(cm_str){copy, out.len}, &req);
	FZ_ASSERT(rc == 0);
	FZ_ASSERT(req.doc.kind == o.kind);
	FZ_ASSERT(req.doc.status == o.status);
	assert_xml_value(req.doc.message_id, o.orig_message_id);
	assert_xml_value(req.doc.datetime, o.orig_datetime);
	assert_xml_value(req.doc.recipient_uri, o.recipient_uri);
	/* an optional value without a visible character is left out */
	if (visible(o.original_recipient_uri))
		assert_xml_value(req.doc.original_recipient_uri,
				o.original_recipient_uri);
	else
		FZ_ASSERT(req.doc.original_recipient_uri.len == 0);
	assert_line_value(req.imdn_message_id, o.imdn_message_id);
	assert_line_value(req.datetime, o.datetime);
	FZ_ASSERT(fz_in(req.cpim_from, copy, (size_t)out.len));
	FZ_ASSERT(fz_in(req.cpim_to, copy, (size_t)out.len));
	free(copy);
	cm_free(out.s);
}

/* every value of an accepted IMDN points into the input */
static FZ_NOCOV void check_doc(const imdn_doc *d, const char *p, size_t n)
{
	FZ_ASSERT(d->message_id.len > 0);
	FZ_ASSERT(fz_in(d->message_id, p, n));
	FZ_ASSERT(fz_in(d->datetime, p, n));
	FZ_ASSERT(fz_in(d->recipient_uri, p, n));
	FZ_ASSERT(fz_in(d->original_recipient_uri, p, n));
	FZ_ASSERT(d->kind >= IMDN_KIND_DELIVERY && d->kind <= IMDN_KIND_PROCESSING);
	FZ_ASSERT(d->status >= IMDN_ST_DELIVERED && d->status <= IMDN_ST_STORED);
	FZ_ASSERT(strcmp(imdn_status_name(d->status), "none") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_str f[FZ_NFIELDS];
	imdn_doc d;
	imdn_request req;
	char *p;
	uint8_t sel;
	int nf, i, rc;

	if (size > FZ_MAX_INPUT)
		return 0;

	/* the whole input as an IMDN document */
	p = fz_dup(data, size, 0);
	rc = imdn_parse((cm_str){p, (int)size}, &d);
	FZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0)
		check_doc(&d, p, size);
	else
		FZ_ASSERT(d.message_id.len == 0 && d.kind == IMDN_KIND_NONE);
	free(p);
	if (size < 1)
		return 0;

	/* the rest as a SIP body */
	sel = data[0];
	p = fz_dup(data + 1, size - 1, 0);
	rc = imdn_from_sip_body(cm_str_z(sel & 1 ? "message/imdn+xml"
					: "message/cpim"),
			(cm_str){p, (int)size - 1}, &req);
	FZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		check_doc(&req.doc, p, size - 1);
		FZ_ASSERT(fz_in(req.cpim_from, p, size - 1));
		FZ_ASSERT(fz_in(req.cpim_to, p, size - 1));
		FZ_ASSERT(fz_in(req.imdn_message_id, p, size - 1));
		FZ_ASSERT(fz_in(req.datetime, p, size - 1));
		if (sel & 1)
			FZ_ASSERT(req.cpim_from.len == 0 && req.imdn_message_id.len == 0);
	}
	free(p);

	/* the rest as the fields of an IMDN to write */
	nf = fz_split(data + 1, size - 1, FZ_SEP, f, FZ_NFIELDS);
	for (i = 0; i < nf; i++)
		f[i] = dup_str(f[i]);
	check_write(f, nf, sel);
	for (i = 0; i < nf; i++)
		free(f[i].s);
	return 0;
}
