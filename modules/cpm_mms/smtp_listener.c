/*
 * cpm_mms - the MM4 listener process.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "core/mem/mem.h"
#include "core/dprint.h"
#include "core/cfg/cfg_struct.h"

#include "settings.h"
#include "cpm_util.h"
#include "smtp_listener.h"
#include "smtp_server.h"
#include "mm4.h"
#include "pending.h"
#include "stats.h"
#include "peers.h"
#include "mm4_in.h"
#include "mm4_queue.h"
#include "report.h"

/* idle connections are looked at once a second */
#define LISTENER_TICK_MS 1000
#define LISTENER_MAX_EVENTS 64
/* bytes one connection may feed per round of the loop: a peer streaming
 * at full speed cannot hold the others, the accept and the idle scan (the
 * poll is level-triggered: the rest is read next round) */
#define LISTENER_READ_ROUND (64 * 1024)
/* replies a peer has not read: above this its commands are not read
 * until it reads them, so the buffer cannot grow without limit (and the
 * idle timeout closes a peer that never reads) */
#define LISTENER_OUT_MAX (64 * 1024)

typedef struct mm4_conn {
	struct mm4_conn *prev, *next;
	int fd;
	char peer[64];
	long long last_ms;
	long long start_ms;
	smtpd_session smtp;
	cm_buf out;
	int closing;
	unsigned int events;    /* what the poll watches for it */
} mm4_conn;

static int listen_fd = -1;
static int nconns = 0;
static mm4_conn *conn_list = NULL; /* for the idle scan */

static int net_match(const cpm_peer_net *n, const unsigned char *a)
{
	int full = n->bits / 8, rest = n->bits % 8;

	if (memcmp(n->addr, a, full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((n->addr[full] & mask) != (a[full] & mask))
			return 0;
	}
	return 1;
}

static int peer_allowed(const struct sockaddr_storage *ss)
{
	const unsigned char *a;
	unsigned char v4[4];
	int fam, i;

	if (ss->ss_family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)ss)->sin_addr;
		fam = AF_INET;
	} else {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(v4, &a6->s6_addr[12], 4);
			a = v4;
			fam = AF_INET;
		} else {
			a = a6->s6_addr;
			fam = AF_INET6;
		}
	}
	for (i = 0; i < cpm_fixed.npeers; i++) {
		if (cpm_fixed.peers[i].family == fam
				&& net_match(&cpm_fixed.peers[i], a))
			return 1;
	}
	return 0;
}

