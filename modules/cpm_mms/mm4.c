/*
 * cpm_mms - MM4 codec: RFC 5322 header block reading and MM4 mail writing.
 *
 * Copyright (C) 2026 cpm_mms authors
 *
 * This file is part of cpm_mms, a Kamailio module.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* gmtime_r is POSIX, not C99 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mm4.h"
#include "charset.h"
#include "mime.h"

/* RFC 5322 2.1.1: 78 is the soft limit, 998 the hard one; stay below the
 * hard one with a margin so a fold never lands past it */
#define MM4_SOFT_COL 78
#define MM4_HARD_COL 990
#define MM4_MAX_LINE 998
#define MM4_EW_COL 76     /* RFC 2047: lines with encoded-words */
#define MM4_MAX_WSP_RUN 64
#define MM4_MAX_NAME 200

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* ---- reading ---- */

/*
 * The header block is compacted in place: each header line (with its
 * folded continuations, line ends dropped) is moved down to a write
 * position, so an unfolded value is contiguous. The write position never
 * passes the read position. The body is not moved.
 */
int mm4_parse(char *buf, int len, mm4_msg *m)
{
	int r = 0;
	int w = 0;
	int e, le, next, i, colon, nlen;
	int vstart = 0; /* offset in the compacted area of the current value */
	int name_off[MM4_MAX_HEADERS];
	int name_len[MM4_MAX_HEADERS];
	int val_off[MM4_MAX_HEADERS];
	int val_end[MM4_MAX_HEADERS];
	char *nl;

	if (!m)
		return MM4_ERR_SYNTAX;
	memset(m, 0, sizeof(*m));
	if (!buf || len <= 0)
		return MM4_ERR_SYNTAX;
	m->body = cm_str_mk(buf + len, 0);

	while (r < len) {
		nl = memchr(buf + r, '\n', len - r);
		e = nl ? (int)(nl - buf) : len;
		next = nl ? e + 1 : len;
		le = (e > r && buf[e - 1] == '\r') ? e - 1 : e;
		if (le == r) {
			m->body = cm_str_mk(buf + next, len - next);
			break;
		}
		if (memchr(buf + r, '\0', le - r))
			goto syntax;
		/* a bare CR could end a line for some readers: neutralise */
		for (i = r; i < le; i++)
			if (buf[i] == '\r')
				buf[i] = ' ';
		if (is_wsp(buf[r])) {
			/* continuation: CRLF WSP -> WSP */
			if (m->nhdr == 0)
				goto syntax;
			memmove(buf + w, buf + r, le - r);
			w += le - r;
			val_end[m->nhdr - 1] = w;
		} else {
			for (colon = r; colon < le && buf[colon] != ':'; colon++)
				;
			if (colon == le)
				goto syntax;
			nlen = colon - r;
			while (nlen > 0 && is_wsp(buf[r + nlen - 1]))
				nlen--;
			if (nlen == 0)
				goto syntax;
			for (i = r; i < r + nlen; i++)
				if ((unsigned char)buf[i] <= 0x20
						|| (unsigned char)buf[i] >= 0x7f)
					goto syntax;
			if (m->nhdr >= MM4_MAX_HEADERS) {
				memset(m, 0, sizeof(*m));
				return MM4_ERR_TOO_MANY;
			}
			vstart = w + (colon - r) + 1;
			memmove(buf + w, buf + r, le - r);
			name_off[m->nhdr] = w;
			name_len[m->nhdr] = nlen;
			val_off[m->nhdr] = vstart;
			w += le - r;
			val_end[m->nhdr] = w;
			m->nhdr++;
		}
		r = next;
	}
	if (m->nhdr == 0)
		goto syntax;
	for (i = 0; i < m->nhdr; i++) {
		m->hdr[i].name = cm_str_mk(buf + name_off[i], name_len[i]);
		m->hdr[i].value = cm_str_trim(
				cm_str_mk(buf + val_off[i], val_end[i] - val_off[i]));
	}
	m->type = mm4_type_from_str(mm4_get(m, "X-Mms-Message-Type"));
	return MM4_OK;

syntax:
	memset(m, 0, sizeof(*m));
	return MM4_ERR_SYNTAX;
}

static void move_str(cm_str *v, const char *from, char *to)
{
	if (v->s)
		v->s = to + (v->s - from);
}

void mm4_msg_move(mm4_msg *m, const char *from, char *to)
{
	int i;

	for (i = 0; i < m->nhdr; i++) {
		move_str(&m->hdr[i].name, from, to);
		move_str(&m->hdr[i].value, from, to);
	}
	move_str(&m->body, from, to);
}

cm_str mm4_get(const mm4_msg *m, const char *name)
{
	cm_str none = {NULL, 0};
	cm_str n;
	int i;

	if (!m || !name)
		return none;
	n = cm_str_z(name);
	for (i = 0; i < m->nhdr && i < MM4_MAX_HEADERS; i++)
		if (cm_str_ieq(m->hdr[i].name, n))
			return m->hdr[i].value;
	return none;
}

cm_str mm4_get_unquoted(const mm4_msg *m, const char *name)
{
	cm_str v = cm_str_trim(mm4_get(m, name));

	if (v.len >= 2 && v.s[0] == '"' && v.s[v.len - 1] == '"') {
		v.s++;
		v.len -= 2;
	}
	return v;
}

cm_str mm4_bare_address(cm_str v)
{
	int i, j;

	v = cm_str_trim(v);
	for (i = 0; i < v.len && v.s[i] != '<'; i++)
		;
	if (i < v.len) {
		for (j = i + 1; j < v.len && v.s[j] != '>'; j++)
			;
		v.s += i + 1;
		v.len = j - i - 1;
	}
	return cm_str_trim(v);
}

static const char *mm4_type_names[] = {
	"unknown",
	"MM4_forward.REQ",
	"MM4_forward.RES",
	"MM4_delivery_report.REQ",
	"MM4_delivery_report.RES",
	"MM4_read_reply_report.REQ",
	"MM4_read_reply_report.RES",
};

#define MM4_NTYPES ((int)(sizeof(mm4_type_names) / sizeof(mm4_type_names[0])))

mm4_type mm4_type_from_str(cm_str v)
{
	int i;

	v = cm_str_trim(v);
	for (i = 1; i < MM4_NTYPES; i++)
		if (cm_str_ieqz(v, mm4_type_names[i]))
			return (mm4_type)i;
	return MM4_UNKNOWN;
}

const char *mm4_type_name(mm4_type t)
{
	if ((int)t <= 0 || (int)t >= MM4_NTYPES)
		return mm4_type_names[0];
	return mm4_type_names[t];
}

/* ---- encoders ---- */

