/*
 * cpm_mms - delivery reports and read replies <-> IMDN (Tables 6-9, 6b).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Correlation rows (store.c) tie the two id spaces together: CPM -> MMS
 * rows are keyed by our X-Mms-Message-ID and give the IMDN its target;
 * MMS -> CPM rows are keyed by the imdn.Message-ID we generated and give
 * the MM4 report its destination. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/parser/parse_hname2.h"
#include "core/parser/hf.h"
#include "core/mem/mem.h"
#include "core/mem/shm_mem.h"
#include "core/locking.h"
#include "core/dprint.h"

#include "settings.h"
#include "cpm_util.h"
#include "report.h"
#include "store.h"
#include "imdn.h"
#include "xml_scan.h"
#include "rfcdate.h"
#include "mm4_res.h"
#include "sip_uac.h"
#include "inbound.h"
#include "mm4_queue.h"
#include "stats.h"
#include "sip_body.h"

/* the URI of a To header value (name-addr or addr-spec), as written;
 * 0 / -1 */
static int header_uri(cm_str v, char *out, int size)
{
	cm_str disp, u;
	int i;

	if (cpim_split_addr(v, &disp, &u) < 0)
		return -1;
	/* addr-spec: its ;params are the header's (RFC 3261 20.10) */
	if (!memchr(v.s, '<', v.len)) {
		for (i = 0; i < u.len && u.s[i] != ';'; i++)
			;
		u.len = i;
	}
	for (i = 0; i < u.len; i++)
		if (u.s[i] == '"' || (unsigned char)u.s[i] < 0x21)
			return -1;
	if (u.len == 0 || !memchr(u.s, ':', u.len))
		return -1;
	return cm_str_copy(out, size, u);
}

/* The From of IMDNs toward the CPM sender: exactly the address it wrote
 * to (a client files a notification by that address; tel: or an added
 * ;user=phone makes it unknown). With several recipients the To is the
 * group's: each recipient is its number at the To's host. */
static void imdn_from_uri(const map_fwd *f, const char *e164, char *out,
		int size)
{
	char uri[256];
	const char *at, *end;

	out[0] = '\0';
	if (header_uri(f->cpm_to, uri, sizeof(uri)) < 0)
		return;
	if (f->nrcpt <= 1) {
		snprintf(out, size, "%s", uri);
		return;
	}
	at = strchr(uri, '@');
	if ((strncasecmp(uri, "sip:", 4) != 0 && strncasecmp(uri, "sips:", 5) != 0)
			|| !at)
		return;
	for (end = at + 1; *end && *end != ';' && *end != '?' && *end != '>'; end++)
		;
	snprintf(out, size, "%.*s%s@%.*s", (int)(strchr(uri, ':') - uri + 1), uri,
			e164, (int)(end - at - 1), at + 1);
}

/* the correlation row of a CPM -> MMS message; 0 / -1 */
static int corr_from_forward(const map_fwd *f, const char *e164,
		corr_row *out)
{
	corr_row r;
	cm_str disp, uri;
	int i, used = 0;

	memset(&r, 0, sizeof(r));
	r.direction = CORR_CPM_TO_MMS;
	if (cm_str_copy(r.mms_message_id, sizeof(r.mms_message_id),
				f->message_id) < 0
			|| cm_str_copy(r.imdn_message_id, sizeof(r.imdn_message_id),
				f->imdn_message_id) < 0)
		return -1;
	/* IMDNs go back to the CPIM From of the original message; without
	 * one (or without an imdn.Message-ID) none can be sent, but the row
	 * still lets reports for the message be answered */
	if (f->cpim_from.len <= 0 || cpim_split_addr(f->cpim_from, &disp, &uri) < 0
			|| cm_str_copy(r.sender, sizeof(r.sender), uri) < 0)
		r.sender[0] = '\0';
	snprintf(r.recipient, sizeof(r.recipient), "%s", e164);
	imdn_from_uri(f, e164, r.recipient_uri, sizeof(r.recipient_uri));
	for (i = 0; i < f->nrecord_route; i++) {
		cm_str v = f->record_route[i];

		if (used + v.len + 2 >= (int)sizeof(r.record_route))
			break;
		if (used)
			r.record_route[used++] = ',';
		memcpy(r.record_route + used, v.s, v.len);
		used += v.len;
		r.record_route[used] = '\0';
	}
	cm_str_copy(r.datetime, sizeof(r.datetime), f->cpim_datetime);
	r.dispositions = (r.sender[0] && r.imdn_message_id[0])
		? f->dispositions : 0;
	r.expires = time(NULL) + cpm_get(corr_expire);
	*out = r;
	return 0;
}

