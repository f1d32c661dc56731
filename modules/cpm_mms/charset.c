/*
 * cpm_mms - text charsets of MMS content and headers -> UTF-8 (iconv).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "charset.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* how a label is converted */
enum cs_kind {
	CS_K_UTF8,
	CS_K_ASCII,    /* also no label: UTF-8 if valid, else windows-1252 */
	CS_K_1252,
	CS_K_UTF16,    /* BOM decides, BE without */
	CS_K_UTF16BE,
	CS_K_UTF16LE,
	CS_K_ICONV,    /* the iconv name in the row (or the label itself) */
};

typedef struct cs_alias {
	const char *label;  /* lower case */
	enum cs_kind kind;
	const char *iconv;  /* CS_K_ICONV: name given to iconv_open */
} cs_alias;

/* labels (IANA names and aliases seen from MMSCs) with their own handling;
 * the supersets follow the WHATWG Encoding Standard */
static const cs_alias cs_aliases[] = {
	{"utf-8", CS_K_UTF8, NULL},
	{"utf8", CS_K_UTF8, NULL},
	{"us-ascii", CS_K_ASCII, NULL},
	{"ascii", CS_K_ASCII, NULL},
	{"ansi_x3.4-1968", CS_K_ASCII, NULL},
	{"iso646-us", CS_K_ASCII, NULL},
	{"csascii", CS_K_ASCII, NULL},
	{"us", CS_K_ASCII, NULL},
	{"iso-8859-1", CS_K_1252, NULL},
	{"iso8859-1", CS_K_1252, NULL},
	{"iso_8859-1", CS_K_1252, NULL},
	{"iso_8859-1:1987", CS_K_1252, NULL},
	{"iso-ir-100", CS_K_1252, NULL},
	{"latin1", CS_K_1252, NULL},
	{"l1", CS_K_1252, NULL},
	{"cp819", CS_K_1252, NULL},
	{"ibm819", CS_K_1252, NULL},
	{"csisolatin1", CS_K_1252, NULL},
	{"windows-1252", CS_K_1252, NULL},
	{"cp1252", CS_K_1252, NULL},
	{"x-cp1252", CS_K_1252, NULL},
	{"utf-16", CS_K_UTF16, NULL},
	{"utf16", CS_K_UTF16, NULL},
	{"ucs-2", CS_K_UTF16, NULL},
	{"ucs2", CS_K_UTF16, NULL},
	{"iso-10646-ucs-2", CS_K_UTF16, NULL},
	{"csunicode", CS_K_UTF16, NULL},
	{"unicode", CS_K_UTF16, NULL},
	{"utf-16be", CS_K_UTF16BE, NULL},
	{"ucs-2be", CS_K_UTF16BE, NULL},
	{"utf-16le", CS_K_UTF16LE, NULL},
	{"ucs-2le", CS_K_UTF16LE, NULL},
	{"gb2312", CS_K_ICONV, "GBK"},
	{"csgb2312", CS_K_ICONV, "GBK"},
	{"gb_2312-80", CS_K_ICONV, "GBK"},
	{"euc-cn", CS_K_ICONV, "GBK"},
	{"x-gbk", CS_K_ICONV, "GBK"},
	{"cp936", CS_K_ICONV, "GBK"},
	{"shift_jis", CS_K_ICONV, "CP932"},
	{"shift-jis", CS_K_ICONV, "CP932"},
	{"sjis", CS_K_ICONV, "CP932"},
	{"x-sjis", CS_K_ICONV, "CP932"},
	{"ms_kanji", CS_K_ICONV, "CP932"},
	{"csshiftjis", CS_K_ICONV, "CP932"},
	{"windows-31j", CS_K_ICONV, "CP932"},
	{"euc-kr", CS_K_ICONV, "CP949"},
	{"cseuckr", CS_K_ICONV, "CP949"},
	{"ks_c_5601-1987", CS_K_ICONV, "CP949"},
	{"ks_c_5601-1989", CS_K_ICONV, "CP949"},
	{"ksc5601", CS_K_ICONV, "CP949"},
	{"windows-949", CS_K_ICONV, "CP949"},
	{"big5", CS_K_ICONV, "BIG5-HKSCS"},
	{"csbig5", CS_K_ICONV, "BIG5-HKSCS"},
	{"x-x-big5", CS_K_ICONV, "BIG5-HKSCS"},
	{"cn-big5", CS_K_ICONV, "BIG5-HKSCS"},
};

