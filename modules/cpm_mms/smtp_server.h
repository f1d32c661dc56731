/*
 * cpm_mms - RFC 5321 server state machine (pure: no sockets, no Kamailio).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* The socket loop feeds received bytes in and writes out what the machine
 * appends to the output buffer. Pipelined commands are handled in order:
 * one feed may produce several replies. Supported: EHLO, HELO, MAIL (SIZE=,
 * BODY=7BIT|8BITMIME), RCPT, DATA, BDAT (RFC 3030), RSET, NOOP, QUIT, VRFY
 * (252), HELP. EHLO advertises PIPELINING, SIZE <max>, 8BITMIME, CHUNKING,
 * ENHANCEDSTATUSCODES. */
#ifndef CPM_MMS_SMTP_SERVER_H
#define CPM_MMS_SMTP_SERVER_H

#include "cm_str.h"

#define SMTPD_MAX_RCPT_LIMIT 100

typedef struct smtpd_limits {
	int max_line;       /* command line incl. CRLF (RFC 5321: 512) */
	int max_data_line;  /* text line incl. CRLF (RFC 5321: 1000) */
	int max_msg_size;   /* bytes of mail data; SIZE= above -> 552 at MAIL,
	                     * more data -> read on, discard, 552 after '.' or
	                     * after the chunk; one BDAT chunk above it -> 552
	                     * and close (its bytes are not read) */
	int max_rcpt;       /* <= SMTPD_MAX_RCPT_LIMIT; more -> 452 */
	int max_cmds;       /* commands per session; more -> 421 and close */
	int max_junk;       /* NOOP, VRFY, ETRN, RSET since the last mail
	                     * accepted (Postfix's smtpd_junk_command_limit);
	                     * more -> 421 and close */
	int max_errors;     /* bad commands in a row before 421 and close */
} smtpd_limits;

/* Callbacks return an SMTP reply code: 250 (or 2xx) accepts; any other
 * code rejects with 'text' (NUL-terminated, written by the callback into
 * the provided buffer of textsize bytes, may be left empty). */
typedef struct smtpd_callbacks {
	int (*on_mail)(void *ctx, cm_str reverse_path, char *text, int textsize);
	int (*on_rcpt)(void *ctx, cm_str forward_path, char *text, int textsize);
	/* complete mail: data is dot-unstuffed, CRLF line ends, without the
	 * final ".\r\n"; the buffer may be modified and is freed after the
	 * call (copy what must live on) */
	int (*on_message)(void *ctx, cm_str reverse_path, cm_str *rcpts,
			int nrcpt, char *data, int len, char *text, int textsize);
} smtpd_callbacks;

typedef enum smtpd_state {
	SMTPD_S_GREETING = 0, /* before EHLO/HELO */
	SMTPD_S_READY,        /* after EHLO, no transaction */
	SMTPD_S_MAIL,         /* MAIL accepted */
	SMTPD_S_RCPT,         /* at least one RCPT accepted */
	SMTPD_S_DATA,         /* reading mail data */
	SMTPD_S_CLOSED,
} smtpd_state;

typedef struct smtpd_session {
	smtpd_state state;
	smtpd_limits lim;
	smtpd_callbacks cb;
	void *ctx;
	char hostname[128];
	cm_buf in;            /* unconsumed input (partial line) */
	cm_buf data;          /* mail data being collected */
	int data_overflow;    /* data exceeded max_msg_size: discarding */
	int line_overflow;    /* current input line too long: discarding */
	cm_str reverse_path;  /* cm_malloc'd */
	cm_str rcpt[SMTPD_MAX_RCPT_LIMIT]; /* cm_malloc'd */
	int nrcpt;
	int ncmds;
	int njunk;            /* junk commands since the last mail accepted */
	int nerrors;
	int messages;         /* mails accepted in this session */
	int rcpt_refused;     /* RCPTs refused in this transaction: DATA -> 554 */
	int data_longline;    /* a data line exceeded max_data_line: 500 at '.' */
	int data_bare_lf;     /* last data line ended in a bare LF: a "." line
	                       * right after it does not end the data */
	/* CHUNKING (RFC 3030): a BDAT chunk is raw bytes, not lines */
	int bdat;             /* a BDAT transaction is collecting data */
	int in_chunk;         /* reading a chunk (its bytes come next) */
	long long chunk_left; /* bytes of the current chunk still to read */
	int chunk_last;       /* the current chunk is BDAT ... LAST */
	const char *chunk_refusal; /* reply for a chunk read only to discard */
	int data_linelen;     /* bytes of the BDAT data's unfinished line */
	int data_cr;          /* the last BDAT byte stored was CR */
} smtpd_session;

#define SMTPD_CONTINUE 0
#define SMTPD_CLOSE 1     /* send what is in out, then close */

void smtpd_limits_default(smtpd_limits *lim);
void smtpd_init(smtpd_session *s, const smtpd_limits *lim,
		const smtpd_callbacks *cb, void *ctx, const char *hostname);
/* "220 <hostname> ESMTP cpm_mms\r\n" */
void smtpd_greeting(smtpd_session *s, cm_buf *out);
/* process bytes; appends replies to out; SMTPD_CONTINUE or SMTPD_CLOSE */
int smtpd_feed(smtpd_session *s, const char *buf, int len, cm_buf *out);
/* "421 4.4.2 <hostname> idle timeout\r\n" and state CLOSED */
void smtpd_timeout(smtpd_session *s, cm_buf *out);
void smtpd_free(smtpd_session *s);

#endif
