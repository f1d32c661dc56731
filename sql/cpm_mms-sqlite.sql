-- cpm_mms report correlation (CPM_MMS_MAPPING.md section 9), SQLite.
-- Other Kamailio DB drivers: the same columns and indexes.
-- A table made before recipient_uri existed:
--   ALTER TABLE cpm_mms_corr ADD COLUMN recipient_uri VARCHAR(255) NOT NULL DEFAULT '';
-- A table made before peer_message_id, transaction_id and mm_expiry existed
-- (its rows get no Expired report; the new ones do):
--   ALTER TABLE cpm_mms_corr ADD COLUMN peer_message_id VARCHAR(160) NOT NULL DEFAULT '';
--   ALTER TABLE cpm_mms_corr ADD COLUMN transaction_id VARCHAR(64) NOT NULL DEFAULT '';
--   ALTER TABLE cpm_mms_corr ADD COLUMN mm_expiry INTEGER NOT NULL DEFAULT 0;
--   then the two CREATE INDEX below for them.
-- WAL: the journal mode is kept in the file; a commit appends to the log
-- instead of creating and deleting a rollback journal, and readers (the
-- report lookups) do not block the writers (every Kamailio process).
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS cpm_mms_corr (
	id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
	direction INTEGER NOT NULL,
	mms_message_id VARCHAR(160) NOT NULL,
	imdn_message_id VARCHAR(128) NOT NULL,
	sender VARCHAR(255) NOT NULL DEFAULT '',
	recipient VARCHAR(255) NOT NULL DEFAULT '',
	recipient_uri VARCHAR(255) NOT NULL DEFAULT '',
	orig_system VARCHAR(160) NOT NULL DEFAULT '',
	peer VARCHAR(64) NOT NULL DEFAULT '',
	record_route VARCHAR(255) NOT NULL DEFAULT '',
	datetime VARCHAR(64) NOT NULL DEFAULT '',
	dispositions INTEGER NOT NULL DEFAULT 0,
	reports_done INTEGER NOT NULL DEFAULT 0,
	expires INTEGER NOT NULL,
	peer_message_id VARCHAR(160) NOT NULL DEFAULT '',
	transaction_id VARCHAR(64) NOT NULL DEFAULT '',
	mm_expiry INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cpm_mms_corr_mms_idx ON cpm_mms_corr (mms_message_id);
CREATE INDEX IF NOT EXISTS cpm_mms_corr_imdn_idx ON cpm_mms_corr (imdn_message_id);
CREATE INDEX IF NOT EXISTS cpm_mms_corr_expires_idx ON cpm_mms_corr (expires);
CREATE INDEX IF NOT EXISTS cpm_mms_corr_peer_mid_idx ON cpm_mms_corr (peer_message_id);
CREATE INDEX IF NOT EXISTS cpm_mms_corr_mm_expiry_idx ON cpm_mms_corr (mm_expiry);
