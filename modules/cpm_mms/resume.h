/*
 * cpm_mms - answering a suspended MESSAGE transaction through tm.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_RESUME_H
#define CPM_MMS_RESUME_H

/* builds the internal action run by t_continue; call from mod_init */
int resume_init(void);
/* resume (hash, label) and send 'code reason' with optional extra header
 * lines (each ending in CRLF); 0, or -1 when tm no longer has it */
int resume_transaction(unsigned int t_hash, unsigned int t_label, int code,
		const char *reason, const char *extra_hdrs);

#endif