int listener_bind(const char *hostport)
{
	char host[64];
	int port, on = 1;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (hostport_split(cm_str_z(hostport), host, sizeof(host), &port) < 0
			|| port <= 0) {
		LM_ERR("mm4_listen '%s' is not ip:port\n", hostport);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host,
				&((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		LM_ERR("mm4_listen '%s': not an IP address\n", hostport);
		return -1;
	}
	listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0) {
		LM_ERR("socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(listen_fd, (struct sockaddr *)&ss, sl) < 0
			|| listen(listen_fd, 128) < 0) {
		LM_ERR("cannot listen on %s: %s\n", hostport, strerror(errno));
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	LM_INFO("MM4 listener on %s\n", hostport);
	return 0;
}

void listener_close(void)
{
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
	}
}

/* ---- what a received MM4 mail does ---- */

static int on_mail(void *ctx, cm_str reverse_path, char *text, int textsize)
{
	return 250;
}

static int on_rcpt(void *ctx, cm_str forward_path, char *text, int textsize)
{
	mm4_conn *c = ctx;

	/* mail for our own domains (and our system address) only: no
	 * relaying */
	if (!mm4_in_rcpt_is_local(forward_path)
			&& !cm_str_ieqz(forward_path, cpm_fixed.system_address)) {
		LM_NOTICE("MM4 from %s: recipient %.*s is not ours: refused\n",
				c->peer, forward_path.len, forward_path.s);
		stats_inc(CPM_ST_MM4_REFUSED);
		snprintf(text, textsize, "5.7.1 relaying denied");
		return 550;
	}
	return 250;
}

/* The listener classifies a mail and checks what decides the SMTP answer
 * (ids, duplicates); what the mail does (a MESSAGE, an IMDN, a suspended
 * MESSAGE answered) is an MM4 worker's job: it is queued, parsed, before
 * the 250. */
static int on_message(void *ctx, cm_str reverse_path, cm_str *rcpts,
		int nrcpt, char *data, int len, char *text, int textsize)
{
	/* one mail at a time in this process (4 KB: not a pkg block each) */
	static mm4_msg msg;
	mm4_conn *c = ctx;
	mm4_msg *m = &msg;
	char key[INBOUND_KEY_MAX];
	cm_str local[INBOUND_MAX_RCPT];
	int code, nlocal = 0, hand_over = 0;

	stats_inc(CPM_ST_MM4_IN);
	peers_msg_in(c->peer);
	if (mm4_parse(data, len, m) < 0) {
		LM_NOTICE("MM4 from %s: unparsable header block\n", c->peer);
		snprintf(text, textsize, "5.6.0 malformed header block");
		return 554;
	}
	key[0] = '\0';
	switch (m->type) {
	case MM4_FORWARD_RES:
		code = 250;
		hand_over = 1;
		break;
	case MM4_FORWARD_REQ:
		code = mm4_in_forward_req(m, rcpts, nrcpt, c->peer, key, local,
				&nlocal, text, textsize);
		hand_over = key[0] != '\0';
		break;
	case MM4_DELIVERY_REPORT_REQ:
	case MM4_READ_REPLY_REPORT_REQ:
		code = report_mm4_in(m, c->peer, key, text, textsize);
		hand_over = key[0] != '\0';
		break;
	case MM4_DELIVERY_REPORT_RES:
	case MM4_READ_REPLY_REPORT_RES:
		/* nothing waits for these: log what the peer said, loudly when
		 * it refused our report */
		LOG(cm_str_ieqz(cm_str_trim(mm4_get(m, "X-Mms-Request-Status-Code")),
					"Ok") ? L_INFO : L_NOTICE,
				"%s %.*s from %s: %.*s\n", mm4_type_name(m->type),
				mm4_get(m, "X-Mms-Transaction-ID").len,
				mm4_get(m, "X-Mms-Transaction-ID").s, c->peer,
				mm4_get(m, "X-Mms-Request-Status-Code").len,
				mm4_get(m, "X-Mms-Request-Status-Code").s);
		code = 250;
		break;
	case MM4_UNKNOWN:
		LM_NOTICE("MM4 from %s: no or unknown X-Mms-Message-Type\n", c->peer);
		snprintf(text, textsize, "5.6.0 not an MM4 message");
		code = 554;
		break;
	default:
		LM_NOTICE("MM4 from %s: %s not handled by this version\n", c->peer,
				mm4_type_name(m->type));
		snprintf(text, textsize, "5.6.0 %s not supported",
				mm4_type_name(m->type));
		code = 554;
		break;
	}
	if (code == 250 && hand_over
			&& mm4_queue_inbound(m, data, len, local, nlocal, key, c->peer)
				< 0) {
		/* not taken: the peer sends it again, and it is new then */
		if (key[0])
			inbound_forget(key);
		LM_WARN("%s from %s refused: the MM4 workers' queue is full\n",
				mm4_type_name(m->type), c->peer);
		snprintf(text, textsize, "4.3.2 busy, try again later");
		code = 451;
	}
	return code;
}

static const smtpd_callbacks listener_cb = { on_mail, on_rcpt, on_message };

/* ---- sockets ---- */

static void conn_close(int ep, mm4_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conn_list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	smtpd_free(&c->smtp);
	cm_buf_free(&c->out);
	pkg_free(c);
	nconns--;
}

/* write what is pending; -1 on a dead socket */
static int conn_flush(int ep, mm4_conn *c)
{
	ssize_t n;
	struct epoll_event ev;

	while (c->out.len > 0) {
		n = send(c->fd, c->out.s, c->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		memmove(c->out.s, c->out.s + n, c->out.len - n);
		c->out.len -= n;
	}
	ev.events = (c->out.len < LISTENER_OUT_MAX ? EPOLLIN : 0)
		| (c->out.len > 0 ? EPOLLOUT : 0);
	if (ev.events == c->events)
		return 0;
	c->events = ev.events;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
}

/* tell a connection we will not serve it why, then close it */
static void conn_refuse(int fd, const char *reply)
{
	if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0) {
		/* closing anyway */
	}
	close(fd);
}

/* connections per peer address and minute (mm4_peer_connection_rate,
 * as Postfix's smtpd_client_connection_rate_limit): a fixed one-minute
 * window per address, refused attempts counted too. The addresses live in
 * the listener's own table; when it is full the address whose window
 * started longest ago gives its slot up (it starts a fresh count when it
 * comes back). */
#define RATE_SLOTS 256
#define RATE_WINDOW_MS 60000

typedef struct conn_rate {
	char addr[64];
	long long since_ms;
	int count;
} conn_rate;

static conn_rate rate_slots[RATE_SLOTS];

static int rate_allows(const char *addr, long long now, int limit)
{
	conn_rate *r = NULL, *oldest = &rate_slots[0];
	int i;

	if (limit <= 0)
		return 1;
	for (i = 0; i < RATE_SLOTS; i++) {
		if (rate_slots[i].addr[0] && strcmp(rate_slots[i].addr, addr) == 0) {
			r = &rate_slots[i];
			break;
		}
		if (rate_slots[i].since_ms < oldest->since_ms)
			oldest = &rate_slots[i];
	}
	if (!r) {
		r = oldest;
		snprintf(r->addr, sizeof(r->addr), "%s", addr);
		r->since_ms = now;
		r->count = 0;
	}
	if (now - r->since_ms >= RATE_WINDOW_MS) {
		r->since_ms = now;
		r->count = 0;
	}
	return ++r->count <= limit;
}

static int peer_conns(const char *addr)
{
	mm4_conn *c;
	int n = 0;

	for (c = conn_list; c; c = c->next)
		if (strcmp(c->peer, addr) == 0)
			n++;
	return n;
}

static void conn_accept(int ep)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct epoll_event ev;
	smtpd_limits lim;
	mm4_conn *c;
	int fd, one = 1;
	char addr[64];

	for (;;) {
		fd = accept4(listen_fd, (struct sockaddr *)&ss, &sl,
				SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr,
					sizeof(addr));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
					addr, sizeof(addr));
		if (!peer_allowed(&ss)) {
			stats_inc(CPM_ST_MM4_REFUSED);
			LM_NOTICE("MM4 connection from %s refused: not in mm4_peers\n",
					addr);
			conn_refuse(fd, "554 5.7.1 not an MM4 peer\r\n");
			continue;
		}
		if (!rate_allows(addr, pending_now_ms(),
					cpm_get(mm4_peer_connection_rate))) {
			stats_inc(CPM_ST_MM4_REFUSED);
			LM_WARN("MM4 connection from %s refused: over %d a minute\n",
					addr, cpm_get(mm4_peer_connection_rate));
			conn_refuse(fd, "421 4.7.0 too many connections from you "
					"this minute\r\n");
			continue;
		}
		if (peer_conns(addr) >= cpm_get(mm4_peer_connections)) {
			stats_inc(CPM_ST_MM4_REFUSED);
			LM_WARN("MM4 connection from %s refused: %d connections from it\n",
					addr, cpm_get(mm4_peer_connections));
			conn_refuse(fd, "421 4.7.0 too many connections from you\r\n");
			continue;
		}
		if (nconns >= cpm_get(mm4_max_connections)) {
			stats_inc(CPM_ST_MM4_REFUSED);
			LM_WARN("MM4 connection from %s refused: %d connections\n",
					addr, nconns);
			conn_refuse(fd, "421 4.3.2 too many connections\r\n");
			continue;
		}
		/* answers are small writes, one per round: with Nagle a second
		 * one waits for the peer's delayed ACK (40 ms) */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
			LM_DBG("TCP_NODELAY for %s: %s\n", addr, strerror(errno));
		c = pkg_malloc(sizeof(*c));
		if (!c) {
			PKG_MEM_ERROR;
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		snprintf(c->peer, sizeof(c->peer), "%s", addr);
		c->last_ms = c->start_ms = pending_now_ms();
		smtpd_limits_default(&lim);
		lim.max_msg_size = cpm_get(mm4_max_size);
		/* one REQ delivers to at most this many recipients: refuse the
		 * rest at RCPT (452) so the peer sends them again */
		lim.max_rcpt = INBOUND_MAX_RCPT;
		/* peers keep sessions open for thousands of mails */
		lim.max_cmds = cpm_get(mm4_max_commands);
		lim.max_junk = cpm_get(mm4_junk_commands);
		smtpd_init(&c->smtp, &lim, &listener_cb, c, cpm_fixed.hostname);
		cm_buf_init(&c->out);
		smtpd_greeting(&c->smtp, &c->out);
		ev.events = c->events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			smtpd_free(&c->smtp);
			cm_buf_free(&c->out);
			pkg_free(c);
			close(fd);
			continue;
		}
		nconns++;
		peers_conn_in(addr);
		c->next = conn_list;
		if (conn_list)
			conn_list->prev = c;
		conn_list = c;
		LM_DBG("MM4 connection from %s\n", addr);
		if (conn_flush(ep, c) < 0)
			conn_close(ep, c);
	}
}

