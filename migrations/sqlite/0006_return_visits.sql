-- Return visits (CATI-10): records drawn by a rule (so many days after a date in their fields),
-- assigned to interviewers with a deadline; overdue ones are those not done by it.

CREATE TABLE return_visits (
    id           INTEGER PRIMARY KEY,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    record_id    INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    rule         TEXT NOT NULL,
    agent_id     INTEGER REFERENCES users (id),
    drawn_on     TEXT NOT NULL,
    due_by       TEXT NOT NULL,
    done_at      TEXT,
    UNIQUE (record_id, rule)
);
CREATE INDEX return_visits_open ON return_visits (campaign_id, due_by) WHERE done_at IS NULL;
