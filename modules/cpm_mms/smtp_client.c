/*
 * cpm_mms - sending MM4 mails with libesmtp, with MX failover.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <libesmtp.h>

#include "core/dprint.h"

#include "settings.h"
#include "smtp_client.h"

typedef struct mail_src {
	const char *data;
	int len;
	int head_len;            /* the header block and its empty line */
} mail_src;

/* libesmtp pulls the message: NULL len = rewind, then chunks until NULL.
 * *ctx belongs to libesmtp, which free()s it with the session, so the
 * "how far" counter lives in a malloc'd int.
 *
 * The header block comes as a piece of its own: with CHUNKING libesmtp
 * reads the headers while the RCPT replies are still out, and if a refusal
 * stops the BDATs there, whatever it had buffered past the headers is not
 * dropped: msg_rewind() keeps it, and libesmtp 1.1 sends it at the start of
 * the session's next mail. Ending the first piece at the empty line leaves
 * nothing buffered at that point. */
static const char *mail_read_cb(void **ctx, int *len, void *arg)
{
	mail_src *src = arg;
	int *step = *ctx;

	if (!step) {
		step = malloc(sizeof(*step));
		if (!step)
			return NULL;
		*ctx = step;
	}
	if (!len) {
		*step = 0;
		return NULL;
	}
	switch (*step) {
	case 0:
		/* the header block, or all of it if there is none */
		*step = src->head_len > 0 ? 1 : 2;
		*len = src->head_len > 0 ? src->head_len : src->len;
		return *len > 0 ? src->data : NULL;
	case 1:
		*step = 2;
		*len = src->len - src->head_len;
		return *len > 0 ? src->data + src->head_len : NULL;
	default:
		*len = 0;
		return NULL;
	}
}

/* end of the header block (after its CRLF CRLF), 0 if there is none */
static int header_block_len(const char *data, int len)
{
	int i;

	for (i = 0; i + 3 < len; i++)
		if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r'
				&& data[i + 3] == '\n')
			return i + 4;
	return 0;
}

/* libesmtp leaves Nagle's algorithm on and has no socket hook: its small
 * pipelined writes then wait for the peer's delayed ACK (40 ms stalls per
 * message). On SMTP_EV_CONNECT the session's socket is the new one
 * connected to the host: it gets TCP_NODELAY. */
typedef struct conn_hint {
	int first_fd;            /* lowest fd free before the session */
	const mm4_host *host;
} conn_hint;

/* one session's messages: the first n of todo[] are in it */
typedef struct session_ctx {
	conn_hint hint;
	smtp_session_t s;
	smtp_mail **todo;
	int n;
	smtp_message_t m[SMTP_BATCH_MAX];
	smtp_recipient_t r[SMTP_BATCH_MAX][MAP_MAX_RCPT];
	mail_src src[SMTP_BATCH_MAX];
	smtp_more_fn more;
	void *more_arg;
} session_ctx;

/* fd is connected to h (addresses compared in binary: "::1" = "0::1") */
static int peer_is(int fd, const mm4_host *h)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct in6_addr a6;
	struct in_addr a4;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		return ntohs(a->sin_port) == h->port
				&& inet_pton(AF_INET, h->ip, &a4) == 1
				&& a4.s_addr == a->sin_addr.s_addr;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		return ntohs(a->sin6_port) == h->port
				&& inet_pton(AF_INET6, h->ip, &a6) == 1
				&& memcmp(&a6, &a->sin6_addr, sizeof(a6)) == 0;
	}
	return 0;
}

static void set_nodelay(conn_hint *hint)
{
	struct stat st;
	int fd, one = 1;

	if (hint->first_fd < 0)
		return;
	for (fd = hint->first_fd; fd < hint->first_fd + 16; fd++) {
		if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)
				|| !peer_is(fd, hint->host))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
			LM_DBG("TCP_NODELAY on fd %d: %s\n", fd, strerror(errno));
		return;
	}
	LM_DBG("SMTP socket to %s:%d not found: Nagle stays on\n", hint->host->ip,
			hint->host->port);
}

static void session_grow(session_ctx *c, smtp_message_t sent);

static void session_event(smtp_session_t s, int event_no, void *arg, ...)
{
	session_ctx *c = arg;
	smtp_message_t msg;
	va_list ap;

	if (event_no == SMTP_EV_CONNECT) {
		set_nodelay(&c->hint);
	} else if (event_no == SMTP_EV_MESSAGESENT && c->more) {
		va_start(ap, arg);
		msg = va_arg(ap, smtp_message_t);
		va_end(ap);
		session_grow(c, msg);
	}
}