void report_store_forward(const map_fwd *f, const char *e164,
		const char *tid)
{
	corr_row r;

	/* kept even when no IMDN was asked for, so that the peer's reports
	 * for it are answered Ok (nothing to notify), not "not found" */
	if (!store_enabled())
		return;
	if (corr_from_forward(f, e164, &r) == 0) {
		snprintf(r.transaction_id, sizeof(r.transaction_id), "%s", tid);
		store_put(&r);
	}
}

/* ---- the peer's own X-Mms-Message-ID from its RES ---- */

/* a RES can come before the MM4 worker that sent the REQ wrote the row
 * (it writes it once the session's mails are sent): those aliases wait
 * here, in shm, and the timer process tries them again every second */
#define ALIAS_WAIT_MAX 64
#define ALIAS_WAIT_S 120

typedef struct alias_wait {
	char mms_id[160];
	char tid[64];
	char alias[160];
	time_t until;
} alias_wait;

typedef struct alias_waits {
	gen_lock_t lock;
	int n;
	alias_wait w[ALIAS_WAIT_MAX];
} alias_waits;

static alias_waits *aliases = NULL;

int report_init(void)
{
	aliases = shm_malloc(sizeof(*aliases));
	if (!aliases) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(aliases, 0, sizeof(*aliases));
	if (!lock_init(&aliases->lock)) {
		shm_free(aliases);
		aliases = NULL;
		return -1;
	}
	return 0;
}

void report_destroy(void)
{
	if (!aliases)
		return;
	lock_destroy(&aliases->lock);
	shm_free(aliases);
	aliases = NULL;
}

/* queued to be tried again, or dropped (logged) when the list is full */
static void alias_wait_add(const alias_wait *a)
{
	int full;

	lock_get(&aliases->lock);
	full = aliases->n >= ALIAS_WAIT_MAX;
	if (!full)
		aliases->w[aliases->n++] = *a;
	lock_release(&aliases->lock);
	if (full)
		LM_WARN("too many RES ids waiting for their rows: '%s' for %s"
				" not recorded\n", a->alias, a->mms_id);
}

void report_res_alias(const char *mms_id, const char *tid, cm_str alias)
{
	alias_wait a;
	char al[160];
	int ret;

	if (!store_enabled() || alias.len <= 0
			|| cm_str_copy(al, sizeof(al), alias) < 0
			|| strcmp(al, mms_id) == 0)
		return;
	ret = store_set_alias(mms_id, tid, al);
	LM_DBG("MM4_forward.RES %s: the peer calls %s '%s'%s\n", tid, mms_id,
			al, ret == 1 ? "" : ret == 0 ? " (row not written yet)"
				: " (not recorded)");
	if (ret != 0)
		return;
	memset(&a, 0, sizeof(a));
	snprintf(a.mms_id, sizeof(a.mms_id), "%s", mms_id);
	snprintf(a.tid, sizeof(a.tid), "%s", tid);
	snprintf(a.alias, sizeof(a.alias), "%s", al);
	a.until = time(NULL) + ALIAS_WAIT_S;
	alias_wait_add(&a);
}

