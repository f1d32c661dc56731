/*
 * cpm_mms - dates of CPIM (ISO 8601 / RFC 3339) and of mail (RFC 5322).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_RFCDATE_H
#define CPM_MMS_RFCDATE_H

#include <time.h>
#include "cm_str.h"

/* ISO 8601 / RFC 3339 (CPIM DateTime) -> time_t; 0 / -1 */
int rfcdate_parse_iso8601(cm_str v, time_t *t);
/* RFC 5322 / RFC 1123 date ("Tue, 24 Nov 2026 17:10:02 GMT" or +hhmm) */
int rfcdate_parse_rfc5322(cm_str v, time_t *t);
/* "2026-11-24T17:10:02Z", out >= 32 bytes; returns length */
int rfcdate_format_iso8601(time_t t, char *out);

#endif