static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static void set_timeouts(smtp_session_t s)
{
	long ms = (long)cpm_get(smtp_timeout) * 1000;

	smtp_set_timeout(s, Timeout_GREETING | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_timeout(s, Timeout_ENVELOPE | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_timeout(s, Timeout_DATA | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_timeout(s, Timeout_TRANSFER | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_timeout(s, Timeout_DATA2 | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
}

static void outcome_set(smtp_outcome *out, int code, const char *text)
{
	int len;

	out->code = code;
	snprintf(out->text, sizeof(out->text), "%s", text ? text : "");
	/* drop the CRLF libesmtp keeps */
	len = strlen(out->text);
	while (len > 0 && (out->text[len - 1] == '\n' || out->text[len - 1] == '\r'))
		out->text[--len] = '\0';
}

/* a reply's outcome: when the server offered ENHANCEDSTATUSCODES
 * libesmtp took the RFC 3463 code off the text into enh_*; it goes back
 * in front, so the text always starts with it when the server gave one
 * (map_smtp_reply() reads it there) */
static void outcome_status(smtp_outcome *out, const smtp_status_t *st)
{
	char buf[sizeof(out->text)];

	if (st->enh_class >= 2 && st->enh_class <= 5) {
		snprintf(buf, sizeof(buf), "%d.%d.%d %s", st->enh_class,
				st->enh_subject, st->enh_detail, st->text ? st->text : "");
		outcome_set(out, st->code, buf);
	} else {
		outcome_set(out, st->code, st->text);
	}
}

static void host_port(const mm4_host *h, char *buf, int size)
{
	if (strchr(h->ip, ':'))
		snprintf(buf, size, "[%s]:%d", h->ip, h->port);
	else
		snprintf(buf, size, "%s:%d", h->ip, h->port);
}

/* the outcome of one message of a session that ran: 1 = delivered */
static int message_outcome(smtp_message_t m, smtp_recipient_t *r, int nrcpt,
		smtp_outcome *out)
{
	const smtp_status_t *st;
	int i;

	/* the first stage that failed tells what went wrong; a refused RCPT
	 * counts even if the server took the data after it (the DATA/BDAT
	 * pipelined behind a lone RCPT) */
	st = smtp_reverse_path_status(m);
	if (st && st->code >= 400) {
		outcome_status(out, st);
		return 0;
	}
	for (i = 0; i < nrcpt; i++) {
		st = r[i] ? smtp_recipient_status(r[i]) : NULL;
		if (st && st->code >= 400) {
			outcome_status(out, st);
			return 0;
		}
	}
	st = smtp_message_transfer_status(m);
	if (st && st->code >= 200 && st->code < 300) {
		outcome_status(out, st);
		return 1;
	}
	if (st && st->code >= 400)
		outcome_status(out, st);
	else
		outcome_set(out, 0, "connection lost");
	return 0;
}

/* message i of the session: 0, or -1 (out of memory in libesmtp) */
static int session_add(session_ctx *c, int i)
{
	smtp_mail *mail = c->todo[i];
	int k;

	c->src[i].data = mail->data;
	c->src[i].len = mail->len;
	c->src[i].head_len = header_block_len(mail->data, mail->len);
	memset(c->r[i], 0, sizeof(c->r[i]));
	/* libesmtp cannot pipeline DATA/BDAT after the RCPTs when it must see
	 * them all accepted first: only mails to several recipients pay that
	 * round trip (once set, the session keeps it) */
	if (mail->nrcpt > 1)
		smtp_option_require_all_recipients(c->s, 1);
	/* no smtp_8bitmime_set_body(): mm4.c writes every mail 7-bit (8-bit
	 * parts re-encoded), and libesmtp would make 8BITMIME required for
	 * the whole session, quitting it at a peer that does not offer it */
	c->m[i] = smtp_add_message(c->s);
	if (!c->m[i] || !smtp_set_reverse_path(c->m[i], mail->mail_from)
			|| !smtp_set_messagecb(c->m[i], mail_read_cb, &c->src[i]))
		return -1;
	for (k = 0; k < mail->nrcpt && k < MAP_MAX_RCPT; k++) {
		c->r[i][k] = smtp_add_recipient(c->m[i], mail->rcpts[k]);
		if (!c->r[i][k])
			return -1;
	}
	return 0;
}

static void session_outcomes(session_ctx *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->m[i])
			c->todo[i]->out.ok = message_outcome(c->m[i], c->r[i],
					c->todo[i]->nrcpt < MAP_MAX_RCPT ? c->todo[i]->nrcpt
					: MAP_MAX_RCPT, &c->todo[i]->out);
}

static void mail_reset(smtp_mail *mail, const char *hostport)
{
	memset(&mail->out, 0, sizeof(mail->out));
	outcome_set(&mail->out, 0, "no MM4 host");
	snprintf(mail->out.host, sizeof(mail->out.host), "%s", hostport);
}

/* The session's last mail went through: the caller may hand over more for
 * the same hosts, which libesmtp takes up after this event (rsp_data2
 * calls next_message() after SMTP_EV_MESSAGESENT), so the connection
 * carries on instead of QUIT + a new handshake. A failed or refused mail
 * ends the growth: what is left is the next session's. */
static void session_grow(session_ctx *c, smtp_message_t sent)
{
	const smtp_status_t *st = smtp_message_transfer_status(sent);
	int i, added, first;

	if (c->n <= 0 || sent != c->m[c->n - 1] || c->n >= SMTP_BATCH_MAX
			|| !st || st->code < 200 || st->code > 299)
		return;
	session_outcomes(c);
	first = c->n;
	added = c->more(c->more_arg, &c->todo[first], SMTP_BATCH_MAX - first);
	for (i = first; i < first + added && i < SMTP_BATCH_MAX; i++) {
		mail_reset(c->todo[i], c->todo[0]->out.host);
		c->n = i + 1;
		if (session_add(c, i) < 0) {
			/* libesmtp may hold a part of it: nothing more this session */
			LM_ERR("no memory for one more mail in the SMTP session to %s\n",
					c->todo[0]->out.host);
			c->more = NULL;
			i++;
			break;
		}
	}
	/* mails the session did not take stay with the caller's batch, as
	 * failures of this host: the next host gets them */
	for (; i < first + added && i < SMTP_BATCH_MAX; i++) {
		mail_reset(c->todo[i], c->todo[0]->out.host);
		outcome_set(&c->todo[i]->out, 0, "cannot set up SMTP session");
		c->n = i + 1;
		c->m[i] = NULL;
	}
}

/* One session to one host carrying the mails of todo[]: libesmtp sends
 * them one after the other on the same connection, pipelining the
 * envelope when the server offers PIPELINING. Returns how many mails of
 * todo[] the session had (more than n if it grew). */
static int send_session(const mm4_host *h, smtp_mail **todo, int n,
		smtp_more_fn more, void *more_arg)
{
	static session_ctx ctx;
	session_ctx *c = &ctx;
	char hostport[160];
	char err[128];
	int i, ok;

	host_port(h, hostport, sizeof(hostport));
	for (i = 0; i < n; i++)
		snprintf(todo[i]->out.host, sizeof(todo[i]->out.host), "%s",
				hostport);

	c->todo = todo;
	c->n = n;
	c->more = more;
	c->more_arg = more_arg;
	c->s = smtp_create_session();
	ok = c->s && smtp_set_server(c->s, hostport)
			&& smtp_set_hostname(c->s, cpm_fixed.hostname);
	for (i = 0; ok && i < n; i++)
		ok = session_add(c, i) == 0;
	if (!ok) {
		for (i = 0; i < n; i++)
			outcome_set(&todo[i]->out, 0, "cannot set up SMTP session");
		if (c->s)
			smtp_destroy_session(c->s);
		return n;
	}
	set_timeouts(c->s);
	c->hint.host = h;
	c->hint.first_fd = lowest_free_fd();
	smtp_set_eventcb(c->s, session_event, c);

	if (!smtp_start_session(c->s)) {
		smtp_strerror(smtp_errno(), err, sizeof(err));
		for (i = 0; i < c->n; i++)
			outcome_set(&todo[i]->out, 0, err);
	} else {
		session_outcomes(c);
	}
	smtp_destroy_session(c->s);
	c->s = NULL;
	return c->n;
}

/* the mails of todo[0..n) not settled (no success, no 5xx) move to the
 * front; how many */
static int unsettled(smtp_mail **todo, int n, int *lost)
{
	int i, left = 0;

	*lost = 0;
	for (i = 0; i < n; i++) {
		if (todo[i]->out.ok || todo[i]->out.code >= 500)
			continue;
		if (todo[i]->out.code == 0)
			(*lost)++;
		LM_NOTICE("MM4 host %s failed: %d %s\n", todo[i]->out.host,
				todo[i]->out.code, todo[i]->out.text);
		todo[left++] = todo[i];
	}
	return left;
}

int smtp_send_batch(const mm4_host *hosts, int nhosts, smtp_mail **mails,
		int n, smtp_more_fn more, void *more_arg)
{
	smtp_mail *todo[SMTP_BATCH_MAX];
	int h, i, left, total, lost;

	if (n > SMTP_BATCH_MAX)
		n = SMTP_BATCH_MAX;
	for (i = 0; i < n; i++) {
		mail_reset(mails[i], "");
		todo[i] = mails[i];
	}
	left = total = n;
	if (nhosts > 0 && more) {
		/* the first session may grow: the caller's list too */
		total = send_session(&hosts[0], todo, n, more, more_arg);
		for (i = n; i < total; i++)
			mails[i] = todo[i];
		left = unsettled(todo, total, &lost);
		/* a connection that waited for more mails and was lost (the
		 * host's idle limit) is not the host's refusal: once more */
		if (left > 0 && lost > 0 && total > n)
			left = unsettled(todo, send_session(&hosts[0], todo, left,
					NULL, NULL), &lost);
		h = 1;
	} else {
		h = 0;
	}
	for (; h < nhosts && left > 0; h++)
		left = unsettled(todo, send_session(&hosts[h], todo, left, NULL,
				NULL), &lost);
	return total;
}
