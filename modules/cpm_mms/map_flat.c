/*
 * cpm_mms - a map_result made self-contained.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "map_flat.h"

/* every string field of a map_result, the CPIM parse included */
#define FLAT_MAX_FIELDS (16 + 2 * 32 + 2 * CPIM_MAX_HEADERS \
		+ 2 * CPIM_MAX_MIME_HEADERS + 3 * CPIM_MAX_RCPT + 16)

static int add_fields(cm_str **f, int n, cm_str *v, int count)
{
	int i;

	for (i = 0; i < count; i++)
		f[n++] = &v[i];
	return n;
}

static int list_fields(map_result *mr, cm_str **f)
{
	mm4_forward_req *r = &mr->req;
	cpim_msg *c = &mr->cpim;
	int n = 0, i;

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
	f[n++] = &mr->imdn_message_id;
	f[n++] = &mr->cpm_to;
	for (i = 0; i < c->nhdr; i++) {
		f[n++] = &c->hdr[i].name;
		f[n++] = &c->hdr[i].value;
	}
	f[n++] = &c->from;
	n = add_fields(f, n, c->to, c->nto);
	n = add_fields(f, n, c->cc, c->ncc);
	f[n++] = &c->datetime;
	f[n++] = &c->subject;
	f[n++] = &c->imdn_message_id;
	f[n++] = &c->imdn_disposition;
	n = add_fields(f, n, c->imdn_record_route, c->nrecord_route);
	for (i = 0; i < c->nmime; i++) {
		f[n++] = &c->mime[i].name;
		f[n++] = &c->mime[i].value;
	}
	f[n++] = &c->content_type;
	f[n++] = &c->content_transfer_encoding;
	f[n++] = &c->body;
	return n;
}

/* The strings of *from that point outside it, longest first, each copied
 * unless it lies inside one copied before. With dst NULL, only counted.
 * dst's fields hold from's pointers until they are moved here. */
static int flatten(const map_result *from, map_result *dst, char *data)
{
	static map_result scratch;
	cm_str *f[FLAT_MAX_FIELDS];
	const char *orig[FLAT_MAX_FIELDS];
	int order[FLAT_MAX_FIELDS];
	const char *lo = (const char *)from, *hi = lo + sizeof(*from);
	int n, i, j, k, pos = 0;

	if (!dst) {
		scratch = *from;
		dst = &scratch;
	}
	n = list_fields(dst, f);
	for (i = 0; i < n; i++) {
		orig[i] = f[i]->s;
		/* insertion sort, longest first: the payload before its parts */
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
		if (orig[i] >= lo && orig[i] < hi) {
			f[i]->s = (char *)dst + (orig[i] - lo);
			continue;
		}
		for (j = 0; j < k; j++) {
			int c = order[j];

			if (orig[c] && !(orig[c] >= lo && orig[c] < hi)
					&& orig[i] >= orig[c]
					&& orig[i] + f[i]->len <= orig[c] + f[c]->len) {
				f[i]->s = f[c]->s + (orig[i] - orig[c]);
				break;
			}
		}
		if (j < k)
			continue;
		if (data) {
			memcpy(data + pos, orig[i], f[i]->len);
			data[pos + f[i]->len] = '\0';
			f[i]->s = data + pos;
		} else {
			/* counting: any non-NULL value will do for the checks */
			f[i]->s = (char *)orig[i];
		}
		pos += f[i]->len + 1;
	}
	return pos;
}

int map_flat_size(const map_result *mr)
{
	return flatten(mr, NULL, NULL);
}

void map_flat_copy(const map_result *mr, map_result *dst, char *data)
{
	*dst = *mr;
	flatten(mr, dst, data);
}
