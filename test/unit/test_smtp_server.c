/*
 * cpm_mms - unit tests of the SMTP server state machine.
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

#include "smtp_server.h"
#include "fail_alloc.h"

/* what the callbacks saw, and how they answer */
typedef struct tctx {
	int mail_code;
	const char *mail_text;
	int rcpt_code;
	const char *rcpt_text;
	const char *reject_rcpt; /* only this one is refused (NULL: all) */
	int msg_code;
	const char *msg_text;
	int nmail;
	int nrcpt;
	int nmsg;
	cm_buf log;
} tctx;

typedef struct tsess {
	smtpd_session s;
	tctx t;
	cm_buf out;
	int rc;
} tsess;

static int t_on_mail(void *ctx, cm_str rp, char *text, int size)
{
	tctx *t = ctx;

	t->nmail++;
	cm_buf_printf(&t->log, "MAIL <%.*s>\n", rp.len, rp.s);
	if (t->mail_text)
		snprintf(text, size, "%s", t->mail_text);
	return t->mail_code ? t->mail_code : 250;
}

static int t_on_rcpt(void *ctx, cm_str fp, char *text, int size)
{
	tctx *t = ctx;

	t->nrcpt++;
	cm_buf_printf(&t->log, "RCPT <%.*s>\n", fp.len, fp.s);
	if (!t->rcpt_code)
		return 250;
	if (t->reject_rcpt && !cm_str_eq(fp, cm_str_z(t->reject_rcpt)))
		return 250;
	if (t->rcpt_text)
		snprintf(text, size, "%s", t->rcpt_text);
	return t->rcpt_code;
}

static int t_on_message(void *ctx, cm_str rp, cm_str *rcpts, int nrcpt,
		char *data, int len, char *text, int size)
{
	tctx *t = ctx;
	int i;

	t->nmsg++;
	assert_non_null(data);
	assert_non_null(rp.s);
	if (len > 0)
		data[0] = data[0]; /* writable */
	cm_buf_printf(&t->log, "MSG <%.*s>", rp.len, rp.s);
	for (i = 0; i < nrcpt; i++)
		cm_buf_printf(&t->log, " <%.*s>", rcpts[i].len, rcpts[i].s);
	cm_buf_printf(&t->log, " %d\n", len);
	cm_buf_add(&t->log, data, len);
	cm_buf_adds(&t->log, "END\n");
	if (t->msg_text)
		snprintf(text, size, "%s", t->msg_text);
	return t->msg_code ? t->msg_code : 250;
}

static const smtpd_callbacks t_cb = {
	t_on_mail, t_on_rcpt, t_on_message
};

static void ts_init(tsess *x, const smtpd_limits *lim)
{
	memset(x, 0, sizeof(*x));
	cm_buf_init(&x->t.log);
	cm_buf_init(&x->out);
	smtpd_init(&x->s, lim, &t_cb, &x->t, "mms.test");
}

static void ts_free(tsess *x)
{
	smtpd_free(&x->s);
	cm_buf_free(&x->out);
	cm_buf_free(&x->t.log);
}

static int in_bound(const tsess *x)
{
	int m = x->s.lim.max_line;

	if (m < x->s.lim.max_data_line)
		m = x->s.lim.max_data_line;
	return x->s.in.len <= m + 2;
}

/* feed n bytes in pieces of 'chunk' (0: all at once) */
static int ts_feedn(tsess *x, const char *b, int n, int chunk)
{
	int k;

	if (chunk <= 0)
		chunk = n > 0 ? n : 1;
	x->rc = SMTPD_CONTINUE;
	if (n == 0)
		x->rc = smtpd_feed(&x->s, b, 0, &x->out);
	while (n > 0) {
		k = n < chunk ? n : chunk;
		x->rc = smtpd_feed(&x->s, b, k, &x->out);
		assert_true(in_bound(x));
		assert_true(x->s.data.len <= x->s.lim.max_msg_size);
		b += k;
		n -= k;
	}
	return x->rc;
}

static int ts_feed(tsess *x, const char *z)
{
	return ts_feedn(x, z, (int)strlen(z), 0);
}

/* output so far as a string, and forget it */
static const char *ts_take(tsess *x)
{
	static char last[65536];
	int n = x->out.len;

	assert_false(x->out.failed);
	assert_true(n < (int)sizeof(last));
	if (n)
		memcpy(last, x->out.s, n);
	last[n] = '\0';
	x->out.len = 0;
	return last;
}

static const char *ts_log(tsess *x)
{
	return x->t.log.s ? x->t.log.s : "";
}

#define EHLO_REPLY                   \
	"250-mms.test\r\n"               \
	"250-PIPELINING\r\n"             \
	"250-SIZE 1048576\r\n"           \
	"250-8BITMIME\r\n"               \
	"250-CHUNKING\r\n"               \
	"250 ENHANCEDSTATUSCODES\r\n"

#define MM4_FROM "+4712345678/TYPE=PLMN@mms.example.net"
#define MM4_TO "+4787654321/TYPE=PLMN@mms.test"

static const char *session_in =
		"EHLO mmsc.example.net\r\n"
		"MAIL FROM:<" MM4_FROM "> SIZE=120 BODY=8BITMIME\r\n"
		"RCPT TO:<" MM4_TO ">\r\n"
		"RCPT TO:<+4700000000/TYPE=PLMN@mms.test>\r\n"
		"DATA\r\n"
		"X-Mms-3GPP-MMS-Version: 6.10.0\r\n"
		"X-Mms-Message-Type: MM4_forward.REQ\r\n"
		"\r\n"
		"..hidden dot\r\n"
		"body\r\n"
		".\r\n"
		"QUIT\r\n";

static const char *session_out =
		"220 mms.test ESMTP cpm_mms\r\n" EHLO_REPLY
		"250 2.1.0 Ok\r\n"
		"250 2.1.5 Ok\r\n"
		"250 2.1.5 Ok\r\n"
		"354 End data with <CR><LF>.<CR><LF>\r\n"
		"250 2.0.0 Ok: queued\r\n"
		"221 2.0.0 Bye\r\n";

static const char *session_log =
		"MAIL <" MM4_FROM ">\n"
		"RCPT <" MM4_TO ">\n"
		"RCPT <+4700000000/TYPE=PLMN@mms.test>\n"
		"MSG <" MM4_FROM "> <" MM4_TO "> <+4700000000/TYPE=PLMN@mms.test> 90\n"
		"X-Mms-3GPP-MMS-Version: 6.10.0\r\n"
		"X-Mms-Message-Type: MM4_forward.REQ\r\n"
		"\r\n"
		".hidden dot\r\n"
		"body\r\n"
		"END\n";

/* ---- tests ---- */

static void test_limits_default(void **state)
{
	smtpd_limits l;

	smtpd_limits_default(&l);
	assert_int_equal(l.max_line, 512);
	assert_int_equal(l.max_data_line, 1000);
	assert_int_equal(l.max_msg_size, 1048576);
	assert_int_equal(l.max_rcpt, 100);
	assert_int_equal(l.max_cmds, 1000);
	assert_int_equal(l.max_junk, 100);
	assert_int_equal(l.max_errors, 10);
}

static void test_full_session(void **state)
{
	tsess x;
	const char *p = session_in;
	const char *e;

	ts_init(&x, NULL);
	smtpd_greeting(&x.s, &x.out);
	assert_int_equal(x.s.state, SMTPD_S_GREETING);
	/* one command per feed, as a non-pipelining client would */
	while (*p) {
		e = strchr(p, '\n') + 1;
		ts_feedn(&x, p, (int)(e - p), 0);
		p = e;
	}
	assert_int_equal(x.rc, SMTPD_CLOSE);
	assert_int_equal(x.s.state, SMTPD_S_CLOSED);
	assert_string_equal(ts_take(&x), session_out);
	assert_string_equal(ts_log(&x), session_log);
	assert_int_equal(x.s.messages, 1);
	assert_int_equal(x.s.nrcpt, 0);
	assert_null(x.s.reverse_path.s);
	ts_free(&x);
}

