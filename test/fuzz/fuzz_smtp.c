/*
 * cpm_mms - libFuzzer harness of smtp_server.c: one SMTP session fed the
 * input in chunks of varying size.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input: 4 bytes of set-up, then what the client sends.
 *   byte 0: bit 0 small limits, bit 1 failing allocator (bits 3-7 = how
 *           many allocations succeed first), bit 2 idle timeout at the end
 *   bytes 1-3: chunking (bits 0-1 of byte 1: max chunk 1/16/512/all;
 *           all three seed the generator of the chunk sizes)
 * Callbacks accept or refuse from a hash of what they are given, with
 * reply texts that are empty, long, multi-line or carry their own
 * enhanced status code. Checked after every feed: the pending input stays
 * below one line, the mail data below the size limit, and the replies are
 * well-formed lines whose volume is bounded by the lines fed. */
#include "fuzz_common.h"
#include "smtp_server.h"
#include "mm4.h"

/* allocator that fails after a budget; reset on every input */
static int fz_budget = -1;

static void *fz_malloc(size_t n)
{
	if (fz_budget == 0)
		return NULL;
	if (fz_budget > 0)
		fz_budget--;
	return malloc(n);
}

static void *fz_realloc(void *p, size_t n)
{
	if (fz_budget == 0)
		return NULL;
	if (fz_budget > 0)
		fz_budget--;
	return realloc(p, n);
}

typedef struct fz_ctx {
	const smtpd_session *s;
	int messages;
} fz_ctx;

