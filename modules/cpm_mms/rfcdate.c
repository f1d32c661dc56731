/*
 * cpm_mms - dates as CPIM (ISO 8601 / RFC 3339) and mail (RFC 5322) write
 * them: parsing to time_t, and the ISO form.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure: no Kamailio header. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rfcdate.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* exactly n digits at *i */
static int get_digits(cm_str v, int *i, int n, int *val)
{
	int k, x = 0;

	if (*i + n > v.len)
		return -1;
	for (k = 0; k < n; k++) {
		if (!cm_is_digit(v.s[*i + k]))
			return -1;
		x = x * 10 + (v.s[*i + k] - '0');
	}
	*i += n;
	*val = x;
	return 0;
}

static int expect(cm_str v, int *i, char c)
{
	if (*i >= v.len || v.s[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_datetime(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31};
	int md;

	if (y < 1000 || y > 9999 || mo < 1 || mo > 12 || d < 1)
		return 0;
	md = mdays[mo - 1] + (mo == 2 && leap(y));
	if (d > md || h > 23 || mi > 59 || s > 60)
		return 0;
	return 1;
}

static int make_time(int y, int mo, int d, int h, int mi, int s, int off,
		time_t *t)
{
	struct tm tm;
	time_t r;

	if (!valid_datetime(y, mo, d, h, mi, s))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s; /* a leap second 60 rolls over, as timegm does */
	r = timegm(&tm);
	*t = r - off;
	return 0;
}

int rfcdate_parse_iso8601(cm_str v, time_t *t)
{
	int i = 0, y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, oh = 0, om = 0;
	int off = 0, sign;

	if (!t || !v.s)
		return -1;
	v = cm_str_trim(v);
	if (get_digits(v, &i, 4, &y) < 0 || expect(v, &i, '-') < 0
			|| get_digits(v, &i, 2, &mo) < 0 || expect(v, &i, '-') < 0
			|| get_digits(v, &i, 2, &d) < 0)
		return -1;
	/* RFC 3339 allows 't' and, as a note, a space */
	if (i >= v.len || (v.s[i] != 'T' && v.s[i] != 't' && v.s[i] != ' '))
		return -1;
	i++;
	if (get_digits(v, &i, 2, &h) < 0 || expect(v, &i, ':') < 0
			|| get_digits(v, &i, 2, &mi) < 0)
		return -1;
	if (i < v.len && v.s[i] == ':') {
		i++;
		if (get_digits(v, &i, 2, &s) < 0)
			return -1;
		if (i < v.len && (v.s[i] == '.' || v.s[i] == ',')) {
			i++;
			if (i >= v.len || !cm_is_digit(v.s[i]))
				return -1;
			while (i < v.len && cm_is_digit(v.s[i]))
				i++; /* fractions are dropped */
		}
	}
	if (i < v.len && (v.s[i] == 'Z' || v.s[i] == 'z')) {
		i++;
	} else if (i < v.len && (v.s[i] == '+' || v.s[i] == '-')) {
		sign = v.s[i] == '-' ? -1 : 1;
		i++;
		if (get_digits(v, &i, 2, &oh) < 0)
			return -1;
		if (i < v.len && v.s[i] == ':')
			i++;
		if (i < v.len && get_digits(v, &i, 2, &om) < 0)
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	/* no zone at all: taken as UTC */
	if (i != v.len)
		return -1;
	return make_time(y, mo, d, h, mi, s, off, t);
}

/* skip FWS and (nested) comments; i > v.len after an unclosed one */
static void skip_cfws(cm_str v, int *i)
{
	int depth;

	while (*i < v.len) {
		if (v.s[*i] == ' ' || v.s[*i] == '\t' || v.s[*i] == '\r'
				|| v.s[*i] == '\n') {
			(*i)++;
		} else if (v.s[*i] == '(') {
			depth = 0;
			while (*i < v.len) {
				if (v.s[*i] == '\\' && *i + 1 < v.len)
					(*i)++;
				else if (v.s[*i] == '(')
					depth++;
				else if (v.s[*i] == ')' && --depth == 0)
					break;
				(*i)++;
			}
			if (*i >= v.len) {
				/* unclosed comment: park past the end so that every
				 * later step of the parser fails */
				*i = v.len + 1;
				return;
			}
			(*i)++;
		} else {
			break;
		}
	}
}

static cm_str get_word(cm_str v, int *i)
{
	cm_str w;

	w.s = v.s + (*i < v.len ? *i : v.len);
	w.len = 0;
	while (*i < v.len && cm_is_alpha(v.s[*i])) {
		(*i)++;
		w.len++;
	}
	return w;
}

/* 1 to max digits */
static int get_number(cm_str v, int *i, int max, int *val, int *ndig)
{
	int n = 0, x = 0;

	while (*i < v.len && cm_is_digit(v.s[*i]) && n < max) {
		x = x * 10 + (v.s[*i] - '0');
		(*i)++;
		n++;
	}
	if (n == 0 || (*i < v.len && cm_is_digit(v.s[*i])))
		return -1;
	*val = x;
	if (ndig)
		*ndig = n;
	return 0;
}

static const char *const rfc5322_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri",
	"Sat", "Sun"};
static const char *const rfc5322_days_long[] = {"Monday", "Tuesday",
	"Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
static const char *const rfc5322_months[] = {"Jan", "Feb", "Mar", "Apr",
	"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

typedef struct zone_row {
	const char *name;
	int minutes;
} zone_row;

/* RFC 5322 sec. 4.3 obs-zone, plus "UTC" and "Z" seen in the wild */
static const zone_row rfc5322_zones[] = {
	{"UT", 0}, {"GMT", 0}, {"UTC", 0}, {"Z", 0},
	{"EST", -300}, {"EDT", -240}, {"CST", -360}, {"CDT", -300},
	{"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420},
};

int rfcdate_parse_rfc5322(cm_str v, time_t *t)
{
	int i = 0, k, d = 0, mo = 0, y = 0, ny = 0, h = 0, mi = 0, s = 0, off = 0;
	int zh = 0, zm = 0, sign;
	cm_str w;

	if (!t || !v.s)
		return -1;
	skip_cfws(v, &i);
	if (i < v.len && cm_is_alpha(v.s[i])) {
		w = get_word(v, &i);
		for (k = 0; k < 7; k++)
			if (cm_str_ieqz(w, rfc5322_days[k])
					|| cm_str_ieqz(w, rfc5322_days_long[k]))
				break;
		if (k == 7)
			return -1;
		skip_cfws(v, &i);
		if (expect(v, &i, ',') < 0)
			return -1;
		skip_cfws(v, &i);
	}
	if (get_number(v, &i, 2, &d, NULL) < 0)
		return -1;
	skip_cfws(v, &i);
	w = get_word(v, &i);
	for (k = 0; k < 12; k++)
		if (cm_str_ieqz(w, rfc5322_months[k]))
			mo = k + 1;
	if (!mo)
		return -1;
	skip_cfws(v, &i);
	if (get_number(v, &i, 4, &y, &ny) < 0 || ny < 2)
		return -1;
	/* RFC 5322 sec. 4.3 obsolete years */
	if (ny == 2)
		y += y < 50 ? 2000 : 1900;
	else if (ny == 3)
		y += 1900;
	skip_cfws(v, &i);
	if (get_number(v, &i, 2, &h, NULL) < 0)
		return -1;
	skip_cfws(v, &i);
	if (expect(v, &i, ':') < 0)
		return -1;
	skip_cfws(v, &i);
	if (get_number(v, &i, 2, &mi, NULL) < 0)
		return -1;
	skip_cfws(v, &i);
	if (i < v.len && v.s[i] == ':') {
		i++;
		skip_cfws(v, &i);
		if (get_number(v, &i, 2, &s, NULL) < 0)
			return -1;
		skip_cfws(v, &i);
	}
	if (i < v.len && (v.s[i] == '+' || v.s[i] == '-')) {
		sign = v.s[i] == '-' ? -1 : 1;
		i++;
		if (get_digits(v, &i, 2, &zh) < 0 || get_digits(v, &i, 2, &zm) < 0
				|| zm > 59)
			return -1;
		off = sign * (zh * 3600 + zm * 60);
	} else if (i < v.len && cm_is_alpha(v.s[i])) {
		w = get_word(v, &i);
		for (k = 0; k < ARRAY_LEN(rfc5322_zones); k++)
			if (cm_str_ieqz(w, rfc5322_zones[k].name))
				break;
		if (k < ARRAY_LEN(rfc5322_zones))
			off = rfc5322_zones[k].minutes * 60;
		else if (w.len != 1 || w.s[0] == 'j' || w.s[0] == 'J')
			return -1;
		/* military zones: "equivalent to -0000" (RFC 5322 sec. 4.3) */
	}
	/* a missing zone is taken as UTC */
	skip_cfws(v, &i);
	if (i != v.len)
		return -1;
	return make_time(y, mo, d, h, mi, s, off, t);
}

int rfcdate_format_iso8601(time_t t, char *out)
{
	struct tm tm;
	size_t n;

	if (!out)
		return 0;
	if (!gmtime_r(&t, &tm)) {
		out[0] = '\0';
		return 0;
	}
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (n == 0)
		out[0] = '\0';
	return (int)n;
}
