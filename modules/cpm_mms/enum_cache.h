/*
 * cpm_mms - shared TTL cache of the DNS answers the MMS routing needs
 * (NAPTR, MX, and A/AAAA on the enum_server path).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Shared by every process, so one name is queried at most once per TTL
 * however many MM4 workers there are. Entries are opaque blobs written by
 * enum_resolve.c; negative answers are kept for dns_negative_ttl. */
#ifndef CPM_MMS_ENUM_CACHE_H
#define CPM_MMS_ENUM_CACHE_H

int enum_cache_init(int max_entries);
void enum_cache_destroy(void);
/* 1 and a pkg copy of the blob in *blob (caller pkg_frees), 0 on a miss */
int enum_cache_get(int type, const char *name, int *status, char **blob,
		int *len);
void enum_cache_put(int type, const char *name, int status,
		unsigned int ttl, const char *blob, int len);
void enum_cache_flush(void);
int enum_cache_count(void);

#endif