static FZ_NOCOV unsigned fz_hash(const char *s, int n)
{
	unsigned h = 2166136261u;
	int i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static int fz_verdict(unsigned h, char *text, int textsize)
{
	static const int codes[] = {250, 250, 250, 251, 550, 451, 553, 552, 554,
		199, 354, 700, -1, 0};
	static const char *const texts[] = {"", "", "5.1.1 no such user",
		"2.1.0 fine", "a\r\nb\x01 c\x7f", "   padded   ", "9.9.9 odd",
		"4.7.1", "5.1", "ok 2.0.0"};
	int ti = (int)((h >> 8) % (sizeof(texts) / sizeof(texts[0])));

	FZ_ASSERT(text != NULL && textsize > 1);
	FZ_ASSERT(text[0] == '\0');
	if ((h >> 16) % 7 == 0) {
		/* fill the whole buffer, no terminating NUL */
		memset(text, 'x', (size_t)textsize);
	} else {
		snprintf(text, (size_t)textsize, "%s", texts[ti]);
	}
	return codes[h % (sizeof(codes) / sizeof(codes[0]))];
}

static void check_path(cm_str p)
{
	int i;

	FZ_ASSERT(p.len >= 0 && p.len <= 256);
	FZ_ASSERT(p.len == 0 || p.s != NULL);
	for (i = 0; i < p.len; i++)
		FZ_ASSERT(p.s[i] > ' ' && p.s[i] < 0x7f && p.s[i] != '<'
				&& p.s[i] != '>');
}

static int on_mail(void *ctx, cm_str path, char *text, int textsize)
{
	fz_ctx *c = ctx;

	FZ_ASSERT(c->s->state == SMTPD_S_READY);
	check_path(path);
	return fz_verdict(fz_hash(path.s, path.len), text, textsize);
}

static int on_rcpt(void *ctx, cm_str path, char *text, int textsize)
{
	fz_ctx *c = ctx;

	FZ_ASSERT(c->s->state == SMTPD_S_MAIL || c->s->state == SMTPD_S_RCPT);
	FZ_ASSERT(path.len > 0);
	check_path(path);
	return fz_verdict(fz_hash(path.s, path.len) * 31u, text, textsize);
}

static int on_message(void *ctx, cm_str rp, cm_str *rcpts, int nrcpt,
		char *data, int len, char *text, int textsize)
{
	fz_ctx *c = ctx;
	mm4_msg m;
	int i, j;

	FZ_ASSERT(c->s->state == SMTPD_S_DATA);
	check_path(rp);
	FZ_ASSERT(nrcpt >= 1 && nrcpt <= c->s->lim.max_rcpt);
	for (i = 0; i < nrcpt; i++) {
		FZ_ASSERT(rcpts[i].len > 0);
		check_path(rcpts[i]);
		for (j = 0; j < i; j++)
			FZ_ASSERT(!cm_str_eq(rcpts[i], rcpts[j]));
	}
	FZ_ASSERT(data != NULL);
	FZ_ASSERT(len >= 0 && len <= c->s->lim.max_msg_size);
	/* every line ends in CRLF (a CR inside a line is data) */
	for (i = 0; i < len; i++)
		if (data[i] == '\n')
			FZ_ASSERT(i > 0 && data[i - 1] == '\r');
	FZ_ASSERT(len == 0 || (len >= 2 && data[len - 1] == '\n'));
	c->messages++;
	/* what the MM4 listener does next; the buffer is ours to modify */
	mm4_parse(data, len, &m);
	return fz_verdict(fz_hash(data, len) * 7u, text, textsize);
}

/* the replies of one feed: whole CRLF lines "ddd[ -]text", printable, no
 * longer than RFC 5321's 512 octets; a bounded amount per line fed */
static FZ_NOCOV void check_out(const cm_buf *out, int lines_fed)
{
	int i, start = 0;

	if (out->failed)
		return;
	FZ_ASSERT(out->len <= 1024 * (lines_fed + 1));
	FZ_ASSERT(fz_crlf_only(out->s, out->len));
	FZ_ASSERT(out->len == 0 || out->s[out->len - 1] == '\n');
	for (i = 0; i < out->len; i++) {
		if (out->s[i] == '\r') {
			FZ_ASSERT(i - start >= 3 && i - start + 2 <= 512);
			FZ_ASSERT(out->s[start] >= '2' && out->s[start] <= '5');
			FZ_ASSERT(out->s[start + 1] >= '0' && out->s[start + 1] <= '9');
			FZ_ASSERT(out->s[start + 2] >= '0' && out->s[start + 2] <= '9');
			FZ_ASSERT(i - start == 3 || out->s[start + 3] == ' '
					|| out->s[start + 3] == '-');
			start = i + 2;
			i++;
			continue;
		}
		FZ_ASSERT(out->s[i] >= ' ' && out->s[i] < 0x7f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	smtpd_session s;
	smtpd_limits lim;
	smtpd_callbacks cb = {on_mail, on_rcpt, on_message};
	fz_ctx ctx;
	cm_buf out;
	unsigned rnd;
	size_t pos, n, maxchunk, i;
	int rc = SMTPD_CONTINUE, lines, limit;
	const uint8_t *p;

	if (size < 4 || size > FZ_MAX_INPUT)
		return 0;
	smtpd_limits_default(&lim);
	lim.max_msg_size = 65536;
	if (data[0] & 1) {
		lim.max_line = 64;
		lim.max_data_line = 80;
		lim.max_msg_size = 1024;
		lim.max_rcpt = 3;
		lim.max_cmds = 40;
		lim.max_errors = 3;
	}
	switch (data[1] & 3) {
	case 0:
		maxchunk = 1;
		break;
	case 1:
		maxchunk = 16;
		break;
	case 2:
		maxchunk = 512;
		break;
	default:
		maxchunk = size;
		break;
	}
	rnd = ((unsigned)data[1] << 16 | (unsigned)data[2] << 8 | data[3]) | 1u;
	if (data[0] & 2) {
		fz_budget = data[0] >> 3;
		cm_mem_set(fz_malloc, fz_realloc, free);
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.s = &s;
	cm_buf_init(&out);
	smtpd_init(&s, &lim, &cb, &ctx, "mms.iwf.example");
	smtpd_greeting(&s, &out);
	check_out(&out, 0);
	out.len = 0;

	p = data + 4;
	size -= 4;
	for (pos = 0; pos < size && rc == SMTPD_CONTINUE; pos += n) {
		/* xorshift32 */
		rnd ^= rnd << 13;
		rnd ^= rnd >> 17;
		rnd ^= rnd << 5;
		n = 1 + rnd % maxchunk;
		if (n > size - pos)
			n = size - pos;
		for (lines = 0, i = 0; i < n; i++)
			lines += p[pos + i] == '\n';
		rc = smtpd_feed(&s, (const char *)p + pos, (int)n, &out);
		FZ_ASSERT(rc == SMTPD_CONTINUE || rc == SMTPD_CLOSE);
		FZ_ASSERT((rc == SMTPD_CLOSE) == (s.state == SMTPD_S_CLOSED));
		/* pending input never reaches a whole line of the limit */
		limit = s.lim.max_line > s.lim.max_data_line ? s.lim.max_line
													 : s.lim.max_data_line;
		FZ_ASSERT(s.in.len >= 0 && s.in.len < limit);
		FZ_ASSERT(s.data.len >= 0 && s.data.len <= s.lim.max_msg_size);
		FZ_ASSERT(s.nrcpt >= 0 && s.nrcpt <= s.lim.max_rcpt);
		FZ_ASSERT(s.ncmds <= s.lim.max_cmds + 1);
		check_out(&out, lines);
		/* "sent": reuse the buffer, or start over after a failure */
		if (out.failed)
			cm_buf_free(&out);
		out.len = 0;
	}
	if (data[0] & 4) {
		smtpd_timeout(&s, &out);
		FZ_ASSERT(s.state == SMTPD_S_CLOSED);
		check_out(&out, 0);
	}
	/* a closed session ignores further input */
	if (rc == SMTPD_CLOSE) {
		out.len = 0;
		FZ_ASSERT(smtpd_feed(&s, "NOOP\r\n", 6, &out) == SMTPD_CLOSE);
		FZ_ASSERT(out.len == 0);
	}
	smtpd_free(&s);
	smtpd_free(&s);
	cm_buf_free(&out);
	if (data[0] & 2) {
		cm_mem_set(malloc, realloc, free);
		fz_budget = -1;
	}
	return 0;
}
