/*
 * cpm_mms - shared TTL cache of DNS answers for MMS routing.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <time.h>

#include "core/mem/shm_mem.h"
#include "core/mem/mem.h"
#include "core/locking.h"
#include "core/hashes.h"
#include "core/dprint.h"

#include "enum_cache.h"

#define EC_BUCKETS 1024

typedef struct ec_entry {
	struct ec_entry *next;
	int type;
	int status;
	time_t expires;
	int name_len;
	int len;
	char data[]; /* name, NUL, blob */
} ec_entry;

typedef struct ec_table {
	gen_lock_t lock;
	int count;
	int max;
	ec_entry *bucket[EC_BUCKETS];
} ec_table;

static ec_table *ec = NULL;

static unsigned int ec_hash(int type, const char *name)
{
	str s;

	s.s = (char *)name;
	s.len = strlen(name);
	return (core_case_hash(&s, NULL, EC_BUCKETS) + type) % EC_BUCKETS;
}

int enum_cache_init(int max_entries)
{
	ec = shm_malloc(sizeof(*ec));
	if (!ec) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(ec, 0, sizeof(*ec));
	ec->max = max_entries;
	if (!lock_init(&ec->lock)) {
		shm_free(ec);
		ec = NULL;
		return -1;
	}
	return 0;
}

/* caller holds the lock */
static void ec_clear(void)
{
	ec_entry *e, *n;
	int i;

	for (i = 0; i < EC_BUCKETS; i++) {
		for (e = ec->bucket[i]; e; e = n) {
			n = e->next;
			shm_free(e);
		}
		ec->bucket[i] = NULL;
	}
	ec->count = 0;
}

void enum_cache_destroy(void)
{
	if (!ec)
		return;
	ec_clear();
	lock_destroy(&ec->lock);
	shm_free(ec);
	ec = NULL;
}

void enum_cache_flush(void)
{
	if (!ec)
		return;
	lock_get(&ec->lock);
	ec_clear();
	lock_release(&ec->lock);
}

int enum_cache_count(void)
{
	return ec ? ec->count : 0;
}

int enum_cache_get(int type, const char *name, int *status, char **blob,
		int *len)
{
	ec_entry **pp, *e;
	unsigned int h;
	time_t now = time(NULL);
	int nlen = strlen(name), found = 0;

	*blob = NULL;
	*len = 0;
	if (!ec || ec->max <= 0)
		return 0;
	h = ec_hash(type, name);
	lock_get(&ec->lock);
	for (pp = &ec->bucket[h]; *pp;) {
		e = *pp;
		if (e->expires <= now) {
			/* drop stale entries on the way */
			*pp = e->next;
			ec->count--;
			shm_free(e);
			continue;
		}
		if (e->type == type && e->name_len == nlen
				&& strcasecmp(e->data, name) == 0) {
			*status = e->status;
			if (e->len > 0) {
				*blob = pkg_malloc(e->len);
				if (*blob)
					memcpy(*blob, e->data + nlen + 1, e->len);
			}
			if (e->len == 0 || *blob) {
				*len = e->len;
				found = 1;
			}
			break;
		}
		pp = &e->next;
	}
	lock_release(&ec->lock);
	return found;
}

void enum_cache_put(int type, const char *name, int status,
		unsigned int ttl, const char *blob, int len)
{
	ec_entry **pp, *e, *ne;
	unsigned int h;
	int nlen = strlen(name);

	if (!ec || ec->max <= 0 || ttl == 0 || len < 0)
		return;
	ne = shm_malloc(sizeof(*ne) + nlen + 1 + len);
	if (!ne)
		return; /* caching is an optimisation: no memory, no cache */
	memset(ne, 0, sizeof(*ne));
	ne->type = type;
	ne->status = status;
	ne->expires = time(NULL) + ttl;
	ne->name_len = nlen;
	ne->len = len;
	memcpy(ne->data, name, nlen + 1);
	if (len)
		memcpy(ne->data + nlen + 1, blob, len);
	h = ec_hash(type, name);
	lock_get(&ec->lock);
	/* replace an older answer for the same name */
	for (pp = &ec->bucket[h]; *pp; pp = &(*pp)->next) {
		e = *pp;
		if (e->type == type && e->name_len == nlen
				&& strcasecmp(e->data, name) == 0) {
			*pp = e->next;
			ec->count--;
			shm_free(e);
			break;
		}
	}
	if (ec->count >= ec->max) {
		/* full: sweep what has expired before giving up (rare, O(n)) */
		time_t now = time(NULL);
		int i;

		for (i = 0; i < EC_BUCKETS; i++) {
			for (pp = &ec->bucket[i]; *pp;) {
				e = *pp;
				if (e->expires <= now) {
					*pp = e->next;
					ec->count--;
					shm_free(e);
				} else {
					pp = &e->next;
				}
			}
		}
	}
	if (ec->count >= ec->max) {
		lock_release(&ec->lock);
		shm_free(ne);
		return;
	}
	ne->next = ec->bucket[h];
	ec->bucket[h] = ne;
	ec->count++;
	lock_release(&ec->lock);
}
