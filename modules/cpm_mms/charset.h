/*
 * cpm_mms - text charsets of MMS content and headers -> UTF-8 (iconv).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure (no Kamailio header). CPM text is UTF-8 (RFC 3862 for CPIM
 * headers; OMA CPM for text payloads); MMS peers send any IANA charset.
 * Conversion goes through glibc iconv(3); the labels below are handled
 * apart:
 *  - UTF-8 (utf-8, utf8): validated only; a leading BOM is dropped
 *  - US-ASCII and no label at all (RFC 2046 4.1.2 default): ASCII is
 *    copied; 8-bit bytes that form valid UTF-8 are kept as UTF-8 (what
 *    unlabelled 8-bit MMS text nearly always is), else the whole text is
 *    read as windows-1252
 *  - ISO-8859-1 and its aliases, windows-1252: read as windows-1252 (the
 *    WHATWG Encoding Standard does the same: C1 controls never occur in
 *    real text, windows-1252 characters labelled Latin-1 do); the five
 *    bytes windows-1252 leaves undefined map to U+0081 etc., so this never
 *    fails
 *  - UTF-16 / UCS-2 (also ISO-10646-UCS-2, csUnicode): the BOM decides the
 *    byte order and is dropped, big-endian without one (RFC 2781 4.3);
 *    UTF-16BE/LE (UCS-2BE/LE): a leading BOM of that order is dropped
 *  - supersets, as the WHATWG Encoding Standard maps them: GB2312/EUC-CN
 *    -> GBK, Shift_JIS -> CP932 (Windows-31J, what phones send), EUC-KR /
 *    KS_C_5601-1987 -> CP949 (UHC), Big5 -> BIG5-HKSCS
 * Every other name that is a plain charset token goes to iconv as it is
 * (ISO-8859-2..16, windows-125x, KOI8-R/U, GB18030, ISO-2022-JP, ...). */
#ifndef CPM_MMS_CHARSET_H
#define CPM_MMS_CHARSET_H

#include "cm_str.h"

#define CS_OK 0
#define CS_NOMEM -1      /* allocation failed */
#define CS_UNKNOWN -2    /* no such charset (or not a safe name) */
#define CS_INVALID -3    /* bytes that are not valid in that charset */
#define CS_TOO_LARGE -4  /* the UTF-8 would exceed the limit */

/* longest charset name taken (IANA names have at most 40 characters) */
#define CS_NAME_MAX 40

/* length (1-4) of the valid UTF-8 sequence at s[i] (i < n), else 0: no
 * overlong form, surrogate or code point above U+10FFFF */
int cs_utf8_seq(const unsigned char *s, int n, int i);
/* 1 if the n bytes are valid UTF-8 */
int cs_utf8_valid(const char *s, int n);
/* the label without an RFC 2231 "*lang" suffix, trimmed */
cm_str cs_label(cm_str charset);
/* 1 if the label names UTF-8 (nothing to convert) */
int cs_is_utf8(cm_str charset);

/* Append the UTF-8 form of in[0..len) in charset to out (an RFC 2231
 * language suffix "*lang" is ignored; empty = no label, see above).
 * max > 0 limits the bytes appended. Returns CS_OK, or one of the errors
 * with out as it was before the call (CS_NOMEM also sets out->failed). */
int cs_to_utf8(cm_buf *out, cm_str charset, const char *in, int len,
		int max);
/* a short English text for an error code */
const char *cs_strerror(int rc);

#endif