void report_alias_retry(time_t now)
{
	/* taken out of the list: no lock held while the store is written */
	static alias_wait mine[ALIAS_WAIT_MAX];
	int i, n, ret;

	lock_get(&aliases->lock);
	n = aliases->n;
	memcpy(mine, aliases->w, n * sizeof(mine[0]));
	aliases->n = 0;
	lock_release(&aliases->lock);
	for (i = 0; i < n; i++) {
		alias_wait *a = &mine[i];

		ret = store_set_alias(a->mms_id, a->tid, a->alias);
		if (ret == 0 && now < a->until) {
			alias_wait_add(a);
			continue;
		}
		if (ret == 0)
			LM_NOTICE("no correlation row for %s (%s) within %d s: the"
					" peer's id '%s' not recorded\n", a->mms_id, a->tid,
					ALIAS_WAIT_S, a->alias);
	}
}

/* the first IMDN-Route hop: the last IMDN-Record-Route entry, as a bare
 * URI; the IMDN-Route header value is the list reversed */
static void imdn_route(const char *rr, char *target, int tsize, char *route,
		int rsize)
{
	const char *items[16];
	int lens[16], n = 0, i, used = 0;
	const char *p = rr, *e;

	target[0] = route[0] = '\0';
	while (*p && n < 16) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		for (e = p; *e && *e != ','; e++)
			;
		items[n] = p;
		lens[n] = e - p;
		while (lens[n] > 0 && p[lens[n] - 1] == ' ')
			lens[n]--;
		n++;
		p = e;
	}
	for (i = n - 1; i >= 0; i--) {
		if (used + lens[i] + 3 >= rsize)
			break;
		used += snprintf(route + used, rsize - used, "%s%.*s",
				used ? ", " : "", lens[i], items[i]);
	}
	if (n > 0) {
		cm_str v = { (char *)items[n - 1], lens[n - 1] };
		cm_str disp, uri;

		if (cpim_split_addr(v, &disp, &uri) == 0)
			cm_str_copy(target, tsize, uri);
	}
}

/* the IMDN's side of its log line */
static void imdn_what(char *what, int size, const corr_row *row,
		imdn_kind kind, imdn_status status, const char *target)
{
	cpm_log_text(what, size, "IMDN %s %s for imdn.Message-ID %s "
			"(X-Mms-Message-ID %s) to %s",
			kind == IMDN_KIND_DISPLAY ? "display" : "delivery",
			imdn_status_name(status), row->imdn_message_id,
			row->mms_message_id, target);
}

/* build and send the IMDN of one report; 0 sent, -1 not */
static int send_imdn(const corr_row *row, const char *recipient_e164,
		imdn_kind kind, imdn_status status, time_t when, const char *key,
		int corr_bit)
{
	imdn_out o;
	cm_buf body;
	map_sip_head head;
	sip_uac_msg uac;
	char unique[33], id[48], now_iso[40], rcpt_uri[256];
	char target[300], route[256], what[256];
	int ret;

	if (cpm_random_hex(unique, 16) < 0)
		return -1;
	snprintf(id, sizeof(id), "%s", unique);
	rfcdate_format_iso8601(when, now_iso);
	/* rows stored before recipient_uri existed have none */
	if (row->recipient_uri[0])
		snprintf(rcpt_uri, sizeof(rcpt_uri), "%s", row->recipient_uri);
	else
		snprintf(rcpt_uri, sizeof(rcpt_uri), "tel:%s", recipient_e164);
	imdn_route(row->record_route, target, sizeof(target), route, sizeof(route));
	if (!target[0])
		snprintf(target, sizeof(target), "%s", row->sender);
	memset(&o, 0, sizeof(o));
	o.from_uri = cm_str_z(rcpt_uri);
	o.to_uri = cm_str_z(row->sender);
	o.imdn_message_id = cm_str_z(id);
	o.datetime = cm_str_z(now_iso);
	o.orig_message_id = cm_str_z(row->imdn_message_id);
	o.orig_datetime = cm_str_z(row->datetime[0] ? row->datetime : now_iso);
	o.recipient_uri = cm_str_z(rcpt_uri);
	o.imdn_route = cm_str_z(route);
	o.kind = kind;
	o.status = status;
	cm_buf_init(&body);
	if (imdn_write_cpim(&body, &o) < 0 || body.failed) {
		LM_ERR("cannot write the IMDN for %s\n", row->imdn_message_id);
		cm_buf_free(&body);
		return -1;
	}
	ret = map_imdn_sip(rcpt_uri, row->sender, &head);
	what[0] = '\0';
	if (is_printable(L_INFO))
		imdn_what(what, sizeof(what), row, kind, status, target);
	if (ret == 0) {
		memset(&uac, 0, sizeof(uac));
		uac.target = target;
		uac.dst = cpm_fixed.cpm_route;
		uac.head = &head;
		uac.body = (cm_str){body.s, body.len};
		uac.key = key;
		uac.corr = row;
		uac.corr_bit = corr_bit;
		uac.what = what;
		ret = sip_uac_message(&uac);
	}
	if (ret < 0) {
		if (!what[0])
			imdn_what(what, sizeof(what), row, kind, status, target);
		LM_NOTICE("%s: not sent\n", what);
	}
	cm_buf_free(&head.hdrs);
	cm_buf_free(&body);
	return ret;
}