/* windows-1252 0x80-0x9f; the undefined five keep their C1 code point */
static const unsigned short cs_1252_c1[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

int cs_utf8_seq(const unsigned char *s, int n, int i)
{
	unsigned char c = s[i];
	int len, k;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	cp = c & (0x7f >> len);
	if (i + len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i + k] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
			|| (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

int cs_utf8_valid(const char *s, int n)
{
	const unsigned char *u = (const unsigned char *)s;
	int i, len;

	for (i = 0; i < n; i += len)
		if ((len = cs_utf8_seq(u, n, i)) == 0)
			return 0;
	return 1;
}

cm_str cs_label(cm_str cs)
{
	int i;

	cs = cm_str_trim(cs);
	for (i = 0; i < cs.len; i++)
		if (cs.s[i] == '*')
			cs.len = i;
	return cs;
}

/* a name iconv_open may see: no "//" suffixes, ',' error handlers or an
 * empty name (which glibc reads as the locale's charset) */
static int cs_name_ok(cm_str cs)
{
	int i;
	unsigned char c;

	if (cs.len <= 0 || cs.len > CS_NAME_MAX)
		return 0;
	for (i = 0; i < cs.len; i++) {
		c = (unsigned char)cs.s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
					|| (c >= '0' && c <= '9') || strchr("-_.:+", c)))
			return 0;
	}
	return 1;
}

static const cs_alias *cs_find(cm_str cs)
{
	int i;

	for (i = 0; i < ARRAY_LEN(cs_aliases); i++)
		if (cm_str_ieqz(cs, cs_aliases[i].label))
			return &cs_aliases[i];
	return NULL;
}

int cs_is_utf8(cm_str charset)
{
	const cs_alias *a = cs_find(cs_label(charset));

	return a && a->kind == CS_K_UTF8;
}

static void cs_put_cp(cm_buf *out, unsigned cp)
{
	char u[3];

	if (cp < 0x80) {
		u[0] = (char)cp;
		cm_buf_add(out, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		cm_buf_add(out, u, 2);
	} else {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		cm_buf_add(out, u, 3);
	}
}

/* windows-1252 never fails: every byte is a character */
static void cs_from_1252(cm_buf *out, const unsigned char *s, int n)
{
	int i, start = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < 0x80)
			continue;
		cm_buf_add(out, (const char *)s + start, i - start);
		cs_put_cp(out, s[i] < 0xa0 ? cs_1252_c1[s[i] - 0x80] : s[i]);
		start = i + 1;
	}
	cm_buf_add(out, (const char *)s + start, n - start);
}

/* iconv in chunks of tmp: the output grows only as far as it is used, and
 * max is checked before the next chunk is converted */
static int cs_iconv(cm_buf *out, const char *name, const char *in, int len,
		int start, int max)
{
	char tmp[2048], *ip = (char *)in, *op;
	size_t il = (size_t)len, ol, r;
	iconv_t cd;
	int rc = CS_OK, err, flush;

	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return errno == EINVAL ? CS_UNKNOWN : CS_NOMEM;
	for (;;) {
		op = tmp;
		ol = sizeof(tmp);
		/* the last round resets a stateful decoder (ISO-2022-JP) */
		flush = il == 0;
		errno = 0;
		r = flush ? iconv(cd, NULL, NULL, &op, &ol)
				  : iconv(cd, &ip, &il, &op, &ol);
		err = errno;
		cm_buf_add(out, tmp, (int)(op - tmp));
		if (out->failed)
			rc = CS_NOMEM;
		else if (max > 0 && out->len - start > max)
			rc = CS_TOO_LARGE;
		else if (r == (size_t)-1 && err != E2BIG)
			rc = CS_INVALID; /* EILSEQ, or EINVAL: cut off at the end */
		else if (r != (size_t)-1 && flush)
			break;
		if (rc != CS_OK)
			break;
	}
	iconv_close(cd);
	return rc;
}

