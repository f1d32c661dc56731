/*
 * cpm_mms - sending MM4 mails with libesmtp, with MX failover.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* one host: 1 delivered, 0 failed (outcome filled) */
static int send_one(const mm4_host *h, const char *mail_from,
		const char **rcpts, int nrcpt, mail_src *src, smtp_outcome *out)
{
	smtp_session_t s;
	smtp_message_t m;
	smtp_recipient_t r[MAP_MAX_RCPT];
	const smtp_status_t *st;
	char hostport[160];
	char err[128];
	int i, ok = 0;

	if (strchr(h->ip, ':'))
		snprintf(hostport, sizeof(hostport), "[%s]:%d", h->ip, h->port);
	else
		snprintf(hostport, sizeof(hostport), "%s:%d", h->ip, h->port);
	snprintf(out->host, sizeof(out->host), "%s", hostport);

	s = smtp_create_session();
	if (!s) {
		outcome_set(out, 0, "cannot create SMTP session");
		return 0;
	}
	m = smtp_add_message(s);
	if (!m || !smtp_set_server(s, hostport)
			|| !smtp_set_hostname(s, cpm_cfg.hostname)
			|| !smtp_set_reverse_path(m, mail_from)
			|| !smtp_set_messagecb(m, mail_read_cb, src)) {
		outcome_set(out, 0, "cannot set up SMTP session");
		smtp_destroy_session(s);
		return 0;
	}
	set_timeouts(s);
	smtp_option_require_all_recipients(s, 1);
	for (i = 0; i < nrcpt && i < MAP_MAX_RCPT; i++)
		r[i] = smtp_add_recipient(m, rcpts[i]);

	if (!smtp_start_session(s)) {
		smtp_strerror(smtp_errno(), err, sizeof(err));
		outcome_set(out, 0, err);
		smtp_destroy_session(s);
		return 0;
	}
	st = smtp_message_transfer_status(m);
	if (st && st->code >= 200 && st->code < 300) {
		outcome_set(out, st->code, st->text);
		ok = 1;
		goto done;
	}
	/* the first stage that failed tells what went wrong */
	st = smtp_reverse_path_status(m);
	if (st && st->code >= 400) {
		outcome_set(out, st->code, st->text);
		goto done;
	}
	for (i = 0; i < nrcpt && i < MAP_MAX_RCPT; i++) {
		st = r[i] ? smtp_recipient_status(r[i]) : NULL;
		if (st && st->code >= 400) {
			outcome_set(out, st->code, st->text);
			goto done;
		}
	}
	st = smtp_message_transfer_status(m);
	if (st && st->code >= 400)
		outcome_set(out, st->code, st->text);
	else
		outcome_set(out, 0, "connection lost");
done:
	smtp_destroy_session(s);
	return ok;
}

int smtp_send_mail(const mm4_host *hosts, int nhosts, const char *mail_from,
		const char **rcpts, int nrcpt, const char *data, int len,
		smtp_outcome *out)
{
	mail_src src;
	int i;

	memset(out, 0, sizeof(*out));
	src.data = data;
	src.len = len;
	outcome_set(out, 0, "no MM4 host");
	for (i = 0; i < nhosts; i++) {
		if (send_one(&hosts[i], mail_from, rcpts, nrcpt, &src, out)) {
			out->ok = 1;
			return 0;
		}
		LM_NOTICE("MM4 host %s failed: %d %s\n", out->host, out->code,
				out->text);
		/* a permanent refusal is the answer; try the next MX otherwise */
		if (out->code >= 500)
			break;
	}
	return -1;
}
