/*
 * cpm_mms - ids derived from a unique token.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Not cryptographic: the token is already random (the glue's); the hash
 * only spreads it over the id's bits and keeps ids of different salts
 * apart. */
#include <stdio.h>

#include "msg_ids.h"

/* 64-bit FNV-1a over salt and s, finished with the splitmix64 mixer */
static unsigned long long hash64(unsigned long long seed, const char *salt,
		cm_str s)
{
	unsigned long long h = 0xcbf29ce484222325ULL ^ seed;
	const char *p;
	int i;

	for (p = salt; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.s[i]) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* 128 bits derived from unique, different per salt */
static void hash128(const char *salt, cm_str unique, unsigned char b[16])
{
	unsigned long long h[2];
	int i;

	h[0] = hash64(0, salt, unique);
	h[1] = hash64(0x9e3779b97f4a7c15ULL ^ h[0], salt, unique);
	for (i = 0; i < 16; i++)
		b[i] = (unsigned char)(h[i / 8] >> (8 * (i % 8)));
}

void ids_uuid(const char *salt, cm_str unique, char *out)
{
	unsigned char b[16];

	hash128(salt, unique, b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x80);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			"%02x%02x%02x%02x%02x%02x",
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
			b[10], b[11], b[12], b[13], b[14], b[15]);
}

void ids_hex128(const char *salt, cm_str unique, char *out)
{
	unsigned char b[16];
	int i;

	hash128(salt, unique, b);
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}
