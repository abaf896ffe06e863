-- Retries and fresh records are read zone by zone (only zones inside calling hours are
-- dialed), each zone in priority order, then due time (retries) or import order (fresh):
-- with the zone in the index, a fill stops after the records it needs instead of stepping
-- over every record of the zones that are closed, or sorting every retry that is due.
DROP INDEX records_fresh;
DROP INDEX records_due;
CREATE INDEX records_fresh ON records (campaign_id, status, time_zone, priority DESC, id);
CREATE INDEX records_due ON records (campaign_id, status, time_zone, priority DESC, next_call_at);

-- The dialer process an agent is logged in to: a process that restarts logs out its own
-- agents, not those of the other processes sharing the store.
ALTER TABLE agent_states ADD COLUMN node TEXT;
