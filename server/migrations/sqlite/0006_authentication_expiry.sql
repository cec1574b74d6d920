-- When an authentication's code expires (Unix seconds; it never changes),
-- so the purge can delete authentications expired long enough ago without
-- reading their state. Rows from before this migration have none and are
-- kept.
ALTER TABLE authentications ADD COLUMN expires_at BIGINT;
CREATE INDEX authentications_by_expiry ON authentications (expires_at);
