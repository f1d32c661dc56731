/*
 * cpm_mms - a map_result made self-contained: the mapped CPM -> MMS
 * request as one block that another process can use (map once: the SIP
 * worker maps, the MM4 worker sends).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_MAP_FLAT_H
#define CPM_MMS_MAP_FLAT_H

#include "mapping.h"

/* bytes map_flat_copy() needs for the strings of mr that point outside it
 * (into the request, the CPIM body, the settings) */
int map_flat_size(const map_result *mr);
/* *dst = *mr with every string in dst itself or in data (map_flat_size(mr)
 * bytes): a string inside mr points into dst, a string inside one copied
 * before shares its copy (the payload is copied once) */
void map_flat_copy(const map_result *mr, map_result *dst, char *data);

#endif
