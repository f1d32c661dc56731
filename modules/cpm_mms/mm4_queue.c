/*
 * cpm_mms - the queue to the MM4 worker processes.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* One lane per MM4 worker: a pipe of shm pointers (a write of one pointer
 * is atomic; the write ends are non-blocking, so no sender ever waits, and
 * every lane full is an overload answer) and its state in shm. A sender
 * picks the lane (pick_lane). A worker waits on its own lane only, reads
 * what is there at once (poll, no polling of the queue's size) and, with
 * its lane empty, takes what waits in a busy worker's lane. The MM4
 * workers write too: the report an IMDN job makes is a job of its own. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mem/shm_mem.h"
#include "core/mem/mem.h"
#include "core/dprint.h"

#include "settings.h"
#include "mm4_queue.h"
#include "map_flat.h"

/* what senders read to choose, what a worker shows of itself (shm) */
typedef struct lane_state {
	int queued;              /* in the pipe or read ahead, not taken yet */
	int busy;                /* working on a batch */
	int waiting;             /* its SMTP session waits for one more job */
} lane_state;

static int nlanes = 0;
static int (*lane_fd)[2] = NULL; /* [lane][0 read, 1 write], every process */
static lane_state *lanes = NULL;
static unsigned int *lane_turn = NULL; /* where the next pick starts (shm) */
static int my_lane = -1;         /* an MM4 worker's own lane */

/* The lane for the next job (a hint: the state may change meanwhile): a
 * worker whose session waits for one more job, else an idle worker, else,
 * all busy, the fullest lane that has room for a batch, so that the jobs
 * that wait share a session: the first worker to be free takes them
 * (steal()). */
static int pick_lane(void)
{
	unsigned int start = __atomic_fetch_add(lane_turn, 1, __ATOMIC_RELAXED);
	int i, l, q, fullest = -1, fullest_q = -1, emptiest = 0, emptiest_q = -1;

	for (i = 0; i < nlanes; i++) {
		l = (start + i) % nlanes;
		if (__atomic_load_n(&lanes[l].waiting, __ATOMIC_RELAXED)
				&& __atomic_load_n(&lanes[l].queued, __ATOMIC_RELAXED) == 0)
			return l;
	}
	for (i = 0; i < nlanes; i++) {
		l = (start + i) % nlanes;
		q = __atomic_load_n(&lanes[l].queued, __ATOMIC_RELAXED);
		if (q == 0 && !__atomic_load_n(&lanes[l].busy, __ATOMIC_RELAXED))
			return l;
		if (q < cpm_get(mm4_batch) && q > fullest_q) {
			fullest = l;
			fullest_q = q;
		}
		if (emptiest_q < 0 || q < emptiest_q) {
			emptiest = l;
			emptiest_q = q;
		}
	}
	return fullest >= 0 ? fullest : emptiest;
}

static int lane_write(int l, void *j)
{
	ssize_t n;

	__atomic_add_fetch(&lanes[l].queued, 1, __ATOMIC_SEQ_CST);
	do {
		n = write(lane_fd[l][1], &j, sizeof(j));
	} while (n < 0 && errno == EINTR);
	if (n == sizeof(j))
		return 0;
	__atomic_sub_fetch(&lanes[l].queued, 1, __ATOMIC_SEQ_CST);
	return -1;
}

static int queue_write(void *j)
{
	int first = pick_lane(), i;

	/* a full lane: the next ones before an overload answer */
	for (i = 0; i < nlanes; i++)
		if (lane_write((first + i) % nlanes, j) == 0)
			return 0;
	LM_WARN("MM4 worker queues full\n");
	return -1;
}