static void test_pipelined(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	smtpd_greeting(&x.s, &x.out);
	assert_int_equal(ts_feed(&x, session_in), SMTPD_CLOSE);
	assert_string_equal(ts_take(&x), session_out);
	assert_string_equal(ts_log(&x), session_log);
	ts_free(&x);
}

static void test_split_feeds(void **state)
{
	static const int chunks[] = { 1, 2, 3, 5, 7, 13, 64 };
	tsess x;
	int i;

	for (i = 0; i < (int)(sizeof(chunks) / sizeof(chunks[0])); i++) {
		ts_init(&x, NULL);
		smtpd_greeting(&x.s, &x.out);
		assert_int_equal(ts_feedn(&x, session_in, (int)strlen(session_in),
								 chunks[i]),
				SMTPD_CLOSE);
		assert_string_equal(ts_take(&x), session_out);
		assert_string_equal(ts_log(&x), session_log);
		ts_free(&x);
	}
}

static void test_after_close(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	/* QUIT ends processing even with more input in the same feed */
	assert_int_equal(ts_feed(&x, "EHLO a\r\nQUIT\r\nNOOP\r\nNOOP\r\n"),
			SMTPD_CLOSE);
	assert_string_equal(ts_take(&x), EHLO_REPLY "221 2.0.0 Bye\r\n");
	assert_int_equal(ts_feed(&x, "NOOP\r\n"), SMTPD_CLOSE);
	assert_string_equal(ts_take(&x), "");
	assert_int_equal(ts_feedn(&x, NULL, 0, 0), SMTPD_CLOSE);
	ts_free(&x);
}

static void test_two_messages(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "HELO a\r\n"
				"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\none\r\n.\r\n"
				"MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nRCPT TO:<e@y>\r\n"
				"DATA\r\ntwo\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			"250 mms.test\r\n"
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n"
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <b@y>\nMSG <a@x> <b@y> 5\none\r\nEND\n"
			"MAIL <c@x>\nRCPT <d@y>\nRCPT <e@y>\n"
			"MSG <c@x> <d@y> <e@y> 5\ntwo\r\nEND\n");
	assert_int_equal(x.s.messages, 2);
	assert_int_equal(x.s.state, SMTPD_S_READY);
	assert_int_equal(x.rc, SMTPD_CONTINUE);
	ts_free(&x);
}

static void test_dot_stuffing(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
				"..\r\n...\r\n..x\r\n.y\r\nz.\r\n. \r\n.\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <b@y>\nMSG <a@x> <b@y> 21\n"
			".\r\n..\r\n.x\r\ny\r\nz.\r\n \r\nEND\n");
	ts_free(&x);
}

static void test_empty_message(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n.\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <b@y>\nMSG <a@x> <b@y> 0\nEND\n");
	assert_int_equal(x.s.messages, 1);
	ts_free(&x);
}

static void test_bare_lf(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	/* bare LF ends commands and text lines; text is stored with CRLF */
	ts_feed(&x, "EHLO a\nMAIL FROM:<a@x>\nRCPT TO:<b@y>\r\nDATA\n"
				"l1\nl2\r\nl3\n\nl4\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
					   "354 End data with <CR><LF>.<CR><LF>\r\n"
					   "250 2.0.0 Ok: queued\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <b@y>\nMSG <a@x> <b@y> 18\n"
			"l1\r\nl2\r\nl3\r\n\r\nl4\r\nEND\n");
	ts_free(&x);
}

static void test_smuggling(void **state)
{
	tsess x;

	/* "<LF>.<CRLF>", ".<LF>" and "<CR>.<CRLF>" are text, not the end */
	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
				"a\n.\r\n"
				"MAIL FROM:<evil@x>\r\n"
				".\n"
				"b\r.\r\n"
				"RCPT TO:<evil@y>\r\n"
				".\r\n");
	assert_int_equal(x.t.nmsg, 1);
	assert_int_equal(x.t.nmail, 1);
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <b@y>\nMSG <a@x> <b@y> 52\n"
			"a\r\n.\r\nMAIL FROM:<evil@x>\r\n.\r\nb\r.\r\nRCPT TO:<evil@y>\r\n"
			"END\n");
	ts_free(&x);
}

static void test_callback_reject_mail(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	x.t.mail_code = 550;
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "550 5.1.0 Sender rejected\r\n"
					   "503 5.5.1 Bad sequence of commands: need MAIL first\r\n");
	x.t.mail_code = 451;
	x.t.mail_text = "4.7.1 Try later";
	ts_feed(&x, "MAIL FROM:<a@x>\r\n");
	assert_string_equal(ts_take(&x), "451 4.7.1 Try later\r\n");
	/* an enhanced code of the wrong class is brought in line */
	x.t.mail_text = "5.7.1 Try later";
	ts_feed(&x, "MAIL FROM:<a@x>\r\n");
	assert_string_equal(ts_take(&x), "451 4.7.1 Try later\r\n");
	/* text without an enhanced code gets one; CR/LF cannot split it */
	x.t.mail_code = 553;
	x.t.mail_text = "  not\r\n250 you ";
	ts_feed(&x, "MAIL FROM:<a@x>\r\n");
	assert_string_equal(ts_take(&x), "553 5.1.0 not  250 you\r\n");
	/* nonsense codes are a local error */
	x.t.mail_code = 354;
	ts_feed(&x, "MAIL FROM:<a@x>\r\n");
	assert_string_equal(ts_take(&x), "451 4.3.0 Local error in processing\r\n");
	x.t.mail_code = -1;
	ts_feed(&x, "MAIL FROM:<a@x>\r\n");
	assert_string_equal(ts_take(&x), "451 4.3.0 Local error in processing\r\n");
	/* accept with a text */
	x.t.mail_code = 250;
	x.t.mail_text = "Sender fine";
	ts_feed(&x, "MAIL FROM:<a@x>\r\n");
	assert_string_equal(ts_take(&x), "250 2.1.0 Sender fine\r\n");
	assert_int_equal(x.s.state, SMTPD_S_MAIL);
	assert_int_equal(x.s.nerrors, 0);
	ts_free(&x);
}

static void test_callback_reject_rcpt(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	x.t.rcpt_code = 550;
	x.t.reject_rcpt = "bad@y";
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bad@y>\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "250 2.1.0 Ok\r\n550 5.1.1 Recipient rejected\r\n");
	/* all refused: DATA says so */
	ts_feed(&x, "DATA\r\n");
	assert_string_equal(ts_take(&x), "554 5.5.1 No valid recipients\r\n");
	x.t.rcpt_text = "5.1.2 Unknown network";
	x.t.rcpt_code = 553;
	ts_feed(&x, "RCPT TO:<bad@y>\r\nRCPT TO:<good@y>\r\nDATA\r\nhi\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			"553 5.1.2 Unknown network\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <bad@y>\nRCPT <bad@y>\nRCPT <good@y>\n"
			"MSG <a@x> <good@y> 4\nhi\r\nEND\n");
	ts_free(&x);
}

static void test_callback_reject_data(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	x.t.msg_code = 554;
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
				"hi\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
					   "354 End data with <CR><LF>.<CR><LF>\r\n"
					   "554 5.6.0 Message rejected\r\n");
	assert_int_equal(x.s.messages, 0);
	assert_int_equal(x.s.state, SMTPD_S_READY);
	/* transaction was reset: RCPT needs a new MAIL */
	ts_feed(&x, "RCPT TO:<b@y>\r\n");
	assert_string_equal(ts_take(&x),
			"503 5.5.1 Bad sequence of commands: need MAIL first\r\n");
	x.t.msg_code = 451;
	x.t.msg_text = "4.3.0 Queue full";
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nhi\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n"
			"451 4.3.0 Queue full\r\n");
	x.t.msg_code = 250;
	x.t.msg_text = "2.0.0 Ok: queued as 42";
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nhi\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n"
			"250 2.0.0 Ok: queued as 42\r\n");
	assert_int_equal(x.s.messages, 1);
	ts_free(&x);
}

