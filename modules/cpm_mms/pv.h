/*
 * cpm_mms - the $mm4(name) pseudo-variables.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_PV_H
#define CPM_MMS_PV_H

#include "core/pvar.h"

int pv_parse_mm4_name(pv_spec_p sp, str *in);
int pv_get_mm4(struct sip_msg *msg, pv_param_t *param, pv_value_t *res);
int pv_set_mm4(struct sip_msg *msg, pv_param_t *param, int op,
		pv_value_t *val);

#endif