static const char b64_alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int mm4_base64_encode(
		cm_buf *b, const unsigned char *in, int len, int line_len)
{
	char out[4];
	int i;
	int col = 0;
	unsigned v;
	int rest;

	if (!b || len < 0 || (len > 0 && !in))
		return -1;
	if (line_len > MM4_MAX_LINE)
		line_len = 76;
	if (line_len > 0 && line_len < 4)
		line_len = 4;
	for (i = 0; i < len; i += 3) {
		rest = len - i;
		v = (unsigned)in[i] << 16;
		if (rest > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (rest > 2)
			v |= in[i + 2];
		out[0] = b64_alpha[(v >> 18) & 63];
		out[1] = b64_alpha[(v >> 12) & 63];
		out[2] = rest > 1 ? b64_alpha[(v >> 6) & 63] : '=';
		out[3] = rest > 2 ? b64_alpha[v & 63] : '=';
		if (line_len > 0 && col + 4 > line_len) {
			/* a line break inside a quantum is legal but uncommon:
			 * break between quanta, and within one if line_len % 4 */
			int fit = line_len - col;
			cm_buf_add(b, out, fit);
			cm_buf_add(b, "\r\n", 2);
			cm_buf_add(b, out + fit, 4 - fit);
			col = 4 - fit;
		} else {
			cm_buf_add(b, out, 4);
			col += 4;
		}
	}
	if (line_len > 0 && col > 0)
		cm_buf_add(b, "\r\n", 2);
	return b->failed ? -1 : 0;
}

static int qp_literal(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '=';
}

int mm4_qp_encode(cm_buf *b, const unsigned char *in, int len)
{
	static const char hex[] = "0123456789ABCDEF";
	char tok[3];
	int toklen;
	int col = 0;
	int i;
	int eol;
	unsigned char c;

	if (!b || len < 0 || (len > 0 && !in))
		return -1;
	for (i = 0; i < len; i++) {
		c = in[i];
		if (c == '\n' || (c == '\r' && i + 1 < len && in[i + 1] == '\n')) {
			if (c == '\r')
				i++;
			cm_buf_add(b, "\r\n", 2);
			col = 0;
			continue;
		}
		/* whitespace at the end of a line would be stripped in
		 * transport: encode it */
		eol = i + 1 == len || in[i + 1] == '\n'
			  || (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n');
		if (qp_literal(c) || (is_wsp((char)c) && !eol)) {
			tok[0] = (char)c;
			toklen = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[c >> 4];
			tok[2] = hex[c & 15];
			toklen = 3;
		}
		if (col + toklen > 75) {
			cm_buf_add(b, "=\r\n", 3); /* soft break: 76 with the '=' */
			col = 0;
		}
		cm_buf_add(b, tok, toklen);
		col += toklen;
	}
	return b->failed ? -1 : 0;
}

/* ---- header writing ---- */

static char hdr_char(char c, int encode_8bit)
{
	if (c == '\r' || c == '\n' || c == '\0')
		return ' ';
	if ((unsigned char)c >= 0x80 && !encode_8bit)
		return '?';
	return c;
}

static int valid_name(const char *name, int n)
{
	int i;

	if (n <= 0 || n > MM4_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f
				|| name[i] == ':')
			return 0;
	return 1;
}

/* value written as RFC 2047 B encoded-words, one per (folded) line */
static void add_encoded_words(cm_buf *b, cm_str v, int col)
{
	unsigned char tmp[48];
	int i = 0;
	int avail, chunk, full, k;
	int first = 1;

	while (i < v.len && !b->failed) {
		if (!first) {
			cm_buf_add(b, "\r\n ", 3);
			col = 1;
		}
		avail = MM4_EW_COL - col;
		chunk = ((avail - 12) / 4) * 3;
		if (chunk < 3)
			chunk = 3;
		if (chunk > 45)
			chunk = 45;
		if (chunk > v.len - i)
			chunk = v.len - i;
		/* an encoded-word must hold whole UTF-8 characters */
		full = chunk;
		if (i + chunk < v.len) {
			while (chunk > 0 && full - chunk < 3
					&& ((unsigned char)v.s[i + chunk] & 0xc0) == 0x80)
				chunk--;
			if (chunk == 0)
				chunk = full; /* not UTF-8 anyway */
		}
		for (k = 0; k < chunk; k++)
			tmp[k] = (unsigned char)hdr_char(v.s[i + k], 1);
		cm_buf_add(b, "=?UTF-8?B?", 10);
		mm4_base64_encode(b, tmp, chunk, 0);
		cm_buf_add(b, "?=", 2);
		col += 12 + (chunk + 2) / 3 * 4;
		i += chunk;
		first = 0;
	}
}

/* value as is, folded at whitespace near MM4_SOFT_COL */
static void add_folded(cm_buf *b, cm_str v, int col)
{
	int i = 0;
	int has_word = 0;
	int ws, ws_len, w, w_len, k;
	char c;

	/* trailing WSP would make a whitespace-only continuation possible */
	while (v.len > 0 && is_wsp(hdr_char(v.s[v.len - 1], 0)))
		v.len--;
	while (i < v.len && !b->failed) {
		ws = i;
		while (i < v.len && is_wsp(hdr_char(v.s[i], 0)))
			i++;
		ws_len = i - ws;
		w = i;
		while (i < v.len && !is_wsp(hdr_char(v.s[i], 0)))
			i++;
		w_len = i - w;
		if (ws_len > MM4_MAX_WSP_RUN)
			ws_len = MM4_MAX_WSP_RUN;
		if (has_word && ws_len > 0
				&& (col + ws_len + w_len > MM4_SOFT_COL
						|| col + ws_len >= MM4_HARD_COL)) {
			cm_buf_add(b, "\r\n", 2);
			col = 0;
		}
		for (k = 0; k < ws_len; k++) {
			c = hdr_char(v.s[ws + k], 0);
			cm_buf_add(b, &c, 1);
		}
		col += ws_len;
		for (k = 0; k < w_len; k++) {
			if (col >= MM4_HARD_COL) {
				/* unbreakable run: a forced fold adds one space */
				cm_buf_add(b, "\r\n ", 3);
				col = 1;
			}
			c = hdr_char(v.s[w + k], 0);
			cm_buf_add(b, &c, 1);
			col++;
		}
		has_word = 1;
	}
}

static int needs_encoding(cm_str v)
{
	int i;
	int run = 0;

	for (i = 0; i < v.len; i++) {
		if ((unsigned char)v.s[i] >= 0x80)
			return 1;
		/* a literal "=?" would be decoded by the reader as a word */
		if (v.s[i] == '=' && i + 1 < v.len && v.s[i + 1] == '?')
			return 1;
		run = is_wsp(hdr_char(v.s[i], 0)) ? 0 : run + 1;
		if (run > MM4_SOFT_COL * 2)
			return 1;
	}
	return 0;
}

int mm4_add_header(cm_buf *b, const char *name, cm_str value, int encode)
{
	int nlen;

	if (!b || !name || b->failed)
		return -1;
	nlen = (int)strlen(name);
	if (!valid_name(name, nlen) || value.len < 0 || (value.len && !value.s))
		return -1;
	cm_buf_add(b, name, nlen);
	cm_buf_add(b, ": ", 2);
	if (encode && needs_encoding(value))
		add_encoded_words(b, value, nlen + 2);
	else
		add_folded(b, value, nlen + 2);
	cm_buf_add(b, "\r\n", 2);
	return b->failed ? -1 : 0;
}

int mm4_format_date(time_t t, char *out)
{
	static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
			"Sat"};
	static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
			"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	time_t zero = 0;

	/* 4-digit years only, so the result always fits 32 bytes */
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 + 1 || tm.tm_year > 9999 - 1900
			|| tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0
			|| tm.tm_mon > 11)
		gmtime_r(&zero, &tm);
	return snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d +0000",
			days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
			tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* characters that would break an address in a header or SMTP path */
static int addr_char_ok(char c)
{
	unsigned char u = (unsigned char)c;

	if (u <= 0x20 || u >= 0x7f)
		return 0;
	return !strchr("<>,\"@\\();", c);
}

int mm4_plmn_address(cm_str e164, cm_str domain, char *out, int size)
{
	static const char sfx[] = "/TYPE=PLMN@";
	int plus;
	int n;
	int i;

	if (!out || size <= 0)
		return -1;
	out[0] = '\0';
	if (!e164.s || !domain.s || e164.len <= 0 || domain.len <= 0)
		return -1;
	plus = e164.s[0] == '+' ? 0 : 1;
	/* a PLMN address is a global number: '+' and 1..15 digits */
	if (e164.len - (1 - plus) < 1 || e164.len - (1 - plus) > 15)
		return -1;
	for (i = 1 - plus; i < e164.len; i++)
		if (e164.s[i] < '0' || e164.s[i] > '9')
			return -1;
	for (i = 0; i < domain.len; i++)
		if (!addr_char_ok(domain.s[i]) || domain.s[i] == '/')
			return -1;
	n = plus + e164.len + (int)sizeof(sfx) - 1 + domain.len;
	if (n >= size)
		return -1;
	if (plus)
		out[0] = '+';
	memcpy(out + plus, e164.s, e164.len);
	memcpy(out + plus + e164.len, sfx, sizeof(sfx) - 1);
	memcpy(out + plus + e164.len + sizeof(sfx) - 1, domain.s, domain.len);
	out[n] = '\0';
	return n;
}

/* ---- mail writing ---- */

/* header whose value is pre + value + post (quotes, angle brackets) */
static int add_wrapped(cm_buf *b, const char *name, const char *pre,
		cm_str value, const char *post)
{
	cm_buf t;
	cm_str v;
	int rc;

	cm_buf_init(&t);
	cm_buf_adds(&t, pre);
	cm_buf_addstr(&t, value);
	cm_buf_adds(&t, post);
	if (t.failed) {
		cm_buf_free(&t);
		b->failed = 1;
		return -1;
	}
	v = cm_str_mk(t.s, t.len);
	rc = mm4_add_header(b, name, v, 0);
	cm_buf_free(&t);
	return rc;
}

static int add_date(cm_buf *b, const char *name, time_t t)
{
	char d[32];
	int n = mm4_format_date(t, d);

	return mm4_add_header(b, name, cm_str_mk(d, n), 0);
}

static int add_addr_list(cm_buf *b, const char *name, const cm_str *a, int n)
{
	cm_buf t;
	int i;
	int rc;

	cm_buf_init(&t);
	for (i = 0; i < n; i++) {
		if (i)
			cm_buf_add(&t, ", ", 2);
		cm_buf_addstr(&t, cm_str_trim(a[i]));
	}
	if (t.failed) {
		cm_buf_free(&t);
		b->failed = 1;
		return -1;
	}
	rc = mm4_add_header(b, name, cm_str_mk(t.s, t.len), 0);
	cm_buf_free(&t);
	return rc;
}

static void addr_item(cm_str v, int start, int end, cm_str *out, int *n,
		int max, int *over)
{
	cm_str a = cm_str_trim(cm_str_mk(v.s + start, end - start));

	if (a.len <= 0)
		return;
	if (*n >= max) {
		*over = 1;
		return;
	}
	out[(*n)++] = a;
}

int mm4_addr_list(cm_str v, cm_str *out, int max)
{
	int i, start = 0, n = 0, over = 0, angle = 0, lit = 0, paren = 0;
	char q = 0, c;

	if (!v.s || v.len < 0 || !out || max < 0)
		return -1;
	for (i = 0; i < v.len; i++) {
		c = v.s[i];
		if (q || paren) {
			if (c == '\\') {
				i++;
			} else if (q && c == '"') {
				q = 0;
			} else if (paren && c == '(') {
				paren++;
			} else if (paren && c == ')') {
				paren--;
			}
			continue;
		}
		if (c == '"') {
			q = c;
		} else if (c == '(') {
			paren = 1;
		} else if (lit) {
			if (c == ']')
				lit = 0;
		} else if (c == '[') {
			lit = 1;
		} else if (c == '<') {
			angle = 1;
		} else if (c == '>') {
			angle = 0;
		} else if (!angle && c == ':') {
			/* group display name: dropped, its members follow */
			start = i + 1;
		} else if (!angle && (c == ',' || c == ';')) {
			addr_item(v, start, i, out, &n, max, &over);
			start = i + 1;
		}
	}
	if (q || paren || angle || lit)
		return -1;
	addr_item(v, start, v.len, out, &n, max, &over);
	return over ? -1 : n;
}

/* copy with every line end (CRLF, LF, bare CR) made CRLF, and a CRLF
 * added at the end if missing */
static void add_crlf_normalised(cm_buf *b, const char *s, int n)
{
	int i;
	int start = 0;

	if (n <= 0)
		return; /* an empty body may come as {NULL, 0}: no s + 0 */
	for (i = 0; i < n; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			continue;
		cm_buf_add(b, s + start, i - start);
		cm_buf_add(b, "\r\n", 2);
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	cm_buf_add(b, s + start, n - start);
	if (n > 0 && s[n - 1] != '\r' && s[n - 1] != '\n')
		cm_buf_add(b, "\r\n", 2);
}

#define SCAN_8BIT 1
#define SCAN_NUL 2
#define SCAN_BARE_CR 4
#define SCAN_LONG 8
#define SCAN_CTL 16 /* other than HTAB, CR, LF: not printable */

/* what a body contains; lines end at LF, CRLF or (for SCAN_LONG) bare CR */
static int scan_body(const char *s, int n)
{
	int f = 0;
	int col = 0;
	int i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\n') {
			col = 0;
			continue;
		}
		if (c == '\r') {
			if (!(i + 1 < n && s[i + 1] == '\n'))
				f |= SCAN_BARE_CR;
			col = 0;
			continue;
		}
		if (c >= 0x80)
			f |= SCAN_8BIT;
		else if (c == 0)
			f |= SCAN_NUL | SCAN_CTL;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			f |= SCAN_CTL;
		if (++col > MM4_MAX_LINE)
			f |= SCAN_LONG;
	}
	return f;
}

