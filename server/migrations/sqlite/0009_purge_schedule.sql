-- When the last purge started (Unix seconds): each instance ticks on its
-- own schedule, but one purge an interval does the work for all of them.
-- An instance claims the purge with one compare-and-set on this row; the
-- others, finding it claimed within the interval, skip it (N instances
-- scan the tables once an interval, not N times).
CREATE TABLE purge_schedule (
    name TEXT PRIMARY KEY NOT NULL,
    last_started BIGINT NOT NULL
);
INSERT INTO purge_schedule (name, last_started) VALUES ('purge', 0);
