/*
 * cpm_mms - pending table of suspended MESSAGE transactions.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/mem/shm_mem.h"
#include "core/locking.h"
#include "core/dprint.h"
#include "core/hashes.h"

#include "pending.h"
#include "mapping.h"

#define PENDING_BUCKETS 4096

typedef struct pending_table {
	gen_lock_t lock;
	int count;
	int peak;
	int max;
	/* every entry, earliest deadline first */
	pending_entry *dl_head;
	pending_entry *dl_tail;
	pending_entry *bucket[PENDING_BUCKETS];
} pending_table;

static pending_table *ptab = NULL;

long long pending_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned int pending_hash(const char *tid, int len)
{
	str s;

	s.s = (char *)tid;
	s.len = len;
	return core_case_hash(&s, NULL, PENDING_BUCKETS);
}

int pending_init(int max_entries)
{
	ptab = shm_malloc(sizeof(*ptab));
	if (!ptab) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(ptab, 0, sizeof(*ptab));
	ptab->max = max_entries;
	if (!lock_init(&ptab->lock)) {
		shm_free(ptab);
		ptab = NULL;
		return -1;
	}
	return 0;
}

void pending_destroy(void)
{
	int i;
	pending_entry *e, *n;

	if (!ptab)
		return;
	for (i = 0; i < PENDING_BUCKETS; i++) {
		for (e = ptab->bucket[i]; e; e = n) {
			n = e->next;
			shm_free(e);
		}
	}
	lock_destroy(&ptab->lock);
	shm_free(ptab);
	ptab = NULL;
}

/* caller holds the lock. From the tail: the entries come with the same
 * timeout, in order, unless res_timeout changed at runtime */
static void deadline_insert(pending_entry *e)
{
	pending_entry *p = ptab->dl_tail;

	while (p && p->deadline_ms > e->deadline_ms)
		p = p->dl_prev;
	e->dl_prev = p;
	e->dl_next = p ? p->dl_next : ptab->dl_head;
	if (e->dl_next)
		e->dl_next->dl_prev = e;
	else
		ptab->dl_tail = e;
	if (p)
		p->dl_next = e;
	else
		ptab->dl_head = e;
}

/* caller holds the lock */
static void deadline_remove(pending_entry *e)
{
	if (e->dl_prev)
		e->dl_prev->dl_next = e->dl_next;
	else
		ptab->dl_head = e->dl_next;
	if (e->dl_next)
		e->dl_next->dl_prev = e->dl_prev;
	else
		ptab->dl_tail = e->dl_prev;
	e->dl_prev = e->dl_next = NULL;
}

/* caller holds the lock */
static pending_entry **pending_find(const char *tid, int len)
{
	pending_entry **pp;

	pp = &ptab->bucket[pending_hash(tid, len)];
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->tid_len == len && memcmp((*pp)->tid, tid, len) == 0)
			return pp;
	}
	return NULL;
}

int pending_add(const char *tid, unsigned int t_hash, unsigned int t_label,
		const char *recipient, const char *mms_message_id, cm_str callid,
		cm_str imdn_id, int timeout_ms)
{
	pending_entry *e;
	unsigned int h;
	int len = strlen(tid);

	if (len >= PENDING_TID_MAX)
		return -1;
	e = shm_malloc(sizeof(*e));
	if (!e) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->tid, tid, len);
	e->tid_len = len;
	e->t_hash = t_hash;
	e->t_label = t_label;
	e->state = PENDING_QUEUED;
	e->created_ms = pending_now_ms();
	e->deadline_ms = e->created_ms + timeout_ms;
	if (recipient)
		strncpy(e->recipient, recipient, sizeof(e->recipient) - 1);
	if (mms_message_id)
		strncpy(e->mms_message_id, mms_message_id,
				sizeof(e->mms_message_id) - 1);
	/* for the INFO line only; a longer id is cut */
	if (is_printable(L_INFO)) {
		snprintf(e->callid, sizeof(e->callid), "%.*s",
				callid.s ? callid.len : 0, callid.s ? callid.s : "");
		snprintf(e->imdn_id, sizeof(e->imdn_id), "%.*s",
				imdn_id.s ? imdn_id.len : 0, imdn_id.s ? imdn_id.s : "");
	}
	h = pending_hash(tid, len);

	lock_get(&ptab->lock);
	if (ptab->count >= ptab->max) {
		lock_release(&ptab->lock);
		shm_free(e);
		LM_WARN("pending table full (%d transactions)\n", ptab->max);
		return -1;
	}
	e->next = ptab->bucket[h];
	ptab->bucket[h] = e;
	deadline_insert(e);
	ptab->count++;
	if (ptab->count > ptab->peak)
		ptab->peak = ptab->count;
	lock_release(&ptab->lock);
	return 0;
}

