-- The sealing keys rows may be sealed with: each instance notes its
-- sealing key here before it serves, so a start can check, with one small
-- query, that its keyring holds every key the data needs. Filled once from
-- the rows already stored (their sealed texts name their key:
-- `$otpkit-…$v=1,k=<key id>$…`); `rekey` forgets the old ids once no row
-- is on them.
CREATE TABLE sealing_keys (
    key_id TEXT PRIMARY KEY NOT NULL
);
INSERT INTO sealing_keys (key_id)
SELECT DISTINCT substring(sealed FROM '[$]v=1,k=([^$"]+)[$]') FROM (
    SELECT record AS sealed FROM totp
    UNION ALL SELECT sealed FROM messages
    UNION ALL SELECT challenge FROM authentications
) AS rows
WHERE substring(sealed FROM '[$]v=1,k=([^$"]+)[$]') IS NOT NULL
ON CONFLICT DO NOTHING;
