/*
 * cpm_mms - report correlation state through Kamailio's DB API.
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* One connection per process, opened on first use (DB handles must not be
 * shared across fork). Rows are written by MM4 workers and the timer process and
 * read with indexed lookups (mms_message_id, imdn_message_id). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/srdb1/db.h"
#include "core/locking.h"
#include "core/mem/shm_mem.h"
#include "core/dprint.h"
#include "core/str.h"

#include "settings.h"
#include "store.h"

static db_func_t corr_dbf;
static db1_con_t *corr_db = NULL;
static int corr_db_pid = 0;
static int corr_bound = 0;
/* after a failed connect, no new attempt before this (per process): a
 * database that cannot be opened costs one try a second, not one per
 * message */
static time_t corr_retry_at = 0;
static int corr_failures = 0;

#define STORE_RETRY_S 1

/* SQLite takes one writer at a time and db_sqlite's connections wait for
 * the write lock by sleeping 1, 2, 5, ... ms (busy_timeout): under load the
 * processes' writes collided and MESSAGE latency grew by tens of ms. With
 * SQLite the writes of all processes queue on this shm lock instead, so
 * SQLite never sees two writers. Other drivers write concurrently. */
static gen_lock_t *store_write_lock = NULL;
static int write_depth = 0;     /* this process holds the lock (nesting) */
static int batch_wanted = 0;    /* inside store_batch_begin/end */
static int batch_open = 0;      /* a transaction is open (lock held) */

static str col_id = str_init("id");
static str col_direction = str_init("direction");
static str col_mms_id = str_init("mms_message_id");
static str col_imdn_id = str_init("imdn_message_id");
static str col_sender = str_init("sender");
static str col_recipient = str_init("recipient");
static str col_recipient_uri = str_init("recipient_uri");
static str col_orig_system = str_init("orig_system");
static str col_peer = str_init("peer");
static str col_record_route = str_init("record_route");
static str col_datetime = str_init("datetime");
static str col_dispositions = str_init("dispositions");
static str col_reports_done = str_init("reports_done");
static str col_expires = str_init("expires");
static str col_peer_mid = str_init("peer_message_id");
static str col_tid = str_init("transaction_id");
static str col_mm_expiry = str_init("mm_expiry");

#define CORR_NCOLS 16

static int store_is_sqlite(void)
{
	return strncasecmp(cpm_fixed.db_url, "sqlite:", 7) == 0
			&& corr_dbf.raw_query;
}

int store_init(void)
{
	str url;

	if (!cpm_fixed.db_url || !cpm_fixed.db_url[0]) {
		LM_NOTICE("no db_url: delivery/read reports are not correlated\n");
		return 0;
	}
	url.s = cpm_fixed.db_url;
	url.len = strlen(url.s);
	if (db_bind_mod(&url, &corr_dbf) < 0) {
		LM_ERR("cannot bind the DB module for '%s' (load it first)\n",
				cpm_fixed.db_url);
		return -1;
	}
	if (!DB_CAPABILITY(corr_dbf, DB_CAP_QUERY | DB_CAP_INSERT | DB_CAP_DELETE
				| DB_CAP_UPDATE)) {
		LM_ERR("the DB module lacks query/insert/delete/update\n");
		return -1;
	}
	corr_bound = 1;
	if (store_is_sqlite()) {
		store_write_lock = lock_alloc();
		if (!store_write_lock || !lock_init(store_write_lock)) {
			LM_ERR("cannot create the store write lock\n");
			return -1;
		}
	}
	return 0;
}

static void write_begin(void)
{
	if (store_write_lock && write_depth == 0)
		lock_get(store_write_lock);
	write_depth++;
}

static void write_end(void)
{
	if (write_depth > 0 && --write_depth == 0 && store_write_lock)
		lock_release(store_write_lock);
}

static int raw(const char *sql)
{
	str q;
	db1_res_t *res = NULL;
	int ret;

	q.s = (char *)sql;
	q.len = strlen(sql);
	ret = corr_dbf.raw_query(corr_db, &q, &res);
	if (res)
		corr_dbf.free_result(corr_db, res);
	return ret;
}

/* before a write: the lock, and in a batch the transaction, opened on the
 * first write so a batch without rows takes neither */