int cs_to_utf8(cm_buf *out, cm_str charset, const char *in, int len,
		int max)
{
	const unsigned char *u;
	const cs_alias *a;
	enum cs_kind kind;
	const char *name;
	char zname[CS_NAME_MAX + 1];
	int start, rc = CS_OK, i;

	if (!out || len < 0 || (len > 0 && !in))
		return CS_NOMEM;
	if (out->failed)
		return CS_NOMEM;
	if (len == 0)
		in = ""; /* an empty slice may have no pointer */
	u = (const unsigned char *)in;
	start = out->len;
	charset = cs_label(charset);
	if (charset.len == 0) {
		kind = CS_K_ASCII; /* RFC 2046 4.1.2 */
		name = NULL;
	} else if ((a = cs_find(charset)) != NULL) {
		kind = a->kind;
		name = a->iconv;
	} else if (cs_name_ok(charset)) {
		kind = CS_K_ICONV;
		memcpy(zname, charset.s, charset.len);
		zname[charset.len] = '\0';
		name = zname;
	} else {
		return CS_UNKNOWN;
	}

	switch (kind) {
	case CS_K_UTF8:
		if (len >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0) {
			in += 3;
			len -= 3;
		}
		if (!cs_utf8_valid(in, len))
			return CS_INVALID;
		cm_buf_add(out, in, len);
		break;
	case CS_K_ASCII:
		for (i = 0; i < len && u[i] < 0x80; i++)
			;
		if (i == len || cs_utf8_valid(in, len))
			cm_buf_add(out, in, len);
		else
			cs_from_1252(out, u, len);
		break;
	case CS_K_1252:
		cs_from_1252(out, u, len);
		break;
	case CS_K_UTF16:
	case CS_K_UTF16BE:
	case CS_K_UTF16LE:
		if (len >= 2 && u[0] == 0xfe && u[1] == 0xff
				&& kind != CS_K_UTF16LE) {
			kind = CS_K_UTF16BE;
			in += 2;
			len -= 2;
		} else if (len >= 2 && u[0] == 0xff && u[1] == 0xfe
				&& kind != CS_K_UTF16BE) {
			kind = CS_K_UTF16LE;
			in += 2;
			len -= 2;
		} else if (kind == CS_K_UTF16) {
			kind = CS_K_UTF16BE; /* RFC 2781 4.3 */
		}
		rc = cs_iconv(out, kind == CS_K_UTF16LE ? "UTF-16LE" : "UTF-16BE",
				in, len, start, max);
		break;
	case CS_K_ICONV:
		rc = cs_iconv(out, name, in, len, start, max);
		break;
	}
	if (rc == CS_OK && out->failed)
		rc = CS_NOMEM;
	if (rc == CS_OK && max > 0 && out->len - start > max)
		rc = CS_TOO_LARGE;
	/* iconv's own output is UTF-8, but a decoder that lets a lone
	 * surrogate through must not reach CPM */
	if (rc == CS_OK && kind != CS_K_UTF8 && kind != CS_K_ASCII
			&& out->len > start
			&& !cs_utf8_valid(out->s + start, out->len - start))
		rc = CS_INVALID;
	if (rc == CS_NOMEM)
		out->failed = 1;
	if (rc != CS_OK && out->s) {
		out->len = start;
		out->s[start] = '\0';
	}
	return rc;
}

const char *cs_strerror(int rc)
{
	switch (rc) {
	case CS_OK:
		return "ok";
	case CS_NOMEM:
		return "out of memory";
	case CS_UNKNOWN:
		return "unknown charset";
	case CS_INVALID:
		return "invalid in its charset";
	case CS_TOO_LARGE:
		return "too large";
	}
	return "charset error";
}
