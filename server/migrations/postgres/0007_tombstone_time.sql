-- When the purge first saw a TOTP row as a tombstone (an empty record left
-- by a deletion, so versions never restart): a tombstone goes a day after
-- that. A tombstone filled again by a new enrollment has it cleared.
ALTER TABLE totp ADD COLUMN deleted_at BIGINT;
-- The highest version a purged tombstone had, per table: a new row starts
-- above it, so no (key, version) pair is ever used twice, even after its
-- tombstone is gone.
CREATE TABLE version_floor (name TEXT PRIMARY KEY, floor BIGINT NOT NULL);
INSERT INTO version_floor (name, floor) VALUES ('totp', 0);
