-- Questionnaire versions as published (the file itself, so an interview started on a version
-- is always read back with that version), interviews and their answers, stored as given.

CREATE TABLE questionnaire_versions (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL,
    version       TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    source        BLOB NOT NULL,
    published_at  TEXT NOT NULL,
    UNIQUE (key, version)
);

CREATE TABLE interviews (
    id                     INTEGER PRIMARY KEY,
    questionnaire_version  INTEGER NOT NULL REFERENCES questionnaire_versions (id),
    record_id              INTEGER REFERENCES records (id) ON DELETE CASCADE,
    interviewer_id         INTEGER REFERENCES users (id),
    sample                 TEXT NOT NULL,
    language               TEXT NOT NULL,
    seed                   INTEGER NOT NULL,
    state                  TEXT NOT NULL,
    state_detail           TEXT,
    path                   TEXT NOT NULL,
    orders                 TEXT NOT NULL,
    interview_date         TEXT NOT NULL,
    started_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX interviews_record ON interviews (record_id) WHERE record_id IS NOT NULL;
CREATE INDEX interviews_interviewer ON interviews (interviewer_id, started_at) WHERE interviewer_id IS NOT NULL;

CREATE TABLE interview_answers (
    interview_id  INTEGER NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    question      TEXT NOT NULL,
    value         TEXT NOT NULL,
    set_aside     BOOLEAN NOT NULL DEFAULT FALSE,
    given_at      TEXT NOT NULL,
    PRIMARY KEY (interview_id, question)
);
