/*
 * cpm_mms - the queue from SIP workers to the MM4 worker processes, and
 * those processes.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* The queue is a pipe of shm pointers: writes of one pointer are atomic,
 * the write end is non-blocking so a SIP worker never waits (a full queue
 * is an overload answer), and every MM4 worker polls the read end and
 * takes a batch of what is queued (queue_take). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mem/shm_mem.h"
#include "core/mem/mem.h"
#include "core/dprint.h"
#include "core/cfg/cfg_struct.h"

#include "settings.h"
#include "cpm_util.h"
#include "workers.h"
#include "enum_resolve.h"
#include "smtp_client.h"
#include "resume.h"
#include "stats.h"
#include "peers.h"
#include "report.h"
#include "store.h"

enum {
	JF_RURI = 0, JF_FROM, JF_PAI, JF_PRIVACY, JF_SUBJECT, JF_PRIORITY,
	JF_DATE, JF_CTYPE, JF_BODY, JF_TO, JF_COUNT
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
/* MM4 workers busy with a batch (shm): sizes the next worker's share */
static int *busy_workers = NULL;
/* of those, waiting for one more job for an open SMTP session (shm) */
static int *waiting_sessions = NULL;

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
	int fl, i;

	busy_workers = shm_malloc(2 * sizeof(*busy_workers));
	if (!busy_workers) {
		SHM_MEM_ERROR;
		return -1;
	}
	busy_workers[0] = busy_workers[1] = 0;
	waiting_sessions = &busy_workers[1];
	if (pipe(queue_fd) < 0) {
		LM_ERR("pipe: %s\n", strerror(errno));
		return -1;
	}
	/* both ends non-blocking: SIP workers never wait, MM4 workers wait
	 * in poll() and take what is there without blocking */
	for (i = 0; i < 2; i++) {
		fl = fcntl(queue_fd[i], F_GETFL);
		if (fl < 0 || fcntl(queue_fd[i], F_SETFL, fl | O_NONBLOCK) < 0) {
			LM_ERR("fcntl: %s\n", strerror(errno));
			return -1;
		}
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
	if (busy_workers)
		shm_free(busy_workers);
	busy_workers = waiting_sessions = NULL;
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
	f[JF_TO] = rq->to;
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
	rq->to = f[JF_TO];
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

/* A batch: the jobs a worker took from the queue at once, prepared into
 * mails, the mails bound for the same hosts sent in one SMTP session, then
 * each job completed with its mails' outcomes. */

/* a forward job being worked on */
typedef struct fwd_work {
	mm4_job *j;
	map_result *mr;
	mm4_dest *dest;
	int fail[MAP_MAX_RCPT];
	int group[MAP_MAX_RCPT]; /* REQ number (1-based) of each recipient */
	int nreq;
	int sending;             /* 1: set PENDING_SENT when the batch ends */
} fwd_work;

/* one mail of the batch and what it completes */
typedef struct out_mail {
	smtp_mail m;
	const mm4_host *hosts;
	int nhosts;
	const char *domain;
	fwd_work *fwd;           /* REQ 'req' of a forward job, or */
	int req;
	mail_job *mj;            /* a ready mail (RES, report) */
	cm_buf buf;
	int pooled;              /* buf comes from mail_pool[] */
	char req_tid[PENDING_TID_MAX + 16];
	const char *rcpts[MAP_MAX_RCPT];
	int sent;                /* in an SMTP session already */
	int done;                /* completed while its session went on */
} out_mail;

typedef struct batch {
	fwd_work *fwd;
	int nfwd;
	out_mail *mail;
	int nmail;
	int cap;
	int nmailjob;
} batch;

/* per process, not allocated per batch (pkg blocks of 3.5 and 6.8 KB per
 * job were q_malloc walks): a batch has at most SMTP_BATCH_MAX jobs */
static map_result fwd_maps[SMTP_BATCH_MAX];
static mm4_dest mail_dests[SMTP_BATCH_MAX];

/* A worker's mail buffers, kept from batch to batch: a fresh 4 KB pkg
 * block per mail cost ~5 % of the IWF's CPU under q_malloc. Buffers that
 * grew past MAIL_POOL_KEEP (big MMS) are freed, not kept. */
#define MAIL_POOL_KEEP 65536
static cm_buf mail_pool[SMTP_BATCH_MAX];

static void mail_buf_take(out_mail *o, int i)
{
	if (i >= SMTP_BATCH_MAX) {
		cm_buf_init(&o->buf);
		return;
	}
	o->buf = mail_pool[i];
	memset(&mail_pool[i], 0, sizeof(mail_pool[i]));
	o->buf.len = 0;
	o->buf.failed = 0;
	o->pooled = 1;
}

static void mail_buf_give_back(out_mail *o, int i)
{
	if (o->pooled && o->buf.size <= MAIL_POOL_KEEP && !mail_pool[i].s) {
		mail_pool[i] = o->buf;
		memset(&o->buf, 0, sizeof(o->buf));
	} else {
		cm_buf_free(&o->buf);
	}
	o->pooled = 0;
}

static out_mail *batch_add(batch *b)
{
	out_mail *o;

	if (b->nmail >= b->cap)
		return NULL;
	o = &b->mail[b->nmail++];
	memset(o, 0, sizeof(*o));
	return o;
}

static void prepare_mail(batch *b, mail_job *j)
{
	mm4_dest *d;
	out_mail *o;
	int ret;

	if (b->nmailjob >= SMTP_BATCH_MAX) {
		/* cannot happen: a batch has at most SMTP_BATCH_MAX jobs */
		LM_BUG("%s to %s lost: batch full\n", j->what, j->rcpt);
		return;
	}
	d = &mail_dests[b->nmailjob++];
	ret = enum_resolve_domain(j->domain, d);
	if (ret != 0 && j->fallback_ip[0]) {
		/* the peer that sent us the request is the best guess left */
		d->nhosts = 1;
		snprintf(d->hosts[0].ip, sizeof(d->hosts[0].ip), "%s", j->fallback_ip);
		d->hosts[0].port = cpm_get(mm4_port);
		snprintf(d->hosts[0].name, sizeof(d->hosts[0].name), "%s (peer)",
				j->fallback_ip);
		ret = 0;
	}
	if (ret != 0) {
		LM_ERR("%s to %s lost: no MM4 host for %s (%s)\n", j->what, j->rcpt,
				j->domain, d->trace);
		return;
	}
	o = batch_add(b);
	if (!o) {
		/* cannot happen: the batch has room for every job's mails */
		LM_BUG("%s to %s lost: batch full\n", j->what, j->rcpt);
		return;
	}
	o->mj = j;
	o->hosts = d->hosts;
	o->nhosts = d->nhosts;
	o->domain = j->domain;
	o->rcpts[0] = j->rcpt;
	o->m.mail_from = j->mail_from;
	o->m.rcpts = o->rcpts;
	o->m.nrcpt = 1;
	o->m.data = j->data;
	o->m.len = j->len;
}

static void complete_mail(out_mail *o)
{
	mail_job *j = o->mj;
	smtp_outcome *out = &o->m.out;

	if (out->host[0])
		peers_msg_out(out->host, out->ok, out->code, out->text);
	if (out->ok)
		LM_INFO("%s sent to %s via %s\n", j->what, j->rcpt, out->host);
	else
		LM_ERR("%s to %s failed: %d %s (%s)\n", j->what, j->rcpt, out->code,
				out->text, out->host[0] ? out->host : "no host");
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

	map_local_failure_to_sip(lf, settings_timeout_mode(), &st);
	return record_outcome(tid, n, st.code, st.reason, why);
}

/* an entry the worker cannot handle: answer it with the internal error */
static void finish_internal(const char *tid)
{
	pending_entry *e = pending_take(tid);
	map_sip_status st;

	if (e) {
		map_local_failure_to_sip(MAP_LF_INTERNAL, 0, &st);
		e->code = st.code;
		snprintf(e->reason, sizeof(e->reason), "%s", st.reason);
		cpm_finish(e, "internal error");
	}
}

/* map, resolve and write the REQs of one forward job into the batch */
static void prepare_forward(batch *b, fwd_work *w, mm4_job *j)
{
	cpm_request rq;
	map_config mcfg;
	map_result *mr;
	mm4_dest *dest;
	out_mail *o;
	int i, k, nr, first;

	w->j = j;
	job_request(j, &rq);
	mr = w->mr = &fwd_maps[w - b->fwd];
	settings_map_out(&mcfg);
	if (map_cpm_to_mm4(&rq, &mcfg, cm_str_z(j->unique), j->now, mr) < 0) {
		/* validated by the SIP worker already: only a bug gets here */
		pending_entry *e = pending_take(j->tid);
		if (e) {
			e->code = mr->sip_code;
			snprintf(e->reason, sizeof(e->reason), "%s", mr->sip_reason);
			cpm_finish(e, "mapping failed");
		}
		return;
	}
	/* the IMDNs for it come from the address the sender wrote to */
	mr->cpm_to = rq.to;
	if (pending_set_state(j->tid, PENDING_SENDING, 0, NULL) < 0) {
		LM_NOTICE("%s answered before an MM4 worker took it: not sent\n",
				j->tid);
		return;
	}
	dest = w->dest = pkg_malloc(sizeof(*dest) * mr->nrcpt);
	if (!dest) {
		PKG_MEM_ERROR;
		finish_internal(j->tid);
		return;
	}
	/* resolve everybody, then one REQ per destination MMSE */
	mr->req.nto = 0;
	mr->req.ncc = 0;
	mr->req.nbcc = 0;
	w->nreq = 0;
	for (i = 0; i < mr->nrcpt; i++) {
		w->fail[i] = enum_resolve(mr->rcpt_e164[i], &dest[i]);
		LM_DBG("%s: %s\n", mr->rcpt_e164[i], dest[i].trace);
		w->group[i] = 0;
		for (k = 0; k < i && !w->fail[i]; k++) {
			if (!w->fail[k]
					&& strcasecmp(dest[k].domain, dest[i].domain) == 0) {
				w->group[i] = w->group[k];
				break;
			}
		}
		if (!w->group[i])
			w->group[i] = ++w->nreq;
		/* bcc: only in its MMSE's RCPT TO (o->rcpts below) */
		if (!w->fail[i] && mr->rcpt_copy[i] == RL_COPY_BCC)
			mr->req.nbcc++;
		else if (!w->fail[i] && mr->rcpt_copy[i] == RL_COPY_CC)
			mr->req.cc[mr->req.ncc++] = cm_str_z(dest[i].mailbox);
		else if (!w->fail[i])
			mr->req.to[mr->req.nto++] = cm_str_z(dest[i].mailbox);
		else {
			stats_inc(CPM_ST_DNS_FAILURES);
			LM_NOTICE("no MMS route for %s: %s\n", mr->rcpt_e164[i],
					dest[i].trace);
		}
	}
	if (pending_set_state(j->tid, PENDING_SENDING, w->nreq,
				w->fail[0] ? NULL : dest[0].domain) < 0) {
		LM_NOTICE("%s answered during resolution: not sent\n", j->tid);
		return;
	}
	w->sending = 1;
	for (k = 1; k <= w->nreq; k++) {
		for (i = 0, first = -1; i < mr->nrcpt; i++) {
			if (w->group[i] == k) {
				first = i;
				break;
			}
		}
		if (w->fail[first]) {
			record_failure(j->tid, k, w->fail[first], "routing failed");
			continue;
		}
		o = batch_add(b);
		if (!o) {
			LM_BUG("%s-%d: batch full\n", j->tid, k);
			record_failure(j->tid, k, MAP_LF_INTERNAL, "internal error");
			continue;
		}
		snprintf(o->req_tid, sizeof(o->req_tid), "%s-%d", j->tid, k);
		mr->req.transaction_id = cm_str_z(o->req_tid);
		mail_buf_take(o, b->nmail - 1);
		if (mm4_write_forward_req(&o->buf, &mr->req) < 0 || o->buf.failed) {
			mail_buf_give_back(o, b->nmail - 1);
			b->nmail--;
			LM_ERR("%s-%d: content cannot be written as MM4\n", j->tid, k);
			record_failure(j->tid, k, MAP_LF_CONTENT_TYPE, "MM4 encoding");
			continue;
		}
		for (i = 0, nr = 0; i < mr->nrcpt; i++)
			if (w->group[i] == k)
				o->rcpts[nr++] = dest[i].mailbox;
		o->fwd = w;
		o->req = k;
		o->hosts = dest[first].hosts;
		o->nhosts = dest[first].nhosts;
		o->domain = dest[first].domain;
		o->m.mail_from = mr->sender_addr;
		o->m.rcpts = o->rcpts;
		o->m.nrcpt = nr;
		o->m.data = o->buf.s;
		o->m.len = o->buf.len;
	}
}

static void complete_forward_req(out_mail *o)
{
	fwd_work *w = o->fwd;
	map_result *mr = w->mr;
	smtp_outcome *out = &o->m.out;
	int i;

	if (out->host[0])
		peers_msg_out(out->host, out->ok, out->code, out->text);
	if (out->ok) {
		stats_inc(CPM_ST_MM4_REQ_SENT);
		for (i = 0; i < mr->nrcpt; i++)
			if (w->group[i] == o->req)
				report_store_forward(mr, mr->rcpt_e164[i], o->req_tid);
		LM_INFO("MM4_forward.REQ %s (X-Mms-Message-ID %s, imdn %.*s) "
				"to %s via %s\n", o->req_tid, mr->message_id,
				mr->imdn_message_id.len, mr->imdn_message_id.s,
				o->rcpts[0], out->host);
		return;
	}
	stats_inc(CPM_ST_SMTP_FAILURES);
	LM_NOTICE("MM4_forward.REQ %s to %s failed: %d %s (%s)\n", o->req_tid,
			o->domain, out->code, out->text,
			out->host[0] ? out->host : "no host");
	if (!record_failure(w->j->tid, o->req,
				map_smtp_reply(out->code, cm_str_z(out->text)),
				"SMTP failed")) {
		/* answered 202 meanwhile: tell the sender it failed */
		for (i = 0; i < mr->nrcpt; i++)
			if (w->group[i] == o->req)
				report_failed_now(mr, mr->rcpt_e164[i]);
	}
}

static int same_hosts(const out_mail *a, const out_mail *b)
{
	int i;

	if (a->nhosts != b->nhosts)
		return 0;
	for (i = 0; i < a->nhosts; i++)
		if (a->hosts[i].port != b->hosts[i].port
				|| strcmp(a->hosts[i].ip, b->hosts[i].ip) != 0)
			return 0;
	return 1;
}

static void batch_wait(int last_batch);

/* the batch's mails not in a session yet that go to first's hosts, at most
 * max, into out[] and marked sent; *other: such a mail for other hosts is
 * left */
static int take_mails(batch *b, const out_mail *first, smtp_mail **out,
		int max, int *other)
{
	int i, n = 0;

	*other = 0;
	for (i = 0; i < b->nmail && n < max; i++) {
		if (b->mail[i].sent)
			continue;
		if (!same_hosts(first, &b->mail[i])) {
			*other = 1;
			continue;
		}
		b->mail[i].sent = 1;
		out[n++] = &b->mail[i].m;
	}
	return n;
}

static void batch_prepare(batch *b, void *job)
{
	if (*(int *)job == JOB_MAIL) {
		prepare_mail(b, job);
	} else {
		memset(&b->fwd[b->nfwd], 0, sizeof(b->fwd[b->nfwd]));
		prepare_forward(b, &b->fwd[b->nfwd++], job);
	}
}

static void complete_one(out_mail *o)
{
	if (o->fwd)
		complete_forward_req(o);
	else
		complete_mail(o);
	o->done = 1;
}

/* one more job from the queue, waiting until 'until' (ms); NULL if none */
static void *queue_take_one(long long until)
{
	struct pollfd pfd;
	void *job;
	ssize_t r;
	long long left;

	pfd.fd = queue_fd[0];
	pfd.events = POLLIN;
	for (;;) {
		r = read(queue_fd[0], &job, sizeof(job));
		if (r == sizeof(job))
			return job;
		if (r < 0 && errno == EINTR)
			continue;
		if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return NULL;
		left = until - pending_now_ms();
		if (left <= 0)
			return NULL;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return NULL;
	}
}

/* the SMTP session a worker has open, growing while jobs come for its
 * hosts (smtp_more_fn) */
typedef struct session_feed {
	batch *b;
	const out_mail *first;   /* its hosts */
	int nmails;              /* mails in the session so far */
	int last_growth;         /* mails the last session_more() added */
	void **jobs;             /* the worker's jobs of this batch */
	int *njobs;
} session_feed;

static int batch_has_room(const batch *b, int njobs)
{
	return njobs < SMTP_BATCH_MAX && b->nfwd < SMTP_BATCH_MAX
			&& b->nmailjob < SMTP_BATCH_MAX
			&& b->nmail + MAP_MAX_RCPT <= b->cap;
}

/* The session's mails went through: complete them now (their correlation
 * rows in one transaction), then hand over the batch's or the queue's next
 * mails for the same hosts, waiting up to smtp_session_idle ms for a job.
 * A job bound elsewhere ends the session: its mails go in the next one. */
static int session_more(void *arg, smtp_mail **more, int max)
{
	session_feed *f = arg;
	batch *b = f->b;
	long long until;
	void *job;
	int i, n = 0, other;

	if (max > cpm_get(mm4_batch) - f->nmails)
		max = cpm_get(mm4_batch) - f->nmails;
	if (max <= 0)
		return 0;
	store_batch_begin();
	for (i = 0; i < b->nmail; i++)
		if (b->mail[i].sent && !b->mail[i].done && b->mail[i].m.out.ok)
			complete_one(&b->mail[i]);
	store_batch_end();
	until = pending_now_ms() + cpm_get(smtp_session_idle);
	for (;;) {
		n += take_mails(b, f->first, &more[n], max - n, &other);
		if (n >= max || other || !batch_has_room(b, *f->njobs))
			break;
		/* what is queued joins at once; an empty queue is waited for
		 * only while the session has nothing to carry on with */
		if (n > 0) {
			job = queue_take_one(0);
		} else {
			__atomic_add_fetch(waiting_sessions, 1, __ATOMIC_SEQ_CST);
			job = queue_take_one(until);
			__atomic_sub_fetch(waiting_sessions, 1, __ATOMIC_SEQ_CST);
			/* jobs coming faster than one per round trip: let the
			 * next ones gather as before a session (mm4_batch_wait) */
			if (job)
				batch_wait(f->last_growth);
		}
		if (!job)
			break;
		f->jobs[(*f->njobs)++] = job;
		batch_prepare(b, job);
	}
	f->nmails += n;
	f->last_growth = n;
	if (n > 0)
		LM_DBG("SMTP session to %s goes on with %d more mail(s)\n",
				f->first->domain, n);
	return n;
}

/* send the batch's mails, one session per set of hosts; the first session
 * may take more jobs from the queue (session_more) */
static void batch_send(batch *b, void **jobs, int *njobs)
{
	smtp_mail *group[SMTP_BATCH_MAX];
	session_feed feed;
	int i, n, other;

	for (i = 0; i < b->nmail; i++) {
		if (b->mail[i].sent)
			continue;
		n = take_mails(b, &b->mail[i], group, cpm_get(mm4_batch), &other);
		LM_DBG("one SMTP session to %s for %d mail(s)\n", b->mail[i].domain,
				n);
		feed.b = b;
		feed.first = &b->mail[i];
		feed.nmails = n;
		feed.last_growth = n;
		feed.jobs = jobs;
		feed.njobs = njobs;
		smtp_send_batch(b->mail[i].hosts, b->mail[i].nhosts, group, n,
				cpm_get(mm4_batch) > 1 ? session_more : NULL, &feed);
	}
}

static void batch_run(void **jobs, int *njobs)
{
	/* per process, not allocated per batch: a forward job writes at
	 * most one REQ per recipient; only the entries used are touched */
	static out_mail mails[SMTP_BATCH_MAX * MAP_MAX_RCPT];
	static fwd_work fwds[SMTP_BATCH_MAX];
	batch b;
	int i;

	memset(&b, 0, sizeof(b));
	b.mail = mails;
	b.cap = SMTP_BATCH_MAX * MAP_MAX_RCPT;
	b.fwd = fwds;
	for (i = 0; i < *njobs; i++)
		batch_prepare(&b, jobs[i]);
	batch_send(&b, jobs, njobs);
	if (b.nmail > 1)
		store_batch_begin();
	for (i = 0; i < b.nmail; i++)
		if (!b.mail[i].done)
			complete_one(&b.mail[i]);
	store_batch_end();
	for (i = 0; i < b.nfwd; i++)
		if (b.fwd[i].sending)
			pending_set_state(b.fwd[i].j->tid, PENDING_SENT, 0, NULL);
	for (i = 0; i < b.nmail; i++) {
		mail_buf_give_back(&b.mail[i], i);
	}
	for (i = 0; i < b.nfwd; i++) {
		if (b.fwd[i].dest)
			pkg_free(b.fwd[i].dest);
	}
}

static int queued_jobs(void)
{
	int bytes;

	if (ioctl(queue_fd[0], FIONREAD, &bytes) < 0)
		return -1;
	return bytes / (int)sizeof(void *);
}

/* Under a steady load jobs arrive one at a time, and each would get an
 * SMTP session (TCP handshake, greeting, EHLO, QUIT) of its own: wait up
 * to mm4_batch_wait ms for a batch to fill. Only when jobs come faster
 * than one per session: more are queued already, or the last batch had
 * more than one. At low load a job goes out at once. */
static void batch_wait(int last_batch)
{
	struct timespec slice = { 0, 1000000 };
	long long until;
	int q;

	if (cpm_get(mm4_batch) <= 1 || cpm_get(mm4_batch_wait) <= 0)
		return;
	if (last_batch <= 1 && queued_jobs() <= 0)
		return;
	until = pending_now_ms() + cpm_get(mm4_batch_wait);
	while ((q = queued_jobs()) >= 0 && q < cpm_get(mm4_batch) - 1
			&& pending_now_ms() < until)
		nanosleep(&slice, NULL);
}

/* Wait for one job, let a batch gather (batch_wait), then take this
 * worker's share of what is queued, at most mm4_batch in all. The share
 * is the queue divided among this worker and the idle ones, so idle
 * workers take the rest, while a worker that finds the others busy takes
 * a full batch: the jobs for one MMSC then share an SMTP session. */
static int queue_take(void **jobs, int rank)
{
	static int last_batch = 0;
	struct timespec yield = { 0, 1000000 };
	struct pollfd pfd;
	ssize_t r;
	int queued, share, idle;

	pfd.fd = queue_fd[0];
	pfd.events = POLLIN;
	for (;;) {
		r = read(queue_fd[0], &jobs[0], sizeof(jobs[0]));
		if (r == sizeof(jobs[0]))
			break;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				LM_ERR("MM4 worker %d: poll: %s\n", rank, strerror(errno));
			/* a worker whose SMTP session waits for a job wakes too:
			 * leave it a moment to take it on its open connection */
			if (__atomic_load_n(waiting_sessions, __ATOMIC_SEQ_CST) > 0)
				nanosleep(&yield, NULL);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		LM_CRIT("MM4 worker %d: queue read failed (%zd, %s)\n", rank, r,
				r < 0 ? strerror(errno) : "eof");
		sleep(1);
	}
	__atomic_add_fetch(busy_workers, 1, __ATOMIC_SEQ_CST);
	batch_wait(last_batch);
	last_batch = 1;
	idle = cpm_get(mm4_workers)
			- __atomic_load_n(busy_workers, __ATOMIC_SEQ_CST);
	if (cpm_get(mm4_batch) <= 1 || (queued = queued_jobs()) < 0)
		return 1;
	if (idle < 0)
		idle = 0;
	/* rounded down: a job the idle workers can take is left to them */
	share = queued / (idle + 1);
	if (share > cpm_get(mm4_batch) - 1)
		share = cpm_get(mm4_batch) - 1;
	if (share <= 0)
		return 1;
	/* whole pointers only: every write was one pointer */
	r = read(queue_fd[0], &jobs[1], share * sizeof(jobs[0]));
	last_batch = 1 + (r > 0 ? (int)(r / sizeof(jobs[0])) : 0);
	return last_batch;
}

void workers_loop(int rank)
{
	void *jobs[SMTP_BATCH_MAX];
	int i, n;

	signal(SIGPIPE, SIG_IGN);
	cpm_mem_use_pkg();
	if (enum_resolve_init() < 0)
		LM_ERR("enum_server resolver setup failed: using the system one\n");
	close(queue_fd[1]);
	for (;;) {
		n = queue_take(jobs, rank);
		cfg_update();
		batch_run(jobs, &n);
		for (i = 0; i < n; i++)
			shm_free(jobs[i]);
		__atomic_sub_fetch(busy_workers, 1, __ATOMIC_SEQ_CST);
	}
}
