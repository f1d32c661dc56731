/*
 * cpm_mms - sending MM4 mails with libesmtp, with MX failover.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_SMTP_CLIENT_H
#define CPM_MMS_SMTP_CLIENT_H

#include "enum_resolve.h"
#include "settings.h"

typedef struct smtp_outcome {
	int ok;            /* 1: the last host took the mail (250 after DATA) */
	int code;          /* SMTP code of the failure; 0 = no connection */
	char text[128];    /* server text or local error */
	char host[160];    /* host:port that gave the outcome */
} smtp_outcome;

#define SMTP_BATCH_MAX CPM_MMS_BATCH_MAX

typedef struct smtp_mail {
	const char *mail_from;
	const char **rcpts;  /* mailboxes */
	int nrcpt;
	const char *data;    /* the whole mail, CRLF lines */
	int len;
	smtp_outcome out;    /* filled by smtp_send_batch() */
} smtp_mail;

/* Asked when the last mail of the first host's session went through:
 * the outcomes of the session's mails so far are filled in; returns up to
 * max more mails for the same hosts in more[], which the session carries
 * on the same connection, or 0 to end it (QUIT). */
typedef int (*smtp_more_fn)(void *arg, smtp_mail **more, int max);

/* Deliver up to SMTP_BATCH_MAX mails bound for the same hosts: one SMTP
 * session per host tried, carrying every mail not yet settled. A mail a
 * host cannot take (no connection, 4xx) goes on to the next host; a 5xx
 * is its final answer. With more != NULL the first session may grow to
 * SMTP_BATCH_MAX mails (see smtp_more_fn); mails[] must have room. */
int smtp_send_batch(const mm4_host *hosts, int nhosts, smtp_mail **mails,
		int n, smtp_more_fn more, void *more_arg);

#endif