static int b64_value(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		   || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* base64 received: re-wrap the alphabet characters at 76 (decodes to the
 * same bytes, RFC 2045 6.8 says the rest is ignored) */
static void add_base64_rewrap(cm_buf *b, const char *s, int n)
{
	int i;
	int col = 0;

	for (i = 0; i < n; i++) {
		if (!b64_value((unsigned char)s[i]))
			continue;
		cm_buf_add(b, s + i, 1);
		if (++col == 76) {
			cm_buf_add(b, "\r\n", 2);
			col = 0;
		}
	}
	if (col)
		cm_buf_add(b, "\r\n", 2);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2045 6.7 decoding, lenient: a stray '=' stays literal */
static void qp_decode(cm_buf *out, const char *s, int n)
{
	int p = 0;
	int e, le, next, i, soft;
	const char *nl;
	char c;

	while (p < n && !out->failed) {
		nl = memchr(s + p, '\n', n - p);
		e = nl ? (int)(nl - s) : n;
		next = nl ? e + 1 : n;
		le = e;
		while (le > p && (is_wsp(s[le - 1]) || s[le - 1] == '\r'))
			le--;
		soft = le > p && s[le - 1] == '=';
		if (soft)
			le--;
		for (i = p; i < le; i++) {
			c = s[i];
			if (c == '=' && i + 2 < le && hexval(s[i + 1]) >= 0
					&& hexval(s[i + 2]) >= 0) {
				c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
				i += 2;
			}
			cm_buf_add(out, &c, 1);
		}
		if (!soft && nl)
			cm_buf_add(out, "\r\n", 2);
		p = next;
	}
}

/* the mail data must end in CRLF before the SMTP dot */
static void end_with_crlf(cm_buf *b)
{
	if (b->len > 0 && !b->failed
			&& !(b->len >= 2 && b->s[b->len - 2] == '\r'
					&& b->s[b->len - 1] == '\n'))
		cm_buf_add(b, "\r\n", 2);
}

static int media_is(cm_str ct, const char *prefix)
{
	return cm_str_iprefix(cm_str_trim(ct), prefix);
}

/* case-insensitive "name=" parameter presence in a Content-Type */
static int ct_has_param(cm_str ct, const char *name)
{
	int n = (int)strlen(name);
	int i;

	for (i = 1; i + n < ct.len; i++) {
		if (ct.s[i - 1] != ';' && !is_wsp(ct.s[i - 1]))
			continue;
		if (cm_str_iprefix(cm_str_mk(ct.s + i, ct.len - i), name)) {
			int k = i + n;
			while (k < ct.len && is_wsp(ct.s[k]))
				k++;
			if (k < ct.len && ct.s[k] == '=')
				return 1;
		}
	}
	return 0;
}

/* received transfer encodings that leave the bytes as they are */
static int cte_identity(cm_str cte)
{
	return cte.len == 0 || cm_str_ieqz(cte, "7bit") || cm_str_ieqz(cte, "8bit")
		   || cm_str_ieqz(cte, "binary");
}

/* the part's header block without its Content-Transfer-Encoding field
 * (continuation lines included) */
static void add_headers_but_cte(cm_buf *b, cm_str h)
{
	static const char name[] = "Content-Transfer-Encoding";
	const char *nl;
	int p = 0, e, skip = 0;

	while (p < h.len) {
		nl = memchr(h.s + p, '\n', h.len - p);
		e = nl ? (int)(nl - h.s) + 1 : h.len;
		if (!is_wsp(h.s[p]))
			skip = e - p > (int)sizeof(name) - 1
				   && h.s[p + sizeof(name) - 1] == ':'
				   && cm_str_iprefix(cm_str_mk(h.s + p, e - p), name);
		if (!skip)
			cm_buf_add(b, h.s + p, e - p);
		p = e;
	}
	if (h.len > 0 && h.s[h.len - 1] != '\n')
		cm_buf_add(b, "\r\n", 2);
}

/* value of a field in a part's raw header block (first line only) */
static cm_str part_header(cm_str h, const char *name)
{
	int n = (int)strlen(name), p = 0, e, v;
	const char *nl;

	while (p < h.len) {
		nl = memchr(h.s + p, '\n', h.len - p);
		e = nl ? (int)(nl - h.s) : h.len;
		if (e - p > n && h.s[p + n] == ':'
				&& cm_str_iprefix(cm_str_mk(h.s + p, e - p), name)) {
			v = p + n + 1;
			return cm_str_trim(cm_str_mk(h.s + v, e - v));
		}
		p = e + 1;
	}
	return cm_str_mk(NULL, 0);
}

/* 8-bit leaf part: the same bytes in a 7-bit encoding (text
 * quoted-printable, anything else base64) */
static void downgrade_leaf(cm_buf *out, const mime_part *pt, cm_str cte)
{
	cm_str type = mime_ct_type(pt->content_type);
	cm_buf dec;
	int text = type.len == 0 || cm_str_iprefix(type, "text/");

	add_headers_but_cte(out, pt->headers);
	if (cm_str_ieqz(cte, "base64")) {
		/* 8-bit bytes are not base64: dropped (RFC 2045 6.8) */
		cm_buf_adds(out, "Content-Transfer-Encoding: base64\r\n\r\n");
		add_base64_rewrap(out, pt->body.s, pt->body.len);
		return;
	}
	if (cm_str_ieqz(cte, "quoted-printable")) {
		cm_buf_adds(out, "Content-Transfer-Encoding: quoted-printable"
				"\r\n\r\n");
		cm_buf_init(&dec);
		qp_decode(&dec, pt->body.s, pt->body.len);
		if (dec.failed)
			out->failed = 1;
		else
			mm4_qp_encode(out, (unsigned char *)dec.s, dec.len);
		cm_buf_free(&dec);
		end_with_crlf(out);
		return;
	}
	if (text) {
		cm_buf_adds(out, "Content-Transfer-Encoding: quoted-printable"
				"\r\n\r\n");
		mm4_qp_encode(out, (const unsigned char *)pt->body.s, pt->body.len);
		end_with_crlf(out);
		return;
	}
	cm_buf_adds(out, "Content-Transfer-Encoding: base64\r\n\r\n");
	mm4_base64_encode(out, (const unsigned char *)pt->body.s, pt->body.len,
			76);
	end_with_crlf(out);
}

#define MM4_MP_DEPTH 8
#define MM4_MP_PARTS 64

/*
 * An 8-bit multipart made 7-bit (the RFC 6152 3 downgrade, done always:
 * the mail is written before the SMTP session shows whether the peer
 * offers 8BITMIME): rewritten part by part, each 8-bit leaf part
 * re-encoded (downgrade_leaf), nested multiparts the same way; 7-bit
 * parts as received, preamble and epilogue dropped. -1 when it cannot be
 * made 7-bit: 8-bit bytes in a part's header block, an 8-bit message/ part
 * (RFC 2046 5.2.1: no encoding but 7bit/8bit/binary), a multipart that
 * does not split, too deep or with an encoded body.
 */
static int downgrade_mp(cm_buf *out, cm_str body, cm_str bnd, int depth)
{
	mime_part *parts;
	cm_str type, cte, nb;
	int i, n, rc = 0;

	if (depth >= MM4_MP_DEPTH || bnd.len <= 0)
		return -1;
	parts = cm_malloc(MM4_MP_PARTS * sizeof(*parts));
	if (!parts) {
		out->failed = 1;
		return -1;
	}
	n = mime_split(body, bnd, parts, MM4_MP_PARTS);
	if (n <= 0)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++) {
		cm_buf_adds(out, "--");
		cm_buf_addstr(out, bnd);
		cm_buf_adds(out, "\r\n");
		type = mime_ct_type(parts[i].content_type);
		cte = part_header(parts[i].headers, "Content-Transfer-Encoding");
		if (scan_body(parts[i].headers.s, parts[i].headers.len) & SCAN_8BIT) {
			rc = -1;
		} else if (!(scan_body(parts[i].body.s, parts[i].body.len)
						& SCAN_8BIT)) {
			cm_buf_addstr(out, parts[i].headers);
			cm_buf_adds(out, "\r\n");
			cm_buf_addstr(out, parts[i].body);
			cm_buf_adds(out, "\r\n");
		} else if (cm_str_iprefix(type, "multipart/")) {
			nb = mime_ct_param(parts[i].content_type, "boundary");
			if (!cte_identity(cte) || nb.len <= 0) {
				rc = -1;
			} else {
				cm_buf_addstr(out, parts[i].headers);
				cm_buf_adds(out, "\r\n");
				rc = downgrade_mp(out, parts[i].body, nb, depth + 1);
			}
		} else if (cm_str_iprefix(type, "message/")
				|| !(cte_identity(cte) || cm_str_ieqz(cte, "base64")
						|| cm_str_ieqz(cte, "quoted-printable"))) {
			rc = -1;
		} else {
			downgrade_leaf(out, &parts[i], cte);
		}
	}
	if (rc == 0) {
		cm_buf_adds(out, "--");
		cm_buf_addstr(out, bnd);
		cm_buf_adds(out, "--\r\n");
	}
	cm_free(parts);
	return out->failed ? -1 : rc;
}

/* the 8-bit multipart ct/body made 7-bit into out; 0 or -1 */
static int downgrade_body(cm_buf *out, cm_str ct, cm_str body)
{
	cm_str bnd = mime_ct_param(ct, "boundary");
	cm_buf tmp, crlf;
	int rc;

	if (!media_is(ct, "multipart/"))
		return -1; /* message/rfc822: RFC 2046 5.2.1 */
	/* split as received, so a leaf is re-encoded from its own bytes (CR
	 * and LF in binary data included); the 7-bit parts get CRLF after */
	cm_buf_init(&tmp);
	cm_buf_init(&crlf);
	rc = downgrade_mp(&tmp, body, bnd, 0);
	if (rc < 0 && !tmp.failed) {
		/* a delimiter after a bare CR: found once the lines are CRLF */
		tmp.len = 0;
		add_crlf_normalised(&crlf, body.s, body.len);
		rc = crlf.failed ? -1
			 : downgrade_mp(&tmp, cm_str_mk(crlf.s, crlf.len), bnd, 0);
	}
	if (rc == 0)
		add_crlf_normalised(out, tmp.s, tmp.len);
	cm_buf_free(&tmp);
	cm_buf_free(&crlf);
	return rc == 0 && !out->failed ? 0 : -1;
}

/*
 * Multipart (and message/rfc822) must not be base64/QP encoded (RFC 2045
 * 6.4), so it is passed through, its 8-bit parts re-encoded
 * (downgrade_body); if its lines cannot go through SMTP as they are
 * (longer than 998, NUL), or its 8-bit content cannot be made 7-bit, it
 * cannot be sent and the caller answers 415. An unknown received encoding
 * cannot be relabelled either.
 */
int mm4_check_content(cm_str ct, cm_str cte, cm_str body)
{
	cm_buf tmp;
	int f, rc;

	if (body.len < 0 || (body.len > 0 && !body.s))
		return -1;
	ct = cm_str_trim(ct);
	cte = cm_str_trim(cte);
	if (media_is(ct, "multipart/") || media_is(ct, "message/rfc822")) {
		f = scan_body(body.s, body.len);
		if (f & (SCAN_NUL | SCAN_LONG))
			return -1;
		if (media_is(ct, "multipart/") && !ct_has_param(ct, "boundary"))
			return -1;
		if (!(f & SCAN_8BIT))
			return 0;
		cm_buf_init(&tmp);
		rc = downgrade_body(&tmp, ct, body);
		cm_buf_free(&tmp);
		return rc;
	}
	if (cm_str_ieqz(cte, "base64") || cm_str_ieqz(cte, "quoted-printable"))
		return 0;
	return cte_identity(cte) ? 0 : -1;
}

/*
 * Encode the payload (mm4_check_content() passed). Sets *ctename to the
 * Content-Transfer-Encoding and *add_charset when a text type without
 * charset carries 8-bit data (the MIME default charset would be us-ascii;
 * CPM text is UTF-8).
 */
static int encode_body(cm_buf *out, cm_str ct, cm_str cte, cm_str body,
		const char **ctename, int *add_charset)
{
	int f;
	cm_buf dec;

	*add_charset = 0;
	cte = cm_str_trim(cte);
	f = scan_body(body.s, body.len);
	if (media_is(ct, "multipart/") || media_is(ct, "message/rfc822")) {
		/* always 7-bit: no BODY=8BITMIME needed (smtp_client.c) */
		*ctename = "7bit";
		if (f & SCAN_8BIT)
			return downgrade_body(out, ct, body);
		add_crlf_normalised(out, body.s, body.len);
		return out->failed ? -1 : 0;
	}
	if (cm_str_ieqz(cte, "base64")) {
		add_base64_rewrap(out, body.s, body.len);
		*ctename = "base64";
		return out->failed ? -1 : 0;
	}
	if (cm_str_ieqz(cte, "quoted-printable")) {
		*ctename = "quoted-printable";
		if (!(f & (SCAN_8BIT | SCAN_CTL | SCAN_BARE_CR | SCAN_LONG))) {
			add_crlf_normalised(out, body.s, body.len);
		} else {
			/* not transportable as received: decode, re-encode */
			cm_buf_init(&dec);
			qp_decode(&dec, body.s, body.len);
			if (dec.failed) {
				cm_buf_free(&dec);
				return -1;
			}
			mm4_qp_encode(out, (unsigned char *)dec.s, dec.len);
			end_with_crlf(out);
			cm_buf_free(&dec);
		}
		return out->failed ? -1 : 0;
	}
	if (media_is(ct, "text/")) {
		if ((f & SCAN_8BIT) && !ct_has_param(ct, "charset"))
			*add_charset = 1;
		if (!(f & (SCAN_8BIT | SCAN_NUL | SCAN_BARE_CR | SCAN_LONG))) {
			add_crlf_normalised(out, body.s, body.len);
			*ctename = "7bit";
		} else {
			mm4_qp_encode(out, (const unsigned char *)body.s, body.len);
			end_with_crlf(out);
			*ctename = "quoted-printable";
		}
		return out->failed ? -1 : 0;
	}
	mm4_base64_encode(out, (const unsigned char *)body.s, body.len, 76);
	*ctename = "base64";
	return out->failed ? -1 : 0;
}

static int nonempty(cm_str s)
{
	return s.s && s.len > 0;
}

static cm_str yes_no(int v)
{
	return cm_str_z(v ? "Yes" : "No");
}

int mm4_write_forward_req(cm_buf *b, const mm4_forward_req *r)
{
	static const cm_str def_ct = CM_STR_STATIC("text/plain; charset=utf-8");
	cm_buf body;
	cm_buf ctb;
	cm_str ct;
	const char *ctename = "7bit";
	int add_charset = 0;
	char num[16];
	int i;

	if (!b || !r || b->failed)
		return -1;
	/* the mandatory elements of MM4.md 3.1; an MM4 peer would reject
	 * the mail anyway */
	if (r->nto < 0 || r->nto > 32 || r->ncc < 0 || r->ncc > 32
			|| r->nbcc < 0 || r->nto + r->ncc + r->nbcc == 0
			|| !nonempty(r->from)
			|| !nonempty(r->version) || !nonempty(r->transaction_id)
			|| !nonempty(r->message_id) || !nonempty(r->originator_system)
			|| !nonempty(r->rfc822_message_id)
			|| r->body.len < 0 || (r->body.len > 0 && !r->body.s))
		return -1;
	for (i = 0; i < r->nto; i++)
		if (!nonempty(cm_str_trim(r->to[i])))
			return -1;
	for (i = 0; i < r->ncc; i++)
		if (!nonempty(cm_str_trim(r->cc[i])))
			return -1;

	ct = cm_str_trim(r->content_type);
	if (!ct.s || ct.len == 0)
		ct = def_ct;
	if (mm4_check_content(ct, r->content_transfer_encoding, r->body) < 0)
		return -1;
	cm_buf_init(&body);
	cm_buf_init(&ctb);
	if (encode_body(&body, ct, r->content_transfer_encoding, r->body,
				&ctename, &add_charset)
			< 0) {
		cm_buf_free(&body);
		return -1;
	}
	if (add_charset) {
		cm_buf_addstr(&ctb, ct);
		cm_buf_adds(&ctb, "; charset=utf-8");
		if (ctb.failed) {
			cm_buf_free(&body);
			cm_buf_free(&ctb);
			return -1;
		}
		ct = cm_str_mk(ctb.s, ctb.len);
	}

	mm4_add_header(b, "X-Mms-3GPP-MMS-Version", r->version, 0);
	mm4_add_header(b, "X-Mms-Message-Type",
			cm_str_z(mm4_type_name(MM4_FORWARD_REQ)), 0);
	add_wrapped(b, "X-Mms-Transaction-ID", "\"", r->transaction_id, "\"");
	add_wrapped(b, "X-Mms-Message-ID", "\"", r->message_id, "\"");
	if (r->nto > 0)
		add_addr_list(b, "To", r->to, r->nto);
	else if (r->ncc == 0)
		mm4_add_header(b, "To", cm_str_z("undisclosed-recipients:;"), 0);
	if (r->ncc > 0)
		add_addr_list(b, "Cc", r->cc, r->ncc);
	mm4_add_header(b, "From", r->from, 0);
	add_date(b, "Date", r->date);
	if (r->has_expiry)
		add_date(b, "X-Mms-Expiry", r->expiry);
	if (nonempty(r->message_class))
		mm4_add_header(b, "X-Mms-Message-Class", r->message_class, 0);
	if (r->delivery_report >= 0)
		mm4_add_header(b, "X-Mms-Delivery-Report",
				yes_no(r->delivery_report), 0);
	if (r->read_reply >= 0)
		mm4_add_header(b, "X-Mms-Read-Reply", yes_no(r->read_reply), 0);
	if (nonempty(r->priority))
		mm4_add_header(b, "X-Mms-Priority", r->priority, 0);
	if (r->sender_hidden)
		mm4_add_header(b, "X-Mms-Sender-Visibility", cm_str_z("Hide"), 0);
	if (nonempty(r->subject))
		mm4_add_header(b, "Subject", r->subject, 1);
	mm4_add_header(b, "X-Mms-Ack-Request", yes_no(r->ack_request > 0), 0);
	if (r->forward_counter > 0) {
		snprintf(num, sizeof(num), "%d", r->forward_counter);
		mm4_add_header(b, "X-Mms-Forward-Counter", cm_str_z(num), 0);
	}
	mm4_add_header(b, "X-Mms-Originator-System", r->originator_system, 0);
	mm4_add_header(b, "Sender", r->originator_system, 0);
	add_wrapped(b, "Message-ID", "<", r->rfc822_message_id, ">");
	mm4_add_header(b, "MIME-Version", cm_str_z("1.0"), 0);
	mm4_add_header(b, "Content-Type", ct, 0);
	mm4_add_header(b, "Content-Transfer-Encoding", cm_str_z(ctename), 0);
	cm_buf_add(b, "\r\n", 2);
	cm_buf_add(b, body.s, body.len);
	cm_buf_free(&body);
	cm_buf_free(&ctb);
	return b->failed ? -1 : 0;
}

int mm4_write_res(cm_buf *b, const mm4_res *r)
{
	if (!b || !r || b->failed)
		return -1;
	if ((r->type != MM4_FORWARD_RES && r->type != MM4_DELIVERY_REPORT_RES
				&& r->type != MM4_READ_REPLY_REPORT_RES)
			|| !nonempty(r->version) || !nonempty(r->status)
			|| !nonempty(r->sender) || !nonempty(r->to)
			|| !nonempty(r->rfc822_message_id)
			|| r->transaction_id.len < 0
			|| (r->transaction_id.len > 0 && !r->transaction_id.s))
		return -1;
	mm4_add_header(b, "X-Mms-3GPP-MMS-Version", r->version, 0);
	mm4_add_header(b, "X-Mms-Message-Type", cm_str_z(mm4_type_name(r->type)),
			0);
	if (r->raw_ids) {
		/* peers match their own bytes: echo them as they came */
		mm4_add_header(b, "X-Mms-Transaction-ID", r->transaction_id, 0);
		if (nonempty(r->message_id))
			mm4_add_header(b, "X-Mms-Message-ID", r->message_id, 0);
	} else {
		add_wrapped(b, "X-Mms-Transaction-ID", "\"", r->transaction_id, "\"");
		if (nonempty(r->message_id))
			add_wrapped(b, "X-Mms-Message-ID", "\"", r->message_id, "\"");
	}
	mm4_add_header(b, "X-Mms-Request-Status-Code", r->status, 0);
	if (nonempty(r->status_text))
		mm4_add_header(b, "X-Mms-Status-Text", r->status_text, 1);
	mm4_add_header(b, "Sender", r->sender, 0);
	mm4_add_header(b, "To", r->to, 0);
	add_wrapped(b, "Message-ID", "<", r->rfc822_message_id, ">");
	add_date(b, "Date", r->date);
	cm_buf_add(b, "\r\n", 2);
	return b->failed ? -1 : 0;
}

/* ---- decoders (MMS -> CPM direction) ---- */

static int b64_index(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static void b64_emit(cm_buf *out, const unsigned char *o, int n)
{
	if (out)
		cm_buf_add(out, (const char *)o, n);
}

/*
 * Whitespace (SP, HTAB, CR, LF) is skipped as RFC 2045 6.8 allows; any
 * other character outside the alphabet is an error rather than ignored,
 * so a corrupt part is reported instead of delivered as garbage. Missing
 * padding is tolerated (seen in the wild), data after padding is not.
 */
int mm4_base64_decode(cm_buf *out, const char *in, int len)
{
	unsigned char o[3];
	unsigned v = 0;
	int n = 0, pad = 0, i, x;
	unsigned char c;

	if (len < 0 || (len > 0 && !in) || (out && out->failed))
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			/* padding only completes a quantum of 2 or 3 characters */
			if (n < 2 || n + pad >= 4)
				return -1;
			pad++;
			continue;
		}
		if (pad)
			return -1;
		x = b64_index(c);
		if (x < 0)
			return -1;
		v = (v << 6) | (unsigned)x;
		if (++n == 4) {
			o[0] = (unsigned char)(v >> 16);
			o[1] = (unsigned char)(v >> 8);
			o[2] = (unsigned char)v;
			b64_emit(out, o, 3);
			n = 0;
			v = 0;
		}
	}
	if (n == 1)
		return -1;
	if (n == 2) {
		o[0] = (unsigned char)(v >> 4);
		b64_emit(out, o, 1);
	} else if (n == 3) {
		o[0] = (unsigned char)(v >> 10);
		o[1] = (unsigned char)(v >> 2);
		b64_emit(out, o, 2);
	}
	return out && out->failed ? -1 : 0;
}

