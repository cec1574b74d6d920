-- Quotas every instance shares (SMS sends per phone number and customer,
-- checks per phone number): one row per scope, subject and fixed window
-- (its start, Unix seconds), counted up only while under the limit by one
-- atomic upsert.
CREATE TABLE quota (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
);
