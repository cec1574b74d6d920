-- Ding's feedback: whether the user behind a phone number finished
-- onboarding. One row per customer, number and status: the same feedback
-- again is refused (Ding's `duplicated_feedback_status`).
CREATE TABLE feedback (
    uuid TEXT PRIMARY KEY NOT NULL,
    customer_uuid TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX feedback_once ON feedback (customer_uuid, phone_number, status);
