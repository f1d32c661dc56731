/*
 * mm4bench - fast MM4 peer MMSC and MM4 load generator for the cpm_mms
 * benchmark (bench/run.sh). One process, one epoll loop, libc only.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * peer mode (CPM -> MMS): the recipient's MMSC.
 *   mm4bench peer --listen 127.0.0.2:2525 --to 127.0.0.1:2526
 *                 [--conns 4] [--delay-ms D] [--drop-pct P] [--stats F]
 *   Accepts MM4_forward.REQs by SMTP (EHLO offers PIPELINING and CHUNKING:
 *   DATA or BDAT), answers 250, and sends one MM4_forward.RES
 *   (X-Mms-Transaction-ID echoed, status Ok) per REQ with X-Mms-Ack-Request:
 *   Yes back to --to over --conns persistent SMTP connections, several mails
 *   per session, pipelined when the server offers PIPELINING; where it
 *   offers CHUNKING too, each mail is MAIL, RCPT, "BDAT <n> LAST" and the
 *   mail in one write (one round trip). --delay-ms holds each RES back,
 *   --drop-pct withholds that share of them (100 = never answer: pending
 *   load on the IWF).
 *   --stats F is rewritten every second with the counters.
 *
 * gen mode (MMS -> CPM): an originating MMSC and load generator.
 *   mm4bench gen --to 127.0.0.1:2526 --listen 127.0.0.2:2525 --rate R
 *                --count N [--conns 8] [--res-wait S] [--run-id ID] [--dr]
 *   Submits N MM4_forward.REQs at R per second (open loop, scheduled times)
 *   over --conns persistent pipelined SMTP connections, receives the
 *   MM4_forward.RESs the IWF sends back on --listen and prints one line of
 *   key=value results: counts, achieved rate, lag behind the schedule and
 *   the end-to-end latency (REQ's MAIL FROM written -> RES received)
 *   percentiles. Exit status 0 when every REQ got 250 and an Ok RES.
 *
 * --no-chunking (both modes): neither offer CHUNKING nor use it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef long long i64;

enum { K_LISTEN = 1, K_SERVER, K_CLIENT };
enum { MODE_PEER = 1, MODE_GEN };

#define MAX_HDR_BLOCK 65536
#define MAX_CLIENTS 256
#define XQ_SIZE 32
#define FLIGHT_MAX 4

/* ------------------------------------------------------------------ */
/* options and counters                                                */

static struct {
	int mode;
	struct sockaddr_in listen_sa, to_sa;
	int have_listen, have_to;
	int conns;
	int delay_ms;
	int drop_pct;
	const char *stats_file;
	const char *domain;      /* own MMS domain */
	const char *iwf_domain;  /* gen: the recipient (IWF) domain */
	const char *rcpt;        /* gen: recipient number */
	const char *from;        /* gen: originator number */
	const char *run_id;
	const char *lat_file;
	double rate;
	long count;
	int res_wait;
	int dr;
	int body_len;
	int no_chunking;         /* neither offer nor use CHUNKING (BDAT) */
} opt;