int mm4_qp_decode(cm_buf *out, const char *in, int len)
{
	if (!out || len < 0 || (len > 0 && !in) || out->failed)
		return -1;
	qp_decode(out, in, len);
	return out->failed ? -1 : 0;
}

/* ---- RFC 2047 ---- */

/* "=?charset?B|Q?text?=" at in.s[i]: index after it, or -1 */
static int ew_parse(cm_str in, int i, cm_str *cs, char *enc, cm_str *text)
{
	int p, q;
	unsigned char c;

	if (i + 1 >= in.len || in.s[i] != '=' || in.s[i + 1] != '?')
		return -1;
	p = i + 2;
	for (q = p; q < in.len && in.s[q] != '?'; q++) {
		c = (unsigned char)in.s[q];
		if (c <= 0x20 || c >= 0x7f)
			return -1;
	}
	if (q == p || q + 2 >= in.len || in.s[q + 2] != '?')
		return -1;
	*cs = cm_str_mk(in.s + p, q - p);
	*enc = in.s[q + 1];
	if (*enc != 'B' && *enc != 'b' && *enc != 'Q' && *enc != 'q')
		return -1;
	p = q + 3;
	for (q = p; q + 1 < in.len && !(in.s[q] == '?' && in.s[q + 1] == '=');
			q++) {
		c = (unsigned char)in.s[q];
		/* encoded-text is printable ASCII without SP and '?' */
		if (c <= 0x20 || c >= 0x7f || c == '?')
			return -1;
	}
	if (q + 1 >= in.len)
		return -1;
	*text = cm_str_mk(in.s + p, q - p);
	return q + 2;
}

