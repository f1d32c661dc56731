/*
 * cpm_mms - libFuzzer harness: Content-Encoding decoding (content_coding.c).
 * The first byte picks the coding and the limit; the rest is the body.
 * Properties: a result is within the limit, a failure leaves nothing
 * allocated, and a body that decodes is what zlib made of its own
 * compression of it (round trip).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <zlib.h>

#include "fuzz_common.h"
#include "content_coding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_coding c;
	cm_str in;
	cm_buf out, again;
	unsigned char z[FZ_MAX_INPUT + 1024];
	uLongf zlen;
	int max, ret;

	if (size < 1 || size > FZ_MAX_INPUT)
		return 0;
	c = (data[0] & 1) ? CC_GZIP : CC_DEFLATE;
	max = (data[0] & 2) ? 64 : 1 << 20;
	in.s = (char *)data + 1;
	in.len = (int)size - 1;
	cm_buf_init(&out);
	ret = cc_decode(c, in, max, &out);
	if (ret != CC_OK) {
		FZ_ASSERT(out.s == NULL && out.len == 0);
		return 0;
	}
	FZ_ASSERT(out.len <= max);
	/* what decoded compresses and decodes to the same bytes */
	if (out.len > 0 && out.len <= FZ_MAX_INPUT) {
		zlen = sizeof(z);
		FZ_ASSERT(compress2(z, &zlen, (unsigned char *)out.s, out.len, 6)
				== Z_OK);
		cm_buf_init(&again);
		in.s = (char *)z;
		in.len = (int)zlen;
		FZ_ASSERT(cc_decode(CC_DEFLATE, in, out.len, &again) == CC_OK);
		FZ_ASSERT(again.len == out.len
				&& memcmp(again.s, out.s, out.len) == 0);
		cm_buf_free(&again);
	}
	cm_buf_free(&out);
	return 0;
}
