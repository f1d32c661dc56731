/*
 * cpm_mms - RFC 5321 server state machine (pure: no sockets, no Kamailio).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Input is cut into lines at LF. A line is handled straight from the caller's
 * buffer when nothing is pending, otherwise it is completed in s->in, which
 * never holds more than one line of the current limit: an overlong line is
 * dropped byte by byte until its LF and answered when it ends.
 *
 * Bare LF is accepted as a line end (commands and text lines; text lines
 * are stored with CRLF), but the end of data is only <CRLF>.<CRLF>: taking
 * "<LF>.<CRLF>" or ".<LF>" as the end would let a message relayed by a
 * laxer MTA smuggle a second mail ("SMTP smuggling").
 *
 * CHUNKING (RFC 3030): after "BDAT <size> [LAST]" the next <size> bytes are
 * the chunk, taken raw (no dot-stuffing, no line framing). They are stored
 * as DATA's are, with CRLF line ends (a bare LF becomes CRLF) and the same
 * line and size limits, so on_message sees the same text either way. A
 * chunk refused (sequence, size) is still read, then answered. */
#include <stdio.h>
#include <string.h>

#include "smtp_server.h"

#define SMTPD_TEXT_SIZE 256   /* callback reply text buffer */
#define SMTPD_MAX_PATH 256    /* mailbox, without <> and source route */

/* line_overflow values: discarding, and whether the last byte dropped was
 * CR (needed to know how the dropped line ends when its LF comes alone) */
#define OVF_DROP 1
#define OVF_DROP_CR 2

#define R_SEQ "503 5.5.1 Bad sequence of commands"
#define R_PARAM "501 5.5.4 Syntax error in parameters"
#define R_VRFY \
	"252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery"
#define R_HELP \
	"214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY " \
	"HELP"

/* SMTP verbs we know of but do not offer: 502 rather than 500 */
static const char *smtpd_unimpl[] = { "EXPN", "TURN", "ETRN", "AUTH",
	"STARTTLS", "SEND", "SOML", "SAML", "VERB", NULL };

void smtpd_limits_default(smtpd_limits *lim)
{
	lim->max_line = 512;
	lim->max_data_line = 1000;
	lim->max_msg_size = 1048576;
	lim->max_rcpt = SMTPD_MAX_RCPT_LIMIT;
	lim->max_cmds = 1000;
	lim->max_junk = 100;
	lim->max_errors = 10;
}

void smtpd_init(smtpd_session *s, const smtpd_limits *lim,
		const smtpd_callbacks *cb, void *ctx, const char *hostname)
{
	smtpd_limits def;

	memset(s, 0, sizeof(*s));
	smtpd_limits_default(&def);
	if (lim)
		s->lim = *lim;
	else
		s->lim = def;
	/* a zero or negative limit would make the session unusable */
	if (s->lim.max_line <= 0)
		s->lim.max_line = def.max_line;
	if (s->lim.max_data_line <= 0)
		s->lim.max_data_line = def.max_data_line;
	if (s->lim.max_msg_size <= 0)
		s->lim.max_msg_size = def.max_msg_size;
	if (s->lim.max_rcpt <= 0 || s->lim.max_rcpt > SMTPD_MAX_RCPT_LIMIT)
		s->lim.max_rcpt = SMTPD_MAX_RCPT_LIMIT;
	if (s->lim.max_cmds <= 0)
		s->lim.max_cmds = def.max_cmds;
	if (s->lim.max_errors <= 0)
		s->lim.max_errors = def.max_errors;
	if (s->lim.max_junk <= 0)
		s->lim.max_junk = def.max_junk;
	if (cb)
		s->cb = *cb;
	s->ctx = ctx;
	snprintf(s->hostname, sizeof(s->hostname), "%s",
			(hostname && *hostname) ? hostname : "localhost");
	cm_buf_init(&s->in);
	cm_buf_init(&s->data);
	s->state = SMTPD_S_GREETING;
}

/* no mail data collected, no verdict on it */
static void smtpd_data_reset(smtpd_session *s)
{
	cm_buf_free(&s->data);
	s->data_overflow = 0;
	s->data_longline = 0;
	s->data_bare_lf = 0;
	s->data_linelen = 0;
	s->data_cr = 0;
}

