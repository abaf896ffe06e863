-- The dialer reads each class of its queue (fresh records, due retries, due callbacks) along
-- an index of that class alone. Partial indexes hold only the records of their status, so a
-- record that is reserved, dialed or finished leaves them instead of moving inside two
-- indexes over every record: each dial then changes two index entries instead of eight, and
-- the runtime's commits write that many fewer pages.
DROP INDEX records_fresh;
DROP INDEX records_due;
CREATE INDEX records_fresh ON records (campaign_id, time_zone, priority DESC, id) WHERE status = 'new';
CREATE INDEX records_retry ON records (campaign_id, time_zone, priority DESC, next_call_at) WHERE status = 'ready';
CREATE INDEX records_callback ON records (campaign_id, time_zone, next_call_at) WHERE status = 'callback';
