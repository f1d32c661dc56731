/*
 * cpm_mms - MM4 peers seen, for RPC inspection (shm).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_PEERS_H
#define CPM_MMS_PEERS_H

#include <time.h>

#define CPM_PEERS_MAX 256

typedef struct cpm_peer {
	char addr[64];              /* peer IP (in) or host:port (out) */
	unsigned long conns_in;     /* SMTP connections from it */
	unsigned long msgs_in;      /* MM4 mails from it */
	unsigned long msgs_out;     /* MM4 mails it accepted from us */
	unsigned long failures_out; /* our mails it did not take */
	char last_error[128];
	time_t last_seen;
} cpm_peer;

int peers_init(void);
void peers_destroy(void);
void peers_conn_in(const char *addr);
void peers_msg_in(const char *addr);
/* outcome of one SMTP delivery attempt to host:port */
void peers_msg_out(const char *hostport, int ok, int code, const char *text);
/* copy up to max entries; returns how many */
int peers_snapshot(cpm_peer *out, int max);

#endif
