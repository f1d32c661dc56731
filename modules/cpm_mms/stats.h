/*
 * cpm_mms - statistics through Kamailio's counters API, group "cpm_mms".
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_STATS_H
#define CPM_MMS_STATS_H

typedef enum cpm_stat {
	CPM_ST_MESSAGES_IN = 0,  /* MESSAGEs taken by cpm_mms_forward() */
	CPM_ST_LOCAL_REJECTS,    /* MESSAGEs refused before any MM4 work */
	CPM_ST_MM4_REQ_SENT,     /* MM4_forward.REQ accepted by a peer */
	CPM_ST_RES_OK,           /* MM4_forward.RES Ok */
	CPM_ST_RES_TRANSIENT,    /* network-problem / Error-transient-* */
	CPM_ST_RES_PERMANENT,    /* every other error status */
	CPM_ST_RES_UNMATCHED,    /* RES for no waiting MESSAGE */
	CPM_ST_TIMEOUTS,         /* MESSAGEs answered by the res_timeout */
	CPM_ST_SMTP_FAILURES,    /* REQs no MMSC took */
	CPM_ST_DNS_FAILURES,     /* recipients with no usable MMS route */
	CPM_ST_MM4_IN,           /* MM4 mails received on the listener */
	CPM_ST_MM4_REFUSED,      /* connections/mails refused */
	CPM_ST_MM4_REQ_IN,       /* MM4_forward.REQs received */
	CPM_ST_MM4_DUPLICATES,   /* of those, repeats of one already taken */
	CPM_ST_MESSAGES_OUT,     /* MESSAGEs sent towards CPM */
	CPM_ST_RES_SENT,         /* MM4_forward.RESs queued to peers */
	CPM_ST_REPORTS_IN,       /* MM4 delivery/read reports received */
	CPM_ST_REPORTS_OUT,      /* MM4 delivery/read reports sent */
	CPM_ST_IMDN_IN,          /* IMDNs taken by cpm_mms_report() */
	CPM_ST_IMDN_OUT,         /* IMDNs the CPM side accepted */
	CPM_ST_DNS_QUERIES,      /* routing DNS questions sent */
	CPM_ST_DNS_CACHE_HITS,   /* routing DNS answers from the TTL cache */
	CPM_ST_COUNT
} cpm_stat;

int stats_init(void);      /* mod_init */
void stats_inc(cpm_stat s);
unsigned long stats_get(cpm_stat s);
const char *stats_name(cpm_stat s);

#endif