static void write_prepare(void)
{
	write_begin();
	if (!batch_wanted || batch_open)
		return;
	if (corr_dbf.start_transaction) {
		if (corr_dbf.start_transaction(corr_db, DB_LOCKING_NONE) < 0)
			return;
	} else if (!store_is_sqlite() || raw("BEGIN") < 0) {
		return;
	}
	batch_open = 1;
	write_begin();  /* held until store_batch_end() */
}

void store_batch_begin(void)
{
	batch_wanted = 1;
}

void store_batch_end(void)
{
	batch_wanted = 0;
	if (!batch_open)
		return;
	batch_open = 0;
	if (corr_dbf.end_transaction) {
		if (corr_dbf.end_transaction(corr_db) < 0) {
			LM_ERR("correlation rows of a batch not committed\n");
			if (corr_dbf.abort_transaction)
				corr_dbf.abort_transaction(corr_db);
		}
	} else if (raw("COMMIT") < 0) {
		LM_ERR("correlation rows of a batch not committed\n");
		raw("ROLLBACK");
	}
	write_end();
}

int store_enabled(void)
{
	return corr_bound;
}

/* srdb1 keeps a pointer to the table name: it must outlive the handle */
static str corr_table;

/* db_sqlite sets no busy handler: a write that meets a lock held outside
 * store_write_lock (a checkpoint, the sqlite3 shell, another program)
 * would fail at once ("database is locked") and the row would be lost. */
#define STORE_SQLITE_BUSY_MS "100"

static void store_sqlite_setup(void)
{
	if (!store_is_sqlite())
		return;
	if (raw("PRAGMA busy_timeout=" STORE_SQLITE_BUSY_MS) < 0)
		LM_WARN("cannot set the sqlite busy timeout\n");
	/* in WAL mode (sql/cpm_mms-sqlite.sql) commits need no fsync: a
	 * correlation row survives a Kamailio crash, not a power cut */
	if (raw("PRAGMA synchronous=NORMAL") < 0)
		LM_WARN("cannot set sqlite synchronous=NORMAL\n");
}

static int store_conn(void)
{
	str url;
	time_t now;

	if (!corr_bound)
		return -1;

	if (corr_db && corr_db_pid == getpid())
		return 0;
	corr_db = NULL;
	now = time(NULL);
	if (corr_failures && now < corr_retry_at)
		return -1;
	url.s = cpm_fixed.db_url;
	url.len = strlen(url.s);
	corr_db = corr_dbf.init(&url);
	if (!corr_db) {
		/* the first failure of a run is an error, the retries are not */
		if (!corr_failures++)
			LM_ERR("cannot connect to %s: report correlation rows are not"
					" stored or found; retrying every %d s\n",
					cpm_fixed.db_url, STORE_RETRY_S);
		corr_retry_at = now + STORE_RETRY_S;
		return -1;
	}
	corr_table.s = cpm_fixed.db_table;
	corr_table.len = strlen(corr_table.s);
	if (corr_dbf.use_table(corr_db, &corr_table) < 0) {
		LM_ERR("cannot use table %s\n", cpm_fixed.db_table);
		corr_dbf.close(corr_db);
		corr_db = NULL;
		corr_failures++;
		corr_retry_at = now + STORE_RETRY_S;
		return -1;
	}
	store_sqlite_setup();
	if (corr_failures)
		LM_NOTICE("connected to %s after %d failed attempts\n",
				cpm_fixed.db_url, corr_failures);
	corr_failures = 0;
	corr_db_pid = getpid();
	return 0;
}

void store_close(void)
{
	if (corr_db && corr_db_pid == getpid())
		corr_dbf.close(corr_db);
	corr_db = NULL;
}

static void val_str(db_val_t *v, const char *s)
{
	memset(v, 0, sizeof(*v));
	v->type = DB1_STR;
	v->val.str_val.s = (char *)s;
	v->val.str_val.len = strlen(s);
}

static void val_int(db_val_t *v, int i)
{
	memset(v, 0, sizeof(*v));
	v->type = DB1_INT;
	v->val.int_val = i;
}

