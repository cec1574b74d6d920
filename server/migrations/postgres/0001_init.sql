-- One row per user: the TOTP record as JSON, its secret sealed; `version`
-- is the compare-and-set counter every write checks and bumps.
CREATE TABLE totp (
    user_id TEXT PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL,
    record TEXT NOT NULL
);

-- Ding authentications: the challenge as JSON (a keyed hash of the code,
-- attempts, retries, times), versioned like `totp`.
CREATE TABLE authentications (
    uuid TEXT PRIMARY KEY NOT NULL,
    customer_uuid TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    version BIGINT NOT NULL,
    challenge TEXT NOT NULL
);

-- What the built-in sender "sent".
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    phone_number TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX outbox_by_phone ON outbox (phone_number, id);

-- --dev only: the keys generated at first start when none is configured.
CREATE TABLE dev_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