static void test_no_callbacks(void **state)
{
	smtpd_session s;
	cm_buf out;
	const char *in = "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
					 "hi\r\n.\r\nQUIT\r\n";

	cm_buf_init(&out);
	smtpd_init(&s, NULL, NULL, NULL, NULL);
	smtpd_greeting(&s, &out);
	assert_int_equal(smtpd_feed(&s, in, (int)strlen(in), &out), SMTPD_CLOSE);
	assert_string_equal(out.s,
			"220 localhost ESMTP cpm_mms\r\n"
			"250-localhost\r\n250-PIPELINING\r\n250-SIZE 1048576\r\n"
			"250-8BITMIME\r\n250-CHUNKING\r\n250 ENHANCEDSTATUSCODES\r\n"
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n"
			"250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n");
	assert_int_equal(s.messages, 1);
	smtpd_free(&s);
	cm_buf_free(&out);
}

static void test_sequence_errors(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	assert_string_equal(ts_take(&x),
			"503 5.5.1 Bad sequence of commands: send EHLO/HELO first\r\n"
			"503 5.5.1 Bad sequence of commands: send EHLO/HELO first\r\n"
			"503 5.5.1 Bad sequence of commands\r\n");
	ts_feed(&x, "EHLO a\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "503 5.5.1 Bad sequence of commands: need MAIL first\r\n"
					   "503 5.5.1 Bad sequence of commands\r\n");
	/* MAIL, then DATA without RCPT; nested MAIL */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nDATA\r\nMAIL FROM:<a@x>\r\n");
	assert_string_equal(ts_take(&x),
			"250 2.1.0 Ok\r\n503 5.5.1 Bad sequence of commands\r\n"
			"503 5.5.1 Bad sequence of commands\r\n");
	assert_int_equal(x.s.state, SMTPD_S_MAIL);
	/* DATA takes no argument */
	ts_feed(&x, "RCPT TO:<b@y>\r\nDATA now\r\n");
	assert_string_equal(ts_take(&x), "250 2.1.5 Ok\r\n501 5.5.4 Syntax: DATA\r\n");
	assert_int_equal(x.s.state, SMTPD_S_RCPT);
	ts_free(&x);
}

static void test_syntax_errors(void **state)
{
	tsess x;
	smtpd_limits l;

	smtpd_limits_default(&l);
	l.max_errors = 100;
	ts_init(&x, &l);
	ts_feed(&x, "EHLO\r\nHELO \r\nEHLO a\r\n"
				"MAIL\r\nMAIL TO:<a@x>\r\nMAIL FROM:\r\nMAIL FROM:<a@x\r\n"
				"MAIL FROM:<a@x>junk\r\nMAIL FROM:<>x\r\n"
				"MAIL FROM:<a b@x>\r\nMAIL FROM:<a\x01@x>\r\n"
				"MAIL FROM:<a\xc3\xa9@x>\r\nMAIL FROM:<@a,@b>\r\n"
				"MAIL FROM:<a<b@x>\r\n");
	assert_string_equal(ts_take(&x),
			"501 5.5.4 Syntax: EHLO hostname\r\n"
			"501 5.5.4 Syntax: HELO hostname\r\n" EHLO_REPLY
			"501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
			"501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
			"501 5.1.7 Bad sender address syntax\r\n"
			"501 5.1.7 Bad sender address syntax\r\n"
			"501 5.1.7 Bad sender address syntax\r\n"
			"501 5.1.7 Bad sender address syntax\r\n"
			"501 5.1.7 Bad sender address syntax\r\n"
			"501 5.1.7 Bad sender address syntax\r\n"
			"501 5.1.7 Bad sender address syntax\r\n"
			"501 5.1.7 Bad sender address syntax\r\n"
			"501 5.1.7 Bad sender address syntax\r\n");
	assert_int_equal(x.t.nmail, 0);
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<>\r\nRCPT\r\nRCPT FROM:<b@y>\r\n"
				"RCPT TO:<b@y> NOTIFY=NEVER\r\nRCPT TO:<b y>\r\n"
				"RCPT TO:<@a,@b:>\r\n");
	assert_string_equal(ts_take(&x),
			"250 2.1.0 Ok\r\n"
			"501 5.1.3 Bad recipient address syntax\r\n"
			"501 5.5.4 Syntax: RCPT TO:<address>\r\n"
			"501 5.5.4 Syntax: RCPT TO:<address>\r\n"
			"555 5.5.4 Unsupported parameter\r\n"
			"501 5.1.3 Bad recipient address syntax\r\n"
			"501 5.1.3 Bad recipient address syntax\r\n");
	assert_int_equal(x.t.nrcpt, 0);
	ts_free(&x);
}

static void test_path_forms(void **state)
{
	tsess x;
	char cmd[600];
	char path[300];

	ts_init(&x, NULL);
	/* "FROM: <x>" (space), case, source route, bare path, MM4 address */
	ts_feed(&x, "ehlo a\r\nmail from: <" MM4_FROM ">\r\n"
				"rcpt to:<@relay.a,@relay.b:" MM4_TO ">\r\n"
				"Rcpt To:  postmaster\r\n"
				"RCPT TO:<\"quoted\"@y>\r\n"
				"data\r\nx\r\n.\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <" MM4_FROM ">\n"
			"RCPT <" MM4_TO ">\n"
			"RCPT <postmaster>\n"
			"RCPT <\"quoted\"@y>\n"
			"MSG <" MM4_FROM "> <" MM4_TO "> <postmaster> <\"quoted\"@y> 3\n"
			"x\r\nEND\n");
	ts_take(&x);
	/* 256 octets are fine, 257 are not */
	memset(path, 'a', 256);
	memcpy(path + 250, "@x.net", 6);
	path[256] = '\0';
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", path);
	ts_feed(&x, cmd);
	assert_string_equal(ts_take(&x), "250 2.1.0 Ok\r\n");
	memset(path, 'a', 257);
	memcpy(path + 251, "@x.net", 6);
	path[257] = '\0';
	snprintf(cmd, sizeof(cmd), "RSET\r\nMAIL FROM:<%s>\r\n", path);
	ts_feed(&x, cmd);
	assert_string_equal(ts_take(&x),
			"250 2.0.0 Ok\r\n501 5.1.7 Bad sender address syntax\r\n");
	ts_free(&x);
}

static void test_null_reverse_path(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<> BODY=7BIT\r\nRCPT TO:<b@y>\r\n"
				"DATA\r\nreport\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
					   "354 End data with <CR><LF>.<CR><LF>\r\n"
					   "250 2.0.0 Ok: queued\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <>\nRCPT <b@y>\nMSG <> <b@y> 8\nreport\r\nEND\n");
	ts_feed(&x, "MAIL FROM: <>\r\n");
	assert_string_equal(ts_take(&x), "250 2.1.0 Ok\r\n");
	assert_non_null(x.s.reverse_path.s);
	assert_int_equal(x.s.reverse_path.len, 0);
	ts_free(&x);
}

static void test_duplicate_rcpt(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
				"RCPT TO:<b@y>\r\nDATA\r\n.\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <b@y>\nMSG <a@x> <b@y> 0\nEND\n");
	ts_free(&x);
}