int store_put(const corr_row *r)
{
	db_key_t k[CORR_NCOLS];
	db_val_t v[CORR_NCOLS];
	int n = 0, ret;

	if (store_conn() < 0)
		return -1;
	k[n] = &col_direction; val_int(&v[n++], r->direction);
	k[n] = &col_mms_id; val_str(&v[n++], r->mms_message_id);
	k[n] = &col_imdn_id; val_str(&v[n++], r->imdn_message_id);
	k[n] = &col_sender; val_str(&v[n++], r->sender);
	k[n] = &col_recipient; val_str(&v[n++], r->recipient);
	k[n] = &col_recipient_uri; val_str(&v[n++], r->recipient_uri);
	k[n] = &col_orig_system; val_str(&v[n++], r->orig_system);
	k[n] = &col_peer; val_str(&v[n++], r->peer);
	k[n] = &col_record_route; val_str(&v[n++], r->record_route);
	k[n] = &col_datetime; val_str(&v[n++], r->datetime);
	k[n] = &col_dispositions; val_int(&v[n++], r->dispositions);
	k[n] = &col_reports_done; val_int(&v[n++], r->reports_done);
	k[n] = &col_expires; val_int(&v[n++], r->expires);
	k[n] = &col_peer_mid; val_str(&v[n++], r->peer_message_id);
	k[n] = &col_tid; val_str(&v[n++], r->transaction_id);
	k[n] = &col_mm_expiry; val_int(&v[n++], r->mm_expiry);
	write_prepare();
	ret = corr_dbf.insert(corr_db, k, v, n);
	write_end();
	if (ret < 0) {
		LM_ERR("cannot store correlation for %s\n", r->mms_message_id);
		return -1;
	}
	return 0;
}

