-- When the purge first saw a TOTP row as a tombstone (an empty record left
-- by a deletion, so versions never restart): a tombstone goes a day after
-- that, when no request that read the deleted state can still be in flight.
-- A tombstone filled again by a new enrollment has it cleared.
ALTER TABLE totp ADD COLUMN deleted_at BIGINT;