static void test_size_at_mail(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\n"
				"MAIL FROM:<a@x> SIZE=1048577\r\n"
				"MAIL FROM:<a@x> SIZE=99999999999999999999\r\n"
				"MAIL FROM:<a@x> SIZE=\r\n"
				"MAIL FROM:<a@x> SIZE=12k\r\n"
				"MAIL FROM:<a@x> BODY=BINARYMIME\r\n"
				"MAIL FROM:<a@x> AUTH=<>\r\n"
				"MAIL FROM:<a@x> SIZE\r\n"
				"MAIL FROM:<a@x> SMTPUTF8\r\n"
				"MAIL FROM:<a@x> size=1048576 body=8bitmime\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "552 5.3.4 Message size exceeds fixed limit\r\n"
					   "552 5.3.4 Message size exceeds fixed limit\r\n"
					   "501 5.5.4 Syntax error in parameters\r\n"
					   "501 5.5.4 Syntax error in parameters\r\n"
					   "501 5.5.4 Syntax error in parameters\r\n"
					   "555 5.5.4 Unsupported parameter\r\n"
					   "501 5.5.4 Syntax error in parameters\r\n"
					   "555 5.5.4 Unsupported parameter\r\n"
					   "250 2.1.0 Ok\r\n");
	assert_int_equal(x.t.nmail, 1);
	ts_free(&x);
}

static void test_size_in_data(void **state)
{
	tsess x;
	smtpd_limits l;
	int i;

	smtpd_limits_default(&l);
	l.max_msg_size = 100;
	ts_init(&x, &l);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	ts_take(&x);
	for (i = 0; i < 50; i++) {
		ts_feed(&x, "0123456789012345678901234567890123456789\r\n");
		assert_true(x.s.data.len <= 100);
	}
	ts_feed(&x, ".\r\n");
	assert_string_equal(ts_take(&x),
			"552 5.3.4 Message size exceeds fixed limit\r\n");
	assert_int_equal(x.t.nmsg, 0);
	assert_int_equal(x.s.state, SMTPD_S_READY);
	/* exactly at the limit: 98 bytes + CRLF = 100 */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	for (i = 0; i < 98; i++)
		ts_feed(&x, "x");
	ts_feed(&x, "\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n");
	assert_int_equal(x.t.nmsg, 1);
	ts_free(&x);
}

static void test_long_command_line(void **state)
{
	tsess x;
	char line[2000];

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\n");
	ts_take(&x);
	/* 512 with CRLF is the limit */
	memset(line, 'x', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + 510, "\r\n", 2);
	ts_feedn(&x, line, 512, 0);
	assert_string_equal(ts_take(&x), "250 2.0.0 Ok\r\n");
	ts_feedn(&x, line, 512, 1);
	assert_string_equal(ts_take(&x), "250 2.0.0 Ok\r\n");
	/* 513: refused, the whole line is dropped, not run as commands */
	memcpy(line + 200, "\r", 1);
	memcpy(line + 300, "QUIT", 4);
	memcpy(line + 511, "\r\n", 2);
	ts_feedn(&x, line, 513, 0);
	assert_string_equal(ts_take(&x), "500 5.5.2 Line too long\r\n");
	ts_feedn(&x, line, 513, 1);
	assert_string_equal(ts_take(&x), "500 5.5.2 Line too long\r\n");
	ts_feedn(&x, line, 513, 100);
	assert_string_equal(ts_take(&x), "500 5.5.2 Line too long\r\n");
	/* a long line with more commands behind it in the same feed */
	memcpy(line + 511, "xx", 2);
	memcpy(line + 1500, "\r\nNOOP\r\n", 8);
	ts_feedn(&x, line, 1508, 0);
	assert_string_equal(ts_take(&x),
			"500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(x.s.state, SMTPD_S_READY);
	assert_int_equal(x.rc, SMTPD_CONTINUE);
	ts_free(&x);
}

static void test_long_data_line(void **state)
{
	tsess x;
	char line[1200];

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	ts_take(&x);
	/* 1000 with CRLF is fine */
	memset(line, 'd', sizeof(line));
	memcpy(line + 998, "\r\n", 2);
	ts_feedn(&x, line, 1000, 7);
	ts_feed(&x, ".\r\n");
	assert_string_equal(ts_take(&x), "250 2.0.0 Ok: queued\r\n");
	assert_int_equal(x.t.nmsg, 1);
	/* 1001: read on to the end, then refuse; a "." hidden in the long
	 * line does not end the data */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	ts_take(&x);
	memcpy(line + 500, "\r.\r", 3);
	memcpy(line + 999, "\r\n", 2);
	ts_feedn(&x, line, 1001, 0);
	ts_feed(&x, "more\r\n");
	assert_string_equal(ts_take(&x), "");
	ts_feed(&x, ".\r\nNOOP\r\n");
	assert_string_equal(ts_take(&x),
			"500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(x.t.nmsg, 1);
	ts_free(&x);
}

static void test_long_data_line_lf_end(void **state)
{
	tsess x;
	char line[1100];

	/* a long line ending in bare LF, split so the LF comes alone: the
	 * "." after it must not end the data */
	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	ts_take(&x);
	memset(line, 'd', sizeof(line));
	ts_feedn(&x, line, 1050, 0);
	ts_feed(&x, "\n.\r\n");
	assert_string_equal(ts_take(&x), "");
	assert_int_equal(x.s.state, SMTPD_S_DATA);
	ts_feed(&x, ".\r\n");
	assert_string_equal(ts_take(&x), "500 5.5.2 Line too long\r\n");
	/* same with CR last in one feed and LF first in the next */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	ts_take(&x);
	line[1049] = '\r';
	ts_feedn(&x, line, 1050, 0);
	ts_feed(&x, "\n.\r\n");
	assert_string_equal(ts_take(&x), "500 5.5.2 Line too long\r\n");
	/* and with CR as the last byte kept in s->in before overflowing */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	ts_take(&x);
	line[998] = '\r';
	ts_feedn(&x, line, 999, 0);
	assert_int_equal(x.s.in.len, 999);
	ts_feed(&x, "\n.\r\n");
	assert_string_equal(ts_take(&x), "250 2.0.0 Ok: queued\r\n");
	ts_free(&x);
}

static void test_too_many_rcpt(void **state)
{
	tsess x;
	smtpd_limits l;

	smtpd_limits_default(&l);
	l.max_rcpt = 3;
	ts_init(&x, &l);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<1@y>\r\nRCPT TO:<2@y>\r\n"
				"RCPT TO:<3@y>\r\nRCPT TO:<4@y>\r\nRCPT TO:<5@y>\r\n"
				"DATA\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
					   "250 2.1.5 Ok\r\n452 4.5.3 Too many recipients\r\n"
					   "452 4.5.3 Too many recipients\r\n"
					   "354 End data with <CR><LF>.<CR><LF>\r\n"
					   "250 2.0.0 Ok: queued\r\n");
	assert_int_equal(x.t.nrcpt, 3);
	assert_int_equal(x.t.nmsg, 1);
	ts_free(&x);

	/* out-of-range limits are clamped */
	l.max_rcpt = 1000;
	ts_init(&x, &l);
	assert_int_equal(x.s.lim.max_rcpt, SMTPD_MAX_RCPT_LIMIT);
	ts_free(&x);
}

static void test_max_cmds(void **state)
{
	tsess x;
	smtpd_limits l;

	smtpd_limits_default(&l);
	l.max_cmds = 5;
	ts_init(&x, &l);
	/* data lines are not commands */
	assert_int_equal(ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
								 "DATA\r\n1\r\n2\r\n3\r\n4\r\n.\r\nNOOP\r\n"),
			SMTPD_CONTINUE);
	ts_take(&x);
	assert_int_equal(ts_feed(&x, "NOOP\r\nNOOP\r\n"), SMTPD_CLOSE);
	assert_string_equal(ts_take(&x), "421 4.7.0 mms.test Too many commands\r\n");
	assert_int_equal(x.s.state, SMTPD_S_CLOSED);
	ts_free(&x);
}

/* NOOP, VRFY, ETRN and RSET count until a mail is accepted (Postfix's
 * smtpd_junk_command_limit); a refused mail does not reset the count, and
 * the other commands are not junk */
