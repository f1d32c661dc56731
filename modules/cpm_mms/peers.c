/*
 * cpm_mms - MM4 peers seen, for RPC inspection (shm).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "core/mem/shm_mem.h"
#include "core/locking.h"
#include "core/dprint.h"

#include "peers.h"

typedef struct peers_table {
	gen_lock_t lock;
	int n;
	cpm_peer p[CPM_PEERS_MAX];
} peers_table;

static peers_table *peers = NULL;

int peers_init(void)
{
	peers = shm_malloc(sizeof(*peers));
	if (!peers) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(peers, 0, sizeof(*peers));
	if (!lock_init(&peers->lock)) {
		shm_free(peers);
		peers = NULL;
		return -1;
	}
	return 0;
}

void peers_destroy(void)
{
	if (peers) {
		lock_destroy(&peers->lock);
		shm_free(peers);
		peers = NULL;
	}
}

/* caller holds the lock; when full, the least recently seen entry goes */
static cpm_peer *peer_get(const char *addr)
{
	int i, oldest = 0;

	for (i = 0; i < peers->n; i++) {
		if (strcmp(peers->p[i].addr, addr) == 0)
			return &peers->p[i];
		if (peers->p[i].last_seen < peers->p[oldest].last_seen)
			oldest = i;
	}
	i = peers->n < CPM_PEERS_MAX ? peers->n++ : oldest;
	memset(&peers->p[i], 0, sizeof(peers->p[i]));
	snprintf(peers->p[i].addr, sizeof(peers->p[i].addr), "%s", addr);
	return &peers->p[i];
}

void peers_conn_in(const char *addr)
{
	cpm_peer *p;

	if (!peers)
		return;
	lock_get(&peers->lock);
	p = peer_get(addr);
	p->conns_in++;
	p->last_seen = time(NULL);
	lock_release(&peers->lock);
}

void peers_msg_in(const char *addr)
{
	cpm_peer *p;

	if (!peers)
		return;
	lock_get(&peers->lock);
	p = peer_get(addr);
	p->msgs_in++;
	p->last_seen = time(NULL);
	lock_release(&peers->lock);
}

void peers_msg_out(const char *hostport, int ok, int code, const char *text)
{
	cpm_peer *p;

	if (!peers)
		return;
	lock_get(&peers->lock);
	p = peer_get(hostport);
	if (ok) {
		p->msgs_out++;
	} else {
		p->failures_out++;
		snprintf(p->last_error, sizeof(p->last_error), "%d %s", code,
				text ? text : "");
	}
	p->last_seen = time(NULL);
	lock_release(&peers->lock);
}

int peers_snapshot(cpm_peer *out, int max)
{
	int n;

	if (!peers)
		return 0;
	lock_get(&peers->lock);
	n = peers->n < max ? peers->n : max;
	memcpy(out, peers->p, n * sizeof(cpm_peer));
	lock_release(&peers->lock);
	return n;
}
