/*
 * cpm_mms - the mapped CPM -> MMS request as the MM4 worker needs it.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "map_flat.h"

#define FWD_MAX_FIELDS (20 + 2 * 32 + MAP_MAX_RCPT + CPIM_MAX_RCPT)
#define FWD_ALIGN (sizeof(void *))

static int add_fields(cm_str **f, int n, cm_str *v, int count)
{
	int i;

	for (i = 0; i < count; i++)
		f[n++] = &v[i];
	return n;
}

static int list_fields(map_fwd *v, cm_str **f)
{
	mm4_forward_req *r = &v->req;
	int n = 0;

	f[n++] = &r->version;
	f[n++] = &r->transaction_id;
	f[n++] = &r->message_id;
	n = add_fields(f, n, r->to, r->nto);
	n = add_fields(f, n, r->cc, r->ncc);
	f[n++] = &r->from;
	f[n++] = &r->priority;
	f[n++] = &r->message_class;
	f[n++] = &r->subject;
	f[n++] = &r->originator_system;
	f[n++] = &r->rfc822_message_id;
	f[n++] = &r->content_type;
	f[n++] = &r->content_transfer_encoding;
	f[n++] = &r->body;
	f[n++] = &v->sender_addr;
	f[n++] = &v->message_id;
	f[n++] = &v->imdn_message_id;
	f[n++] = &v->cpm_to;
	f[n++] = &v->cpim_from;
	f[n++] = &v->cpim_datetime;
	n = add_fields(f, n, v->rcpt_e164, v->nrcpt);
	n = add_fields(f, n, v->record_route, v->nrecord_route);
	return n;
}

/* v as a view of mr: its strings still point into mr and what mr points
 * to; the lists are rcpt[] and rr[] */
static void view(const map_result *mr, map_fwd *v, cm_str *rcpt, cm_str *rr)
{
	int i;

	memset(v, 0, sizeof(*v));
	v->req = mr->req;
	v->sender_addr = cm_str_z(mr->sender_addr);
	v->message_id = cm_str_z(mr->message_id);
	v->imdn_message_id = mr->imdn_message_id;
	v->cpm_to = mr->cpm_to;
	v->cpim_from = mr->cpim.from;
	v->cpim_datetime = mr->cpim.datetime;
	v->dispositions = mr->dispositions;
	v->nrcpt = mr->nrcpt;
	v->nrecord_route = mr->cpim.nrecord_route;
	memcpy(v->rcpt_copy, mr->rcpt_copy, sizeof(v->rcpt_copy));
	for (i = 0; i < v->nrcpt; i++)
		rcpt[i] = cm_str_z(mr->rcpt_e164[i]);
	for (i = 0; i < v->nrecord_route; i++)
		rr[i] = mr->cpim.imdn_record_route[i];
	v->rcpt_e164 = rcpt;
	v->record_route = rr;
}

/* Every string of v, longest first, copied to strings unless it lies
 * inside one copied before (the payload before its parts). With strings
 * NULL, only counted. Returns the bytes used. */
static int place(map_fwd *v, char *strings)
{
	cm_str *f[FWD_MAX_FIELDS];
	const char *orig[FWD_MAX_FIELDS];
	int order[FWD_MAX_FIELDS];
	int n, i, j, k, pos = 0;

	n = list_fields(v, f);
	for (i = 0; i < n; i++) {
		orig[i] = f[i]->s;
		for (j = i; j > 0 && f[order[j - 1]]->len < f[i]->len; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (k = 0; k < n; k++) {
		i = order[k];
		if (!orig[i]) {
			f[i]->len = 0;
			continue;
		}
		for (j = 0; j < k; j++) {
			int c = order[j];

			if (orig[c] && orig[i] >= orig[c]
					&& orig[i] + f[i]->len <= orig[c] + f[c]->len) {
				f[i]->s = f[c]->s + (orig[i] - orig[c]);
				break;
			}
		}
		if (j < k)
			continue;
		if (strings) {
			memcpy(strings + pos, orig[i], f[i]->len);
			strings[pos + f[i]->len] = '\0';
			f[i]->s = strings + pos;
		}
		pos += f[i]->len + 1;
	}
	return pos;
}

int map_fwd_size(const map_result *mr)
{
	cm_str rcpt[MAP_MAX_RCPT], rr[CPIM_MAX_RCPT];
	map_fwd v;

	view(mr, &v, rcpt, rr);
	return (int)(FWD_ALIGN - 1
			+ (v.nrcpt + v.nrecord_route) * sizeof(cm_str))
		+ place(&v, NULL);
}

void map_fwd_copy(const map_result *mr, map_fwd *dst, char *data)
{
	cm_str rcpt[MAP_MAX_RCPT], rr[CPIM_MAX_RCPT];
	char *p = data + ((FWD_ALIGN - (uintptr_t)data % FWD_ALIGN) % FWD_ALIGN);

	view(mr, dst, rcpt, rr);
	dst->rcpt_e164 = memcpy(p, rcpt, dst->nrcpt * sizeof(cm_str));
	p += dst->nrcpt * sizeof(cm_str);
	dst->record_route = memcpy(p, rr, dst->nrecord_route * sizeof(cm_str));
	p += dst->nrecord_route * sizeof(cm_str);
	place(dst, p);
}