static void test_max_junk(void **state)
{
	tsess x;
	smtpd_limits l;

	smtpd_limits_default(&l);
	l.max_junk = 3;
	ts_init(&x, &l);
	assert_int_equal(ts_feed(&x, "EHLO a\r\nNOOP\r\nRSET\r\nVRFY b\r\n"
								 "MAIL FROM:<" MM4_FROM ">\r\nRCPT TO:<" MM4_TO ">\r\n"
								 "DATA\r\nx\r\n.\r\nHELP\r\nEHLO a\r\n"),
			SMTPD_CONTINUE);
	assert_int_equal(x.t.nmsg, 1);
	ts_take(&x);
	/* three more after the accepted mail; a refused one resets nothing */
	x.t.msg_code = 554;
	assert_int_equal(ts_feed(&x, "NOOP\r\nRSET\r\n"
								 "MAIL FROM:<" MM4_FROM ">\r\nRCPT TO:<" MM4_TO ">\r\n"
								 "DATA\r\nx\r\n.\r\nNOOP\r\n"),
			SMTPD_CONTINUE);
	assert_int_equal(x.t.nmsg, 2);
	ts_take(&x);
	assert_int_equal(ts_feed(&x, "ETRN x\r\nNOOP\r\n"), SMTPD_CLOSE);
	assert_string_equal(ts_take(&x),
			"421 4.7.0 mms.test Too many junk commands\r\n");
	assert_int_equal(x.s.state, SMTPD_S_CLOSED);
	ts_free(&x);
}

static void test_max_errors(void **state)
{
	tsess x;
	smtpd_limits l;

	smtpd_limits_default(&l);
	l.max_errors = 3;
	ts_init(&x, &l);
	/* a good command resets the count */
	ts_feed(&x, "FOO\r\nBAR\r\nNOOP\r\nFOO\r\nEXPN x\r\n");
	assert_string_equal(ts_take(&x),
			"500 5.5.2 Command unrecognized\r\n"
			"500 5.5.2 Command unrecognized\r\n"
			"250 2.0.0 Ok\r\n"
			"500 5.5.2 Command unrecognized\r\n"
			"502 5.5.1 Command not implemented\r\n");
	assert_int_equal(x.rc, SMTPD_CONTINUE);
	assert_int_equal(ts_feed(&x, "\r\nNOOP\r\n"), SMTPD_CLOSE);
	assert_string_equal(ts_take(&x),
			"500 5.5.2 Command unrecognized\r\n"
			"421 4.7.0 mms.test Too many errors\r\n");
	ts_free(&x);
}

static void test_quit(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	/* QUIT is fine before EHLO and mid-transaction */
	assert_int_equal(ts_feed(&x, "quit\r\n"), SMTPD_CLOSE);
	assert_string_equal(ts_take(&x), "221 2.0.0 Bye\r\n");
	ts_free(&x);
	ts_init(&x, NULL);
	assert_int_equal(ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
								 "QUIT\r\n"),
			SMTPD_CLOSE);
	assert_int_equal(x.t.nmsg, 0);
	ts_free(&x);
}

static void test_rset(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "RSET\r\n");
	assert_string_equal(ts_take(&x), "250 2.0.0 Ok\r\n");
	assert_int_equal(x.s.state, SMTPD_S_GREETING);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRSET\r\n"
				"RCPT TO:<c@y>\r\nRSET x\r\nMAIL FROM:<d@x>\r\nRCPT TO:<e@y>\r\n"
				"DATA\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n"
					   "503 5.5.1 Bad sequence of commands: need MAIL first\r\n"
					   "501 5.5.4 Syntax: RSET\r\n"
					   "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
					   "354 End data with <CR><LF>.<CR><LF>\r\n"
					   "250 2.0.0 Ok: queued\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <b@y>\nMAIL <d@x>\nRCPT <e@y>\n"
			"MSG <d@x> <e@y> 0\nEND\n");
	ts_free(&x);
}

static void test_noop_vrfy_help(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "NOOP\r\nnoop hello\r\nVRFY postmaster\r\nVRFY\r\nHELP\r\n"
				"STARTTLS\r\nAUTH PLAIN\r\nXYZZY\r\n");
	assert_string_equal(ts_take(&x),
			"250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
			"252 2.0.0 Cannot VRFY user, but will accept message and attempt "
			"delivery\r\n"
			"501 5.5.4 Syntax: VRFY address\r\n"
			"214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY "
			"HELP\r\n"
			"502 5.5.1 Command not implemented\r\n"
			"502 5.5.1 Command not implemented\r\n"
			"500 5.5.2 Command unrecognized\r\n");
	assert_int_equal(x.s.state, SMTPD_S_GREETING);
	ts_free(&x);
}

static void test_helo_ehlo(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "HELO client.example\r\n");
	assert_string_equal(ts_take(&x), "250 mms.test\r\n");
	assert_int_equal(x.s.state, SMTPD_S_READY);
	/* EHLO in a transaction drops it */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nEhLo [192.0.2.1]\r\n"
				"RCPT TO:<c@y>\r\nHELO x\r\n");
	assert_string_equal(ts_take(&x),
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" EHLO_REPLY
			"503 5.5.1 Bad sequence of commands: need MAIL first\r\n"
			"250 mms.test\r\n");
	assert_int_equal(x.s.nrcpt, 0);
	assert_null(x.s.reverse_path.s);
	ts_free(&x);
}

static void test_nul_in_command(void **state)
{
	tsess x;
	static const char in[] = "EHLO a\r\nNO\0OP\r\nMAIL FROM:<a\0b@x>\r\n"
							 "\0\r\nNOOP\r\n";

	ts_init(&x, NULL);
	ts_feedn(&x, in, (int)sizeof(in) - 1, 0);
	assert_string_equal(ts_take(&x),
			EHLO_REPLY "500 5.5.2 Syntax error (NUL in command)\r\n"
					   "500 5.5.2 Syntax error (NUL in command)\r\n"
					   "500 5.5.2 Syntax error (NUL in command)\r\n"
					   "250 2.0.0 Ok\r\n");
	assert_int_equal(x.t.nmail, 0);
	ts_free(&x);
}

static void test_nul_in_data(void **state)
{
	tsess x;
	static const char in[] = "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
							 "DATA\r\na\0b\r\n.\r\n";

	ts_init(&x, NULL);
	ts_feedn(&x, in, (int)sizeof(in) - 1, 0);
	assert_int_equal(x.t.nmsg, 1);
	assert_int_equal(x.t.log.len,
			(int)strlen("MAIL <a@x>\nRCPT <b@y>\nMSG <a@x> <b@y> 5\n") + 5 + 4);
	ts_free(&x);
}