int pending_set_state(const char *tid, pending_state st, int nreq,
		const char *mmsc)
{
	pending_entry **pp;
	int ret = -1;

	lock_get(&ptab->lock);
	pp = pending_find(tid, strlen(tid));
	if (pp) {
		(*pp)->state = st;
		if (nreq > 0)
			(*pp)->nreq = nreq;
		if (mmsc)
			strncpy((*pp)->mmsc, mmsc, sizeof((*pp)->mmsc) - 1);
		ret = 0;
	}
	lock_release(&ptab->lock);
	return ret;
}

/* caller holds the lock */
static pending_entry *pending_unlink(pending_entry **pp)
{
	pending_entry *e = *pp;

	*pp = e->next;
	e->next = NULL;
	deadline_remove(e);
	ptab->count--;
	return e;
}

pending_entry *pending_record(const char *tid, int n, int code,
		const char *reason, int *known)
{
	pending_entry **pp, *e;
	pending_entry *done = NULL;

	*known = 0;
	if (n < 1 || n > 32)
		return NULL;
	lock_get(&ptab->lock);
	pp = pending_find(tid, strlen(tid));
	if (pp) {
		e = *pp;
		*known = 1;
		if ((e->nreq == 0 || n <= e->nreq)
				&& !(e->res_seen & (1u << (n - 1)))) {
			e->res_seen |= 1u << (n - 1);
			e->nres++;
			if (e->nres == 1 || map_sip_rank(code) > map_sip_rank(e->code)) {
				e->code = code;
				strncpy(e->reason, reason ? reason : "",
						sizeof(e->reason) - 1);
				e->reason[sizeof(e->reason) - 1] = '\0';
			}
			if (e->nreq > 0 && e->nres >= e->nreq)
				done = pending_unlink(pp);
		}
	}
	lock_release(&ptab->lock);
	return done;
}

int pending_message_id(const char *tid, char *out, int size)
{
	pending_entry **pp;
	int ret = -1;

	lock_get(&ptab->lock);
	pp = pending_find(tid, strlen(tid));
	if (pp && (*pp)->mms_message_id[0]) {
		snprintf(out, size, "%s", (*pp)->mms_message_id);
		ret = 0;
	}
	lock_release(&ptab->lock);
	return ret;
}

pending_entry *pending_take(const char *tid)
{
	pending_entry **pp;
	pending_entry *e = NULL;

	lock_get(&ptab->lock);
	pp = pending_find(tid, strlen(tid));
	if (pp)
		e = pending_unlink(pp);
	lock_release(&ptab->lock);
	return e;
}

pending_entry *pending_expire(long long now_ms)
{
	pending_entry **pp, *list = NULL, **last = &list, *e;

	lock_get(&ptab->lock);
	while ((e = ptab->dl_head) && e->deadline_ms <= now_ms) {
		pp = pending_find(e->tid, e->tid_len);
		if (!pp) {
			/* not in the table: a bug; never loop on it */
			LM_BUG("pending %.*s on the deadline list only\n", e->tid_len,
					e->tid);
			deadline_remove(e);
			continue;
		}
		pending_unlink(pp);
		/* in deadline order */
		*last = e;
		last = &e->next;
	}
	lock_release(&ptab->lock);
	return list;
}

void pending_free(pending_entry *e)
{
	if (e)
		shm_free(e);
}

int pending_snapshot(pending_entry *out, int max)
{
	pending_entry *e;
	int i, n = 0;

	lock_get(&ptab->lock);
	for (i = 0; i < PENDING_BUCKETS && n < max; i++) {
		for (e = ptab->bucket[i]; e && n < max; e = e->next) {
			out[n] = *e;
			out[n].next = out[n].dl_prev = out[n].dl_next = NULL;
			n++;
		}
	}
	lock_release(&ptab->lock);
	return n;
}

int pending_count(void)
{
	return ptab ? ptab->count : 0;
}

int pending_peak(void)
{
	return ptab ? ptab->peak : 0;
}

int pending_split_tid(const char *s, int len, char *base, int basesize,
		int *n)
{
	int i, v = 0, digits = 0;

	for (i = len - 1; i >= 0 && s[i] >= '0' && s[i] <= '9'; i--) {
		digits++;
		if (digits > 3)
			return -1;
	}
	if (digits == 0 || i <= 0 || s[i] != '-' || i >= basesize)
		return -1;
	for (int j = i + 1; j < len; j++)
		v = v * 10 + (s[j] - '0');
	memcpy(base, s, i);
	base[i] = '\0';
	*n = v;
	return 0;
}