int report_mm4_in(mm4_msg *m, const char *peer, char *key, char *text,
		int textsize)
{
	inbound_res info, res;
	cm_str tid, osys;
	int dr = (m->type == MM4_DELIVERY_REPORT_REQ);

	key[0] = '\0';
	stats_inc(CPM_ST_REPORTS_IN);
	if (mm4_res_request_info(m, peer, dr ? MM4_DELIVERY_REPORT_RES
				: MM4_READ_REPLY_REPORT_RES, &info, &tid, &osys) < 0
			|| tid.len == 0 || osys.len + tid.len + 2 >= INBOUND_KEY_MAX) {
		snprintf(text, textsize, "5.6.0 bad or missing X-Mms ids");
		return 554;
	}
	snprintf(key, INBOUND_KEY_MAX, "%.*s|%.*s", osys.len, osys.s, tid.len,
			tid.s);
	switch (inbound_begin(key, &info, 1, cpm_get(dedup_time), &res)) {
	case INBOUND_DONE:
		key[0] = '\0';
		mm4_res_send(&res);
		return 250;
	case INBOUND_IN_PROGRESS:
		key[0] = '\0';
		return 250;
	case INBOUND_FULL:
		key[0] = '\0';
		snprintf(text, textsize, "4.3.2 busy, try again later");
		return 451;
	default:
		break;
	}
	return 250;
}

void report_mm4_deliver(const mm4_msg *m, const char *key, const char *peer)
{
	cm_str mid, from, status;
	char mms_id[160], e164[E164_BUF];
	/* one at a time in an MM4 worker (2 KB: not on the stack each) */
	static corr_row row;
	imdn_status ist;
	imdn_kind kind;
	time_t when;
	int found, dr = (m->type == MM4_DELIVERY_REPORT_REQ);

	mid = mm4_get_unquoted(m, "X-Mms-Message-ID");
	from = mm4_get(m, "From");
	if (cm_str_copy(mms_id, sizeof(mms_id), mid) < 0 || mid.len == 0
			|| e164_from_mm4_address(mm4_bare_address(from), e164) < 0) {
		mm4_res_outcome(key, 0, "Error-message-format-corrupt",
				"X-Mms-Message-ID or From unusable");
		return;
	}
	if (!store_enabled()) {
		mm4_res_outcome(key, 0, "Error-message-not-found",
				"no correlation store");
		return;
	}
	found = store_get_by_mms(mms_id, e164, &row);
	if (found == 0)
		found = store_get_by_mms(mms_id, NULL, &row);
	/* a peer that gave the MM its own id in the RES may report with it */
	if (found == 0)
		found = store_get_by_peer_id(mms_id, e164, &row);
	if (found == 0)
		found = store_get_by_peer_id(mms_id, NULL, &row);
	if (found < 0) {
		mm4_res_outcome(key, 0, "Error-network-problem", "store unavailable");
		return;
	}
	if (found == 0) {
		LM_NOTICE("%s for unknown X-Mms-Message-ID %s from %s\n",
				mm4_type_name(m->type), mms_id, peer);
		mm4_res_outcome(key, 0, "Error-message-not-found", "");
		return;
	}
	if (dr) {
		status = mm4_get(m, "X-Mms-MM-Status-Code");
		ist = map_mm_status_to_imdn(status, row.dispositions);
		kind = IMDN_KIND_DELIVERY;
	} else {
		status = mm4_get(m, "X-Mms-Read-Status");
		ist = map_read_status_to_imdn(status, row.dispositions);
		kind = IMDN_KIND_DISPLAY;
	}
	if (ist == IMDN_ST_NONE
			|| (row.reports_done & (dr ? CORR_DONE_DELIVERY : CORR_DONE_READ))) {
		LM_INFO("%s %.*s for %s: no IMDN (%s)\n", mm4_type_name(m->type),
				status.len, status.s, mms_id,
				ist == IMDN_ST_NONE ? "not requested or not final"
					: "already sent");
		mm4_res_outcome(key, 0, "Ok", "");
		return;
	}
	if (rfcdate_parse_rfc5322(mm4_get(m, "Date"), &when) < 0)
		when = time(NULL);
	if (send_imdn(&row, e164, kind, ist, when, key,
				dr ? CORR_DONE_DELIVERY : CORR_DONE_READ) < 0)
		mm4_res_outcome(key, 0, "Error-network-problem", "IMDN not sent");
}