static void test_flood_no_crlf(void **state)
{
	tsess x;
	char *big;
	int n = 1 << 20;
	int i;

	big = malloc(n);
	assert_non_null(big);
	memset(big, 'A', n);
	ts_init(&x, NULL);
	for (i = 0; i < 4; i++) {
		ts_feedn(&x, big, n, i == 0 ? 0 : 4093 * i);
		assert_true(x.s.in.len < 512);
		assert_string_equal(ts_take(&x), "");
	}
	ts_feed(&x, "\r\nNOOP\r\n");
	assert_string_equal(ts_take(&x),
			"500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
	/* same in DATA */
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	ts_take(&x);
	for (i = 0; i < 4; i++) {
		ts_feedn(&x, big, n, i == 0 ? 0 : 4093 * i);
		assert_true(x.s.in.len < 1000);
		assert_true(x.s.data.len == 0);
	}
	ts_feed(&x, "\r\n.\r\n");
	assert_string_equal(ts_take(&x), "500 5.5.2 Line too long\r\n");
	/* a flood of short lines in DATA stops at max_msg_size */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	ts_take(&x);
	for (i = 0; i < n; i += 100)
		memcpy(big + i, "\r\n", 2);
	for (i = 0; i < 3; i++)
		ts_feedn(&x, big, n, 0);
	ts_feed(&x, "\r\n.\r\n");
	assert_string_equal(ts_take(&x),
			"552 5.3.4 Message size exceeds fixed limit\r\n");
	ts_free(&x);
	free(big);
}

/* small xorshift: same bytes on every run */
static uint32_t fz_state = 0x12345678u;

static uint32_t fz_rand(void)
{
	fz_state ^= fz_state << 13;
	fz_state ^= fz_state >> 17;
	fz_state ^= fz_state << 5;
	return fz_state;
}

/* append a fragment, or with some luck a mutation of it */
static int fz_add(char *buf, int n, int size, const char *frag, int flen)
{
	static const char *noise[] = { "\r\n", "\n", "\r", ".", "\r\n.\r\n",
		"\n.\n", ">", "<", " ", "QUIT\r\n", "RSET\r\n", "DATA\r\n" };
	int i;
	int len;
	int r = fz_rand() % 24;

	if (n >= size)
		return n;
	if (r == 0)
		return n; /* dropped */
	if (r == 1) {
		/* raw random bytes instead */
		len = 1 + fz_rand() % 40;
		for (i = 0; i < len && n < size; i++)
			buf[n++] = (char)(fz_rand() & 0xff);
		return n;
	}
	if (r == 2) {
		/* a piece of noise */
		frag = noise[fz_rand() % (sizeof(noise) / sizeof(noise[0]))];
		flen = (int)strlen(frag);
	}
	if (r == 3 && flen > 1) {
		/* one byte flipped */
		len = n + flen <= size ? flen : size - n;
		memcpy(buf + n, frag, len);
		buf[n + fz_rand() % len] = (char)(fz_rand() & 0xff);
		return n + len;
	}
	len = n + flen <= size ? flen : size - n;
	memcpy(buf + n, frag, len);
	return n + len;
}

/* a mostly sane transaction, mutated here and there */
static int fz_transaction(char *buf, int size, int k)
{
	static const char *data_script[] = { "EHLO a\r\n", "MAIL FROM:<a@x>\r\n",
		"RCPT TO:<b@y>\r\n", "RCPT TO:<@r:c@y>\r\n", "DATA\r\n",
		"line of text\r\n", "..dot\r\n", ".\r\n" };
	/* mutated, a chunk's size and its bytes disagree: the framing is lost
	 * and found again */
	static const char *bdat_script[] = { "EHLO a\r\n", "MAIL FROM:<a@x>\r\n",
		"RCPT TO:<b@y>\r\n", "RCPT TO:<@r:c@y>\r\n", "BDAT 14\r\n",
		"line of text\r\n", "BDAT 6 LAST\r\n", "..dot\n" };
	const char **script = fz_rand() % 3 ? data_script : bdat_script;
	int nscript = (int)(sizeof(data_script) / sizeof(data_script[0]));
	char big[1500];
	int n = 0;
	int i;
	int j;
	int len;

	for (i = 0; i < nscript; i++) {
		j = i == 5 ? (int)(fz_rand() % 6) : 1;
		while (j-- > 0)
			n = fz_add(buf, n, size, script[i], (int)strlen(script[i]));
		if (i == 5 && fz_rand() % 16 == 0) {
			/* a long line */
			len = 1 + fz_rand() % (int)sizeof(big);
			memset(big, 'a' + k, len);
			n = fz_add(buf, n, size, big, len);
		}
	}
	return n;
}

static void fz_limits(smtpd_limits *l)
{
	smtpd_limits_default(l);
	/* small limits reach the edge cases more often */
	l->max_line = 16 + fz_rand() % 600;
	l->max_data_line = 16 + fz_rand() % 1200;
	l->max_msg_size = 1 + fz_rand() % 2000;
	l->max_rcpt = 1 + fz_rand() % 5;
	l->max_cmds = 1 + fz_rand() % 400;
	l->max_errors = 1 + fz_rand() % 50;
}

static void fz_verdicts(tctx *t)
{
	t->mail_code = (fz_rand() % 8) ? 250 : 550;
	t->rcpt_code = (fz_rand() % 8) ? 0 : 450;
	t->msg_code = (fz_rand() % 4) ? 250 : (int)(fz_rand() % 1000) - 100;
}

static void test_fuzz(void **state)
{
	smtpd_limits l;
	tsess x;
	char buf[4000];
	int iter;
	int k;
	int n;
	int msgs = 0;
	int closed = 0;

	for (iter = 0; iter < 3000; iter++) {
		fz_limits(&l);
		ts_init(&x, &l);
		fz_verdicts(&x.t);
		smtpd_greeting(&x.s, &x.out);
		for (k = 0; k < 10 && x.rc != SMTPD_CLOSE; k++) {
			n = fz_transaction(buf, sizeof(buf), k);
			ts_feedn(&x, buf, n, 1 + fz_rand() % 64);
			assert_true(x.s.nrcpt <= x.s.lim.max_rcpt);
			if (x.out.len > 1 << 16)
				x.out.len = 0;
		}
		if (fz_rand() % 2)
			smtpd_timeout(&x.s, &x.out);
		msgs += x.t.nmsg;
		closed += x.s.state == SMTPD_S_CLOSED;
		ts_free(&x);
	}
	print_message("fuzz: %d messages, %d sessions closed\n", msgs, closed);
	/* the generator does reach the interesting states */
	assert_true(msgs > 1000);
}

/* however the bytes are cut, the replies and the mails are the same */
static void test_fuzz_split_equivalence(void **state)
{
	smtpd_limits l;
	tsess a;
	tsess b;
	char buf[4000 * 4];
	int iter;
	int k;
	int n;
	int pos;
	int len;
	uint32_t r;

	for (iter = 0; iter < 1000; iter++) {
		fz_limits(&l);
		ts_init(&a, &l);
		ts_init(&b, &l);
		fz_verdicts(&a.t);
		b.t.mail_code = a.t.mail_code;
		b.t.rcpt_code = a.t.rcpt_code;
		b.t.msg_code = a.t.msg_code;
		n = 0;
		for (k = 0; k < 4; k++)
			n += fz_transaction(buf + n, 4000, k);
		ts_feedn(&a, buf, n, 0);
		r = fz_rand();
		for (pos = 0; pos < n; pos += len) {
			/* byte by byte, or random cuts */
			len = (r & 1) ? 1 : 1 + (int)(fz_rand() % 97);
			if (len > n - pos)
				len = n - pos;
			ts_feedn(&b, buf + pos, len, 0);
		}
		assert_int_equal(a.rc, b.rc);
		assert_int_equal(a.s.state, b.s.state);
		assert_int_equal(a.out.len, b.out.len);
		assert_memory_equal(a.out.s, b.out.s, a.out.len);
		assert_int_equal(a.t.log.len, b.t.log.len);
		if (a.t.log.len)
			assert_memory_equal(a.t.log.s, b.t.log.s, a.t.log.len);
		ts_free(&a);
		ts_free(&b);
	}
}

static void test_timeout(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\npart");
	ts_take(&x);
	smtpd_timeout(&x.s, &x.out);
	assert_string_equal(ts_take(&x), "421 4.4.2 mms.test idle timeout\r\n");
	assert_int_equal(x.s.state, SMTPD_S_CLOSED);
	assert_int_equal(ts_feed(&x, "\r\n.\r\n"), SMTPD_CLOSE);
	assert_string_equal(ts_take(&x), "");
	assert_int_equal(x.t.nmsg, 0);
	smtpd_timeout(&x.s, &x.out);
	assert_string_equal(ts_take(&x), "");
	ts_free(&x);
}

static void test_free_idempotent(void **state)
{
	tsess x;

	/* freeing mid-transaction releases path, recipients, data, input */
	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n"
				"DATA\r\nsome data\r\npartial");
	assert_true(x.s.data.len > 0);
	assert_true(x.s.in.len > 0);
	smtpd_free(&x.s);
	smtpd_free(&x.s);
	assert_int_equal(x.s.nrcpt, 0);
	assert_null(x.s.reverse_path.s);
	assert_null(x.s.in.s);
	assert_null(x.s.data.s);
	assert_int_equal(smtpd_feed(&x.s, "NOOP\r\n", 6, &x.out), SMTPD_CLOSE);
	ts_free(&x);
}

