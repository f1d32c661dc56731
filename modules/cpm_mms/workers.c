/*
 * cpm_mms - the queue from SIP workers to the MM4 worker processes, and
 * those processes.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* The queue is a pipe of shm pointers: writes of one pointer are atomic,
 * the write end is non-blocking so a SIP worker never waits (a full queue
 * is an overload answer), and every MM4 worker blocks on the read end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/mem/shm_mem.h"
#include "core/mem/mem.h"
#include "core/dprint.h"
#include "core/cfg/cfg_struct.h"

#include "cpm_mms.h"
#include "workers.h"
#include "enum_resolve.h"
#include "smtp_client.h"
#include "resume.h"
#include "stats.h"
#include "peers.h"
#include "report.h"

enum {
	JF_RURI = 0, JF_FROM, JF_PAI, JF_PRIVACY, JF_SUBJECT, JF_PRIORITY,
	JF_DATE, JF_CTYPE, JF_BODY, JF_COUNT
};

#define JOB_FORWARD 1
#define JOB_MAIL 2

struct mm4_job {
	int type;
	char tid[PENDING_TID_MAX];
	char unique[48];
	time_t now;
	int expires;
	int max_forwards;
	int off[JF_COUNT];
	int len[JF_COUNT];
	char data[];
};

/* a ready mail to deliver */
typedef struct mail_job {
	int type;
	char domain[128];
	char fallback_ip[64];
	char mail_from[160];
	char rcpt[160];
	char what[64];
	int len;
	char data[];
} mail_job;

static int queue_fd[2] = { -1, -1 };