static struct {
	unsigned long long conns_in, mails_in, reqs_in, other_in, res_in;
	unsigned long long res_queued, res_sent, res_fail, res_dropped;
	unsigned long long reconnects, requeued, bad_res, dup_res;
	unsigned long long out_ok, out_fail;
} st;

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t dump_flag;
static int ep = -1;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mm4bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static i64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (i64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------------ */
/* growable buffer                                                     */

typedef struct buf {
	char *s;
	size_t len, cap;
} buf;

static void buf_need(buf *b, size_t n)
{
	size_t c;

	if (b->len + n + 1 <= b->cap)
		return;
	c = b->cap ? b->cap : 4096;
	while (c < b->len + n + 1)
		c *= 2;
	b->s = realloc(b->s, c);
	if (!b->s)
		die("out of memory");
	b->cap = c;
}

static void buf_add(buf *b, const void *p, size_t n)
{
	buf_need(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_adds(buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_consume(buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->s, b->s + n, b->len - n);
		b->len -= n;
	}
	if (b->s)
		b->s[b->len] = '\0';
}

static void buf_free(buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ */
/* outgoing mails                                                      */

/* text = "MAIL FROM:<..>\r\nRCPT TO:<..>\r\nDATA\r\n" + body + ".\r\n" */
typedef struct omail {
	struct omail *next;
	long id;
	i64 t_due;          /* peer: when the RES may go; gen: schedule */
	i64 t_sent;         /* first MAIL FROM written */
	int fail;           /* first non-2xx reply seen */
	int o_rcpt, o_data, o_body, len;
	char text[];
} omail;

typedef struct mqueue {
	omail *head, *tail;
	long n;
} mqueue;

static mqueue sendq;   /* ready to go */
static mqueue delayq;  /* peer: RESs held back by --delay-ms */

static void mq_push(mqueue *q, omail *m)
{
	m->next = NULL;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->n++;
}

static void mq_push_front(mqueue *q, omail *m)
{
	m->next = q->head;
	q->head = m;
	if (!q->tail)
		q->tail = m;
	q->n++;
}

static omail *mq_pop(mqueue *q)
{
	omail *m = q->head;

	if (!m)
		return NULL;
	q->head = m->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	m->next = NULL;
	return m;
}

static omail *mail_new(const char *from, const char *rcpt, const char *body,
		size_t blen)
{
	size_t cap = strlen(from) + strlen(rcpt) + blen + 64;
	omail *m = malloc(sizeof(*m) + cap);
	int n;

	if (!m)
		die("out of memory");
	memset(m, 0, sizeof(*m));
	n = snprintf(m->text, cap, "MAIL FROM:<%s>\r\n", from);
	m->o_rcpt = n;
	n += snprintf(m->text + n, cap - n, "RCPT TO:<%s>\r\n", rcpt);
	m->o_data = n;
	n += snprintf(m->text + n, cap - n, "DATA\r\n");
	m->o_body = n;
	memcpy(m->text + n, body, blen);
	n += blen;
	memcpy(m->text + n, ".\r\n", 3);
	n += 3;
	m->len = n;
	return m;
}

/* ------------------------------------------------------------------ */
/* gen mode bookkeeping                                                */

static i64 *g_sent, *g_ack, *g_res;
static unsigned char *g_ok; /* 1 smtp ok, 2 res Ok, 3 res error */
static long g_issued, g_done, g_acked_ok, g_res_ok, g_res_err;
static i64 g_t0, g_first_sent, g_last_sent, g_last_event, g_max_lag;
static char g_prefix[96];
static int g_prefix_len;

/* ------------------------------------------------------------------ */
/* sockets                                                             */

static void set_nodelay(int fd)
{
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static int parse_hostport(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *c = strrchr(s, ':');

	if (!c || c - s >= (int)sizeof(host))
		return -1;
	memcpy(host, s, c - s);
	host[c - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(c + 1));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || !sa->sin_port)
		return -1;
	return 0;
}

static void ep_mod(int fd, void *ptr, int want_out)
{
	struct epoll_event ev;

	ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
	ev.data.ptr = ptr;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void ep_add(int fd, void *ptr, unsigned int events)
{
	struct epoll_event ev;

	ev.events = events;
	ev.data.ptr = ptr;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

/* send what we can; -1 when the socket is dead */
static int flush_out(int fd, buf *out, void *ptr, int *want_out)
{
	while (out->len > 0) {
		ssize_t n = send(fd, out->s, out->len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		buf_consume(out, n);
	}
	if ((out->len > 0) != *want_out) {
		*want_out = out->len > 0;
		ep_mod(fd, ptr, *want_out);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* header helpers                                                      */

/* value of header `name` in a header block (LF separated, unfolded
 * continuation lines appended), trimmed; 0 and out="" when absent */
static int hdr_get(const char *blk, size_t blen, const char *name, char *out,
		size_t outsz)
{
	size_t nl = strlen(name), i = 0, o = 0;

	out[0] = '\0';
	while (i < blen) {
		const char *line = blk + i;
		const char *e = memchr(line, '\n', blen - i);
		size_t ll = e ? (size_t)(e - line) : blen - i;

		if (ll > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
			const char *v = line + nl + 1;
			size_t vl = ll - nl - 1;

			for (;;) {
				while (vl > 0 && (*v == ' ' || *v == '\t')) {
					v++;
					vl--;
				}
				while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'
							|| v[vl - 1] == '\r'))
					vl--;
				if (o > 0 && vl > 0 && o + 1 < outsz)
					out[o++] = ' ';
				if (vl > outsz - 1 - o)
					vl = outsz - 1 - o;
				memcpy(out + o, v, vl);
				o += vl;
				out[o] = '\0';
				/* folded continuation? */
				i += ll + 1;
				if (i < blen && (blk[i] == ' ' || blk[i] == '\t')) {
					line = blk + i;
					e = memchr(line, '\n', blen - i);
					ll = e ? (size_t)(e - line) : blen - i;
					v = line;
					vl = ll;
					continue;
				}
				return 1;
			}
		}
		i += ll + 1;
	}
	return 0;
}

/* the address inside <...>, else the trimmed value */
static void bare_addr(char *s)
{
	char *lt = strchr(s, '<'), *gt;

	if (lt && (gt = strchr(lt, '>')) != NULL) {
		memmove(s, lt + 1, gt - lt - 1);
		s[gt - lt - 1] = '\0';
	}
}

static const char *rfc2822_date(void)
{
	static char d[64];
	static time_t last;
	time_t t = time(NULL);

	if (t != last) {
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(d, sizeof(d), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		last = t;
	}
	return d;
}

/* ------------------------------------------------------------------ */
/* SMTP client connections (RES sender / REQ generator)                */

enum { X_GREET = 1, X_EHLO, X_MAIL, X_RCPT, X_DATA, X_EOD, X_RSET };
enum { C_DOWN = 0, C_CONNECTING, C_HELLO, C_READY };

typedef struct cconn {
	int kind;
	int fd;
	int idx;
	int state;
	int pipelining;
	int chunking;
	int want_out;
	int reply_pipelining; /* PIPELINING seen in the reply being read */
	int reply_chunking;   /* CHUNKING seen in the reply being read */
	buf in, out;
	struct {
		int type;
		omail *m;
	} xq[XQ_SIZE];
	int xh, xn;
	omail *await354;
	omail *flight[FLIGHT_MAX];
	int nflight;
	i64 retry_at;
} cconn;

static cconn *clients[MAX_CLIENTS];
static int nclients;

static void xq_push(cconn *c, int type, omail *m)
{
	int i;

	if (c->xn >= XQ_SIZE)
		die("expectation queue overflow");
	i = (c->xh + c->xn) % XQ_SIZE;
	c->xq[i].type = type;
	c->xq[i].m = m;
	c->xn++;
}

static void flight_del(cconn *c, omail *m)
{
	int i;

	for (i = 0; i < c->nflight; i++) {
		if (c->flight[i] == m) {
			memmove(&c->flight[i], &c->flight[i + 1],
					(c->nflight - i - 1) * sizeof(c->flight[0]));
			c->nflight--;
			return;
		}
	}
}

/* a mail got its final SMTP answer on a client connection */
static void mail_done(omail *m, int code)
{
	int ok = code >= 200 && code < 300 && !m->fail;

	if (opt.mode == MODE_PEER) {
		if (ok)
			st.res_sent++;
		else
			st.res_fail++;
	} else {
		i64 t = now_us();

		g_done++;
		g_last_event = t;
		if (ok) {
			st.out_ok++;
			g_ack[m->id] = t;
			if (!g_ok[m->id])
				g_ok[m->id] = 1;
			g_acked_ok++;
		} else {
			st.out_fail++;
		}
	}
	free(m);
}

static void client_close(cconn *c, const char *why)
{
	int i;

	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	/* whatever was not acknowledged goes again, in order */
	for (i = c->nflight - 1; i >= 0; i--) {
		c->flight[i]->fail = 0;
		mq_push_front(&sendq, c->flight[i]);
		st.requeued++;
	}
	c->nflight = 0;
	c->xh = c->xn = 0;
	c->await354 = NULL;
	c->in.len = c->out.len = 0;
	c->state = C_DOWN;
	c->want_out = 0;
	c->retry_at = now_us() + 200000;
	if (why && !stop_flag)
		fprintf(stderr, "mm4bench: client %d closed: %s\n", c->idx, why);
}

static void client_connect(cconn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	set_nodelay(fd);
	c->fd = fd;
	c->state = C_CONNECTING;
	c->pipelining = 0;
	c->chunking = 0;
	st.reconnects++;
	if (connect(fd, (struct sockaddr *)&opt.to_sa, sizeof(opt.to_sa)) < 0
			&& errno != EINPROGRESS) {
		close(fd);
		c->fd = -1;
		c->state = C_DOWN;
		c->retry_at = now_us() + 200000;
		return;
	}
	c->want_out = 1;
	ep_add(fd, c, EPOLLIN | EPOLLOUT);
}

static void client_flush(cconn *c)
{
	if (c->fd >= 0 && c->state != C_CONNECTING
			&& flush_out(c->fd, &c->out, c, &c->want_out) < 0)
		client_close(c, "send failed");
}

/* start as many mails as the protocol allows on this connection */
static void client_pump(cconn *c)
{
	while (c->state == C_READY && !c->await354 && c->nflight < FLIGHT_MAX
			&& sendq.head) {
		omail *m;

		if (!c->pipelining && c->xn > 0)
			break;
		m = mq_pop(&sendq);
		if (!m->t_sent) {
			m->t_sent = now_us();
			if (opt.mode == MODE_GEN) {
				i64 lag = m->t_sent - m->t_due;

				g_sent[m->id] = m->t_sent;
				if (lag > g_max_lag)
					g_max_lag = lag;
				if (!g_first_sent)
					g_first_sent = m->t_sent;
				g_last_sent = m->t_sent;
			}
		}
		c->flight[c->nflight++] = m;
		if (c->pipelining && c->chunking) {
			/* RFC 3030: the envelope and the whole mail in one write;
			 * the body is never dot-stuffed here (no line starts with
			 * a dot), so the DATA text less ".\r\n" is the chunk */
			char bdat[48];
			int blen = m->len - 3 - m->o_body;

			buf_add(&c->out, m->text, m->o_data);
			snprintf(bdat, sizeof(bdat), "BDAT %d LAST\r\n", blen);
			buf_adds(&c->out, bdat);
			buf_add(&c->out, m->text + m->o_body, blen);
			xq_push(c, X_MAIL, m);
			xq_push(c, X_RCPT, m);
			xq_push(c, X_EOD, m);
			continue;
		}
		c->await354 = m;
		if (c->pipelining) {
			buf_add(&c->out, m->text, m->o_body);
			xq_push(c, X_MAIL, m);
			xq_push(c, X_RCPT, m);
			xq_push(c, X_DATA, m);
		} else {
			buf_add(&c->out, m->text, m->o_rcpt);
			xq_push(c, X_MAIL, m);
		}
	}
	client_flush(c);
}

static void client_reply(cconn *c, int code)
{
	int type;
	omail *m;

	if (c->xn == 0) {
		client_close(c, "unexpected reply");
		return;
	}
	type = c->xq[c->xh].type;
	m = c->xq[c->xh].m;
	c->xh = (c->xh + 1) % XQ_SIZE;
	c->xn--;
	switch (type) {
	case X_GREET:
		if (code != 220) {
			client_close(c, "greeting refused");
			return;
		}
		buf_adds(&c->out, "EHLO ");
		buf_adds(&c->out, opt.domain);
		buf_adds(&c->out, "\r\n");
		xq_push(c, X_EHLO, NULL);
		c->state = C_HELLO;
		break;
	case X_EHLO:
		if (code != 250) {
			client_close(c, "EHLO refused");
			return;
		}
		c->pipelining = c->reply_pipelining;
		c->chunking = c->reply_chunking && !opt.no_chunking;
		c->state = C_READY;
		break;
	case X_MAIL:
	case X_RCPT:
		if ((code < 200 || code >= 300) && !m->fail)
			m->fail = code;
		if (!c->pipelining) {
			if (m->fail) {
				c->await354 = NULL;
				flight_del(c, m);
				mail_done(m, code);
				buf_adds(&c->out, "RSET\r\n");
				xq_push(c, X_RSET, NULL);
			} else if (type == X_MAIL) {
				buf_add(&c->out, m->text + m->o_rcpt, m->o_data - m->o_rcpt);
				xq_push(c, X_RCPT, m);
			} else {
				buf_add(&c->out, m->text + m->o_data, m->o_body - m->o_data);
				xq_push(c, X_DATA, m);
			}
		}
		break;
	case X_DATA:
		c->await354 = NULL;
		if (code == 354) {
			buf_add(&c->out, m->text + m->o_body, m->len - m->o_body);
			xq_push(c, X_EOD, m);
		} else {
			flight_del(c, m);
			mail_done(m, code);
		}
		break;
	case X_EOD:
		flight_del(c, m);
		mail_done(m, code);
		break;
	default:
		break;
	}
	client_pump(c);
}

static void client_read(cconn *c)
{
	char tmp[16384];
	size_t pos;

	for (;;) {
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);

		if (n > 0) {
			buf_add(&c->in, tmp, n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		client_close(c, n == 0 ? "closed by server" : strerror(errno));
		return;
	}
	pos = 0;
	while (c->fd >= 0) {
		char *line = c->in.s + pos;
		char *nl = memchr(line, '\n', c->in.len - pos);
		size_t ll;

		if (!nl)
			break;
		ll = nl - line;
		pos += ll + 1;
		if (ll < 3) {
			client_close(c, "short reply line");
			return;
		}
		if (ll >= 14 && strncasecmp(line + 4, "PIPELINING", 10) == 0)
			c->reply_pipelining = 1;
		if (ll >= 12 && strncasecmp(line + 4, "CHUNKING", 8) == 0)
			c->reply_chunking = 1;
		if (ll >= 4 && line[3] == '-')
			continue;
		client_reply(c, atoi(line));
		c->reply_pipelining = 0;
		c->reply_chunking = 0;
	}
	if (c->fd >= 0)
		buf_consume(&c->in, pos);
}

static void client_event(cconn *c, unsigned int events)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t sl = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err) {
			client_close(c, err ? strerror(err) : "connect failed");
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
		c->state = C_HELLO;
		c->want_out = 1;
		xq_push(c, X_GREET, NULL);
		client_flush(c);
		if (c->fd < 0)
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(c);
	if (c->fd >= 0 && (events & EPOLLOUT))
		client_flush(c);
}

static void clients_start(int n)
{
	int i;

	for (i = 0; i < n && i < MAX_CLIENTS; i++) {
		cconn *c = calloc(1, sizeof(*c));

		if (!c)
			die("out of memory");
		c->kind = K_CLIENT;
		c->fd = -1;
		c->idx = i;
		clients[nclients++] = c;
		client_connect(c);
	}
}

static void clients_tick(void)
{
	i64 t = now_us();
	int i;

	for (i = 0; i < nclients; i++) {
		cconn *c = clients[i];

		if (c->state == C_DOWN && t >= c->retry_at)
			client_connect(c);
		else if (c->state == C_READY)
			client_pump(c);
	}
}

/* ------------------------------------------------------------------ */
/* what a received mail does                                           */

/* peer: answer an MM4_forward.REQ with an MM4_forward.RES */
static void peer_mail(const char *blk, size_t blen)
{
	char type[64], tid[256], mid[256], osys[256], ack[16];
	static unsigned long long seq, drop_acc;
	char body[2048];
	omail *m;
	int n;

	hdr_get(blk, blen, "X-Mms-Message-Type", type, sizeof(type));
	if (strcasecmp(type, "MM4_forward.REQ") != 0) {
		st.other_in++;
		return;
	}
	st.reqs_in++;
	hdr_get(blk, blen, "X-Mms-Ack-Request", ack, sizeof(ack));
	if (strcasecmp(ack, "Yes") != 0)
		return;
	if (!hdr_get(blk, blen, "X-Mms-Transaction-ID", tid, sizeof(tid)))
		return;
	hdr_get(blk, blen, "X-Mms-Message-ID", mid, sizeof(mid));
	if (!hdr_get(blk, blen, "X-Mms-Originator-System", osys, sizeof(osys))
			&& !hdr_get(blk, blen, "Sender", osys, sizeof(osys)))
		return;
	bare_addr(osys);
	/* withhold every drop_pct-th in 100, evenly spread */
	drop_acc += opt.drop_pct;
	if (drop_acc >= 100) {
		drop_acc -= 100;
		st.res_dropped++;
		return;
	}
	seq++;
	n = snprintf(body, sizeof(body),
			"X-Mms-3GPP-MMS-Version: 6.16.0\r\n"
			"X-Mms-Message-Type: MM4_forward.RES\r\n"
			"X-Mms-Transaction-ID: %s\r\n"
			"X-Mms-Message-ID: %s\r\n"
			"X-Mms-Request-Status-Code: Ok\r\n"
			"X-Mms-Status-Text: Accepted\r\n"
			"Sender: system-user@%s\r\n"
			"To: %s\r\n"
			"Message-ID: <res-%d-%llu@%s>\r\n"
			"Date: %s\r\n"
			"\r\n",
			tid, mid, opt.domain, osys, (int)getpid(), seq, opt.domain,
			rfc2822_date());
	if (n <= 0 || n >= (int)sizeof(body))
		return;
	{
		char from[160];

		snprintf(from, sizeof(from), "system-user@%s", opt.domain);
		m = mail_new(from, osys, body, n);
	}
	m->id = (long)seq;
	st.res_queued++;
	if (opt.delay_ms > 0) {
		m->t_due = now_us() + (i64)opt.delay_ms * 1000;
		mq_push(&delayq, m);
	} else {
		mq_push(&sendq, m);
	}
}

/* gen: an MM4_forward.RES for one of our REQs */
static void gen_mail(const char *blk, size_t blen)
{
	char type[64], tid[256], status[64];
	const char *p;
	long id;
	char *end;

	hdr_get(blk, blen, "X-Mms-Message-Type", type, sizeof(type));
	if (strcasecmp(type, "MM4_forward.RES") != 0) {
		st.other_in++;
		return;
	}
	st.res_in++;
	hdr_get(blk, blen, "X-Mms-Transaction-ID", tid, sizeof(tid));
	hdr_get(blk, blen, "X-Mms-Request-Status-Code", status, sizeof(status));
	p = tid;
	if (*p == '"')
		p++;
	if (strncmp(p, g_prefix, g_prefix_len) != 0) {
		st.bad_res++;
		return;
	}
	id = strtol(p + g_prefix_len, &end, 10);
	if (id < 0 || id >= opt.count || end == p + g_prefix_len) {
		st.bad_res++;
		return;
	}
	if (g_res[id]) {
		st.dup_res++;
		return;
	}
	g_res[id] = now_us();
	g_last_event = g_res[id];
	if (strcasecmp(status, "Ok") == 0) {
		g_ok[id] = 2;
		g_res_ok++;
	} else {
		g_ok[id] = 3;
		g_res_err++;
	}
}

/* ------------------------------------------------------------------ */
/* SMTP server connections                                             */

typedef struct sconn {
	int kind;
	int fd;
	int want_out;
	int in_data;
	int hdr_done;
	int closing;
	size_t bdat_left;   /* bytes of the current BDAT chunk still to come */
	int in_bdat;        /* reading a BDAT chunk */
	int bdat_last;      /* that chunk is the LAST */
	buf in, out, msg;
} sconn;

static int listen_fd = -1;
static int nservers;

static void server_close(sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->msg);
	free(c);
	nservers--;
}

static void server_command(sconn *c, const char *line, size_t l)
{
	char verb[8];
	size_t i;

	for (i = 0; i < l && i < 4; i++)
		verb[i] = line[i];
	verb[i] = '\0';
	if (strcasecmp(verb, "EHLO") == 0) {
		buf_adds(&c->out, "250-");
		buf_adds(&c->out, opt.domain);
		buf_adds(&c->out, "\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
		if (!opt.no_chunking)
			buf_adds(&c->out, "250-CHUNKING\r\n");
		buf_adds(&c->out, "250 SIZE 10485760\r\n");
	} else if (strcasecmp(verb, "HELO") == 0) {
		buf_adds(&c->out, "250 ");
		buf_adds(&c->out, opt.domain);
		buf_adds(&c->out, "\r\n");
	} else if (strcasecmp(verb, "MAIL") == 0 || strcasecmp(verb, "RCPT") == 0
			|| strcasecmp(verb, "NOOP") == 0) {
		buf_adds(&c->out, "250 2.0.0 OK\r\n");
	} else if (strcasecmp(verb, "RSET") == 0) {
		buf_adds(&c->out, "250 2.0.0 OK\r\n");
	} else if (strcasecmp(verb, "DATA") == 0) {
		buf_adds(&c->out, "354 go ahead\r\n");
		c->in_data = 1;
		c->hdr_done = 0;
		c->msg.len = 0;
	} else if (strcasecmp(verb, "BDAT") == 0 && !opt.no_chunking) {
		char *end;
		unsigned long n = l > 5 ? strtoul(line + 5, &end, 10) : 0;

		if (l <= 5 || end == line + 5 || n > 10485760) {
			buf_adds(&c->out, "501 5.5.4 bad BDAT\r\n");
			c->closing = 1;
			return;
		}
		while (end < line + l && *end == ' ')
			end++;
		c->bdat_last = (size_t)(line + l - end) >= 4
				&& strncasecmp(end, "LAST", 4) == 0;
		c->bdat_left = n;
		c->in_bdat = 1;
	} else if (strcasecmp(verb, "QUIT") == 0) {
		buf_adds(&c->out, "221 2.0.0 bye\r\n");
		c->closing = 1;
	} else {
		buf_adds(&c->out, "500 5.5.1 unknown command\r\n");
	}
}

static void server_mail_done(sconn *c)
{
	st.mails_in++;
	if (opt.mode == MODE_PEER)
		peer_mail(c->msg.s ? c->msg.s : "", c->msg.len);
	else
		gen_mail(c->msg.s ? c->msg.s : "", c->msg.len);
	buf_adds(&c->out, "250 2.0.0 OK queued\r\n");
}

/* a BDAT chunk has all its bytes: the header block is what comes before
 * the first empty line */
static void server_chunk_done(sconn *c)
{
	c->in_bdat = 0;
	if (!c->bdat_last) {
		buf_adds(&c->out, "250 2.0.0 chunk OK\r\n");
		return;
	}
	if (c->msg.len > 0) {
		char *e = memmem(c->msg.s, c->msg.len, "\n\r\n", 3);
		char *e2 = memmem(c->msg.s, c->msg.len, "\n\n", 2);

		if (!e || (e2 && e2 < e))
			e = e2;
		if (e)
			c->msg.len = e + 1 - c->msg.s;
	}
	server_mail_done(c);
	c->msg.len = 0;
}

static void server_read(sconn *c)
{
	char tmp[16384];
	size_t pos = 0;
	int closed = 0;

	for (;;) {
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);

		if (n > 0) {
			buf_add(&c->in, tmp, n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		closed = 1;
		break;
	}
	while (!c->closing) {
		char *line = c->in.s + pos;
		char *nl = c->in.len > pos ? memchr(line, '\n', c->in.len - pos) : NULL;
		size_t ll, l;

		if (c->in_bdat) {
			size_t take = c->in.len - pos;

			if (take > c->bdat_left)
				take = c->bdat_left;
			if (c->msg.len < MAX_HDR_BLOCK)
				buf_add(&c->msg, line, take);
			pos += take;
			c->bdat_left -= take;
			if (c->bdat_left > 0)
				break;
			server_chunk_done(c);
			continue;
		}
		if (!nl)
			break;
		ll = nl - line;
		l = ll;
		if (l && line[l - 1] == '\r')
			l--;
		pos += ll + 1;
		if (c->in_data) {
			if (l == 1 && line[0] == '.') {
				c->in_data = 0;
				server_mail_done(c);
				continue;
			}
			if (!c->hdr_done) {
				const char *p = line;
				size_t pl = l;

				if (pl && p[0] == '.') {
					p++;
					pl--;
				}
				if (pl == 0)
					c->hdr_done = 1;
				else if (c->msg.len < MAX_HDR_BLOCK) {
					buf_add(&c->msg, p, pl);
					buf_add(&c->msg, "\n", 1);
				}
			}
			continue;
		}
		server_command(c, line, l);
	}
	buf_consume(&c->in, pos);
	if (flush_out(c->fd, &c->out, c, &c->want_out) < 0 || closed
			|| (c->closing && c->out.len == 0)) {
		server_close(c);
		return;
	}
}

static void server_accept(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		sconn *c;

		if (fd < 0)
			return;
		set_nodelay(fd);
		c = calloc(1, sizeof(*c));
		if (!c)
			die("out of memory");
		c->kind = K_SERVER;
		c->fd = fd;
		st.conns_in++;
		nservers++;
		ep_add(fd, c, EPOLLIN);
		buf_adds(&c->out, "220 ");
		buf_adds(&c->out, opt.domain);
		buf_adds(&c->out, " ESMTP mm4bench\r\n");
		if (flush_out(fd, &c->out, c, &c->want_out) < 0)
			server_close(c);
	}
}

static void server_event(sconn *c, unsigned int events)
{
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		server_read(c);
		return;
	}
	if (events & EPOLLOUT) {
		if (flush_out(c->fd, &c->out, c, &c->want_out) < 0
				|| (c->closing && c->out.len == 0))
			server_close(c);
	}
}

static void listen_start(void)
{
	int on = 1;
	static int kind = K_LISTEN;

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(listen_fd, (struct sockaddr *)&opt.listen_sa,
				sizeof(opt.listen_sa)) < 0 || listen(listen_fd, 1024) < 0)
		die("cannot listen: %s", strerror(errno));
	ep_add(listen_fd, &kind, EPOLLIN);
}

/* ------------------------------------------------------------------ */
/* reporting                                                           */

static void write_stats_file(void)
{
	char tmp[512];
	FILE *f;

	if (!opt.stats_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", opt.stats_file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "conns_in=%llu mails_in=%llu reqs_in=%llu other_in=%llu "
			"res_queued=%llu res_sent=%llu res_fail=%llu res_dropped=%llu "
			"res_backlog=%ld res_delayed=%ld requeued=%llu connects=%llu\n",
			st.conns_in, st.mails_in, st.reqs_in, st.other_in, st.res_queued,
			st.res_sent, st.res_fail, st.res_dropped, sendq.n, delayq.n,
			st.requeued, st.reconnects);
	fclose(f);
	rename(tmp, opt.stats_file);
}

static int cmp_i64(const void *a, const void *b)
{
	i64 x = *(const i64 *)a, y = *(const i64 *)b;

	return x < y ? -1 : x > y;
}

static double pct(const i64 *v, long n, double p)
{
	long i;

	if (n <= 0)
		return -1;
	i = (long)(p / 100.0 * n + 0.5) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i] / 1000.0;
}

static int gen_report(void)
{
	i64 *lat = malloc(sizeof(i64) * (opt.count + 1));
	i64 *ack = malloc(sizeof(i64) * (opt.count + 1));
	long i, nl = 0, na = 0, missing = 0;
	double span, rate;
	FILE *lf = NULL;

	if (!lat || !ack)
		die("out of memory");
	if (opt.lat_file)
		lf = fopen(opt.lat_file, "w");
	for (i = 0; i < g_issued; i++) {
		if (g_ack[i] && g_sent[i])
			ack[na++] = g_ack[i] - g_sent[i];
		if (g_res[i] && g_sent[i]) {
			lat[nl++] = g_res[i] - g_sent[i];
			if (lf)
				fprintf(lf, "%ld;%.3f\n", i, (g_res[i] - g_sent[i]) / 1000.0);
		} else if (g_ok[i] == 1) {
			missing++;
		}
	}
	if (lf)
		fclose(lf);
	qsort(lat, nl, sizeof(i64), cmp_i64);
	qsort(ack, na, sizeof(i64), cmp_i64);
	span = (g_last_sent - g_first_sent) / 1e6;
	rate = span > 0 ? (g_issued - 1) / span : 0;
	printf("target_rate=%.0f count=%ld issued=%ld smtp_ok=%llu smtp_fail=%llu "
			"res_ok=%ld res_err=%ld res_missing=%ld not_sent=%ld dup_res=%llu "
			"bad_res=%llu requeued=%llu achieved_rate=%.1f max_lag_ms=%.1f "
			"p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
			"ack_p50_ms=%.2f ack_p99_ms=%.2f\n",
			opt.rate, opt.count, g_issued, st.out_ok, st.out_fail, g_res_ok,
			g_res_err, missing, opt.count - g_issued + (long)sendq.n,
			st.dup_res, st.bad_res, st.requeued, rate, g_max_lag / 1000.0,
			pct(lat, nl, 50), pct(lat, nl, 90), pct(lat, nl, 99),
			nl ? lat[nl - 1] / 1000.0 : -1, pct(ack, na, 50), pct(ack, na, 99));
	fflush(stdout);
	free(lat);
	free(ack);
	return (g_res_ok == opt.count && st.out_fail == 0) ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* gen: issue REQs on schedule                                         */

static void gen_issue(i64 t)
{
	char body[4096], from[128], rcpt[160];
	int n;

	snprintf(from, sizeof(from), "%s/TYPE=PLMN@%s", opt.from, opt.domain);
	snprintf(rcpt, sizeof(rcpt), "%s/TYPE=PLMN@%s", opt.rcpt, opt.iwf_domain);
	while (g_issued < opt.count) {
		i64 due = g_t0 + (i64)(g_issued * 1e6 / opt.rate);
		omail *m;
		char text[1024];
		int tl;

		if (due > t)
			break;
		tl = opt.body_len < (int)sizeof(text) - 64 ? opt.body_len
			: (int)sizeof(text) - 64;
		memset(text, 'x', tl);
		text[tl] = '\0';
		n = snprintf(body, sizeof(body),
				"X-Mms-3GPP-MMS-Version: 6.16.0\r\n"
				"X-Mms-Message-Type: MM4_forward.REQ\r\n"
				"X-Mms-Transaction-ID: \"%s%ld\"\r\n"
				"X-Mms-Message-ID: \"%s%ld@%s\"\r\n"
				"To: %s\r\n"
				"From: %s\r\n"
				"Date: %s\r\n"
				"Subject: bench %ld\r\n"
				"X-Mms-Delivery-Report: %s\r\n"
				"X-Mms-Read-Reply: No\r\n"
				"X-Mms-Ack-Request: Yes\r\n"
				"X-Mms-Originator-System: system-user@%s\r\n"
				"Sender: system-user@%s\r\n"
				"Message-ID: <%s%ld@%s>\r\n"
				"MIME-Version: 1.0\r\n"
				"Content-Type: text/plain; charset=utf-8\r\n"
				"\r\n"
				"Hello from an MMS user (cpm_mms bench %ld) %s\r\n",
				g_prefix, g_issued, g_prefix, g_issued, opt.domain, rcpt, from,
				rfc2822_date(), g_issued, opt.dr ? "Yes" : "No", opt.domain,
				opt.domain, g_prefix, g_issued, opt.domain, g_issued, text);
		if (n <= 0 || n >= (int)sizeof(body))
			die("REQ too long");
		m = mail_new(from, rcpt, body, n);
		m->id = g_issued;
		m->t_due = due;
		mq_push(&sendq, m);
		g_issued++;
	}
}

/* ------------------------------------------------------------------ */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_flag = 1;
	else
		stop_flag = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mm4bench peer --listen IP:PORT --to IP:PORT [--conns N]\n"
		"                     [--delay-ms D] [--drop-pct P] [--stats FILE]\n"
		"                     [--domain D] [--no-chunking]\n"
		"       mm4bench gen  --listen IP:PORT --to IP:PORT --rate R --count N\n"
		"                     [--conns N] [--res-wait S] [--run-id ID] [--dr]\n"
		"                     [--domain D] [--iwf-domain D] [--rcpt +E164]\n"
		"                     [--from +E164] [--body-len N] [--lat-file F]\n"
		"                     [--no-chunking]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{"listen", required_argument, NULL, 'l'},
		{"to", required_argument, NULL, 't'},
		{"conns", required_argument, NULL, 'c'},
		{"delay-ms", required_argument, NULL, 'd'},
		{"drop-pct", required_argument, NULL, 'D'},
		{"stats", required_argument, NULL, 's'},
		{"domain", required_argument, NULL, 'o'},
		{"iwf-domain", required_argument, NULL, 'i'},
		{"rcpt", required_argument, NULL, 'r'},
		{"from", required_argument, NULL, 'f'},
		{"run-id", required_argument, NULL, 'u'},
		{"rate", required_argument, NULL, 'R'},
		{"count", required_argument, NULL, 'n'},
		{"res-wait", required_argument, NULL, 'w'},
		{"dr", no_argument, NULL, 'y'},
		{"body-len", required_argument, NULL, 'b'},
		{"lat-file", required_argument, NULL, 'L'},
		{"no-chunking", no_argument, NULL, 'K'},
		{NULL, 0, NULL, 0}
	};
	int o;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "peer") == 0)
		opt.mode = MODE_PEER;
	else if (strcmp(argv[1], "gen") == 0)
		opt.mode = MODE_GEN;
	else
		usage();
	opt.domain = "mms.peer.test";
	opt.iwf_domain = "mms.iwf.test";
	opt.rcpt = "+4711111111";
	opt.from = "+4712345678";
	opt.run_id = "r";
	opt.res_wait = 10;
	opt.body_len = 40;
	opt.conns = opt.mode == MODE_PEER ? 4 : 8;
	optind = 2;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'l':
			if (parse_hostport(optarg, &opt.listen_sa) < 0)
				die("bad --listen %s", optarg);
			opt.have_listen = 1;
			break;
		case 't':
			if (parse_hostport(optarg, &opt.to_sa) < 0)
				die("bad --to %s", optarg);
			opt.have_to = 1;
			break;
		case 'c': opt.conns = atoi(optarg); break;
		case 'd': opt.delay_ms = atoi(optarg); break;
		case 'D': opt.drop_pct = atoi(optarg); break;
		case 's': opt.stats_file = optarg; break;
		case 'o': opt.domain = optarg; break;
		case 'i': opt.iwf_domain = optarg; break;
		case 'r': opt.rcpt = optarg; break;
		case 'f': opt.from = optarg; break;
		case 'u': opt.run_id = optarg; break;
		case 'R': opt.rate = atof(optarg); break;
		case 'n': opt.count = atol(optarg); break;
		case 'w': opt.res_wait = atoi(optarg); break;
		case 'y': opt.dr = 1; break;
		case 'b': opt.body_len = atoi(optarg); break;
		case 'L': opt.lat_file = optarg; break;
		case 'K': opt.no_chunking = 1; break;
		default: usage();
		}
	}
	if (!opt.have_listen || !opt.have_to)
		usage();
	if (opt.conns < 1 || opt.conns > MAX_CLIENTS)
		die("--conns must be 1..%d", MAX_CLIENTS);
	if (opt.drop_pct < 0 || opt.drop_pct > 100 || opt.delay_ms < 0)
		die("bad --drop-pct/--delay-ms");
	if (opt.mode == MODE_GEN && (opt.rate <= 0 || opt.count <= 0))
		die("gen needs --rate and --count");
	if (opt.body_len < 0)
		opt.body_len = 0;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct sigaction sa;
	i64 last_stats = 0;

	parse_args(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stderr, NULL, _IOLBF, 0);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	listen_start();
	if (opt.mode == MODE_GEN) {
		g_sent = calloc(opt.count, sizeof(i64));
		g_ack = calloc(opt.count, sizeof(i64));
		g_res = calloc(opt.count, sizeof(i64));
		g_ok = calloc(opt.count, 1);
		if (!g_sent || !g_ack || !g_res || !g_ok)
			die("out of memory");
		g_prefix_len = snprintf(g_prefix, sizeof(g_prefix), "bench-%s-",
				opt.run_id);
	}
	clients_start(opt.conns);
	if (opt.mode == MODE_GEN) {
		/* wait (bounded) for the connections before the clock starts */
		i64 until = now_us() + 5000000;
		int ready = 0;

		while (!stop_flag && now_us() < until && ready < nclients) {
			int n = epoll_wait(ep, evs, 256, 10), i;

			for (i = 0; i < n; i++) {
				int kind = *(int *)evs[i].data.ptr;

				if (kind == K_CLIENT)
					client_event(evs[i].data.ptr, evs[i].events);
				else if (kind == K_LISTEN)
					server_accept();
				else
					server_event(evs[i].data.ptr, evs[i].events);
			}
			clients_tick();
			for (ready = 0, i = 0; i < nclients; i++)
				ready += clients[i]->state == C_READY;
		}
		if (ready == 0)
			die("no SMTP connection to the IWF came up");
		g_t0 = now_us();
	}

	while (!stop_flag) {
		int n, i, timeout = 100;
		i64 t = now_us();

		if (opt.mode == MODE_GEN) {
			gen_issue(t);
			if (g_issued < opt.count) {
				i64 due = g_t0 + (i64)(g_issued * 1e6 / opt.rate);
				i64 ms = (due - t) / 1000;

				timeout = ms < 1 ? 1 : (ms > 100 ? 100 : (int)ms);
			} else if (g_done >= g_issued && sendq.n == 0) {
				/* everything acknowledged: wait for the RESs */
				if (g_res_ok + g_res_err >= g_acked_ok
						|| t - g_last_event > (i64)opt.res_wait * 1000000)
					break;
			}
		}
		if (opt.mode == MODE_PEER) {
			while (delayq.head && delayq.head->t_due <= t)
				mq_push(&sendq, mq_pop(&delayq));
			if (delayq.head) {
				i64 ms = (delayq.head->t_due - t) / 1000;

				if (ms < timeout)
					timeout = ms < 1 ? 1 : (int)ms;
			}
		}
		clients_tick();
		n = epoll_wait(ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			int kind = *(int *)evs[i].data.ptr;

			if (kind == K_CLIENT)
				client_event(evs[i].data.ptr, evs[i].events);
			else if (kind == K_LISTEN)
				server_accept();
			else
				server_event(evs[i].data.ptr, evs[i].events);
		}
		t = now_us();
		if (t - last_stats >= 1000000) {
			last_stats = t;
			write_stats_file();
		}
		if (dump_flag) {
			dump_flag = 0;
			write_stats_file();
		}
	}
	write_stats_file();
	if (opt.mode == MODE_GEN)
		return gen_report();
	fprintf(stderr, "mm4bench peer: reqs_in=%llu res_sent=%llu res_fail=%llu "
			"res_dropped=%llu res_backlog=%ld\n", st.reqs_in, st.res_sent,
			st.res_fail, st.res_dropped, sendq.n + delayq.n);
	return 0;
}