/* drop the mail transaction (RFC 5321 4.1.4); the state is the caller's */
static void smtpd_reset_tx(smtpd_session *s)
{
	int i;

	cm_free(s->reverse_path.s);
	s->reverse_path.s = NULL;
	s->reverse_path.len = 0;
	for (i = 0; i < s->nrcpt; i++) {
		cm_free(s->rcpt[i].s);
		s->rcpt[i].s = NULL;
		s->rcpt[i].len = 0;
	}
	s->nrcpt = 0;
	s->rcpt_refused = 0;
	smtpd_data_reset(s);
	s->bdat = 0;
}

void smtpd_free(smtpd_session *s)
{
	smtpd_reset_tx(s);
	cm_buf_free(&s->in);
	s->line_overflow = 0;
	s->state = SMTPD_S_CLOSED;
}

void smtpd_greeting(smtpd_session *s, cm_buf *out)
{
	cm_buf_printf(out, "220 %s ESMTP cpm_mms\r\n", s->hostname);
}

void smtpd_timeout(smtpd_session *s, cm_buf *out)
{
	if (s->state == SMTPD_S_CLOSED)
		return;
	cm_buf_printf(out, "421 4.4.2 %s idle timeout\r\n", s->hostname);
	s->state = SMTPD_S_CLOSED;
}

static void smtpd_reply(cm_buf *out, const char *line)
{
	cm_buf_adds(out, line);
	cm_buf_add(out, "\r\n", 2);
}

static void smtpd_close(smtpd_session *s, cm_buf *out, const char *why)
{
	cm_buf_printf(out, "421 4.7.0 %s %s\r\n", s->hostname, why);
	s->state = SMTPD_S_CLOSED;
}

/* a command the client got wrong; too many in a row end the session */
static void smtpd_bad(smtpd_session *s, cm_buf *out, const char *line)
{
	smtpd_reply(out, line);
	if (++s->nerrors >= s->lim.max_errors)
		smtpd_close(s, out, "Too many errors");
}

static void smtpd_good(smtpd_session *s, cm_buf *out, const char *line)
{
	s->nerrors = 0;
	smtpd_reply(out, line);
}

/* "X.Y.Z" at the start of a reply text (RFC 3463)? */
static int smtpd_has_esc(const char *t)
{
	int part;
	int n;

	if (t[0] != '2' && t[0] != '4' && t[0] != '5')
		return 0;
	t++;
	for (part = 0; part < 2; part++) {
		if (*t++ != '.')
			return 0;
		for (n = 0; n < 3 && *t >= '0' && *t <= '9'; n++)
			t++;
		if (n == 0)
			return 0;
	}
	return *t == ' ' || *t == '\0';
}