static void conn_read(int ep, mm4_conn *c)
{
	char buf[16384];
	ssize_t n;
	int st = SMTPD_CONTINUE, left = LISTENER_READ_ROUND;

	while (left > 0 && c->out.len < LISTENER_OUT_MAX) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			c->last_ms = pending_now_ms();
			left -= n;
			st = smtpd_feed(&c->smtp, buf, n, &c->out);
			if (st == SMTPD_CLOSE || c->out.failed)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_close(ep, c); /* peer closed or error */
		return;
	}
	if (st == SMTPD_CLOSE || c->out.failed) {
		conn_flush(ep, c);
		conn_close(ep, c);
		return;
	}
	if (conn_flush(ep, c) < 0)
		conn_close(ep, c);
}

static void conn_idle_scan(int ep, long long now)
{
	mm4_conn *c, *next;

	for (c = conn_list; c; c = next) {
		next = c->next;
		/* idle, or trickling bytes to hold the slot (slowloris) */
		if (now - c->last_ms < (long long)cpm_get(mm4_idle_timeout) * 1000
				&& now - c->start_ms
					< (long long)cpm_get(mm4_session_timeout) * 1000)
			continue;
		LM_NOTICE("MM4 connection from %s %s: closed\n", c->peer,
				now - c->last_ms >= (long long)cpm_get(mm4_idle_timeout) * 1000
					? "idle too long" : "session too long");
		smtpd_timeout(&c->smtp, &c->out);
		conn_flush(ep, c);
		conn_close(ep, c);
	}
}

void listener_loop(void)
{
	struct epoll_event ev, events[LISTENER_MAX_EVENTS];
	int ep, n, i;
	long long last_idle_check = 0, now;

	signal(SIGPIPE, SIG_IGN);
	cpm_mem_use_pkg();
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		LM_CRIT("epoll_create: %s\n", strerror(errno));
		exit(-1);
	}
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (listen_fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
		LM_CRIT("epoll_ctl: %s\n", strerror(errno));
		exit(-1);
	}
	for (;;) {
		n = epoll_wait(ep, events, LISTENER_MAX_EVENTS, LISTENER_TICK_MS);
		cfg_update();
		for (i = 0; i < n; i++) {
			mm4_conn *c = events[i].data.ptr;

			if (!c) {
				conn_accept(ep);
				continue;
			}
			if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				conn_read(ep, c);
			} else if (events[i].events & EPOLLOUT) {
				if (conn_flush(ep, c) < 0)
					conn_close(ep, c);
			}
		}
		now = pending_now_ms();
		if (now - last_idle_check >= 1000) {
			last_idle_check = now;
			conn_idle_scan(ep, now);
		}
	}
}
