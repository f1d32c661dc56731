/*
 * cpm_mms - SIP body Content-Encoding: deflate / gzip decoding (zlib).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <zlib.h>

#include "content_coding.h"

cc_coding cc_parse(cm_str value)
{
	cm_str v = cm_str_trim(value);
	int i;

	if (v.len == 0 || cm_str_ieqz(v, "identity"))
		return CC_IDENTITY;
	/* one coding only: a list (deflate, gzip) is not what clients send */
	for (i = 0; i < v.len; i++)
		if (v.s[i] == ',' || v.s[i] == ';')
			return CC_UNKNOWN;
	if (cm_str_ieqz(v, "deflate"))
		return CC_DEFLATE;
	if (cm_str_ieqz(v, "gzip") || cm_str_ieqz(v, "x-gzip"))
		return CC_GZIP;
	return CC_UNKNOWN;
}

static void *cc_zalloc(void *opaque, unsigned int items, unsigned int size)
{
	if (size && items > (unsigned int)-1 / size)
		return Z_NULL;
	return cm_malloc((size_t)items * size);
}

static void cc_zfree(void *opaque, void *p)
{
	cm_free(p);
}

/* one inflate pass with the given window bits */
static int cc_inflate(int wbits, cm_str in, int max, cm_buf *out)
{
	z_stream zs;
	unsigned char chunk[8192];
	int zr, ret = CC_OK;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = cc_zalloc;
	zs.zfree = cc_zfree;
	if (inflateInit2(&zs, wbits) != Z_OK)
		return CC_NOMEM;
	zs.next_in = (unsigned char *)in.s;
	zs.avail_in = in.len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr == Z_MEM_ERROR) {
			ret = CC_NOMEM;
			break;
		}
		if (zr != Z_OK && zr != Z_STREAM_END) {
			/* Z_BUF_ERROR here: input ended inside the stream */
			ret = CC_CORRUPT;
			break;
		}
		if (out->len + (int)(sizeof(chunk) - zs.avail_out) > max) {
			ret = CC_TOO_LARGE;
			break;
		}
		if (cm_buf_add(out, (char *)chunk, sizeof(chunk) - zs.avail_out) < 0) {
			ret = CC_NOMEM;
			break;
		}
	} while (zr != Z_STREAM_END);
	/* bytes after the end of the stream are not part of the body */
	if (ret == CC_OK && zs.avail_in != 0)
		ret = CC_CORRUPT;
	inflateEnd(&zs);
	return ret;
}

int cc_decode(cc_coding coding, cm_str in, int max, cm_buf *out)
{
	int ret;

	if ((coding != CC_DEFLATE && coding != CC_GZIP) || !in.s || in.len <= 0
			|| max < 0) {
		cm_buf_free(out);
		return CC_CORRUPT;
	}
	ret = cc_inflate(coding == CC_GZIP ? 16 + MAX_WBITS : MAX_WBITS, in, max,
			out);
	/* "deflate" is the zlib format (RFC 9110 8.4.1.2), but some senders
	 * put a raw deflate stream there, which never has a zlib header */
	if (ret == CC_CORRUPT && coding == CC_DEFLATE && out->len == 0
			&& !out->failed) {
		cm_buf_free(out);
		cm_buf_init(out);
		ret = cc_inflate(-MAX_WBITS, in, max, out);
	}
	if (ret == CC_OK && out->failed)
		ret = CC_NOMEM;
	if (ret != CC_OK)
		cm_buf_free(out);
	return ret;
}
