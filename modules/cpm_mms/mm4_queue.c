/*
 * cpm_mms - the queue to the MM4 worker processes.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* The queue is a pipe of shm pointers: writes of one pointer are atomic,
 * the write end is non-blocking so a SIP worker never waits (a full queue
 * is an overload answer), and every MM4 worker polls the read end and
 * takes a batch of what is queued (mm4_queue_take). The MM4 workers write
 * too: the report an IMDN job makes is a mail job of its own. The mails
 * the listener took go through a second pipe to the delivery process. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mem/shm_mem.h"
#include "core/dprint.h"

#include "settings.h"
#include "mm4_queue.h"
#include "map_flat.h"

static int queue_fd[2] = { -1, -1 };
/* the listener's parsed mails to the delivery process */
static int inbound_fd[2] = { -1, -1 };
/* MM4 workers busy with a batch (shm): sizes the next worker's share */
static int *busy_workers = NULL;
/* of those, waiting for one more job for an open SMTP session (shm) */
static int *waiting_sessions = NULL;

static int pipe_write(int fd, void *j, const char *what)
{
	ssize_t n;

	do {
		n = write(fd, &j, sizeof(j));
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(j)) {
		LM_WARN("%s full (%s)\n", what,
				n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

static int queue_write(void *j)
{
	return pipe_write(queue_fd[1], j, "MM4 worker queue");
}

int mm4_queue_init(void)
{
	int fl, i;

	busy_workers = shm_malloc(2 * sizeof(*busy_workers));
	if (!busy_workers) {
		SHM_MEM_ERROR;
		return -1;
	}
	busy_workers[0] = busy_workers[1] = 0;
	waiting_sessions = &busy_workers[1];
	if (pipe(queue_fd) < 0 || pipe(inbound_fd) < 0) {
		LM_ERR("pipe: %s\n", strerror(errno));
		return -1;
	}
	/* all ends non-blocking: senders never wait, readers wait in poll()
	 * and take what is there without blocking */
	for (i = 0; i < 4; i++) {
		int fd = i < 2 ? queue_fd[i] : inbound_fd[i - 2];

		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			LM_ERR("fcntl: %s\n", strerror(errno));
			return -1;
		}
	}
	return 0;
}

void mm4_queue_destroy(void)
{
	if (queue_fd[0] >= 0)
		close(queue_fd[0]);
	if (queue_fd[1] >= 0)
		close(queue_fd[1]);
	if (inbound_fd[0] >= 0)
		close(inbound_fd[0]);
	if (inbound_fd[1] >= 0)
		close(inbound_fd[1]);
	queue_fd[0] = queue_fd[1] = inbound_fd[0] = inbound_fd[1] = -1;
	if (busy_workers)
		shm_free(busy_workers);
	busy_workers = waiting_sessions = NULL;
}

int mm4_queue_forward(const map_result *mr, const char *tid)
{
	mm4_job *j;
	int size = map_fwd_size(mr);

	j = shm_malloc(sizeof(*j) + size);
	if (!j) {
		SHM_MEM_ERROR;
		return -1;
	}
	j->type = MM4_JOB_FORWARD;
	snprintf(j->tid, sizeof(j->tid), "%s", tid);
	map_fwd_copy(mr, &j->f, j->data);
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

/* a fixed-size job (its type the first int): copied to shm and queued */
static int queue_copy(const void *job, size_t size, int type)
{
	void *c = shm_malloc(size);

	if (!c) {
		SHM_MEM_ERROR;
		return -1;
	}
	memcpy(c, job, size);
	*(int *)c = type;
	if (queue_write(c) < 0) {
		shm_free(c);
		return -1;
	}
	return 0;
}

int mm4_queue_imdn(const imdn_job *j)
{
	return queue_copy(j, sizeof(*j), MM4_JOB_IMDN);
}

int mm4_queue_mark(const corr_row *row, int bit)
{
	mark_job m;

	m.type = MM4_JOB_MARK;
	m.bit = bit;
	m.row = *row;
	return queue_copy(&m, sizeof(m), MM4_JOB_MARK);
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
	if (pipe_write(inbound_fd[1], j, "MM4 delivery queue") < 0) {
		shm_free(j);
		return -1;
	}
	return 0;
}

/* one more job from the queue, waiting until 'until' (ms); NULL if none */
static void *take_one(long long until)
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

static int queued_jobs(void)
{
	int bytes;

	if (ioctl(queue_fd[0], FIONREAD, &bytes) < 0)
		return -1;
	return bytes / (int)sizeof(void *);
}

/* a job that makes no mail of its own (an IMDN, a row to mark done) waits
 * for no batch: a suspended transaction, or the next report, depends on
 * it */
static int makes_mail(const void *job)
{
	int type = *(const int *)job;

	return type == MM4_JOB_FORWARD || type == MM4_JOB_MAIL;
}

/* Under a steady load jobs arrive one at a time, and each would get an
 * SMTP session (TCP handshake, greeting, EHLO, QUIT) of its own: wait up
 * to mm4_batch_wait ms for a batch to fill. Only when jobs come faster
 * than one per session: more are queued already, or the last batch had
 * more than one. At low load a job goes out at once. */
static void gather(int last_batch)
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

/* Wait for one job, let a batch gather (gather()), then take this
 * worker's share of what is queued, at most mm4_batch in all. The share
 * is the queue divided among this worker and the idle ones, so idle
 * workers take the rest, while a worker that finds the others busy takes
 * a full batch: the jobs for one MMSC then share an SMTP session. */
int mm4_queue_take(void **jobs, int rank)
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
	if (makes_mail(jobs[0]))
		gather(last_batch);
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

void mm4_queue_done(void)
{
	__atomic_sub_fetch(busy_workers, 1, __ATOMIC_SEQ_CST);
}

void *mm4_queue_take_more(long long until, int last_growth)
{
	void *job;

	if (until <= 0)
		return take_one(0);
	__atomic_add_fetch(waiting_sessions, 1, __ATOMIC_SEQ_CST);
	job = take_one(until);
	__atomic_sub_fetch(waiting_sessions, 1, __ATOMIC_SEQ_CST);
	/* jobs coming faster than one per round trip: let the next ones
	 * gather as before a session (mm4_batch_wait) */
	if (job && makes_mail(job))
		gather(last_growth);
	return job;
}

int mm4_queue_take_inbound(inbound_job **jobs, int max)
{
	struct pollfd pfd;
	ssize_t r;

	pfd.fd = inbound_fd[0];
	pfd.events = POLLIN;
	for (;;) {
		/* whole pointers only: every write was one pointer */
		r = read(inbound_fd[0], jobs, max * sizeof(jobs[0]));
		if (r > 0)
			return (int)(r / sizeof(jobs[0]));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				LM_ERR("MM4 delivery: poll: %s\n", strerror(errno));
			continue;
		}
		LM_CRIT("MM4 delivery: queue read failed (%zd, %s)\n", r,
				r < 0 ? strerror(errno) : "eof");
		sleep(1);
	}
}