int mm4_queue_init(void)
{
	int fl, i, k;

	nlanes = cpm_get(mm4_workers);
	lane_fd = pkg_malloc(nlanes * sizeof(*lane_fd));
	lanes = shm_malloc(nlanes * sizeof(*lanes) + sizeof(*lane_turn));
	if (!lane_fd || !lanes) {
		if (lane_fd)
			pkg_free(lane_fd);
		if (lanes)
			shm_free(lanes);
		lane_fd = NULL;
		lanes = NULL;
		SHM_MEM_ERROR;
		return -1;
	}
	memset(lanes, 0, nlanes * sizeof(*lanes) + sizeof(*lane_turn));
	lane_turn = (unsigned int *)&lanes[nlanes];
	for (i = 0; i < nlanes; i++)
		lane_fd[i][0] = lane_fd[i][1] = -1;
	for (i = 0; i < nlanes; i++) {
		if (pipe(lane_fd[i]) < 0) {
			LM_ERR("pipe: %s\n", strerror(errno));
			return -1;
		}
		/* non-blocking both ends: senders never wait, workers wait in
		 * poll() and take what is there */
		for (k = 0; k < 2; k++) {
			fl = fcntl(lane_fd[i][k], F_GETFL);
			if (fl < 0 || fcntl(lane_fd[i][k], F_SETFL, fl | O_NONBLOCK) < 0) {
				LM_ERR("fcntl: %s\n", strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

void mm4_queue_destroy(void)
{
	int i;

	for (i = 0; lane_fd && i < nlanes; i++) {
		if (lane_fd[i][0] >= 0)
			close(lane_fd[i][0]);
		if (lane_fd[i][1] >= 0)
			close(lane_fd[i][1]);
	}
	if (lane_fd)
		pkg_free(lane_fd);
	lane_fd = NULL;
	if (lanes)
		shm_free(lanes);
	lanes = NULL;
	lane_turn = NULL;
	nlanes = 0;
}

int mm4_queue_forward(const map_result *mr, const char *tid)
{
	mm4_job *j;
	int size = map_flat_size(mr);

	j = shm_malloc(sizeof(*j) + size);
	if (!j) {
		SHM_MEM_ERROR;
		return -1;
	}
	j->type = MM4_JOB_FORWARD;
	snprintf(j->tid, sizeof(j->tid), "%s", tid);
	map_flat_copy(mr, &j->mr, j->data);
	if (queue_write(j) < 0) {
		shm_free(j);
		return -1;
	}
	return 0;
}

int mm4_queue_mail(const char *domain, const char *fallback_ip,
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
	j->type = MM4_JOB_MAIL;
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

int mm4_queue_imdn(const imdn_job *j)
{
	imdn_job *c = shm_malloc(sizeof(*c));

	if (!c) {
		SHM_MEM_ERROR;
		return -1;
	}
	*c = *j;
	c->type = MM4_JOB_IMDN;
	if (queue_write(c) < 0) {
		shm_free(c);
		return -1;
	}
	return 0;
}

int mm4_queue_inbound(const mm4_msg *m, const char *data, int len,
		const cm_str *rcpts, int nrcpt, const char *key, const char *peer)
{
	inbound_job *j;
	int i, total = len + 1, pos;

	if (nrcpt > INBOUND_MAX_RCPT || strlen(key) >= sizeof(j->key))
		return -1;
	for (i = 0; i < nrcpt; i++)
		total += rcpts[i].len + 1;
	j = shm_malloc(sizeof(*j) + total);
	if (!j) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(j, 0, sizeof(*j));
	j->type = MM4_JOB_INBOUND;
	strcpy(j->key, key);
	snprintf(j->peer, sizeof(j->peer), "%s", peer);
	memcpy(j->data, data, len);
	j->data[len] = '\0';
	j->len = len;
	j->m = *m;
	mm4_msg_move(&j->m, data, j->data);
	pos = len + 1;
	for (i = 0; i < nrcpt; i++) {
		memcpy(j->data + pos, rcpts[i].s, rcpts[i].len);
		j->rcpts[i].s = j->data + pos;
		j->rcpts[i].len = rcpts[i].len;
		j->data[pos + rcpts[i].len] = '\0';
		pos += rcpts[i].len + 1;
	}
	j->nrcpt = nrcpt;
	if (queue_write(j) < 0) {
		shm_free(j);
		return -1;
	}
	return 0;
}

/* ---- the MM4 workers' side ---- */

/* jobs read from the own lane and not handed out yet */
static void *ahead[CPM_MMS_BATCH_MAX];
static int nahead = 0, ahead_pos = 0;

/* read what the own lane holds (up to the read-ahead's room), waiting for
 * it up to 'until' (pending_now_ms() time; 0: not at all, -1: for ever) */
static void lane_read(long long until)
{
	struct pollfd pfd;
	ssize_t r;
	long long left;

	if (ahead_pos > 0) {
		memmove(ahead, &ahead[ahead_pos], (nahead - ahead_pos) * sizeof(ahead[0]));
		nahead -= ahead_pos;
		ahead_pos = 0;
	}
	if (nahead >= CPM_MMS_BATCH_MAX)
		return;
	pfd.fd = lane_fd[my_lane][0];
	pfd.events = POLLIN;
	for (;;) {
		r = read(pfd.fd, &ahead[nahead],
				(CPM_MMS_BATCH_MAX - nahead) * sizeof(ahead[0]));
		if (r > 0) {
			/* whole pointers only: every write was one pointer */
			nahead += (int)(r / sizeof(ahead[0]));
			return;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			LM_CRIT("MM4 worker lane %d: read failed (%s)\n", my_lane,
					r < 0 ? strerror(errno) : "eof");
			sleep(1);
			return;
		}
		if (until == 0)
			return;
		left = until < 0 ? -1 : until - pending_now_ms();
		if (until > 0 && left <= 0)
			return;
		if (poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) < 0
				&& errno != EINTR)
			return;
	}
}

static void *ahead_take(void)
{
	if (ahead_pos >= nahead)
		return NULL;
	__atomic_sub_fetch(&lanes[my_lane].queued, 1, __ATOMIC_SEQ_CST);
	return ahead[ahead_pos++];
}

static int ahead_count(void)
{
	return nahead - ahead_pos;
}

/* idle: the jobs (at most max) waiting in the fullest lane of a busy
 * worker; how many were taken */
static int steal(void **jobs, int max)
{
	ssize_t r;
	int i, l, q, from = -1, most = 0;

	for (i = 1; i < nlanes; i++) {
		l = (my_lane + i) % nlanes;
		q = __atomic_load_n(&lanes[l].queued, __ATOMIC_SEQ_CST);
		if (q > most && __atomic_load_n(&lanes[l].busy, __ATOMIC_SEQ_CST)) {
			from = l;
			most = q;
		}
	}
	if (from < 0)
		return 0;
	/* whole pointers only: every write was one pointer */
	r = read(lane_fd[from][0], jobs, max * sizeof(jobs[0]));
	if (r <= 0)
		return 0;
	__atomic_sub_fetch(&lanes[from].queued, (int)(r / sizeof(jobs[0])),
			__ATOMIC_SEQ_CST);
	return (int)(r / sizeof(jobs[0]));
}

/* Under a steady load jobs arrive one at a time, and each would get an
 * SMTP session (TCP handshake, greeting, EHLO, QUIT) of its own: wait up
 * to mm4_batch_wait ms for a batch to fill. Only when jobs come faster
 * than one per session: more are queued already, or the last batch had
 * more than one. At low load a job goes out at once. */
static void gather(int last_batch)
{
	long long until;

	if (cpm_get(mm4_batch) <= 1 || cpm_get(mm4_batch_wait) <= 0)
		return;
	lane_read(0);
	if (last_batch <= 1 && ahead_count() <= 0)
		return;
	until = pending_now_ms() + cpm_get(mm4_batch_wait);
	while (ahead_count() < cpm_get(mm4_batch) - 1 && pending_now_ms() < until
			&& ahead_count() < CPM_MMS_BATCH_MAX)
		lane_read(until);
}

int mm4_queue_worker_init(int rank)
{
	if (rank < 0 || rank >= nlanes)
		return -1;
	my_lane = rank;
	return 0;
}

/* Wait for one job in the own lane, let a batch gather (gather()), then
 * take what the lane holds, at most mm4_batch in all; with the own lane
 * empty, what waits in a busy worker's lane. */
int mm4_queue_take(void **jobs)
{
	static int last_batch = 0;
	int n = 0;

	for (;;) {
		lane_read(0);
		if ((jobs[0] = ahead_take()) != NULL)
			break;
		__atomic_store_n(&lanes[my_lane].busy, 1, __ATOMIC_SEQ_CST);
		n = steal(jobs, cpm_get(mm4_batch));
		if (n > 0) {
			last_batch = n;
			return n;
		}
		__atomic_store_n(&lanes[my_lane].busy, 0, __ATOMIC_SEQ_CST);
		lane_read(-1);
	}
	__atomic_store_n(&lanes[my_lane].busy, 1, __ATOMIC_SEQ_CST);
	gather(last_batch);
	for (n = 1; n < cpm_get(mm4_batch) && (jobs[n] = ahead_take()) != NULL; n++)
		;
	last_batch = n;
	return n;
}

void mm4_queue_done(void)
{
	__atomic_store_n(&lanes[my_lane].busy, 0, __ATOMIC_SEQ_CST);
}

void *mm4_queue_take_more(long long until, int last_growth)
{
	void *job;

	lane_read(0);
	if ((job = ahead_take()) == NULL && until > 0) {
		__atomic_store_n(&lanes[my_lane].waiting, 1, __ATOMIC_SEQ_CST);
		while (ahead_count() == 0 && pending_now_ms() < until)
			lane_read(until);
		__atomic_store_n(&lanes[my_lane].waiting, 0, __ATOMIC_SEQ_CST);
		job = ahead_take();
	}
	/* jobs coming faster than one per round trip: let the next ones
	 * gather as before a session (mm4_batch_wait) */
	if (job)
		gather(last_growth);
	return job;
}
