-- Foundation schema: users and teams, agent state, campaigns, sample records, do-not-call
-- lists, attempts and dispositions. Timestamps are UTC instants (TEXT in SQLite,
-- TIMESTAMPTZ in PostgreSQL); JSON documents are TEXT here and JSONB there.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    login               TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin', 'analyst')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE user_skills (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill   TEXT NOT NULL,
    level   INTEGER NOT NULL CHECK (level BETWEEN 1 AND 100),
    PRIMARY KEY (user_id, skill)
);

-- The agent pool's current state per agent, and every transition it ever made.
CREATE TABLE agent_states (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state         TEXT NOT NULL,
    reason        TEXT,
    call_id       TEXT,
    after_call    TEXT,
    since         TEXT NOT NULL,
    seq           INTEGER NOT NULL
);

CREATE TABLE agent_state_changes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         TEXT NOT NULL,
    command    TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    reason     TEXT,
    call_id    TEXT,
    UNIQUE (user_id, seq)
);
CREATE INDEX agent_state_changes_at ON agent_state_changes (at);

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('survey', 'collections', 'reminder', 'generic')),
    status      TEXT NOT NULL CHECK (status IN ('draft', 'published', 'running', 'paused', 'closed')),
    settings    TEXT NOT NULL,
    copied_from INTEGER REFERENCES campaigns (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE campaign_status_changes (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    at          TEXT NOT NULL,
    user_id     INTEGER REFERENCES users (id)
);

CREATE TABLE campaign_agents (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, user_id)
);

CREATE TABLE campaign_teams (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    team_id     INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, team_id)
);

CREATE TABLE dispositions (
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    code            TEXT NOT NULL,
    label           TEXT NOT NULL,
    aapor           TEXT NOT NULL,
    next_step       TEXT NOT NULL CHECK (next_step IN ('retry', 'callback', 'final', 'complete', 'do_not_call')),
    retry_after_s   INTEGER,
    try_next_number BOOLEAN NOT NULL,
    contact         BOOLEAN NOT NULL,
    eligible        BOOLEAN,
    position        INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, code)
);

CREATE TABLE imports (
    id                INTEGER PRIMARY KEY,
    campaign_id       INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    file_name         TEXT NOT NULL,
    file_hash         TEXT NOT NULL,
    rows_read         INTEGER NOT NULL,
    inserted          INTEGER NOT NULL,
    duplicates        INTEGER NOT NULL,
    do_not_call       INTEGER NOT NULL,
    invalid           INTEGER NOT NULL,
    numbers_dropped   INTEGER NOT NULL,
    user_id           INTEGER REFERENCES users (id),
    started_at        TEXT NOT NULL,
    finished_at       TEXT NOT NULL
);

CREATE TABLE records (
    id                INTEGER PRIMARY KEY,
    campaign_id       INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    dedupe_key        TEXT NOT NULL,
    import_id         INTEGER REFERENCES imports (id),
    source_row        INTEGER,
    status            TEXT NOT NULL,
    priority          INTEGER NOT NULL DEFAULT 0,
    time_zone         TEXT,
    time_zone_source  TEXT,
    fields            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_call_at      TEXT,
    last_attempt_at   TEXT,
    last_outcome      TEXT,
    last_disposition  TEXT,
    aapor             TEXT,
    phone_position    INTEGER NOT NULL DEFAULT 0,
    ever_eligible     BOOLEAN NOT NULL DEFAULT FALSE,
    assigned_agent_id INTEGER REFERENCES users (id),
    assigned_team_id  INTEGER REFERENCES teams (id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (campaign_id, dedupe_key)
);
CREATE INDEX records_queue ON records (campaign_id, status, next_call_at, priority);
CREATE INDEX records_agent ON records (assigned_agent_id) WHERE assigned_agent_id IS NOT NULL;
CREATE INDEX records_team ON records (assigned_team_id) WHERE assigned_team_id IS NOT NULL;

CREATE TABLE record_phones (
    record_id   INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    field       TEXT NOT NULL,
    e164        TEXT NOT NULL,
    number_type TEXT NOT NULL,
    region      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (record_id, position)
) WITHOUT ROWID;
-- No index on e164 yet: nothing looks records up by number, and on a 1M-row import that
-- random-order index cost more than the rest of record_phones together (see BENCHMARKS.md).
-- Inbound caller look-up adds it when it needs it.

-- Edits to a record by an agent or supervisor: one row per changed field.
CREATE TABLE record_edits (
    id        INTEGER PRIMARY KEY,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id),
    at        TEXT NOT NULL,
    field     TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX record_edits_record ON record_edits (record_id);

-- Do-not-call entries: campaign_id NULL is the global list.
CREATE TABLE dnc_entries (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER REFERENCES campaigns (id) ON DELETE CASCADE,
    e164        TEXT NOT NULL,
    source      TEXT NOT NULL,
    note        TEXT,
    added_at    TEXT NOT NULL,
    user_id     INTEGER REFERENCES users (id)
);
CREATE UNIQUE INDEX dnc_global ON dnc_entries (e164) WHERE campaign_id IS NULL;
CREATE UNIQUE INDEX dnc_campaign ON dnc_entries (campaign_id, e164) WHERE campaign_id IS NOT NULL;

-- One row per dial of one number of one record.
CREATE TABLE attempts (
    id             INTEGER PRIMARY KEY,
    campaign_id    INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    record_id      INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    phone_position INTEGER NOT NULL,
    e164           TEXT NOT NULL,
    call_id        TEXT,
    dial_mode      TEXT NOT NULL,
    agent_id       INTEGER REFERENCES users (id),
    queued_at      TEXT NOT NULL,
    dialed_at      TEXT,
    answered_at    TEXT,
    bridged_at     TEXT,
    ended_at       TEXT,
    outcome        TEXT,
    amd_verdict    TEXT,
    abandoned      BOOLEAN NOT NULL DEFAULT FALSE,
    disposition    TEXT,
    disposed_by    INTEGER REFERENCES users (id),
    disposed_at    TEXT,
    note           TEXT
);
CREATE INDEX attempts_record ON attempts (record_id);
CREATE INDEX attempts_campaign_time ON attempts (campaign_id, queued_at);