void report_late_failure(const mm4_msg *m, cm_str status)
{
	corr_row row;
	char mms_id[160];
	char key[INBOUND_KEY_MAX];
	inbound_res info, res;
	cm_str mid = mm4_get_unquoted(m, "X-Mms-Message-ID");

	if (!store_enabled() || cm_str_copy(mms_id, sizeof(mms_id), mid) < 0
			|| mid.len == 0)
		return;
	if (store_get_by_mms(mms_id, NULL, &row) != 1
			|| !(row.dispositions & CPIM_DN_NEGATIVE_DELIVERY)
			|| (row.reports_done & CORR_DONE_DELIVERY))
		return;
	/* an internal request with no RES: ack_request 0 */
	memset(&info, 0, sizeof(info));
	if (snprintf(key, sizeof(key), "late|%s|%.40s", mms_id, row.recipient)
			>= (int)sizeof(key))
		return;
	if (inbound_begin(key, &info, 1, cpm_get(dedup_time), &res) != INBOUND_NEW)
		return;
	LM_INFO("late %.*s for %s: negative-delivery IMDN\n", status.len, status.s,
			mms_id);
	if (send_imdn(&row, row.recipient, IMDN_KIND_DELIVERY, IMDN_ST_FAILED,
				time(NULL), key, CORR_DONE_DELIVERY) < 0)
		mm4_res_outcome(key, 0, "Error-network-problem", "");
}

/* ---- CPM -> MMS reports ---- */

static int sip_reply(struct sip_msg *msg, int code, char *reason)
{
	struct cell *t = cpm_tmb.t_gett();
	int ret;

	if (t == NULL || t == T_UNDEFINED) {
		ret = cpm_tmb.t_newtran(msg);
		if (ret == 0)
			return 0; /* retransmission, absorbed */
		if (ret < 0)
			return -1;
	}
	return cpm_tmb.t_reply(msg, code, reason);
}

/* the IMDN of msg, its body decoded into b (sip_body_free after); 0 / -1 */
static int read_imdn(struct sip_msg *msg, sip_body *b, imdn_request *ir)
{
	/* the callers free b whatever happens */
	memset(b, 0, sizeof(*b));
	if (msg->first_line.type != SIP_REQUEST
			|| msg->first_line.u.request.method_value != METHOD_MESSAGE
			|| parse_headers(msg, HDR_EOH_F, 0) < 0)
		return -1;
	if (sip_body_get(msg, cpm_get(max_inflated_size), b) < 0)
		return -1;
	return imdn_from_sip_body(b->content_type, b->content, ir);
}

int cpm_is_imdn(struct sip_msg *msg)
{
	sip_body b;
	imdn_request ir;
	int ret;

	ret = read_imdn(msg, &b, &ir) == 0 ? 1 : -1;
	sip_body_free(&b);
	return ret;
}

