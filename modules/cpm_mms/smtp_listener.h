/*
 * cpm_mms - the MM4 listener process: SMTP server sockets (epoll) feeding
 * the smtp_server state machine and dispatch of received MM4 mails (the
 * timers are timers.c's process).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPM_MMS_SMTP_LISTENER_H
#define CPM_MMS_SMTP_LISTENER_H

/* mod_init: bind the listening socket (so a bad address fails the start) */
int listener_bind(const char *hostport);
/* in every process but the listener: the inherited listening socket goes */
void listener_close(void);
/* main loop of the listener process; never returns */
void listener_loop(void);

#endif
