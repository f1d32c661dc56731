/*
 * cpm_mms - the MM4 worker processes: take jobs from the queue
 * (mm4_queue.c), map, resolve and send them over SMTP in batches, and
 * complete each job with its outcome. And the MM4 delivery process, which
 * carries out the MM4 mails the listener received (MESSAGEs, IMDNs,
 * answers to suspended MESSAGEs).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
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
#include "mm4_queue.h"
#include "enum_resolve.h"
#include "smtp_client.h"
#include "completion.h"
#include "stats.h"
#include "peers.h"
#include "report.h"
#include "mm4_in.h"
#include "store.h"

/* A batch: the jobs a worker took from the queue at once, prepared into
 * mails, the mails bound for the same hosts sent in one SMTP session, then
 * each job completed with its mails' outcomes. */

/* a forward job being worked on */
typedef struct fwd_work {
	mm4_job *j;
	map_fwd *f;
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

/* per process, not allocated per batch (a 3.5 KB pkg block per job was a
 * q_malloc walk): a batch has at most SMTP_BATCH_MAX jobs */
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
		LM_DBG("%s sent to %s via %s\n", j->what, j->rcpt, out->host);
	else
		LM_ERR("%s to %s failed: %d %s (%s)\n", j->what, j->rcpt, out->code,
				out->text, out->host[0] ? out->host : "no host");
}

/* resolve and write the REQs of one forward job (mapped by the SIP
 * worker) into the batch */