static int queue_write(void *j)
{
	ssize_t n;

	do {
		n = write(queue_fd[1], &j, sizeof(j));
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(j)) {
		LM_WARN("MM4 worker queue full (%s)\n",
				n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

int workers_init(void)
{
	int fl;

	if (pipe(queue_fd) < 0) {
		LM_ERR("pipe: %s\n", strerror(errno));
		return -1;
	}
	fl = fcntl(queue_fd[1], F_GETFL);
	if (fl < 0 || fcntl(queue_fd[1], F_SETFL, fl | O_NONBLOCK) < 0) {
		LM_ERR("fcntl: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

void workers_destroy(void)
{
	if (queue_fd[0] >= 0)
		close(queue_fd[0]);
	if (queue_fd[1] >= 0)
		close(queue_fd[1]);
	queue_fd[0] = queue_fd[1] = -1;
}

static void job_fields(const cpm_request *rq, cm_str *f)
{
	f[JF_RURI] = rq->ruri;
	f[JF_FROM] = rq->from;
	f[JF_PAI] = rq->pai;
	f[JF_PRIVACY] = rq->privacy;
	f[JF_SUBJECT] = rq->subject;
	f[JF_PRIORITY] = rq->priority;
	f[JF_DATE] = rq->date;
	f[JF_CTYPE] = rq->content_type;
	f[JF_BODY] = rq->body;
}

static void job_request(mm4_job *j, cpm_request *rq)
{
	cm_str f[JF_COUNT];
	int i;

	for (i = 0; i < JF_COUNT; i++) {
		f[i].s = j->data + j->off[i];
		f[i].len = j->len[i];
	}
	memset(rq, 0, sizeof(*rq));
	rq->ruri = f[JF_RURI];
	rq->from = f[JF_FROM];
	rq->pai = f[JF_PAI];
	rq->privacy = f[JF_PRIVACY];
	rq->subject = f[JF_SUBJECT];
	rq->priority = f[JF_PRIORITY];
	rq->date = f[JF_DATE];
	rq->content_type = f[JF_CTYPE];
	rq->body = f[JF_BODY];
	rq->expires = j->expires;
	rq->max_forwards = j->max_forwards;
}

int workers_push(const cpm_request *rq, const char *tid, const char *unique,
		time_t now)
{
	cm_str f[JF_COUNT];
	mm4_job *j;
	int i, total = 0, pos = 0;

	job_fields(rq, f);
	for (i = 0; i < JF_COUNT; i++)
		total += (f[i].s ? f[i].len : 0) + 1;
	j = shm_malloc(sizeof(*j) + total);
	if (!j) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(j, 0, sizeof(*j));
	j->type = JOB_FORWARD;
	snprintf(j->tid, sizeof(j->tid), "%s", tid);
	snprintf(j->unique, sizeof(j->unique), "%s", unique);
	j->now = now;
	j->expires = rq->expires;
	j->max_forwards = rq->max_forwards;
	for (i = 0; i < JF_COUNT; i++) {
		int len = f[i].s ? f[i].len : 0;

		j->off[i] = pos;
		j->len[i] = len;
		if (len)
			memcpy(j->data + pos, f[i].s, len);
		j->data[pos + len] = '\0';
		pos += len + 1;
	}
	if (queue_write(j) < 0) {
		shm_free(j);
		return -1;
	}
	return 0;
}

int workers_push_mail(const char *domain, const char *fallback_ip,
		const char *mail_from, const char *rcpt, const char *data, int len,
		const char *what)
{
	mail_job *j;

	if (strlen(domain) >= sizeof(j->domain)
			|| strlen(mail_from) >= sizeof(j->mail_from)
			|| strlen(rcpt) >= sizeof(j->rcpt)) {
		LM_ERR("%s: address too long\n", what);
		return -1;
	}
	j = shm_malloc(sizeof(*j) + len + 1);
	if (!j) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(j, 0, sizeof(*j));
	j->type = JOB_MAIL;
	strcpy(j->domain, domain);
	snprintf(j->fallback_ip, sizeof(j->fallback_ip), "%s",
			fallback_ip ? fallback_ip : "");
	strcpy(j->mail_from, mail_from);
	strcpy(j->rcpt, rcpt);
	snprintf(j->what, sizeof(j->what), "%s", what);
	memcpy(j->data, data, len);
	j->data[len] = '\0';
	j->len = len;
	if (queue_write(j) < 0) {
		shm_free(j);
		return -1;
	}
	return 0;
}

static void process_mail(mail_job *j)
{
	mm4_dest *d;
	smtp_outcome out;
	const char *rcpts[1];
	int ret;

	d = pkg_malloc(sizeof(*d));
	if (!d) {
		PKG_MEM_ERROR;
		return;
	}
	ret = enum_resolve_domain(j->domain, d);
	if (ret != 0 && j->fallback_ip[0]) {
		/* the peer that sent us the request is the best guess left */
		d->nhosts = 1;
		snprintf(d->hosts[0].ip, sizeof(d->hosts[0].ip), "%s", j->fallback_ip);
		d->hosts[0].port = cpm_cfg.mm4_port;
		snprintf(d->hosts[0].name, sizeof(d->hosts[0].name), "%s (peer)",
				j->fallback_ip);
		ret = 0;
	}
	if (ret != 0) {
		LM_ERR("%s to %s lost: no MM4 host for %s (%s)\n", j->what, j->rcpt,
				j->domain, d->trace);
		pkg_free(d);
		return;
	}
	rcpts[0] = j->rcpt;
	smtp_send_mail(d->hosts, d->nhosts, j->mail_from, rcpts, 1, j->data,
			j->len, &out);
	if (out.host[0])
		peers_msg_out(out.host, out.ok, out.code, out.text);
	if (out.ok)
		LM_INFO("%s sent to %s via %s\n", j->what, j->rcpt, out.host);
	else
		LM_ERR("%s to %s failed: %d %s (%s)\n", j->what, j->rcpt, out.code,
				out.text, out.host[0] ? out.host : "no host");
	pkg_free(d);
}

void cpm_finish(pending_entry *e, const char *why)
{
	char hdrs[160];

	hdrs[0] = '\0';
	if (e->code == 503)
		snprintf(hdrs, sizeof(hdrs), "Retry-After: 60\r\n");
	LM_INFO("MESSAGE answered %d %s: X-Mms-Transaction-ID %s, recipient %s,"
			" MMSC %s, %s, %lld ms\n", e->code, e->reason, e->tid,
			e->recipient, e->mmsc[0] ? e->mmsc : "-", why,
			pending_now_ms() - e->created_ms);
	resume_transaction(e->t_hash, e->t_label, e->code, e->reason, hdrs);
	pending_free(e);
}

/* outcome of REQ n: complete the MESSAGE if it was the last one; 0 if the
 * MESSAGE had been answered already (timeout) */
static int record_outcome(const char *tid, int n, int code,
		const char *reason, const char *why)
{
	pending_entry *e;
	int known;

	e = pending_record(tid, n, code, reason, &known);
	if (e)
		cpm_finish(e, why);
	else if (!known)
		LM_INFO("outcome %d for %s-%d after the MESSAGE was answered\n",
				code, tid, n);
	return known;
}

static int record_failure(const char *tid, int n, map_local_failure lf,
		const char *why)
{
	map_sip_status st;

	map_local_failure_to_sip(lf, cpm_cfg.timeout_mode, &st);
	return record_outcome(tid, n, st.code, st.reason, why);
}

static void process_job(mm4_job *j)
{
	cpm_request rq;
	map_result *mr = NULL;
	mm4_dest *dest = NULL;
	int fail[MAP_MAX_RCPT];
	int group[MAP_MAX_RCPT]; /* REQ number (1-based) of each recipient */
	int nreq = 0, i, k, nr;
	const char *rcpts[MAP_MAX_RCPT];
	char req_tid[PENDING_TID_MAX + 16];
	cm_buf mail;
	smtp_outcome out;

	job_request(j, &rq);
	mr = pkg_malloc(sizeof(*mr));
	if (!mr) {
		PKG_MEM_ERROR;
		goto internal;
	}
	if (map_cpm_to_mm4(&rq, &cpm_cfg.map, cm_str_z(j->unique), j->now, mr) < 0) {
		/* validated by the SIP worker already: only a bug gets here */
		pending_entry *e = pending_take(j->tid);
		if (e) {
			e->code = mr->sip_code;
			snprintf(e->reason, sizeof(e->reason), "%s", mr->sip_reason);
			cpm_finish(e, "mapping failed");
		}
		goto done;
	}
	if (pending_set_state(j->tid, PENDING_SENDING, 0, NULL) < 0) {
		LM_NOTICE("%s answered before an MM4 worker took it: not sent\n",
				j->tid);
		goto done;
	}
	dest = pkg_malloc(sizeof(*dest) * mr->nrcpt);
	if (!dest) {
		PKG_MEM_ERROR;
		goto internal;
	}
	/* resolve everybody, then one REQ per destination MMSE */
	mr->req.nto = 0;
	mr->req.ncc = 0;
	for (i = 0; i < mr->nrcpt; i++) {
		fail[i] = enum_resolve(mr->rcpt_e164[i], &dest[i]);
		LM_DBG("%s: %s\n", mr->rcpt_e164[i], dest[i].trace);
		group[i] = 0;
		for (k = 0; k < i && !fail[i]; k++) {
			if (!fail[k] && strcasecmp(dest[k].domain, dest[i].domain) == 0) {
				group[i] = group[k];
				break;
			}
		}
		if (!group[i])
			group[i] = ++nreq;
		if (!fail[i] && mr->rcpt_cc[i])
			mr->req.cc[mr->req.ncc++] = cm_str_z(dest[i].mailbox);
		else if (!fail[i])
			mr->req.to[mr->req.nto++] = cm_str_z(dest[i].mailbox);
		else {
			stats_inc(CPM_ST_DNS_FAILURES);
			LM_NOTICE("no MMS route for %s: %s\n", mr->rcpt_e164[i],
					dest[i].trace);
		}
	}
	if (pending_set_state(j->tid, PENDING_SENDING, nreq,
				fail[0] ? NULL : dest[0].domain) < 0) {
		LM_NOTICE("%s answered during resolution: not sent\n", j->tid);
		goto done;
	}
	for (k = 1; k <= nreq; k++) {
		int first = -1;

		for (i = 0, nr = 0; i < mr->nrcpt; i++) {
			if (group[i] != k)
				continue;
			if (first < 0)
				first = i;
			rcpts[nr++] = dest[i].mailbox;
		}
		if (fail[first]) {
			record_failure(j->tid, k, fail[first], "routing failed");
			continue;
		}
		snprintf(req_tid, sizeof(req_tid), "%s-%d", j->tid, k);
		mr->req.transaction_id = cm_str_z(req_tid);
		cm_buf_init(&mail);
		if (mm4_write_forward_req(&mail, &mr->req) < 0 || mail.failed) {
			cm_buf_free(&mail);
			LM_ERR("%s: content cannot be written as MM4\n", req_tid);
			record_failure(j->tid, k, MAP_LF_CONTENT_TYPE, "MM4 encoding");
			continue;
		}
		smtp_send_mail(dest[first].hosts, dest[first].nhosts,
				mr->sender_addr, rcpts, nr, mail.s, mail.len, &out);
		cm_buf_free(&mail);
		if (out.host[0])
			peers_msg_out(out.host, out.ok, out.code, out.text);
		if (out.ok) {
			stats_inc(CPM_ST_MM4_REQ_SENT);
			for (i = 0; i < mr->nrcpt; i++)
				if (group[i] == k)
					report_store_forward(mr, mr->rcpt_e164[i]);
			LM_INFO("MM4_forward.REQ %s (X-Mms-Message-ID %s, imdn %.*s) "
					"to %s via %s\n", req_tid, mr->message_id,
					mr->imdn_message_id.len, mr->imdn_message_id.s,
					dest[first].mailbox, out.host);
		} else {
			stats_inc(CPM_ST_SMTP_FAILURES);
			LM_NOTICE("MM4_forward.REQ %s to %s failed: %d %s (%s)\n",
					req_tid, dest[first].domain, out.code, out.text,
					out.host[0] ? out.host : "no host");
			if (!record_failure(j->tid, k, map_smtp_code(out.code),
						"SMTP failed")) {
				/* answered 202 meanwhile: tell the sender it failed */
				for (i = 0; i < mr->nrcpt; i++)
					if (group[i] == k)
						report_failed_now(mr, mr->rcpt_e164[i]);
			}
		}
	}
	pending_set_state(j->tid, PENDING_SENT, 0, NULL);
	goto done;

internal:
	{
		pending_entry *e = pending_take(j->tid);
		map_sip_status st;

		if (e) {
			map_local_failure_to_sip(MAP_LF_INTERNAL, 0, &st);
			e->code = st.code;
			snprintf(e->reason, sizeof(e->reason), "%s", st.reason);
			cpm_finish(e, "internal error");
		}
	}
done:
	if (dest)
		pkg_free(dest);
	if (mr)
		pkg_free(mr);
}

void workers_loop(int rank)
{
	void *j;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	cpm_mem_use_pkg();
	if (enum_resolve_init() < 0)
		LM_ERR("enum_server resolver setup failed: using the system one\n");
	close(queue_fd[1]);
	for (;;) {
		n = read(queue_fd[0], &j, sizeof(j));
		if (n != sizeof(j)) {
			if (n < 0 && errno == EINTR)
				continue;
			LM_CRIT("MM4 worker %d: queue read failed (%zd, %s)\n", rank, n,
					n < 0 ? strerror(errno) : "eof");
			sleep(1);
			continue;
		}
		cfg_update();
		if (*(int *)j == JOB_MAIL)
			process_mail(j);
		else
			process_job(j);
		shm_free(j);
	}
}