static void test_bad_limits(void **state)
{
	tsess x;
	smtpd_limits l;

	/* zero or negative limits fall back to the defaults */
	memset(&l, 0, sizeof(l));
	l.max_line = -1;
	ts_init(&x, &l);
	assert_int_equal(x.s.lim.max_line, 512);
	assert_int_equal(x.s.lim.max_data_line, 1000);
	assert_int_equal(x.s.lim.max_msg_size, 1048576);
	assert_int_equal(x.s.lim.max_rcpt, 100);
	assert_int_equal(x.s.lim.max_cmds, 1000);
	assert_int_equal(x.s.lim.max_junk, 100);
	assert_int_equal(x.s.lim.max_errors, 10);
	ts_free(&x);
}


static void test_alloc_failure(void **state)
{
	tsess x;
	int budget;
	int i;
	int chunk;

	/* no memory for the reverse path / recipient / data: said so */
	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\n");
	ts_take(&x);
	cm_mem_set(fail_malloc, fail_realloc, free);
	fail_budget = 0;
	ts_feed(&x, "MAIL FROM:<a@x>\r\n");
	fail_budget = 1;
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
	fail_budget = 1;
	ts_feed(&x, "RCPT TO:<b@y>\r\nDATA\r\nhi\r\n.\r\n");
	cm_mem_set(malloc, realloc, free);
	assert_string_equal(ts_take(&x),
			"452 4.3.1 Insufficient system storage\r\n"
			"250 2.1.0 Ok\r\n452 4.3.1 Insufficient system storage\r\n"
			"250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
			"452 4.3.1 Insufficient system storage\r\n");
	assert_int_equal(x.t.nmsg, 0);
	ts_free(&x);

	for (budget = 0; budget < 16; budget++) {
		for (chunk = 0; chunk < 3; chunk++) {
			ts_init(&x, NULL);
			/* grow the test's own buffers first so the failures hit the
			 * session's allocations */
			for (i = 0; i < 64; i++) {
				cm_buf_adds(&x.out, "0123456789abcdef0123456789abcdef");
				cm_buf_adds(&x.t.log, "0123456789abcdef0123456789abcdef");
			}
			x.out.len = 0;
			x.t.log.len = 0;
			cm_mem_set(fail_malloc, fail_realloc, free);
			fail_budget = budget;
			smtpd_feed(&x.s, session_in, (int)strlen(session_in), &x.out);
			if (chunk) {
				/* again, split, from a fresh transaction */
				const char *p = session_in;
				int n = (int)strlen(p);

				smtpd_free(&x.s);
				smtpd_init(&x.s, NULL, &t_cb, &x.t, "mms.test");
				while (n > 0) {
					int k = n < chunk * 5 ? n : chunk * 5;

					smtpd_feed(&x.s, p, k, &x.out);
					p += k;
					n -= k;
				}
			}
			cm_mem_set(malloc, realloc, free);
			assert_true(x.s.nrcpt <= x.s.lim.max_rcpt);
			ts_free(&x);
		}
	}
}

/* ---- CHUNKING (RFC 3030) ---- */

static const char *bdat_in =
		"EHLO mmsc.example.net\r\n"
		"MAIL FROM:<" MM4_FROM "> BODY=8BITMIME\r\n"
		"RCPT TO:<" MM4_TO ">\r\n"
		"BDAT 36\r\n"
		"X-Mms-Message-Type: MM4_forward.REQ\r"
		"BDAT 12\r\n"
		"\n\r\n.no stuff"
		"BDAT 12 LAST\r\n"
		"\nbare lf\nend"
		"QUIT\r\n";

static void test_bdat(void **state)
{
	tsess x;
	int chunk;

	/* however it is cut; a chunk's bytes are never taken as commands */
	for (chunk = 0; chunk < 40; chunk += 1 + chunk / 4) {
		ts_init(&x, NULL);
		assert_int_equal(ts_feedn(&x, bdat_in, (int)strlen(bdat_in), chunk),
				SMTPD_CLOSE);
		assert_string_equal(ts_take(&x), EHLO_REPLY
				"250 2.1.0 Ok\r\n"
				"250 2.1.5 Ok\r\n"
				"250 2.0.0 36 octets received\r\n"
				"250 2.0.0 48 octets received\r\n"
				"250 2.0.0 Ok: queued\r\n"
				"221 2.0.0 Bye\r\n");
		/* CR + LF across chunks is one line end; bare LF -> CRLF; no
		 * dot-unstuffing; the unfinished last line gets its CRLF */
		assert_string_equal(ts_log(&x),
				"MAIL <" MM4_FROM ">\n"
				"RCPT <" MM4_TO ">\n"
				"MSG <" MM4_FROM "> <" MM4_TO "> 64\n"
				"X-Mms-Message-Type: MM4_forward.REQ\r\n"
				"\r\n"
				".no stuff\r\n"
				"bare lf\r\n"
				"end\r\n"
				"END\n");
		assert_int_equal(x.s.messages, 1);
		ts_free(&x);
	}
}

static void test_bdat_zero_and_two_mails(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
				"BDAT 0\r\nBDAT 3 LAST\r\nab\n"
				"MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nBDAT 0 last\r\n"
				"MAIL FROM:<e@x>\r\nRCPT TO:<f@y>\r\nDATA\r\nx\r\n.\r\n");
	assert_string_equal(ts_take(&x), EHLO_REPLY
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"250 2.0.0 0 octets received\r\n250 2.0.0 Ok: queued\r\n"
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued\r\n"
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n");
	assert_string_equal(ts_log(&x),
			"MAIL <a@x>\nRCPT <b@y>\nMSG <a@x> <b@y> 4\nab\r\nEND\n"
			"MAIL <c@x>\nRCPT <d@y>\nMSG <c@x> <d@y> 0\nEND\n"
			"MAIL <e@x>\nRCPT <f@y>\nMSG <e@x> <f@y> 3\nx\r\nEND\n");
	ts_free(&x);
}

static void test_bdat_sequence(void **state)
{
	tsess x;

	ts_init(&x, NULL);
	/* before EHLO, before MAIL, before RCPT: refused, but the bytes are
	 * read (they would be "RSET" and "QUIT" otherwise) */
	ts_feed(&x, "BDAT 6\r\nRSET\r\n"
				"EHLO a\r\nBDAT 6 LAST\r\nQUIT\r\n"
				"MAIL FROM:<a@x>\r\nBDAT 1\r\nQ");
	assert_string_equal(ts_take(&x),
			"503 5.5.1 Bad sequence of commands: send EHLO/HELO first\r\n"
			EHLO_REPLY
			"503 5.5.1 Bad sequence of commands: need MAIL and RCPT first\r\n"
			"250 2.1.0 Ok\r\n"
			"503 5.5.1 Bad sequence of commands: need MAIL and RCPT first\r\n");
	assert_int_equal(x.s.state, SMTPD_S_MAIL);
	/* every recipient refused: 554 */
	x.t.rcpt_code = 550;
	ts_feed(&x, "RCPT TO:<b@y>\r\nBDAT 2 LAST\r\nab");
	assert_string_equal(ts_take(&x), "550 5.1.1 Recipient rejected\r\n"
			"554 5.5.1 No valid recipients\r\n");
	/* once BDAT began: no RCPT, no DATA; RSET ends it */
	x.t.rcpt_code = 0;
	ts_feed(&x, "RCPT TO:<b@y>\r\nBDAT 2\r\nab"
				"RCPT TO:<c@y>\r\nDATA\r\nRSET\r\nBDAT 1 LAST\r\nz");
	assert_string_equal(ts_take(&x), "250 2.1.5 Ok\r\n"
			"250 2.0.0 2 octets received\r\n"
			"503 5.5.1 Bad sequence of commands: need MAIL first\r\n"
			"503 5.5.1 Bad sequence of commands\r\n"
			"250 2.0.0 Ok\r\n"
			"503 5.5.1 Bad sequence of commands: need MAIL and RCPT first\r\n");
	assert_int_equal(x.t.nmsg, 0);
	assert_int_equal(x.s.state, SMTPD_S_READY);
	ts_free(&x);
}