static void prepare_forward(batch *b, fwd_work *w, mm4_job *j)
{
	map_fwd *f;
	mm4_dest *dest;
	out_mail *o;
	int i, k, nr, first;

	w->j = j;
	f = w->f = &j->f;
	if (pending_set_state(j->tid, PENDING_SENDING, 0, NULL) < 0) {
		LM_NOTICE("%s answered before an MM4 worker took it: not sent\n",
				j->tid);
		return;
	}
	dest = w->dest = pkg_malloc(sizeof(*dest) * f->nrcpt);
	if (!dest) {
		PKG_MEM_ERROR;
		completion_abort(j->tid, MAP_LF_INTERNAL, "internal error");
		return;
	}
	/* resolve everybody, then one REQ per destination MMSE */
	f->req.nto = 0;
	f->req.ncc = 0;
	f->req.nbcc = 0;
	w->nreq = 0;
	for (i = 0; i < f->nrcpt; i++) {
		w->fail[i] = enum_resolve(f->rcpt_e164[i].s, &dest[i]);
		LM_DBG("%s: %s\n", f->rcpt_e164[i].s, dest[i].trace);
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
		if (!w->fail[i] && f->rcpt_copy[i] == RL_COPY_BCC)
			f->req.nbcc++;
		else if (!w->fail[i] && f->rcpt_copy[i] == RL_COPY_CC)
			f->req.cc[f->req.ncc++] = cm_str_z(dest[i].mailbox);
		else if (!w->fail[i])
			f->req.to[f->req.nto++] = cm_str_z(dest[i].mailbox);
		else {
			stats_inc(CPM_ST_DNS_FAILURES);
			LM_NOTICE("no MMS route for %s: %s\n", f->rcpt_e164[i].s,
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
		for (i = 0, first = -1; i < f->nrcpt; i++) {
			if (w->group[i] == k) {
				first = i;
				break;
			}
		}
		if (w->fail[first]) {
			completion_failure(j->tid, k, w->fail[first], "routing failed");
			continue;
		}
		o = batch_add(b);
		if (!o) {
			LM_BUG("%s-%d: batch full\n", j->tid, k);
			completion_failure(j->tid, k, MAP_LF_INTERNAL, "internal error");
			continue;
		}
		snprintf(o->req_tid, sizeof(o->req_tid), "%s-%d", j->tid, k);
		f->req.transaction_id = cm_str_z(o->req_tid);
		mail_buf_take(o, b->nmail - 1);
		if (mm4_write_forward_req(&o->buf, &f->req) < 0 || o->buf.failed) {
			mail_buf_give_back(o, b->nmail - 1);
			b->nmail--;
			LM_ERR("%s-%d: content cannot be written as MM4\n", j->tid, k);
			completion_failure(j->tid, k, MAP_LF_CONTENT_TYPE, "MM4 encoding");
			continue;
		}
		for (i = 0, nr = 0; i < f->nrcpt; i++)
			if (w->group[i] == k)
				o->rcpts[nr++] = dest[i].mailbox;
		o->fwd = w;
		o->req = k;
		o->hosts = dest[first].hosts;
		o->nhosts = dest[first].nhosts;
		o->domain = dest[first].domain;
		o->m.mail_from = f->sender_addr.s;
		o->m.rcpts = o->rcpts;
		o->m.nrcpt = nr;
		o->m.data = o->buf.s;
		o->m.len = o->buf.len;
	}
}

static void complete_forward_req(out_mail *o)
{
	fwd_work *w = o->fwd;
	map_fwd *f = w->f;
	smtp_outcome *out = &o->m.out;
	int i;

	if (out->host[0])
		peers_msg_out(out->host, out->ok, out->code, out->text);
	if (out->ok) {
		stats_inc(CPM_ST_MM4_REQ_SENT);
		for (i = 0; i < f->nrcpt; i++)
			if (w->group[i] == o->req)
				report_store_forward(f, f->rcpt_e164[i].s, o->req_tid);
		LM_DBG("MM4_forward.REQ %s (X-Mms-Message-ID %s, imdn %.*s) "
				"to %s via %s\n", o->req_tid, f->message_id.s,
				f->imdn_message_id.len, f->imdn_message_id.s,
				o->rcpts[0], out->host);
		return;
	}
	stats_inc(CPM_ST_SMTP_FAILURES);
	LM_NOTICE("MM4_forward.REQ %s to %s failed: %d %s (%s)\n", o->req_tid,
			o->domain, out->code, out->text,
			out->host[0] ? out->host : "no host");
	if (!completion_failure(w->j->tid, o->req,
				map_smtp_reply(out->code, cm_str_z(out->text)),
				"SMTP failed")) {
		/* answered 202 meanwhile: tell the sender it failed */
		for (i = 0; i < f->nrcpt; i++)
			if (w->group[i] == o->req)
				report_failed_now(f, f->rcpt_e164[i].s);
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

/* a mail the listener took (in the delivery process): no mail of its own
 * (a RES it owes is queued for the workers). A REQ's rows are committed
 * one by one, each before its MESSAGE goes out: the answer, in another
 * process, must find it. */
static void run_inbound(const inbound_job *j)
{
	if (j->m.type == MM4_FORWARD_RES)
		completion_res(&j->m);
	else if (j->m.type == MM4_FORWARD_REQ)
		mm4_in_deliver(&j->m, j->rcpts, j->nrcpt, j->key, j->peer);
	else
		report_mm4_deliver(&j->m, j->key, j->peer);
}

static void batch_prepare(batch *b, void *job)
{
	if (*(int *)job == MM4_JOB_MAIL) {
		prepare_mail(b, job);
	} else if (*(int *)job == MM4_JOB_IMDN) {
		/* no mail of its own: a report it makes is queued */
		report_imdn_job(job);
	} else if (*(int *)job == MM4_JOB_MARK) {
		store_mark_done(&((mark_job *)job)->row, ((mark_job *)job)->bit);
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
		job = mm4_queue_take_more(n > 0 ? 0 : until, f->last_growth);
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

void workers_loop(int rank)
{
	void *jobs[SMTP_BATCH_MAX];
	int i, n;

	signal(SIGPIPE, SIG_IGN);
	cpm_mem_use_pkg();
	if (enum_resolve_init() < 0)
		LM_ERR("enum_server resolver setup failed: using the system one\n");
	for (;;) {
		n = mm4_queue_take(jobs, rank);
		cfg_update();
		batch_run(jobs, &n);
		for (i = 0; i < n; i++)
			shm_free(jobs[i]);
		mm4_queue_done();
	}
}

void workers_delivery_loop(void)
{
	inbound_job *jobs[MM4_INBOUND_TAKE_MAX];
	int i, n;

	signal(SIGPIPE, SIG_IGN);
	cpm_mem_use_pkg();
	for (;;) {
		n = mm4_queue_take_inbound(jobs, MM4_INBOUND_TAKE_MAX);
		cfg_update();
		for (i = 0; i < n; i++) {
			run_inbound(jobs[i]);
			shm_free(jobs[i]);
		}
	}
}
