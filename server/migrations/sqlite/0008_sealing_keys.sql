-- The sealing keys rows may be sealed with: each instance notes its
-- sealing key here before it serves, so a start can check, with one small
-- query, that its keyring holds every key the data needs. Filled once from
-- the rows already stored (their sealed texts name their key:
-- `$otpkit-…$v=1,k=<key id>$…`); `rekey` forgets the old ids once no row
-- is on them.
CREATE TABLE sealing_keys (
    key_id TEXT PRIMARY KEY NOT NULL
);
INSERT OR IGNORE INTO sealing_keys (key_id)
SELECT DISTINCT substr(rest, 1, instr(rest, '$') - 1) FROM (
    SELECT substr(sealed, instr(sealed, '$v=1,k=') + 7) AS rest FROM (
        SELECT record AS sealed FROM totp
        UNION ALL SELECT sealed FROM messages
        UNION ALL SELECT challenge FROM authentications
    ) WHERE instr(sealed, '$v=1,k=') > 0
) WHERE instr(rest, '$') > 1;