/* the reply text comes from module code: keep it on one line */
static void smtpd_clean_text(char *t, int size)
{
	char *p;
	int n;

	t[size - 1] = '\0';
	for (p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (p = t; *p == ' '; p++)
		;
	n = (int)strlen(p);
	memmove(t, p, n + 1);
	while (n > 0 && t[n - 1] == ' ')
		t[--n] = '\0';
}

/* Reply for a callback verdict; 1 if accepted. ok_esc/ok_text make the
 * default success reply, rej_sub ("1.1") and rej_text the default refusal
 * (the class digit comes from the code). */
static int smtpd_verdict(smtpd_session *s, int code, char *text,
		const char *ok_esc, const char *ok_text, const char *rej_sub,
		const char *rej_text, cm_buf *out)
{
	smtpd_clean_text(text, SMTPD_TEXT_SIZE);
	/* RFC 3463: the class of the enhanced code follows the reply code */
	if (smtpd_has_esc(text) && code >= 200 && code <= 599)
		text[0] = (char)('0' + code / 100);
	if (code >= 200 && code <= 299) {
		s->nerrors = 0;
		if (!*text)
			cm_buf_printf(out, "%d %s %s\r\n", code, ok_esc, ok_text);
		else if (smtpd_has_esc(text))
			cm_buf_printf(out, "%d %s\r\n", code, text);
		else
			cm_buf_printf(out, "%d %s %s\r\n", code, ok_esc, text);
		return 1;
	}
	if (code < 400 || code > 599) {
		/* 1xx/3xx or garbage make no sense here: a local fault */
		smtpd_reply(out, "451 4.3.0 Local error in processing");
		return 0;
	}
	if (!*text)
		cm_buf_printf(out, "%d %d.%s %s\r\n", code, code / 100, rej_sub,
				rej_text);
	else if (smtpd_has_esc(text))
		cm_buf_printf(out, "%d %s\r\n", code, text);
	else
		cm_buf_printf(out, "%d %d.%s %s\r\n", code, code / 100, rej_sub, text);
	return 0;
}

static int smtpd_is_sp(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse "<path>" (or a bare path, which some clients send) at *p; sets
 * path to the mailbox without <> and source route, *p after it.
 * Returns 0, or -1 on a syntax error. */
static int smtpd_parse_path(cm_str *p, cm_str *path)
{
	char *s = p->s;
	char *e = p->s + p->len;
	char *b;
	char *c;
	int i;

	if (s < e && *s == '<') {
		b = ++s;
		while (s < e && *s != '>')
			s++;
		if (s == e)
			return -1;
		path->s = b;
		path->len = (int)(s - b);
		s++;
		/* parameters must be separated by space */
		if (s < e && !smtpd_is_sp(*s))
			return -1;
	} else {
		b = s;
		while (s < e && !smtpd_is_sp(*s))
			s++;
		path->s = b;
		path->len = (int)(s - b);
		if (path->len == 0)
			return -1;
	}
	p->len -= (int)(s - p->s);
	p->s = s;

	/* obsolete source route "@a,@b:user@d": only the mailbox counts */
	if (path->len > 0 && path->s[0] == '@') {
		c = memchr(path->s, ':', path->len);
		if (!c)
			return -1;
		c++;
		path->len -= (int)(c - path->s);
		path->s = c;
		if (path->len == 0)
			return -1;
	}
	if (path->len > SMTPD_MAX_PATH)
		return -1;
	for (i = 0; i < path->len; i++) {
		unsigned char ch = (unsigned char)path->s[i];
		/* no SMTPUTF8: printable ASCII only */
		if (ch <= 0x20 || ch >= 0x7f || ch == '<' || ch == '>')
			return -1;
	}
	return 0;
}

/* next "KEY[=VALUE]" of the parameter list; 0 when none is left */
static int smtpd_next_param(cm_str *p, cm_str *key, cm_str *val)
{
	char *s = p->s;
	char *e = p->s + p->len;
	char *b;

	while (s < e && smtpd_is_sp(*s))
		s++;
	if (s == e)
		return 0;
	b = s;
	while (s < e && !smtpd_is_sp(*s))
		s++;
	key->s = b;
	key->len = (int)(s - b);
	val->s = memchr(b, '=', key->len);
	if (val->s) {
		val->s++;
		val->len = (int)(s - val->s);
		key->len = (int)(val->s - 1 - b);
	} else {
		val->len = 0;
	}
	p->len -= (int)(s - p->s);
	p->s = s;
	return 1;
}

/* arg after "FROM:"/"TO:"; allows "FROM: <x>" (common client bug) */
static int smtpd_strip_keyword(cm_str *arg, const char *kw)
{
	int n = (int)strlen(kw);

	if (!cm_str_iprefix(*arg, kw))
		return -1;
	arg->s += n;
	arg->len -= n;
	while (arg->len > 0 && smtpd_is_sp(arg->s[0])) {
		arg->s++;
		arg->len--;
	}
	return 0;
}

static void smtpd_ehlo(smtpd_session *s, cm_str arg, int ehlo, cm_buf *out)
{
	if (arg.len == 0) {
		if (ehlo)
			smtpd_bad(s, out, "501 5.5.4 Syntax: EHLO hostname");
		else
			smtpd_bad(s, out, "501 5.5.4 Syntax: HELO hostname");
		return;
	}
	smtpd_reset_tx(s);
	s->state = SMTPD_S_READY;
	s->nerrors = 0;
	if (!ehlo) {
		cm_buf_printf(out, "250 %s\r\n", s->hostname);
		return;
	}
	cm_buf_printf(out,
			"250-%s\r\n"
			"250-PIPELINING\r\n"
			"250-SIZE %d\r\n"
			"250-8BITMIME\r\n"
			"250-CHUNKING\r\n"
			"250 ENHANCEDSTATUSCODES\r\n",
			s->hostname, s->lim.max_msg_size);
}

static void smtpd_mail(smtpd_session *s, cm_str arg, cm_buf *out)
{
	cm_str path;
	cm_str key;
	cm_str val;
	long long size;
	int i;
	int code;
	char text[SMTPD_TEXT_SIZE];

	if (s->state == SMTPD_S_GREETING) {
		smtpd_bad(s, out, R_SEQ ": send EHLO/HELO first");
		return;
	}
	if (s->state != SMTPD_S_READY) {
		smtpd_bad(s, out, R_SEQ);
		return;
	}
	if (smtpd_strip_keyword(&arg, "FROM:") < 0) {
		smtpd_bad(s, out, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	/* the null reverse path <> is the only empty one allowed */
	if (arg.len >= 2 && arg.s[0] == '<' && arg.s[1] == '>') {
		path.s = arg.s + 1;
		path.len = 0;
		arg.s += 2;
		arg.len -= 2;
		if (arg.len > 0 && !smtpd_is_sp(arg.s[0])) {
			smtpd_bad(s, out, "501 5.1.7 Bad sender address syntax");
			return;
		}
	} else if (smtpd_parse_path(&arg, &path) < 0) {
		smtpd_bad(s, out, "501 5.1.7 Bad sender address syntax");
		return;
	}
	while (smtpd_next_param(&arg, &key, &val)) {
		if (cm_str_ieqz(key, "SIZE")) {
			if (val.len == 0 || val.len > 20) {
				smtpd_bad(s, out, R_PARAM);
				return;
			}
			size = 0;
			for (i = 0; i < val.len; i++) {
				if (val.s[i] < '0' || val.s[i] > '9') {
					smtpd_bad(s, out, R_PARAM);
					return;
				}
				if (size <= s->lim.max_msg_size)
					size = size * 10 + (val.s[i] - '0');
			}
			if (size > s->lim.max_msg_size) {
				smtpd_reply(out, "552 5.3.4 Message size exceeds fixed limit");
				return;
			}
		} else if (cm_str_ieqz(key, "BODY")) {
			if (!cm_str_ieqz(val, "7BIT") && !cm_str_ieqz(val, "8BITMIME")) {
				smtpd_bad(s, out, R_PARAM);
				return;
			}
		} else {
			smtpd_bad(s, out, "555 5.5.4 Unsupported parameter");
			return;
		}
	}

	code = 250;
	text[0] = '\0';
	if (s->cb.on_mail)
		code = s->cb.on_mail(s->ctx, path, text, sizeof(text));
	/* copy before replying so a failed allocation can still be told */
	if (code >= 200 && code <= 299) {
		s->reverse_path.s = cm_strndup(path.s, path.len);
		if (!s->reverse_path.s) {
			smtpd_reply(out, "452 4.3.1 Insufficient system storage");
			return;
		}
		s->reverse_path.len = path.len;
		s->state = SMTPD_S_MAIL;
	}
	smtpd_verdict(s, code, text, "2.1.0", "Ok", "1.0", "Sender rejected", out);
}

static void smtpd_rcpt(smtpd_session *s, cm_str arg, cm_buf *out)
{
	cm_str path;
	cm_str key;
	cm_str val;
	int i;
	int code;
	char text[SMTPD_TEXT_SIZE];

	if ((s->state != SMTPD_S_MAIL && s->state != SMTPD_S_RCPT) || s->bdat) {
		if (s->state == SMTPD_S_GREETING)
			smtpd_bad(s, out, R_SEQ ": send EHLO/HELO first");
		else
			smtpd_bad(s, out, R_SEQ ": need MAIL first");
		return;
	}
	if (smtpd_strip_keyword(&arg, "TO:") < 0) {
		smtpd_bad(s, out, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (smtpd_parse_path(&arg, &path) < 0 || path.len == 0) {
		smtpd_bad(s, out, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (smtpd_next_param(&arg, &key, &val)) {
		smtpd_bad(s, out, "555 5.5.4 Unsupported parameter");
		return;
	}
	/* the same recipient twice would get the mail twice */
	for (i = 0; i < s->nrcpt; i++) {
		if (cm_str_eq(s->rcpt[i], path)) {
			smtpd_good(s, out, "250 2.1.5 Ok");
			return;
		}
	}
	if (s->nrcpt >= s->lim.max_rcpt) {
		smtpd_reply(out, "452 4.5.3 Too many recipients");
		return;
	}

	code = 250;
	text[0] = '\0';
	if (s->cb.on_rcpt)
		code = s->cb.on_rcpt(s->ctx, path, text, sizeof(text));
	/* copy before replying so a failed allocation can still be told */
	if (code >= 200 && code <= 299) {
		s->rcpt[s->nrcpt].s = cm_strndup(path.s, path.len);
		if (!s->rcpt[s->nrcpt].s) {
			smtpd_reply(out, "452 4.3.1 Insufficient system storage");
			return;
		}
		s->rcpt[s->nrcpt].len = path.len;
		s->nrcpt++;
		s->state = SMTPD_S_RCPT;
	} else {
		s->rcpt_refused++;
	}
	smtpd_verdict(s, code, text, "2.1.5", "Ok", "1.1", "Recipient rejected",
			out);
}

static void smtpd_data_cmd(smtpd_session *s, cm_str arg, cm_buf *out)
{
	if (arg.len > 0) {
		smtpd_bad(s, out, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (s->state != SMTPD_S_RCPT || s->bdat) {
		if (s->state == SMTPD_S_MAIL && s->rcpt_refused > 0)
			smtpd_bad(s, out, "554 5.5.1 No valid recipients");
		else
			smtpd_bad(s, out, R_SEQ);
		return;
	}
	smtpd_data_reset(s);
	s->state = SMTPD_S_DATA;
	smtpd_good(s, out, "354 End data with <CR><LF>.<CR><LF>");
}

static void smtpd_message_end(smtpd_session *s, cm_buf *out);

/* "BDAT <size> [LAST]": the chunk's bytes follow; they are read whatever
 * the verdict, which comes once they are in */
static void smtpd_bdat_cmd(smtpd_session *s, cm_str arg, cm_buf *out)
{
	long long size = 0;
	cm_str rest;
	int i = 0;

	for (; i < arg.len && arg.s[i] >= '0' && arg.s[i] <= '9'; i++)
		if (size <= s->lim.max_msg_size)
			size = size * 10 + (arg.s[i] - '0');
	arg.s += i;
	arg.len -= i;
	rest = cm_str_trim(arg);
	if (i == 0 || (arg.len > 0 && !smtpd_is_sp(arg.s[0]))
			|| (rest.len > 0 && !cm_str_ieqz(rest, "LAST"))) {
		/* where the chunk ends is unknown: nothing after it can be read */
		smtpd_reply(out, "501 5.5.4 Syntax: BDAT size [LAST]");
		s->state = SMTPD_S_CLOSED;
		return;
	}
	s->chunk_last = rest.len > 0;
	if (size > s->lim.max_msg_size) {
		smtpd_reply(out, "552 5.3.4 Message size exceeds fixed limit");
		s->state = SMTPD_S_CLOSED;
		return;
	}
	s->chunk_refusal = NULL;
	if (s->state != SMTPD_S_RCPT) {
		if (s->state == SMTPD_S_MAIL && s->rcpt_refused > 0)
			s->chunk_refusal = "554 5.5.1 No valid recipients";
		else if (s->state == SMTPD_S_GREETING)
			s->chunk_refusal = R_SEQ ": send EHLO/HELO first";
		else
			s->chunk_refusal = R_SEQ ": need MAIL and RCPT first";
	} else if (!s->bdat) {
		smtpd_data_reset(s);
		s->bdat = 1;
	}
	s->chunk_left = size;
	s->in_chunk = 1;
}

/* bytes of a BDAT chunk, stored with CRLF line ends */
static void smtpd_chunk_bytes(smtpd_session *s, const char *p, int n)
{
	const char *lf;
	int seg;
	int nl;

	while (n > 0 && !s->chunk_refusal && !s->data_overflow
			&& !s->data_longline) {
		lf = memchr(p, '\n', n);
		seg = lf ? (int)(lf - p) : n;
		s->data_linelen += seg;
		if (s->data_linelen + 1 > s->lim.max_data_line) {
			s->data_longline = 1;
			cm_buf_free(&s->data);
			return;
		}
		if (seg > 0)
			s->data_cr = p[seg - 1] == '\r';
		nl = lf ? (s->data_cr ? 1 : 2) : 0;
		if (s->data.len + seg + nl > s->lim.max_msg_size) {
			s->data_overflow = 1;
			cm_buf_free(&s->data);
			return;
		}
		cm_buf_add(&s->data, p, seg);
		if (lf) {
			cm_buf_add(&s->data, nl == 1 ? "\n" : "\r\n", nl);
			s->data_linelen = 0;
			s->data_cr = 0;
			seg++;
		}
		p += seg;
		n -= seg;
	}
}

/* the current chunk is all in: its reply */
static void smtpd_chunk_end(smtpd_session *s, cm_buf *out)
{
	int nl;

	if (s->chunk_refusal) {
		smtpd_bad(s, out, s->chunk_refusal);
		s->chunk_refusal = NULL;
		return;
	}
	if (s->data_overflow) {
		/* RFC 3030: the transaction is over; later chunks get 503 */
		smtpd_reply(out, "552 5.3.4 Message size exceeds fixed limit");
		smtpd_reset_tx(s);
		s->state = SMTPD_S_READY;
		return;
	}
	if (!s->chunk_last && s->data.failed) {
		smtpd_reply(out, "452 4.3.1 Insufficient system storage");
		smtpd_reset_tx(s);
		s->state = SMTPD_S_READY;
		return;
	}
	if (!s->chunk_last) {
		s->nerrors = 0;
		cm_buf_printf(out, "250 2.0.0 %d octets received\r\n", s->data.len);
		return;
	}
	/* a last line without its line end gets one, as DATA's always has */
	nl = s->data.len == 0 || s->data.s[s->data.len - 1] == '\n' ? 0
			: (s->data_cr ? 1 : 2);
	if (nl && !s->data_longline && !s->data_overflow) {
		if (s->data_linelen + nl > s->lim.max_data_line) {
			s->data_longline = 1;
			cm_buf_free(&s->data);
		} else if (s->data.len + nl > s->lim.max_msg_size) {
			s->data_overflow = 1;
			cm_buf_free(&s->data);
		} else {
			cm_buf_add(&s->data, nl == 1 ? "\n" : "\r\n", nl);
		}
	}
	smtpd_message_end(s, out);
}

/* count a command line; 0 if the session is over its command budget */
static int smtpd_count_cmd(smtpd_session *s, cm_buf *out)
{
	if (++s->ncmds > s->lim.max_cmds) {
		smtpd_close(s, out, "Too many commands");
		return 0;
	}
	return 1;
}

/* commands that move no mail: a client may send a few between mails, not
 * an endless stream (Postfix counts the same four) */
static int smtpd_count_junk(smtpd_session *s, cm_str verb, cm_buf *out)
{
	if (!cm_str_ieqz(verb, "NOOP") && !cm_str_ieqz(verb, "VRFY")
			&& !cm_str_ieqz(verb, "ETRN") && !cm_str_ieqz(verb, "RSET"))
		return 1;
	if (++s->njunk > s->lim.max_junk) {
		smtpd_close(s, out, "Too many junk commands");
		return 0;
	}
	return 1;
}

static int smtpd_known_verb(cm_str verb)
{
	int i;

	for (i = 0; smtpd_unimpl[i]; i++)
		if (cm_str_ieqz(verb, smtpd_unimpl[i]))
			return 1;
	return 0;
}

/* one command line, with its line end */
static void smtpd_command(smtpd_session *s, const char *line, int len,
		cm_buf *out)
{
	cm_str l;
	cm_str verb;
	cm_str arg;
	char *sp;

	if (!smtpd_count_cmd(s, out))
		return;
	if (memchr(line, '\0', len)) {
		smtpd_bad(s, out, "500 5.5.2 Syntax error (NUL in command)");
		return;
	}
	l.s = (char *)line;
	l.len = len;
	l = cm_str_trim(l);
	sp = memchr(l.s, ' ', l.len);
	verb.s = l.s;
	verb.len = sp ? (int)(sp - l.s) : l.len;
	arg.s = l.s + verb.len;
	arg.len = l.len - verb.len;
	arg = cm_str_trim(arg);
	if (!smtpd_count_junk(s, verb, out))
		return;

	if (cm_str_ieqz(verb, "EHLO")) {
		smtpd_ehlo(s, arg, 1, out);
	} else if (cm_str_ieqz(verb, "HELO")) {
		smtpd_ehlo(s, arg, 0, out);
	} else if (cm_str_ieqz(verb, "MAIL")) {
		smtpd_mail(s, arg, out);
	} else if (cm_str_ieqz(verb, "RCPT")) {
		smtpd_rcpt(s, arg, out);
	} else if (cm_str_ieqz(verb, "DATA")) {
		smtpd_data_cmd(s, arg, out);
	} else if (cm_str_ieqz(verb, "BDAT")) {
		smtpd_bdat_cmd(s, arg, out);
	} else if (cm_str_ieqz(verb, "RSET")) {
		if (arg.len > 0) {
			smtpd_bad(s, out, "501 5.5.4 Syntax: RSET");
			return;
		}
		smtpd_reset_tx(s);
		if (s->state != SMTPD_S_GREETING)
			s->state = SMTPD_S_READY;
		smtpd_good(s, out, "250 2.0.0 Ok");
	} else if (cm_str_ieqz(verb, "NOOP")) {
		smtpd_good(s, out, "250 2.0.0 Ok");
	} else if (cm_str_ieqz(verb, "QUIT")) {
		smtpd_reply(out, "221 2.0.0 Bye");
		s->state = SMTPD_S_CLOSED;
	} else if (cm_str_ieqz(verb, "VRFY")) {
		if (arg.len == 0) {
			smtpd_bad(s, out, "501 5.5.4 Syntax: VRFY address");
			return;
		}
		smtpd_good(s, out, R_VRFY);
	} else if (cm_str_ieqz(verb, "HELP")) {
		smtpd_good(s, out, R_HELP);
	} else if (smtpd_known_verb(verb)) {
		smtpd_bad(s, out, "502 5.5.1 Command not implemented");
	} else {
		smtpd_bad(s, out, "500 5.5.2 Command unrecognized");
	}
}

/* the mail data is complete (DATA's final "." or BDAT LAST) */
static void smtpd_message_end(smtpd_session *s, cm_buf *out)
{
	int code;
	char text[SMTPD_TEXT_SIZE];
	char empty[1] = "";

	if (s->data_overflow) {
		smtpd_reply(out, "552 5.3.4 Message size exceeds fixed limit");
	} else if (s->data_longline) {
		smtpd_reply(out, "500 5.5.2 Line too long");
	} else if (s->data.failed) {
		smtpd_reply(out, "452 4.3.1 Insufficient system storage");
	} else {
		code = 250;
		text[0] = '\0';
		if (s->cb.on_message)
			code = s->cb.on_message(s->ctx, s->reverse_path, s->rcpt,
					s->nrcpt, s->data.s ? s->data.s : empty, s->data.len, text,
					sizeof(text));
		if (smtpd_verdict(s, code, text, "2.0.0", "Ok: queued", "6.0",
					"Message rejected", out)) {
			s->messages++;
			s->njunk = 0;
		}
	}
	smtpd_reset_tx(s);
	s->state = SMTPD_S_READY;
}

/* one text line in DATA, with its line end */
static void smtpd_data_line(smtpd_session *s, const char *line, int len,
		cm_buf *out)
{
	int crlf;
	int bare_lf_before = s->data_bare_lf;

	crlf = len >= 2 && line[len - 2] == '\r';
	len -= crlf ? 2 : 1;
	s->data_bare_lf = !crlf;
	if (len == 1 && line[0] == '.') {
		if (crlf && !bare_lf_before) {
			smtpd_message_end(s, out);
			return;
		}
		/* a lone "." not framed by CRLF on both sides is text */
	} else if (len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	if (s->data_overflow || s->data_longline)
		return;
	if (s->data.len + len + 2 > s->lim.max_msg_size) {
		/* keep reading to the end, but never store it */
		s->data_overflow = 1;
		cm_buf_free(&s->data);
		return;
	}
	cm_buf_add(&s->data, line, len);
	cm_buf_add(&s->data, "\r\n", 2);
}

/* an overlong line has just ended; crlf: it ended in CRLF */
static void smtpd_long_line(smtpd_session *s, int crlf, cm_buf *out)
{
	if (s->state == SMTPD_S_DATA) {
		s->data_longline = 1;
		s->data_bare_lf = !crlf;
		cm_buf_free(&s->data);
		return;
	}
	if (!smtpd_count_cmd(s, out))
		return;
	smtpd_bad(s, out, "500 5.5.2 Line too long");
}

static void smtpd_line(smtpd_session *s, const char *line, int len,
		cm_buf *out)
{
	if (s->state == SMTPD_S_DATA)
		smtpd_data_line(s, line, len, out);
	else
		smtpd_command(s, line, len, out);
}

int smtpd_feed(smtpd_session *s, const char *buf, int len, cm_buf *out)
{
	const char *p;
	const char *lf;
	int n;
	int linelen;
	int limit;
	int crlf;

	if (!buf || len < 0)
		len = 0;
	p = buf;
	while (s->state != SMTPD_S_CLOSED) {
		if (s->in_chunk) {
			n = s->chunk_left < len ? (int)s->chunk_left : len;
			if (n > 0) {
				smtpd_chunk_bytes(s, p, n);
				p += n;
				len -= n;
				s->chunk_left -= n;
			}
			if (s->chunk_left > 0)
				break;
			s->in_chunk = 0;
			smtpd_chunk_end(s, out);
			continue;
		}
		if (len <= 0)
			break;
		lf = memchr(p, '\n', len);
		n = lf ? (int)(lf - p) + 1 : len;
		if (s->state == SMTPD_S_DATA)
			limit = s->lim.max_data_line;
		else
			limit = s->lim.max_line;
		/* without its LF yet, a line at the limit is already too long */
		if (!s->line_overflow
				&& (lf ? s->in.len + n > limit : s->in.len + n >= limit)) {
			if (s->in.len > 0 && s->in.s[s->in.len - 1] == '\r')
				s->line_overflow = OVF_DROP_CR;
			else
				s->line_overflow = OVF_DROP;
			s->in.len = 0;
		}
		if (s->line_overflow) {
			if (!lf) {
				s->line_overflow = p[len - 1] == '\r' ? OVF_DROP_CR : OVF_DROP;
				break;
			}
			if (n >= 2)
				crlf = p[n - 2] == '\r';
			else
				crlf = s->line_overflow == OVF_DROP_CR;
			s->line_overflow = 0;
			p += n;
			len -= n;
			smtpd_long_line(s, crlf, out);
			continue;
		}
		if (!lf) {
			if (cm_buf_add(&s->in, p, n) < 0) {
				smtpd_close(s, out, "Out of memory");
				cm_buf_free(&s->in);
			}
			break;
		}
		if (s->in.len == 0) {
			smtpd_line(s, p, n, out);
		} else {
			if (cm_buf_add(&s->in, p, n) < 0) {
				smtpd_close(s, out, "Out of memory");
				cm_buf_free(&s->in);
				break;
			}
			/* the line is consumed whatever its handler does */
			linelen = s->in.len;
			s->in.len = 0;
			smtpd_line(s, s->in.s, linelen, out);
		}
		p += n;
		len -= n;
	}
	if (s->state == SMTPD_S_CLOSED)
		return SMTPD_CLOSE;
	return SMTPD_CONTINUE;
}