static void copy_val(char *dst, int size, db_val_t *v)
{
	const char *s = NULL;
	int len = 0;

	dst[0] = '\0';
	if (VAL_NULL(v))
		return;
	if (VAL_TYPE(v) == DB1_STRING) {
		s = VAL_STRING(v);
		len = s ? strlen(s) : 0;
	} else if (VAL_TYPE(v) == DB1_STR || VAL_TYPE(v) == DB1_BLOB) {
		s = VAL_STR(v).s;
		len = VAL_STR(v).len;
	}
	if (!s || len <= 0)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static int int_val(db_val_t *v)
{
	if (VAL_NULL(v))
		return 0;
	if (VAL_TYPE(v) == DB1_BIGINT)
		return (int)v->val.ll_val;
	return VAL_INT(v);
}

/* the columns a lookup reads, in the order row_from() takes them */
static str *corr_cols[CORR_NCOLS + 1] = {
	&col_mms_id, &col_imdn_id, &col_sender, &col_recipient, &col_orig_system,
	&col_peer, &col_record_route, &col_datetime, &col_dispositions,
	&col_reports_done, &col_expires, &col_direction, &col_recipient_uri,
	&col_peer_mid, &col_tid, &col_mm_expiry, &col_id
};
#define CORR_SELECT "mms_message_id, imdn_message_id, sender, recipient," \
	" orig_system, peer, record_route, datetime, dispositions, reports_done," \
	" expires, direction, recipient_uri, peer_message_id, transaction_id," \
	" mm_expiry, id"

static void row_from(db_val_t *rv, corr_row *r)
{
	memset(r, 0, sizeof(*r));
	copy_val(r->mms_message_id, sizeof(r->mms_message_id), &rv[0]);
	copy_val(r->imdn_message_id, sizeof(r->imdn_message_id), &rv[1]);
	copy_val(r->sender, sizeof(r->sender), &rv[2]);
	copy_val(r->recipient, sizeof(r->recipient), &rv[3]);
	copy_val(r->orig_system, sizeof(r->orig_system), &rv[4]);
	copy_val(r->peer, sizeof(r->peer), &rv[5]);
	copy_val(r->record_route, sizeof(r->record_route), &rv[6]);
	copy_val(r->datetime, sizeof(r->datetime), &rv[7]);
	r->dispositions = int_val(&rv[8]);
	r->reports_done = int_val(&rv[9]);
	r->expires = int_val(&rv[10]);
	r->direction = int_val(&rv[11]);
	copy_val(r->recipient_uri, sizeof(r->recipient_uri), &rv[12]);
	copy_val(r->peer_message_id, sizeof(r->peer_message_id), &rv[13]);
	copy_val(r->transaction_id, sizeof(r->transaction_id), &rv[14]);
	r->mm_expiry = int_val(&rv[15]);
}

/* query by one string column (+ direction), newest first; rows are
 * filtered by recipient, and by transaction id, when given. */
static int store_get(str *col, const char *value, int direction,
		const char *recipient, const char *tid, corr_row *out)
{
	db_key_t k[2];
	db_val_t v[2];
	db_op_t ops[2] = { OP_EQ, OP_EQ };
	db1_res_t *res = NULL;
	int i, found = 0;

	if (store_conn() < 0)
		return -1;
	k[0] = col;
	val_str(&v[0], value);
	k[1] = &col_direction;
	val_int(&v[1], direction);
	if (corr_dbf.query(corr_db, k, ops, v, (db_key_t *)corr_cols, 2,
				CORR_NCOLS + 1, &col_id, &res) < 0) {
		LM_ERR("correlation lookup failed\n");
		return -1;
	}
	for (i = RES_ROW_N(res) - 1; i >= 0 && !found; i--) {
		corr_row r;

		row_from(ROW_VALUES(&RES_ROWS(res)[i]), &r);
		if (recipient && recipient[0] && strcmp(r.recipient, recipient) != 0)
			continue;
		if (tid && strcmp(r.transaction_id, tid) != 0)
			continue;
		*out = r;
		found = 1;
	}
	corr_dbf.free_result(corr_db, res);
	return found;
}

int store_get_by_mms(const char *mms_message_id, const char *recipient,
		corr_row *out)
{
	return store_get(&col_mms_id, mms_message_id, CORR_CPM_TO_MMS, recipient,
			NULL, out);
}

int store_get_by_peer_id(const char *peer_message_id, const char *recipient,
		corr_row *out)
{
	return store_get(&col_peer_mid, peer_message_id, CORR_CPM_TO_MMS,
			recipient, NULL, out);
}

int store_get_by_imdn(const char *imdn_message_id, corr_row *out)
{
	return store_get(&col_imdn_id, imdn_message_id, CORR_MMS_TO_CPM, NULL,
			NULL, out);
}

int store_mark_done(const corr_row *r, int bit)
{
	db_key_t k[3], uk[2];
	db_val_t v[3], uv[2];
	db_op_t ops[3] = { OP_EQ, OP_EQ, OP_EQ };
	int ret, nu = 1;

	if (store_conn() < 0)
		return -1;
	k[0] = &col_direction;
	val_int(&v[0], r->direction);
	k[1] = r->direction == CORR_CPM_TO_MMS ? &col_mms_id : &col_imdn_id;
	val_str(&v[1], r->direction == CORR_CPM_TO_MMS ? r->mms_message_id
			: r->imdn_message_id);
	k[2] = &col_recipient;
	val_str(&v[2], r->recipient);
	uk[0] = &col_reports_done;
	val_int(&uv[0], r->reports_done | bit);
	/* a delivery report went out: no Expired one is due any more */
	if (r->direction == CORR_MMS_TO_CPM && (bit & CORR_DONE_DELIVERY)) {
		uk[1] = &col_mm_expiry;
		val_int(&uv[1], 0);
		nu = 2;
	}
	write_prepare();
	ret = corr_dbf.update(corr_db, k, ops, v, uk, uv, 3, nu);
	write_end();
	if (ret < 0) {
		LM_ERR("cannot update correlation for %s\n", r->mms_message_id);
		return -1;
	}
	return 0;
}

int store_set_alias(const char *mms_message_id, const char *tid,
		const char *peer_message_id)
{
	db_key_t k[3], uk[1];
	db_val_t v[3], uv[1];
	db_op_t ops[3] = { OP_EQ, OP_EQ, OP_EQ };
	corr_row r;
	int ret;

	ret = store_get(&col_mms_id, mms_message_id, CORR_CPM_TO_MMS, NULL, tid,
			&r);
	if (ret <= 0)
		return ret;
	k[0] = &col_direction;
	val_int(&v[0], CORR_CPM_TO_MMS);
	k[1] = &col_mms_id;
	val_str(&v[1], mms_message_id);
	k[2] = &col_tid;
	val_str(&v[2], tid);
	uk[0] = &col_peer_mid;
	val_str(&uv[0], peer_message_id);
	write_prepare();
	ret = corr_dbf.update(corr_db, k, ops, v, uk, uv, 3, 1);
	write_end();
	if (ret < 0) {
		LM_ERR("cannot record the peer's id for %s\n", mms_message_id);
		return -1;
	}
	return 1;
}

int store_foreach_expired(time_t now, int max,
		void (*cb)(corr_row *r, void *arg), void *arg)
{
	db_key_t k[3];
	db_val_t v[3];
	db_op_t ops[3] = { OP_EQ, OP_GT, OP_LEQ };
	db1_res_t *res = NULL;
	char q[512];
	str qs;
	int i, n, ret;

	if (store_conn() < 0)
		return -1;
	if (store_is_sqlite()) {
		/* SQLite: a bounded batch, the rest in the next round (a backlog
		 * after a long stop would not fit in pkg memory at once) */
		n = snprintf(q, sizeof(q), "SELECT " CORR_SELECT " FROM %s WHERE"
				" direction = %d AND mm_expiry > 0 AND mm_expiry <= %lld"
				" ORDER BY mm_expiry LIMIT %d", cpm_fixed.db_table,
				CORR_MMS_TO_CPM, (long long)now, max);
		if (n < 0 || n >= (int)sizeof(q))
			return -1;
		qs.s = q;
		qs.len = n;
		ret = corr_dbf.raw_query(corr_db, &qs, &res);
	} else {
		k[0] = &col_direction;
		val_int(&v[0], CORR_MMS_TO_CPM);
		k[1] = &col_mm_expiry;
		val_int(&v[1], 0);
		k[2] = &col_mm_expiry;
		val_int(&v[2], (int)now);
		ret = corr_dbf.query(corr_db, k, ops, v, (db_key_t *)corr_cols, 3,
				CORR_NCOLS + 1, &col_mm_expiry, &res);
	}
	if (ret < 0 || !res) {
		LM_ERR("cannot read the correlation rows due for Expired reports\n");
		if (res)
			corr_dbf.free_result(corr_db, res);
		return -1;
	}
	n = RES_ROW_N(res);
	for (i = 0; i < n && i < max; i++) {
		corr_row r;

		if (ROW_N(&RES_ROWS(res)[i]) < CORR_NCOLS)
			continue;
		row_from(ROW_VALUES(&RES_ROWS(res)[i]), &r);
		cb(&r, arg);
	}
	corr_dbf.free_result(corr_db, res);
	return i;
}

int store_update_expiry(const corr_row *r)
{
	db_key_t k[3], uk[3];
	db_val_t v[3], uv[3];
	db_op_t ops[3] = { OP_EQ, OP_EQ, OP_EQ };
	int ret;

	if (store_conn() < 0)
		return -1;
	k[0] = &col_direction;
	val_int(&v[0], r->direction);
	k[1] = &col_imdn_id;
	val_str(&v[1], r->imdn_message_id);
	k[2] = &col_recipient;
	val_str(&v[2], r->recipient);
	uk[0] = &col_reports_done;
	val_int(&uv[0], r->reports_done);
	uk[1] = &col_mm_expiry;
	val_int(&uv[1], r->mm_expiry);
	uk[2] = &col_expires;
	val_int(&uv[2], r->expires);
	write_prepare();
	ret = corr_dbf.update(corr_db, k, ops, v, uk, uv, 3, 3);
	write_end();
	if (ret < 0) {
		LM_ERR("cannot update correlation for %s\n", r->mms_message_id);
		return -1;
	}
	return 0;
}

int store_purge(time_t now)
{
	db_key_t k[1];
	db_val_t v[1];
	db_op_t ops[1] = { OP_LT };
	int ret;

	if (store_conn() < 0)
		return -1;
	k[0] = &col_expires;
	val_int(&v[0], (int)now);
	write_prepare();
	ret = corr_dbf.delete(corr_db, k, ops, v, 1);
	write_end();
	if (ret < 0) {
		LM_ERR("cannot purge expired correlations\n");
		return -1;
	}
	return 0;
}
