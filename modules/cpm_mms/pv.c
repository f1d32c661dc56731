/*
 * cpm_mms - the $mm4(name) pseudo-variables: the outcome of the last
 * cpm_mms_forward() in a SIP worker, or the MM4_forward.REQ in
 * event_route[cpm-mms:mm4-request].
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "core/pvar.h"
#include "core/dprint.h"

#include "cm_str.h"
#include "mm4.h"
#include "forward.h"
#include "mm4_in.h"
#include "pv.h"


enum {
	MM4_PV_STATUS_CODE = 1,
	MM4_PV_STATUS_TEXT,
	MM4_PV_TRANSACTION_ID,
	MM4_PV_MESSAGE_ID,
	MM4_PV_RECIPIENT,
	/* the MM4_forward.REQ in event_route[cpm-mms:mm4-request] */
	MM4_PV_FROM,
	MM4_PV_TO,
	MM4_PV_SUBJECT,
	MM4_PV_ORIG_SYSTEM,
	MM4_PV_CONTENT_TYPE,
	MM4_PV_PEER,
	MM4_PV_TARGET,
	MM4_PV_DST,
	MM4_PV_IMDN_ID,
};

int pv_parse_mm4_name(pv_spec_p sp, str *in)
{
	static const struct {
		const char *name;
		int id;
	} names[] = {
		{"status_code", MM4_PV_STATUS_CODE},
		{"status_text", MM4_PV_STATUS_TEXT},
		{"transaction_id", MM4_PV_TRANSACTION_ID},
		{"message_id", MM4_PV_MESSAGE_ID},
		{"recipient", MM4_PV_RECIPIENT},
		{"from", MM4_PV_FROM},
		{"to", MM4_PV_TO},
		{"subject", MM4_PV_SUBJECT},
		{"originator_system", MM4_PV_ORIG_SYSTEM},
		{"content_type", MM4_PV_CONTENT_TYPE},
		{"peer", MM4_PV_PEER},
		{"target", MM4_PV_TARGET},
		{"dst", MM4_PV_DST},
		{"imdn_message_id", MM4_PV_IMDN_ID},
	};
	unsigned int i;

	if (!sp || !in || in->len <= 0)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == (size_t)in->len
				&& strncmp(names[i].name, in->s, in->len) == 0) {
			sp->pvp.pvn.type = PV_NAME_INTSTR;
			sp->pvp.pvn.u.isname.type = 0;
			sp->pvp.pvn.u.isname.name.n = names[i].id;
			return 0;
		}
	}
	LM_ERR("unknown $mm4(%.*s)\n", in->len, in->s);
	return -1;
}

static int pv_get_text(struct sip_msg *msg, pv_param_t *param,
		pv_value_t *res, char *z)
{
	str s;

	if (!z[0])
		return pv_get_null(msg, param, res);
	s.s = z;
	s.len = strlen(z);
	return pv_get_strval(msg, param, res, &s);
}

static int pv_get_cmstr(struct sip_msg *msg, pv_param_t *param,
		pv_value_t *res, cm_str v)
{
	str s;

	if (v.len <= 0)
		return pv_get_null(msg, param, res);
	s.s = v.s;
	s.len = v.len;
	return pv_get_strval(msg, param, res, &s);
}

/* fields of the REQ in the event route */
static int pv_get_mm4_in(struct sip_msg *msg, pv_param_t *param,
		pv_value_t *res)
{
	mm4_in_ctx *c = mm4_in_cur;

	switch (param->pvn.u.isname.name.n) {
	case MM4_PV_FROM:
		return pv_get_cmstr(msg, param, res, mm4_get(c->m, "From"));
	case MM4_PV_TO:
		return pv_get_cmstr(msg, param, res, c->rcpt);
	case MM4_PV_SUBJECT:
		return pv_get_text(msg, param, res, (char *)c->o->subject);
	case MM4_PV_MESSAGE_ID:
		return pv_get_cmstr(msg, param, res,
				mm4_get_unquoted(c->m, "X-Mms-Message-ID"));
	case MM4_PV_TRANSACTION_ID:
		return pv_get_cmstr(msg, param, res,
				mm4_get_unquoted(c->m, "X-Mms-Transaction-ID"));
	case MM4_PV_ORIG_SYSTEM:
		return pv_get_cmstr(msg, param, res,
				mm4_get(c->m, "X-Mms-Originator-System"));
	case MM4_PV_CONTENT_TYPE:
		return pv_get_cmstr(msg, param, res, mm4_get(c->m, "Content-Type"));
	case MM4_PV_PEER:
		return pv_get_text(msg, param, res, (char *)c->peer);
	case MM4_PV_TARGET:
		return pv_get_text(msg, param, res, c->target);
	case MM4_PV_DST:
		return pv_get_text(msg, param, res, c->dst);
	case MM4_PV_IMDN_ID:
		return pv_get_text(msg, param, res, (char *)c->o->imdn_message_id);
	}
	return pv_get_null(msg, param, res);
}

int pv_set_mm4(struct sip_msg *msg, pv_param_t *param, int op,
		pv_value_t *val)
{
	mm4_in_ctx *c = mm4_in_cur;
	char *dst;
	int size;

	switch (param->pvn.u.isname.name.n) {
	case MM4_PV_TARGET:
		dst = c ? c->target : NULL;
		size = sizeof(c->target);
		break;
	case MM4_PV_DST:
		dst = c ? c->dst : NULL;
		size = sizeof(c->dst);
		break;
	default:
		LM_ERR("this $mm4() field is read-only\n");
		return -1;
	}
	if (!dst) {
		LM_ERR("$mm4(target)/$mm4(dst) are set in "
				"event_route[cpm-mms:mm4-request] only\n");
		return -1;
	}
	if (!val || (val->flags & PV_VAL_NULL)) {
		if (param->pvn.u.isname.name.n == MM4_PV_TARGET) {
			LM_ERR("$mm4(target) cannot be empty (use drop to refuse)\n");
			return -1;
		}
		dst[0] = '\0';
		return 0;
	}
	if (!(val->flags & PV_VAL_STR) || val->rs.len >= size
			|| (param->pvn.u.isname.name.n == MM4_PV_TARGET
				&& val->rs.len == 0)
			|| cm_str_has_ctl((cm_str){val->rs.s, val->rs.len})) {
		LM_ERR("bad value for $mm4(target)/$mm4(dst)\n");
		return -1;
	}
	memcpy(dst, val->rs.s, val->rs.len);
	dst[val->rs.len] = '\0';
	return 0;
}

int pv_get_mm4(struct sip_msg *msg, pv_param_t *param, pv_value_t *res)
{
	if (mm4_in_cur)
		return pv_get_mm4_in(msg, param, res);
	switch (param->pvn.u.isname.name.n) {
	case MM4_PV_STATUS_CODE:
		if (!cpm_last_fwd.status_code)
			return pv_get_null(msg, param, res);
		return pv_get_sintval(msg, param, res, cpm_last_fwd.status_code);
	case MM4_PV_STATUS_TEXT:
		return pv_get_text(msg, param, res, cpm_last_fwd.status_text);
	case MM4_PV_TRANSACTION_ID:
		return pv_get_text(msg, param, res, cpm_last_fwd.transaction_id);
	case MM4_PV_MESSAGE_ID:
		return pv_get_text(msg, param, res, cpm_last_fwd.message_id);
	case MM4_PV_RECIPIENT:
		return pv_get_text(msg, param, res, cpm_last_fwd.recipient);
	}
	return pv_get_null(msg, param, res);
}

