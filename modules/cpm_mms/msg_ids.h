/*
 * cpm_mms - ids derived from a unique token: name-based UUIDs (RFC 9562
 * version 8) and 128-bit hex ids, different per salt.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MSG_IDS_H
#define CPM_MMS_MSG_IDS_H

#include "cm_str.h"

#define IDS_UUID_LEN 36
#define IDS_HEX128_LEN 32

/* a UUID (version 8, variant RFC 9562) from unique and salt; out holds at
 * least IDS_UUID_LEN + 1 bytes */
void ids_uuid(const char *salt, cm_str unique, char *out);
/* 32 lower-case hex digits from unique and salt; out holds at least
 * IDS_HEX128_LEN + 1 bytes */
void ids_hex128(const char *salt, cm_str unique, char *out);

#endif