static int cpm_report_body(struct sip_msg *msg, const imdn_request *ir);

int cpm_report(struct sip_msg *msg)
{
	sip_body b;
	imdn_request ir;
	int ret;

	if (read_imdn(msg, &b, &ir) < 0) {
		sip_body_free(&b);
		return CPM_RPT_NOT_IMDN;
	}
	ret = cpm_report_body(msg, &ir);
	sip_body_free(&b);
	return ret;
}

/* an MM4_delivery_report.REQ (dr) or MM4_read_reply_report.REQ with
 * status token for the MMS originator of row, queued to the MM4 workers;
 * 0, -1 cannot be written, -2 not queued (queue full), -3 no address */
static int queue_mm4_report(const corr_row *row, int dr, const char *token,
		time_t when)
{
	char unique[33], tid[48], rid[96], rcpt[480];
	const char *at;
	mm4_report_req rq;
	cm_buf mail;

	if (cpm_random_hex(unique, 16) < 0)
		return -1;
	snprintf(tid, sizeof(tid), "r%s", unique);
	snprintf(rid, sizeof(rid), "%s@%s", unique, cpm_fixed.domain);
	memset(&rq, 0, sizeof(rq));
	rq.type = dr ? MM4_DELIVERY_REPORT_REQ : MM4_READ_REPLY_REPORT_REQ;
	rq.version = cpm_fixed.map.mms_version;
	rq.transaction_id = cm_str_z(tid);
	rq.message_id = cm_str_z(row->mms_message_id);
	rq.to = cm_str_z(row->sender);
	rq.from = cm_str_z(row->recipient);
	rq.date = when;
	if (dr)
		rq.mm_status = cm_str_z(token);
	else
		rq.read_status = cm_str_z(token);
	/* a report only the originator R/S asked for stays with it */
	rq.forward_to_ua = dr ? ((row->dispositions & CORR_WANT_DR) ? 1 : 0) : -1;
	rq.ack_request = 1;
	rq.originator_system = cm_str_z(cpm_fixed.system_address);
	rq.rfc822_message_id = cm_str_z(rid);
	/* to the originator's MMSE: its address domain, else its system's.
	 * An originator without a domain (Mbuni's "+num/TYPE=PLMN") keeps
	 * its To header as received; the envelope gets the system's domain,
	 * else the peer's address, so RCPT TO is a complete address */
	at = strrchr(row->sender, '@');
	if (at) {
		snprintf(rcpt, sizeof(rcpt), "%s", row->sender);
	} else if ((at = strrchr(row->orig_system, '@')) && at[1]) {
		snprintf(rcpt, sizeof(rcpt), "%s%s", row->sender, at);
	} else if (row->peer[0]) {
		snprintf(rcpt, sizeof(rcpt), "%s@[%s%s]", row->sender,
				strchr(row->peer, ':') ? "IPv6:" : "", row->peer);
		at = NULL;
	} else {
		return -3;
	}
	cm_buf_init(&mail);
	if (mm4_write_report_req(&mail, &rq) < 0 || mail.failed) {
		cm_buf_free(&mail);
		return -1;
	}
	if (mm4_queue_mail(at ? at + 1 : "", row->peer,
				cpm_fixed.system_address, rcpt, mail.s, mail.len,
				mm4_type_name(rq.type)) < 0) {
		cm_buf_free(&mail);
		return -2;
	}
	cm_buf_free(&mail);
	stats_inc(CPM_ST_REPORTS_OUT);
	return 0;
}

/* SIP worker: the IMDN is suspended and handed to an MM4 worker, which
 * looks it up in the correlation store (a database the SIP worker must
 * not wait for) and answers it */
