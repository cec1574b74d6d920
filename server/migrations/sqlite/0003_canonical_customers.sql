-- Customer UUIDs are compared in their canonical form (lower-case,
-- hyphenated) since 0.2: rows stored before, as the caller spelled them,
-- are brought to it (authentications live minutes, but none is lost).
UPDATE authentications SET customer_uuid = lower(customer_uuid);
UPDATE feedback SET customer_uuid = lower(customer_uuid);
