-- Messages waiting to be sent (a one-time code by SMS): sealed with the
-- server's keys (bound to the message id), so no readable code is at
-- rest; deleted once the sender took them. `due_at` (Unix ms) is when the
-- next attempt may start: an instance claims a message by moving it
-- forward (a compare-and-set on the value it read: a lease), so a crash
-- mid-send leaves it to be taken again once the lease is over.
CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    due_at BIGINT NOT NULL
);
CREATE INDEX messages_by_due ON messages (due_at);