static int cpm_report_body(struct sip_msg *msg, const imdn_request *ir)
{
	imdn_job j;
	struct cell *t;
	int ret;

	stats_inc(CPM_ST_IMDN_IN);
	memset(&j, 0, sizeof(j));
	if (xml_decode(ir->doc.message_id, j.imdn_id, sizeof(j.imdn_id)) < 0
			|| !j.imdn_id[0]) {
		sip_reply(msg, 400, "Bad IMDN message-id");
		return CPM_RPT_ERROR;
	}
	if (!store_enabled()) {
		LM_NOTICE("IMDN for imdn.Message-ID %s: no db_url, unknown\n",
				j.imdn_id);
		sip_reply(msg, 404, "Not Found");
		return CPM_RPT_UNKNOWN;
	}
	j.kind = ir->doc.kind;
	j.status = ir->doc.status;
	if (rfcdate_parse_iso8601(ir->datetime, &j.when) < 0)
		j.when = time(NULL);
	t = cpm_tmb.t_gett();
	if (t == NULL || t == T_UNDEFINED) {
		ret = cpm_tmb.t_newtran(msg);
		if (ret == 0)
			return CPM_RPT_DONE; /* a retransmission, absorbed by tm */
		if (ret < 0) {
			LM_ERR("cannot create the transaction (%d)\n", ret);
			return CPM_RPT_ERROR;
		}
	}
	/* tm's own timer must not answer before the worker does */
	cpm_tmb.set_fr(msg, 0, (cpm_get(res_timeout) * 1000) + 5000);
	if (cpm_tmb.t_suspend(msg, &j.t_hash, &j.t_label) < 0) {
		LM_ERR("cannot suspend the IMDN's transaction\n");
		sip_reply(msg, 500, "Server Internal Error");
		return CPM_RPT_ERROR;
	}
	if (mm4_queue_imdn(&j) < 0) {
		cpm_tmb.t_cancel_suspend(j.t_hash, j.t_label);
		sip_reply(msg, 503, "Service Unavailable");
		return CPM_RPT_ERROR;
	}
	return CPM_RPT_DONE;
}

/* MM4 worker: the SIP answer to an IMDN, the MM4 report queued if one is
 * due (Tables 7 and 9, once) */
static int imdn_to_report(const imdn_job *j, const char **reason)
{
	corr_row row;
	const char *token;
	int found, dr, bit, ret;

	*reason = "OK";
	found = store_get_by_imdn(j->imdn_id, &row);
	if (found < 0) {
		*reason = "Server Internal Error";
		return 500;
	}
	if (found == 0) {
		LM_NOTICE("IMDN for unknown imdn.Message-ID %s\n", j->imdn_id);
		*reason = "Not Found";
		return 404;
	}
	/* processing notifications (stored -> Deferred) report to MMS like
	 * delivery ones, but are not final */
	dr = j->kind == IMDN_KIND_DELIVERY || j->kind == IMDN_KIND_PROCESSING;
	bit = j->kind == IMDN_KIND_DELIVERY ? CORR_DONE_DELIVERY
		: j->kind == IMDN_KIND_DISPLAY ? CORR_DONE_READ : 0;
	token = dr ? map_imdn_to_mm_status(j->status)
		: j->kind == IMDN_KIND_DISPLAY
			? map_imdn_to_read_status(j->status) : NULL;
	/* of the processing notifications only "stored" says something the
	 * MMS originator can use (Deferred); the others would repeat */
	if (j->kind == IMDN_KIND_PROCESSING && j->status != IMDN_ST_STORED)
		token = NULL;
	/* Tables 7/9: only what the MMS originator asked for, once */
	if (!token || !(row.dispositions
				& (dr ? (CORR_WANT_DR | CORR_WANT_RS_DR) : CORR_WANT_RR))
			|| (bit && (row.reports_done & bit))) {
		LM_INFO("IMDN %s for %s: no MM4 report (%s)\n",
				imdn_status_name(j->status), j->imdn_id,
				!token ? "no mapping" : (row.reports_done & bit)
					? "already sent" : "not requested");
		return 200;
	}
	ret = queue_mm4_report(&row, dr, token, j->when);
	if (ret < 0) {
		*reason = ret == -1 ? "Server Internal Error" : "Service Unavailable";
		return ret == -1 ? 500 : 503;
	}
	if (bit)
		store_mark_done(&row, bit);
	LM_INFO("IMDN %s for imdn.Message-ID %s -> %s %s (X-Mms-Message-ID %s) "
			"to %s\n", imdn_status_name(j->status), j->imdn_id,
			mm4_type_name(dr ? MM4_DELIVERY_REPORT_REQ
				: MM4_READ_REPLY_REPORT_REQ), token, row.mms_message_id,
			row.sender);
	return 200;
}

