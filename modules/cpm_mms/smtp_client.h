/*
 * cpm_mms - sending MM4 mails with libesmtp, with MX failover.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_SMTP_CLIENT_H
#define CPM_MMS_SMTP_CLIENT_H

#include "enum_resolve.h"

typedef struct smtp_outcome {
	int ok;            /* 1: the last host took the mail (250 after DATA) */
	int code;          /* SMTP code of the failure; 0 = no connection */
	char text[128];    /* server text or local error */
	char host[160];    /* host:port that gave the outcome */
} smtp_outcome;

/* Try the hosts in order: a host that cannot be reached or answers 4xx is
 * skipped for the next one; a 5xx is final. rcpts are mailboxes. */
int smtp_send_mail(const mm4_host *hosts, int nhosts, const char *mail_from,
		const char **rcpts, int nrcpt, const char *data, int len,
		smtp_outcome *out);

#endif
