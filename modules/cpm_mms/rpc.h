/*
 * cpm_mms - RPC commands (kamcmd, kamcli, kamctl rpc).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_RPC_H
#define CPM_MMS_RPC_H

#include "core/rpc.h"

extern rpc_export_t cpm_mms_rpc_cmds[];

#endif
