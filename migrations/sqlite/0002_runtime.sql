-- The dialer runtime: records reserved for dialing by a runtime (which one, when, and the
-- status to go back to if it gives them back undialed), the queue indexes its selection
-- reads, and what the switch reported beyond the foundation's attempt columns.

ALTER TABLE records ADD COLUMN reserved_by TEXT;
ALTER TABLE records ADD COLUMN reserved_at TEXT;
ALTER TABLE records ADD COLUMN reserved_from TEXT;

-- Due callbacks and retries are read by time; fresh records by priority, then import order.
DROP INDEX records_queue;
CREATE INDEX records_due ON records (campaign_id, status, next_call_at);
CREATE INDEX records_fresh ON records (campaign_id, status, priority DESC, id);
CREATE INDEX records_reserved ON records (reserved_by) WHERE reserved_by IS NOT NULL;

ALTER TABLE attempts ADD COLUMN ended_by TEXT;
ALTER TABLE attempts ADD COLUMN keypad TEXT;
-- Attempts not yet ended, which a restarted runtime closes.
CREATE INDEX attempts_open ON attempts (campaign_id) WHERE ended_at IS NULL;
