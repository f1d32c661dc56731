/*
 * cpm_mms - the recipients of a URI-list request: resource-lists documents
 * (RFC 4826) with RFC 5364 copy control.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_RESOURCE_LISTS_H
#define CPM_MMS_RESOURCE_LISTS_H

#include "cm_str.h"

/* one <entry> of a resource-lists document (RFC 4826) with its RFC 5364
 * copy control attributes */
#define RL_COPY_TO 0
#define RL_COPY_CC 1
#define RL_COPY_BCC 2
#define RL_MAX_ENTRIES 128
typedef struct rl_entry {
	cm_str uri;      /* raw attribute value (xml_decode() gives the URI) */
	int copy;        /* RL_COPY_*; copyControl absent: RL_COPY_TO */
	int anonymize;   /* cp:anonymize="true" */
} rl_entry;
/* collect the <entry> elements (resource-lists namespace, or none) that
 * have a uri attribute; copyControl and anonymize in the copycontrol
 * namespace (or none). Returns their count, or -1 when the document is not
 * well formed (xml_scan.h), a copyControl is not to/cc/bcc, an anonymize
 * not a boolean, or there are more than max entries */
int resource_list_entries(cm_str xml, rl_entry *out, int max);

#endif
