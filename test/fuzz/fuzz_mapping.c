/*
 * cpm_mms - libFuzzer harness of mapping.c: SIP MESSAGE -> MM4_forward.REQ
 * (Table 1) end to end through the MM4 writer, the date parsers and the
 * RES status table.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: fields separated by the byte 0x1e (RS), in this order:
 *   Request-URI, From, P-Asserted-Identity, Privacy, Subject, Priority,
 *   Date, Content-Type, numbers, body (the rest, separators included)
 * "numbers" is "expires,max-forwards,max-recipients,max-size,use-cpim"
 * in decimal, each optional.
 * A mail written from a successful mapping must have a header block made
 * only of the writer's own headers, each once: whatever SIP or CPIM put
 * into a value, no header line can be injected. */
#include "fuzz_common.h"
#include "mapping.h"
#include "rfcdate.h"

#define FZ_SEP 0x1e
#define FZ_NFIELDS 10
#define FZ_NOW ((time_t)1795540202) /* 2026-11-24T17:10:02Z */
#define FZ_DOMAIN "mms.iwf.example"
#define FZ_PEER "mms.peer.example"

/* every header mm4_write_forward_req may write */
static const char *const known[] = {"X-Mms-3GPP-MMS-Version",
	"X-Mms-Message-Type", "X-Mms-Transaction-ID", "X-Mms-Message-ID", "To",
	"Cc", "From", "Date", "X-Mms-Expiry", "X-Mms-Message-Class",
	"X-Mms-Delivery-Report", "X-Mms-Read-Reply", "X-Mms-Priority",
	"X-Mms-Sender-Visibility", "Subject", "X-Mms-Ack-Request",
	"X-Mms-Forward-Counter", "X-Mms-Originator-System", "Sender",
	"Message-ID", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding"};
#define NKNOWN ((int)(sizeof(known) / sizeof(known[0])))

/* "12,-1,,5" -> numbers; missing ones keep their default */
static void parse_numbers(cm_str f, int *v, int n)
{
	int i = 0, k, neg, x, digits;

	for (k = 0; k < n && i <= f.len; k++) {
		neg = 0;
		x = 0;
		digits = 0;
		if (i < f.len && f.s[i] == '-') {
			neg = 1;
			i++;
		}
		while (i < f.len && f.s[i] >= '0' && f.s[i] <= '9') {
			if (x < 100000000)
				x = x * 10 + (f.s[i] - '0');
			digits++;
			i++;
		}
		if (digits)
			v[k] = neg ? -x : x;
		while (i < f.len && f.s[i] != ',')
			i++;
		i++;
	}
}

static int known_index(const char *s, int n)
{
	int k, len;

	for (k = 0; k < NKNOWN; k++) {
		len = (int)strlen(known[k]);
		if (n > len + 1 && memcmp(s, known[k], (size_t)len) == 0
				&& s[len] == ':' && s[len + 1] == ' ')
			return k;
	}
	return -1;
}

static void assert_val(const mm4_msg *m, const char *name, const char *want,
		int unquote)
{
	cm_str v = unquote ? mm4_get_unquoted(m, name) : mm4_get(m, name);

	FZ_ASSERT(v.len == (int)strlen(want)
			&& memcmp(v.s, want, (size_t)v.len) == 0);
}

static void check_mail(const map_result *res, const char *to, cm_str mail)
{
	int seen[NKNOWN];
	int i, k, start, nlines = 0, hlen, cte7;
	const char *end;
	char *copy;
	char want[200];
	mm4_msg m;
	cm_str cte, body;

	FZ_ASSERT(mail.len > 4);
	end = NULL;
	for (i = 0; i + 3 < mail.len; i++)
		if (memcmp(mail.s + i, "\r\n\r\n", 4) == 0) {
			end = mail.s + i;
			break;
		}
	FZ_ASSERT(end != NULL);
	hlen = (int)(end - mail.s) + 2; /* with the last header's CRLF */
	FZ_ASSERT(fz_crlf_only(mail.s, hlen));
	FZ_ASSERT(fz_max_line(mail.s, hlen) <= 998);
	memset(seen, 0, sizeof(seen));
	for (start = 0; start < hlen;) {
		const char *nl = memchr(mail.s + start, '\n', (size_t)(hlen - start));
		int len = (int)(nl - (mail.s + start)) - 1;

		for (i = start; i < start + len; i++)
			FZ_ASSERT(mail.s[i] != '\0' && (unsigned char)mail.s[i] < 0x80);
		if (mail.s[start] == ' ' || mail.s[start] == '\t') {
			FZ_ASSERT(start > 0); /* a continuation, not the first */
		} else {
			k = known_index(mail.s + start, len);
			FZ_ASSERT(k >= 0);      /* nothing injected */
			FZ_ASSERT(!seen[k]++);  /* nor duplicated */
			nlines++;
		}
		start += len + 2;
	}

	/* and the reader agrees */
	copy = fz_dup((const uint8_t *)mail.s, (size_t)mail.len, 0);
	FZ_ASSERT(mm4_parse(copy, mail.len, &m) == MM4_OK);
	FZ_ASSERT(m.type == MM4_FORWARD_REQ);
	FZ_ASSERT(m.nhdr == nlines);
	assert_val(&m, "X-Mms-Transaction-ID", "tx-1", 1);
	assert_val(&m, "X-Mms-Message-ID", res->message_id, 1);
	assert_val(&m, "From", res->sender_addr, 0);
	assert_val(&m, "To", to, 0);
	snprintf(want, sizeof(want), "<%s>", res->rfc822_id);
	assert_val(&m, "Message-ID", want, 0);
	assert_val(&m, "X-Mms-3GPP-MMS-Version", "6.16.0", 0);

	/* the body goes through SMTP as it is */
	body = m.body;
	FZ_ASSERT(body.s == copy + hlen + 2);
	FZ_ASSERT(fz_crlf_only(body.s, body.len));
	FZ_ASSERT(fz_max_line(body.s, body.len) <= 998);
	FZ_ASSERT(body.len == 0 || memchr(body.s, '\0', (size_t)body.len) == NULL);
	cte = mm4_get(&m, "Content-Transfer-Encoding");
	cte7 = cm_str_ieqz(cte, "7bit") || cm_str_ieqz(cte, "base64")
			|| cm_str_ieqz(cte, "quoted-printable");
	/* every mail 7-bit: none needs BODY=8BITMIME (8-bit parts of a
	 * multipart re-encoded) */
	FZ_ASSERT(cte7);
	for (i = 0; i < body.len; i++)
		FZ_ASSERT((unsigned char)body.s[i] < 0x80);
	free(copy);
}

static void check_map(const cm_str *f, int nf)
{
	cpm_request in;
	map_config cfg;
	map_result *res;
	mm4_forward_req r;
	char to[MM4_ADDR_MAX];
	int num[5] = {-1, -1, 0, 0, 0};
	cm_buf b;
	cm_str mail;
	int rc, i, n;

	memset(&in, 0, sizeof(in));
	in.ruri = f[0];
	in.from = nf > 1 ? f[1] : f[0];
	in.pai = nf > 2 ? f[2] : in.pai;
	in.privacy = nf > 3 ? f[3] : in.privacy;
	in.subject = nf > 4 ? f[4] : in.subject;
	in.priority = nf > 5 ? f[5] : in.priority;
	in.date = nf > 6 ? f[6] : in.date;
	in.content_type = nf > 7 ? f[7] : in.content_type;
	if (nf > 8)
		parse_numbers(f[8], num, 5);
	in.body = nf > 9 ? f[9] : in.body;
	in.expires = num[0];
	in.max_forwards = num[1];

	memset(&cfg, 0, sizeof(cfg));
	cfg.mms_version = cm_str_z("6.16.0");
	cfg.domain = cm_str_z(FZ_DOMAIN);
	cfg.system_address = cm_str_z("system-user@" FZ_DOMAIN);
	cfg.max_recipients = num[2];
	cfg.max_message_size = num[3];
	cfg.use_cpim_recipients = num[4] != 0;

	res = malloc(sizeof(*res)); /* large: keep it off the stack */
	FZ_ASSERT(res != NULL);
	rc = map_cpm_to_mm4(&in, &cfg, cm_str_z("20261124171002.a1b2c3"), FZ_NOW,
			res);
	if (rc != 0) {
		FZ_ASSERT(rc == -1);
		FZ_ASSERT(res->sip_code >= 400 && res->sip_code <= 599);
		FZ_ASSERT(res->sip_reason != NULL);
		free(res);
		return;
	}
	FZ_ASSERT(res->nrcpt >= 1 && res->nrcpt <= MAP_MAX_RCPT);
	FZ_ASSERT(cfg.max_recipients <= 0 || cfg.max_recipients > MAP_MAX_RCPT
			|| res->nrcpt <= cfg.max_recipients);
	FZ_ASSERT(cfg.max_message_size <= 0
			|| res->req.body.len <= cfg.max_message_size);
	for (i = 0; i < res->nrcpt; i++)
		FZ_ASSERT(res->rcpt_e164[i][0] == '+'
				&& strspn(res->rcpt_e164[i] + 1, "0123456789")
						== strlen(res->rcpt_e164[i] + 1));
	FZ_ASSERT(res->sender_e164[0] == '+');
	FZ_ASSERT(res->req.from.s == res->sender_addr);

	/* what the glue does after ENUM */
	n = mm4_plmn_address(cm_str_z(res->rcpt_e164[0]), cm_str_z(FZ_PEER), to,
			(int)sizeof(to));
	FZ_ASSERT(n > 0);
	r = res->req;
	r.to[0] = cm_str_z(to);
	r.nto = 1;
	r.transaction_id = cm_str_z("tx-1");
	cm_buf_init(&b);
	if (mm4_write_forward_req(&b, &r) == 0) {
		FZ_ASSERT(cm_buf_take(&b, &mail) == 0);
		check_mail(res, to, mail);
		cm_free(mail.s);
	} else {
		/* only a payload the writer cannot carry may fail here */
		FZ_ASSERT(mm4_check_content(r.content_type,
						r.content_transfer_encoding, r.body) < 0);
		cm_buf_free(&b);
	}
	free(res);
}

static void check_dates(cm_str v)
{
	time_t t, t2;
	char buf[64];
	struct tm tm;
	int n;

	if (rfcdate_parse_iso8601(v, &t) == 0 && gmtime_r(&t, &tm)
			&& tm.tm_year >= 1000 - 1900 && tm.tm_year <= 9999 - 1900) {
		n = rfcdate_format_iso8601(t, buf);
		FZ_ASSERT(n == 20);
		FZ_ASSERT(rfcdate_parse_iso8601(cm_str_z(buf), &t2) == 0 && t2 == t);
	}
	if (rfcdate_parse_rfc5322(v, &t) == 0 && gmtime_r(&t, &tm)
			&& tm.tm_year >= 1000 - 1900 && tm.tm_year <= 9999 - 1900) {
		n = mm4_format_date(t, buf);
		FZ_ASSERT(n > 0 && n < 32);
		FZ_ASSERT(rfcdate_parse_rfc5322(cm_str_z(buf), &t2) == 0 && t2 == t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_str f[FZ_NFIELDS];
	map_sip_status st;
	cm_str p;
	int nf, i;

	if (size > 65536)
		return 0;
	nf = fz_split(data, size, FZ_SEP, f, FZ_NFIELDS);
	/* each field in its own exact-size buffer, so ASan sees a read past
	 * one (it would land in the next field otherwise) */
	for (i = 0; i < nf; i++)
		f[i].s = fz_dup((const uint8_t *)f[i].s, (size_t)f[i].len, 0);
	check_map(f, nf);

	for (i = 0; i < nf; i++) {
		check_dates(f[i]);
		map_res_status_to_sip(f[i], nf > i + 1 ? f[i + 1] : f[i], &st);
		FZ_ASSERT(st.code >= 200 && st.code <= 599 && st.reason != NULL);
		p = map_priority_cpm_to_mm4(f[i]);
		FZ_ASSERT(p.len == 0 || cm_str_ieqz(p, "Low")
				|| cm_str_ieqz(p, "Normal") || cm_str_ieqz(p, "High"));
		(void)map_sender_hidden(f[i], nf > i + 1 ? f[i + 1] : f[i]);
	}
	for (i = 0; i < nf; i++)
		free(f[i].s);
	return 0;
}
