/*
 * cpm_mms - inbound MM4_forward.REQs: duplicate detection and one RES per
 * REQ (worst recipient status wins).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "core/mem/shm_mem.h"
#include "core/locking.h"
#include "core/hashes.h"
#include "core/dprint.h"

#include "mapping.h"
#include "inbound.h"
#include "settings.h"

static int cpm_dedup_half(void)
{
	return cpm_get(dedup_time) / 2;
}

#define INBOUND_BUCKETS 1024

typedef struct inbound_entry {
	struct inbound_entry *next;
	char key[INBOUND_KEY_MAX];
	inbound_res res;
	int nrcpt;
	int ndone;
	unsigned int seen;   /* bit idx set once recipient idx has an outcome */
	int done;
	time_t keep_until;   /* for done entries */
	int keep_s;
} inbound_entry;

typedef struct inbound_table {
	gen_lock_t lock;
	int count;
	int max;
	inbound_entry *bucket[INBOUND_BUCKETS];
} inbound_table;

static inbound_table *itab = NULL;

static unsigned int inbound_hash(const char *key)
{
	str s;

	s.s = (char *)key;
	s.len = strlen(key);
	return core_case_hash(&s, NULL, INBOUND_BUCKETS);
}

int inbound_init(int max_entries)
{
	itab = shm_malloc(sizeof(*itab));
	if (!itab) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(itab, 0, sizeof(*itab));
	itab->max = max_entries;
	if (!lock_init(&itab->lock)) {
		shm_free(itab);
		itab = NULL;
		return -1;
	}
	return 0;
}

void inbound_destroy(void)
{
	inbound_entry *e, *n;
	int i;

	if (!itab)
		return;
	for (i = 0; i < INBOUND_BUCKETS; i++) {
		for (e = itab->bucket[i]; e; e = n) {
			n = e->next;
			shm_free(e);
		}
	}
	lock_destroy(&itab->lock);
	shm_free(itab);
	itab = NULL;
}

/* caller holds the lock */
static inbound_entry *inbound_find(const char *key, unsigned int h)
{
	inbound_entry *e;

	for (e = itab->bucket[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* caller holds the lock. The table is full: drop answered entries, the
 * older half of their remembering window first (a repeat that old is
 * unlikely, and refusing new REQs is worse); O(n), only when full. */
static void inbound_make_room(void)
{
	inbound_entry **pp, *e;
	time_t now = time(NULL), cut;
	int i, pass;

	for (pass = 0; pass < 2 && itab->count >= itab->max; pass++) {
		cut = pass == 0 ? now + cpm_dedup_half() : (time_t)0x7fffffff;
		for (i = 0; i < INBOUND_BUCKETS; i++) {
			pp = &itab->bucket[i];
			while (*pp) {
				e = *pp;
				if (e->done && e->keep_until <= cut) {
					*pp = e->next;
					itab->count--;
					shm_free(e);
				} else {
					pp = &e->next;
				}
			}
		}
	}
}

inbound_state inbound_begin(const char *key, const inbound_res *info,
		int nrcpt, int keep_s, inbound_res *res)
{
	unsigned int h = inbound_hash(key);
	inbound_entry *e;
	inbound_state st;

	if (strlen(key) >= INBOUND_KEY_MAX || nrcpt < 1
			|| nrcpt > INBOUND_MAX_RCPT)
		return INBOUND_FULL;
	lock_get(&itab->lock);
	e = inbound_find(key, h);
	if (e) {
		if (e->done) {
			*res = e->res;
			res->copies = 1;
			st = INBOUND_DONE;
		} else {
			e->res.copies++;
			st = INBOUND_IN_PROGRESS;
		}
		lock_release(&itab->lock);
		return st;
	}
	if (itab->count >= itab->max)
		inbound_make_room();
	if (itab->count >= itab->max) {
		lock_release(&itab->lock);
		return INBOUND_FULL;
	}
	e = shm_malloc(sizeof(*e));
	if (!e) {
		lock_release(&itab->lock);
		SHM_MEM_ERROR;
		return INBOUND_FULL;
	}
	memset(e, 0, sizeof(*e));
	strcpy(e->key, key);
	e->res = *info;
	e->res.copies = 1;
	e->res.status[0] = '\0';
	e->nrcpt = nrcpt;
	e->keep_s = keep_s;
	e->next = itab->bucket[h];
	itab->bucket[h] = e;
	itab->count++;
	lock_release(&itab->lock);
	return INBOUND_NEW;
}

int inbound_outcome(const char *key, int idx, const char *status,
		const char *status_text, inbound_res *res)
{
	unsigned int h = inbound_hash(key);
	inbound_entry *e;
	int ret = 0;

	if (idx < 0 || idx >= INBOUND_MAX_RCPT)
		return -1;
	lock_get(&itab->lock);
	e = inbound_find(key, h);
	if (!e || e->done) {
		lock_release(&itab->lock);
		return -1;
	}
	if (!(e->seen & (1u << idx))) {
		e->seen |= 1u << idx;
		e->ndone++;
		if (!e->res.status[0]
				|| map_res_status_rank(status)
					> map_res_status_rank(e->res.status)) {
			snprintf(e->res.status, sizeof(e->res.status), "%s", status);
			snprintf(e->res.status_text, sizeof(e->res.status_text), "%s",
					status_text ? status_text : "");
		}
		if (e->ndone >= e->nrcpt) {
			e->done = 1;
			e->keep_until = time(NULL) + e->keep_s;
			*res = e->res;
			e->res.copies = 1; /* later duplicates get one copy each */
			ret = 1;
		}
	}
	lock_release(&itab->lock);
	return ret;
}

void inbound_forget(const char *key)
{
	unsigned int h = inbound_hash(key);
	inbound_entry **pp, *e;

	lock_get(&itab->lock);
	for (pp = &itab->bucket[h]; (e = *pp) != NULL; pp = &e->next) {
		if (!e->done && strcmp(e->key, key) == 0) {
			*pp = e->next;
			itab->count--;
			shm_free(e);
			break;
		}
	}
	lock_release(&itab->lock);
}

void inbound_expire(time_t now)
{
	inbound_entry **pp, *e;
	int i;

	lock_get(&itab->lock);
	if (itab->count == 0) {
		lock_release(&itab->lock);
		return;
	}
	for (i = 0; i < INBOUND_BUCKETS; i++) {
		pp = &itab->bucket[i];
		while (*pp) {
			e = *pp;
			if (e->done && e->keep_until <= now) {
				*pp = e->next;
				itab->count--;
				shm_free(e);
			} else {
				pp = &e->next;
			}
		}
	}
	lock_release(&itab->lock);
}

int inbound_max(void)
{
	return itab ? itab->max : 0;
}

int inbound_count(void)
{
	return itab ? itab->count : 0;
}