/* Q encoding (RFC 2047 4.2): 0 / -1 on a bad "=XX" */
static int ew_q_decode(cm_buf *out, cm_str t)
{
	int i, hi, lo;
	char c;

	for (i = 0; i < t.len; i++) {
		c = t.s[i];
		if (c == '_') {
			c = ' ';
		} else if (c == '=') {
			if (i + 2 >= t.len)
				return -1;
			hi = hexval(t.s[i + 1]);
			lo = hexval(t.s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		cm_buf_add(out, &c, 1);
	}
	return out->failed ? -1 : 0;
}

/* the bytes of one word's encoded-text into t (emptied first); -1 if the
 * text does not decode (the word is then kept as written) */
static int ew_bytes(cm_buf *t, char enc, cm_str text)
{
	int rc;

	t->len = 0;
	if (enc == 'B' || enc == 'b')
		rc = mm4_base64_decode(t, text.s, text.len);
	else
		rc = ew_q_decode(t, text);
	if (rc < 0)
		t->len = 0;
	return rc;
}

/* linear whitespace between two words: a fold left in is one too */
static int ew_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A run of adjacent encoded words in one charset is converted at once: a
 * multi-byte character split over two words (RFC 2047 5 forbids it, MMS
 * clients do it) comes out whole. */
typedef struct ew_run {
	cm_str cs;   /* charset of the run; s NULL: no run */
	cm_buf raw;  /* its decoded bytes */
} ew_run;

static int ew_flush(cm_buf *out, ew_run *r, cm_str *bad)
{
	int rc = CS_OK;

	if (r->cs.s) {
		rc = r->raw.failed ? CS_NOMEM
						   : cs_to_utf8(out, r->cs, r->raw.s, r->raw.len, 0);
		if ((rc == CS_UNKNOWN || rc == CS_INVALID) && bad)
			*bad = r->cs;
	}
	r->cs.s = NULL;
	r->cs.len = 0;
	r->raw.len = 0;
	return rc;
}

/* text outside encoded words: as it is if the whole header value is
 * UTF-8, else read as windows-1252 (raw 8-bit subjects of old MMSCs) */
static int ew_raw(cm_buf *out, const char *s, int n, int utf8)
{
	if (utf8) {
		cm_buf_add(out, s, n);
		return out->failed ? CS_NOMEM : CS_OK;
	}
	return cs_to_utf8(out, cm_str_z("windows-1252"), s, n, 0);
}

/*
 * Decode encoded-words (B and Q, any charset iconv knows) to UTF-8. Text
 * outside them is copied, or read as windows-1252 when the value is not
 * UTF-8. A word that does not decode is kept as written; whitespace
 * between two decoded words is dropped (RFC 2047 6.2).
 */
int mm4_rfc2047_decode(cm_buf *out, cm_str in, cm_str *bad_charset)
{
	cm_str cs, text, label;
	ew_run run;
	cm_buf t;
	char enc;
	int i = 0, end, j, ws, utf8, rc = CS_OK;

	if (!out || in.len < 0 || (in.len > 0 && !in.s) || out->failed)
		return CS_NOMEM;
	if (bad_charset) {
		bad_charset->s = NULL;
		bad_charset->len = 0;
	}
	utf8 = cs_utf8_valid(in.s, in.len);
	memset(&run, 0, sizeof(run));
	cm_buf_init(&run.raw);
	cm_buf_init(&t);
	while (i < in.len && rc == CS_OK) {
		ws = -1;
		if (run.cs.s && ew_lwsp(in.s[i])) {
			for (j = i; j < in.len && ew_lwsp(in.s[j]); j++)
				;
			ws = i; /* dropped if a decodable word follows */
			i = j;
		}
		end = ew_parse(in, i, &cs, &enc, &text);
		if (end > 0 && ew_bytes(&t, enc, text) == 0) {
			label = cs_label(cs);
			if (run.cs.s && !cm_str_ieq(run.cs, label))
				rc = ew_flush(out, &run, bad_charset);
			if (!run.cs.s)
				run.cs = label;
			cm_buf_add(&run.raw, t.s, t.len);
			i = end;
			continue;
		}
		if (t.failed) {
			rc = CS_NOMEM;
			break;
		}
		rc = ew_flush(out, &run, bad_charset);
		if (rc == CS_OK && ws >= 0)
			cm_buf_add(out, in.s + ws, i - ws);
		if (rc == CS_OK && end > 0) {
			cm_buf_add(out, in.s + i, end - i);
			i = end;
			continue;
		}
		/* up to the next possible word */
		for (j = i + 1; j < in.len && in.s[j] != '='; j++)
			;
		if (rc == CS_OK && i < in.len)
			rc = ew_raw(out, in.s + i, j - i, utf8);
		i = j;
	}
	if (rc == CS_OK)
		rc = ew_flush(out, &run, bad_charset);
	cm_buf_free(&run.raw);
	cm_buf_free(&t);
	if (rc == CS_OK && out->failed)
		rc = CS_NOMEM;
	return rc;
}

/* RFC 2047 decoded, then a clean one-line value: see mm4.h */
int mm4_header_utf8(cm_str raw, char *out, int size, cm_str *bad)
{
	cm_buf dec;
	const unsigned char *s;
	int i, k = 0, len, n, rc;
	unsigned char c;
	char tmp[4];
	cm_str t;

	out[0] = '\0';
	bad->s = NULL;
	bad->len = 0;
	raw = cm_str_trim(raw);
	if (raw.len <= 0)
		return CS_OK;
	cm_buf_init(&dec);
	rc = mm4_rfc2047_decode(&dec, raw, bad);
	if (rc != CS_OK) {
		cm_buf_free(&dec);
		return rc;
	}
	s = (const unsigned char *)dec.s;
	for (i = 0; i < dec.len; i += len) {
		c = s[i];
		len = cs_utf8_seq(s, dec.len, i);
		if (len == 0 || (len == 2 && c == 0xc2 && s[i + 1] < 0xa0)) {
			len = len ? len : 1; /* (the decoder gives UTF-8 only) */
			tmp[0] = '?';
			n = 1;
		} else if (len > 1) {
			memcpy(tmp, s + i, len);
			n = len;
		} else if (c == '\t') {
			tmp[0] = ' ';
			n = 1;
		} else if (c < 0x20 || c == 0x7f) {
			continue; /* CR, LF, NUL, other controls */
		} else {
			tmp[0] = (char)c;
			n = 1;
		}
		if (k + n > size - 1)
			break; /* whole characters only */
		memcpy(out + k, tmp, n);
		k += n;
	}
	cm_buf_free(&dec);
	out[k] = '\0';
	t = cm_str_trim(cm_str_z(out));
	memmove(out, t.s, t.len);
	out[t.len] = '\0';
	return CS_OK;
}

/* ================================================================== */
/* MM4_delivery_report.REQ / MM4_read_reply_report.REQ (MM4.md 3.3,   */
/* 3.5): the IWF reports a CPM recipient's IMDN to the MMS originator  */
/* ================================================================== */

int mm4_write_report_req(cm_buf *b, const mm4_report_req *r)
{
	int dr;

	if (!b || !r || b->failed)
		return -1;
	if (r->type != MM4_DELIVERY_REPORT_REQ
			&& r->type != MM4_READ_REPLY_REPORT_REQ)
		return -1;
	dr = r->type == MM4_DELIVERY_REPORT_REQ;
	/* the M rows of MM4.md 3.3 / 3.5 (Originator-System is C, but we
	 * always ask for the RES and it is also our Sender) */
	if (!nonempty(r->version) || !nonempty(r->transaction_id)
			|| !nonempty(r->message_id) || !nonempty(cm_str_trim(r->to))
			|| !nonempty(cm_str_trim(r->from))
			|| !nonempty(cm_str_trim(dr ? r->mm_status : r->read_status))
			|| !nonempty(r->originator_system)
			|| !nonempty(r->rfc822_message_id))
		return -1;

	mm4_add_header(b, "X-Mms-3GPP-MMS-Version", r->version, 0);
	mm4_add_header(b, "X-Mms-Message-Type", cm_str_z(mm4_type_name(r->type)),
			0);
	add_wrapped(b, "X-Mms-Transaction-ID", "\"", r->transaction_id, "\"");
	add_wrapped(b, "X-Mms-Message-ID", "\"", r->message_id, "\"");
	mm4_add_header(b, "To", cm_str_trim(r->to), 0);
	mm4_add_header(b, "From", cm_str_trim(r->from), 0);
	add_date(b, "Date", r->date);
	if (dr)
		mm4_add_header(b, "X-Mms-MM-Status-Code", cm_str_trim(r->mm_status),
				0);
	else
		mm4_add_header(b, "X-Mms-Read-Status", cm_str_trim(r->read_status),
				0);
	if (nonempty(r->status_text))
		mm4_add_header(b, "X-Mms-Status-Text", r->status_text, 1);
	/* Rel-6 header of the delivery report only */
	if (dr && r->forward_to_ua >= 0)
		mm4_add_header(b, "X-Mms-Forward-To-Originator-UA",
				yes_no(r->forward_to_ua), 0);
	mm4_add_header(b, "X-Mms-Ack-Request", yes_no(r->ack_request > 0), 0);
	mm4_add_header(b, "X-Mms-Originator-System", r->originator_system, 0);
	mm4_add_header(b, "Sender", r->originator_system, 0);
	add_wrapped(b, "Message-ID", "<", r->rfc822_message_id, ">");
	/* no body: the empty line ends the mail */
	cm_buf_add(b, "\r\n", 2);
	return b->failed ? -1 : 0;
}