void report_imdn_job(const imdn_job *j)
{
	const char *reason;
	int code = imdn_to_report(j, &reason);

	cpm_resume_reply(j->t_hash, j->t_label, code, reason,
			code == 503 ? "Retry-After: 60\r\n" : NULL);
}

void report_failed_now(const map_fwd *f, const char *e164)
{
	corr_row r;
	char key[INBOUND_KEY_MAX];
	inbound_res info, res;

	if (!(f->dispositions & CPIM_DN_NEGATIVE_DELIVERY)
			|| corr_from_forward(f, e164, &r) < 0
			|| !(r.dispositions & CPIM_DN_NEGATIVE_DELIVERY))
		return;
	memset(&info, 0, sizeof(info));
	if (snprintf(key, sizeof(key), "late|%s|%.40s", r.mms_message_id, e164)
			>= (int)sizeof(key))
		return;
	if (inbound_begin(key, &info, 1, cpm_get(dedup_time), &res) != INBOUND_NEW)
		return;
	LM_INFO("%s to %s failed after the MESSAGE was answered: "
			"negative-delivery IMDN\n", r.mms_message_id, e164);
	/* no row to mark: the message never reached MMS */
	if (send_imdn(&r, e164, IMDN_KIND_DELIVERY, IMDN_ST_FAILED, time(NULL),
				key, 0) < 0)
		mm4_res_outcome(key, 0, "Error-network-problem", "");
}

/* ---- MMS -> CPM messages that expire unreported (timer process) ---- */

/* rows handled per query, queries per round: a backlog drains over
 * rounds instead of filling the timer process's memory and the worker queue */
#define EXPIRED_BATCH 200
#define EXPIRED_ROUNDS 5
/* a report that could not be queued is tried again while the row lasts,
 * for this long at most */
#define EXPIRED_RETRY_S 3600

typedef struct expired_round {
	time_t now;
	int queued, blocked;
} expired_round;

static void expired_one(corr_row *r, void *arg)
{
	expired_round *er = arg;
	int ret = 1;

	if (!(r->reports_done & CORR_DONE_DELIVERY)
			&& (r->dispositions & (CORR_WANT_DR | CORR_WANT_RS_DR))) {
		ret = er->blocked ? -2 : queue_mm4_report(r, 1,
				MAP_MM_STATUS_EXPIRED, r->mm_expiry);
		LM_INFO("X-Mms-Message-ID %s to %s expired with no delivery report:"
				" %s " MAP_MM_STATUS_EXPIRED " to %s %s\n", r->mms_message_id,
				r->recipient, mm4_type_name(MM4_DELIVERY_REPORT_REQ),
				r->sender, ret == 0 ? "queued" : "not queued");
	}
	if (ret == -2 && er->now - r->mm_expiry < EXPIRED_RETRY_S) {
		/* the queue is full: the rest waits for the next round, and the
		 * row is kept that long */
		er->blocked = 1;
		if (r->expires <= er->now + 60) {
			r->expires = er->now + 120;
			store_update_expiry(r);
		}
		return;
	}
	if (ret == 0) {
		r->reports_done |= CORR_DONE_DELIVERY;
		er->queued++;
	}
	r->mm_expiry = 0;
	store_update_expiry(r);
}

void report_expired(time_t now)
{
	expired_round er;
	int i, n;

	if (!store_enabled() || !cpm_get(expired_reports))
		return;
	memset(&er, 0, sizeof(er));
	er.now = now;
	for (i = 0; i < EXPIRED_ROUNDS && !er.blocked; i++) {
		n = store_foreach_expired(now, EXPIRED_BATCH, expired_one, &er);
		if (n < EXPIRED_BATCH)
			break;
	}
	if (er.queued)
		LM_INFO("%d Expired delivery reports queued\n", er.queued);
}
