/*
 * cpm_mms - sending MM4 mails with libesmtp, with MX failover.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

#include "cpm_mms.h"
#include "smtp_client.h"

typedef struct mail_src {
	const char *data;
	int len;
} mail_src;

/* libesmtp pulls the message: NULL len = rewind, then chunks until NULL.
 * *ctx belongs to libesmtp, which free()s it with the session, so the
 * "already sent" flag lives in a malloc'd int. */
static const char *mail_read_cb(void **ctx, int *len, void *arg)
{
	mail_src *src = arg;
	int *sent = *ctx;

	if (!sent) {
		sent = malloc(sizeof(*sent));
		if (!sent)
			return NULL;
		*ctx = sent;
	}
	if (!len) {
		*sent = 0;
		return NULL;
	}
	if (*sent) {
		*len = 0;
		return NULL;
	}
	*sent = 1;
	*len = src->len;
	return src->data;
}

/* libesmtp leaves Nagle's algorithm on and has no socket hook: its small
 * pipelined writes then wait for the peer's delayed ACK (40 ms stalls per
 * message). On SMTP_EV_CONNECT the session's socket is the new one
 * connected to the host: it gets TCP_NODELAY. */
typedef struct conn_hint {
	int first_fd;            /* lowest fd free before the session */
	const mm4_host *host;
} conn_hint;

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

static void session_event(smtp_session_t s, int event_no, void *arg, ...)
{
	conn_hint *hint = arg;
	struct stat st;
	int fd, one = 1;

	if (event_no != SMTP_EV_CONNECT || hint->first_fd < 0)
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

static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static void set_timeouts(smtp_session_t s)
{
	long ms = (long)cpm_cfg.smtp_timeout * 1000;

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

	st = smtp_message_transfer_status(m);
	if (st && st->code >= 200 && st->code < 300) {
		outcome_set(out, st->code, st->text);
		return 1;
	}
	/* the first stage that failed tells what went wrong */
	st = smtp_reverse_path_status(m);
	if (st && st->code >= 400) {
		outcome_set(out, st->code, st->text);
		return 0;
	}
	for (i = 0; i < nrcpt; i++) {
		st = r[i] ? smtp_recipient_status(r[i]) : NULL;
		if (st && st->code >= 400) {
			outcome_set(out, st->code, st->text);
			return 0;
		}
	}
	st = smtp_message_transfer_status(m);
	if (st && st->code >= 400)
		outcome_set(out, st->code, st->text);
	else
		outcome_set(out, 0, "connection lost");
	return 0;
}

/* One session to one host carrying the mails of todo[]: libesmtp sends
 * them one after the other on the same connection, pipelining the
 * envelope when the server offers PIPELINING. */
static void send_session(const mm4_host *h, smtp_mail **todo, int n)
{
	smtp_session_t s;
	smtp_message_t m[SMTP_BATCH_MAX];
	smtp_recipient_t r[SMTP_BATCH_MAX][MAP_MAX_RCPT];
	mail_src src[SMTP_BATCH_MAX];
	conn_hint hint;
	char hostport[160];
	char err[128];
	int i, k, ok;

	host_port(h, hostport, sizeof(hostport));
	for (i = 0; i < n; i++)
		snprintf(todo[i]->out.host, sizeof(todo[i]->out.host), "%s",
				hostport);

	s = smtp_create_session();
	ok = s && smtp_set_server(s, hostport)
			&& smtp_set_hostname(s, cpm_cfg.hostname);
	for (i = 0; ok && i < n; i++) {
		src[i].data = todo[i]->data;
		src[i].len = todo[i]->len;
		m[i] = smtp_add_message(s);
		ok = m[i] && smtp_set_reverse_path(m[i], todo[i]->mail_from)
				&& smtp_set_messagecb(m[i], mail_read_cb, &src[i]);
		for (k = 0; ok && k < todo[i]->nrcpt && k < MAP_MAX_RCPT; k++)
			r[i][k] = smtp_add_recipient(m[i], todo[i]->rcpts[k]);
	}
	if (!ok) {
		for (i = 0; i < n; i++)
			outcome_set(&todo[i]->out, 0, "cannot set up SMTP session");
		if (s)
			smtp_destroy_session(s);
		return;
	}
	set_timeouts(s);
	smtp_option_require_all_recipients(s, 1);
	hint.host = h;
	hint.first_fd = lowest_free_fd();
	smtp_set_eventcb(s, session_event, &hint);

	if (!smtp_start_session(s)) {
		smtp_strerror(smtp_errno(), err, sizeof(err));
		for (i = 0; i < n; i++)
			outcome_set(&todo[i]->out, 0, err);
	} else {
		for (i = 0; i < n; i++)
			todo[i]->out.ok = message_outcome(m[i], r[i],
					todo[i]->nrcpt < MAP_MAX_RCPT ? todo[i]->nrcpt
					: MAP_MAX_RCPT, &todo[i]->out);
	}
	smtp_destroy_session(s);
}

void smtp_send_batch(const mm4_host *hosts, int nhosts, smtp_mail **mails,
		int n)
{
	smtp_mail *todo[SMTP_BATCH_MAX];
	int h, i, left;

	if (n > SMTP_BATCH_MAX)
		n = SMTP_BATCH_MAX;
	for (i = 0; i < n; i++) {
		memset(&mails[i]->out, 0, sizeof(mails[i]->out));
		outcome_set(&mails[i]->out, 0, "no MM4 host");
		todo[i] = mails[i];
	}
	left = n;
	for (h = 0; h < nhosts && left > 0; h++) {
		send_session(&hosts[h], todo, left);
		/* a permanent refusal is the answer; the next MX gets the rest */
		for (i = 0, n = left, left = 0; i < n; i++) {
			if (todo[i]->out.ok || todo[i]->out.code >= 500)
				continue;
			LM_NOTICE("MM4 host %s failed: %d %s\n", todo[i]->out.host,
					todo[i]->out.code, todo[i]->out.text);
			todo[left++] = todo[i];
		}
	}
}