static void test_bdat_syntax(void **state)
{
	static const char *bad[] = { "BDAT\r\n", "BDAT x\r\n", "BDAT -1\r\n",
		"BDAT 12 FIRST\r\n", "BDAT 12LAST\r\n", "BDAT 1 LAST x\r\n",
		"BDAT 99999999999999999999999\r\n", NULL };
	tsess x;
	int i;

	for (i = 0; bad[i]; i++) {
		ts_init(&x, NULL);
		ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
		ts_take(&x);
		/* where the chunk would end is unknown: the session is over */
		assert_int_equal(ts_feed(&x, bad[i]), SMTPD_CLOSE);
		assert_string_equal(ts_take(&x),
				strstr(bad[i], "9999") ? "552 5.3.4 Message size exceeds fixed limit\r\n"
				: "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
		assert_int_equal(x.t.nmsg, 0);
		ts_free(&x);
	}
}

static void test_bdat_limits(void **state)
{
	tsess x;
	smtpd_limits l;
	char line[64];
	int i;

	smtpd_limits_default(&l);
	l.max_msg_size = 100;
	l.max_data_line = 20;
	ts_init(&x, &l);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
	ts_take(&x);
	/* one chunk larger than any mail may be: 552, closed unread */
	assert_int_equal(ts_feed(&x, "BDAT 101\r\n"), SMTPD_CLOSE);
	assert_string_equal(ts_take(&x),
			"552 5.3.4 Message size exceeds fixed limit\r\n");
	ts_free(&x);

	/* chunks that add up to more: read on, 552 at the chunk that went
	 * over, the transaction is over (later chunks 503) */
	ts_init(&x, &l);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
	ts_take(&x);
	for (i = 0; i < 6; i++)
		ts_feed(&x, "BDAT 18\r\n0123456789abcdef\r\n");
	ts_feed(&x, "BDAT 18 LAST\r\n0123456789abcdef\r\n");
	assert_string_equal(ts_take(&x),
			"250 2.0.0 18 octets received\r\n"
			"250 2.0.0 36 octets received\r\n"
			"250 2.0.0 54 octets received\r\n"
			"250 2.0.0 72 octets received\r\n"
			"250 2.0.0 90 octets received\r\n"
			"552 5.3.4 Message size exceeds fixed limit\r\n"
			"503 5.5.1 Bad sequence of commands: need MAIL and RCPT first\r\n");
	assert_int_equal(x.t.nmsg, 0);
	/* a line longer than max_data_line (20 with its CRLF) across chunks:
	 * 500 at LAST; exactly 20 passes */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
				"BDAT 10\r\n0123456789BDAT 9 LAST\r\n012345678");
	assert_string_equal(ts_take(&x), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"250 2.0.0 10 octets received\r\n500 5.5.2 Line too long\r\n");
	snprintf(line, sizeof(line), "BDAT 20 LAST\r\n%s\r\n", "012345678901234567");
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
	ts_feed(&x, line);
	assert_string_equal(ts_take(&x), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			"250 2.0.0 Ok: queued\r\n");
	assert_int_equal(x.t.nmsg, 1);
	/* exactly max_msg_size, the CRLF added at the end counted */
	ts_feed(&x, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
	for (i = 0; i < 5; i++)
		ts_feed(&x, "BDAT 18\r\n0123456789abcdef\r\n");
	ts_feed(&x, "BDAT 8 LAST\r\n01234567");
	assert_string_equal(strstr(ts_take(&x), "90 octets") + 20,
			"250 2.0.0 Ok: queued\r\n");
	assert_int_equal(x.t.nmsg, 2);
	ts_free(&x);
}

static void test_bdat_alloc_failure(void **state)
{
	tsess x;
	int budget;

	/* no memory for a chunk: 452, the transaction is over */
	ts_init(&x, NULL);
	ts_feed(&x, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
	ts_take(&x);
	cm_mem_set(fail_malloc, fail_realloc, free);
	fail_budget = 0;
	ts_feed(&x, "BDAT 3\r\nab\n");
	cm_mem_set(malloc, realloc, free);
	ts_feed(&x, "BDAT 1 LAST\r\nz");
	assert_string_equal(ts_take(&x), "452 4.3.1 Insufficient system storage\r\n"
			"503 5.5.1 Bad sequence of commands: need MAIL and RCPT first\r\n");
	assert_int_equal(x.t.nmsg, 0);
	ts_free(&x);

	/* whichever allocation fails: no crash, no leak (LeakSanitizer) */
	for (budget = 0; budget < 16; budget++) {
		ts_init(&x, NULL);
		cm_mem_set(fail_malloc, fail_realloc, free);
		fail_budget = budget;
		smtpd_feed(&x.s, bdat_in, (int)strlen(bdat_in), &x.out);
		cm_mem_set(malloc, realloc, free);
		ts_free(&x);
	}
}

static void test_greeting_hostname(void **state)
{
	smtpd_session s;
	cm_buf out;
	char host[300];

	cm_buf_init(&out);
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	smtpd_init(&s, NULL, NULL, NULL, host);
	assert_int_equal(strlen(s.hostname), sizeof(s.hostname) - 1);
	smtpd_greeting(&s, &out);
	assert_int_equal(out.len, 4 + 127 + 14 + 2);
	smtpd_free(&s);
	cm_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_default),
		cmocka_unit_test(test_full_session),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_split_feeds),
		cmocka_unit_test(test_after_close),
		cmocka_unit_test(test_two_messages),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_callback_reject_mail),
		cmocka_unit_test(test_callback_reject_rcpt),
		cmocka_unit_test(test_callback_reject_data),
		cmocka_unit_test(test_no_callbacks),
		cmocka_unit_test(test_sequence_errors),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_path_forms),
		cmocka_unit_test(test_null_reverse_path),
		cmocka_unit_test(test_duplicate_rcpt),
		cmocka_unit_test(test_size_at_mail),
		cmocka_unit_test(test_size_in_data),
		cmocka_unit_test(test_long_command_line),
		cmocka_unit_test(test_long_data_line),
		cmocka_unit_test(test_long_data_line_lf_end),
		cmocka_unit_test(test_too_many_rcpt),
		cmocka_unit_test(test_max_cmds),
		cmocka_unit_test(test_max_junk),
		cmocka_unit_test(test_max_errors),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_rset),
		cmocka_unit_test(test_noop_vrfy_help),
		cmocka_unit_test(test_helo_ehlo),
		cmocka_unit_test(test_nul_in_command),
		cmocka_unit_test(test_nul_in_data),
		cmocka_unit_test(test_flood_no_crlf),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_fuzz_split_equivalence),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_free_idempotent),
		cmocka_unit_test(test_greeting_hostname),
		cmocka_unit_test(test_bad_limits),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_bdat_zero_and_two_mails),
		cmocka_unit_test(test_bdat_sequence),
		cmocka_unit_test(test_bdat_syntax),
		cmocka_unit_test(test_bdat_limits),
		cmocka_unit_test(test_bdat_alloc_failure),
		cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
