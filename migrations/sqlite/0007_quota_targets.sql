-- Quota targets changed in the field (CATI-07): a campaign's own target for a cell of its
-- questionnaire's quotas, over the one the questionnaire sets. Kept by quota and cell key,
-- so a new version of the questionnaire with the same cells keeps them.

CREATE TABLE quota_targets (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    quota        TEXT NOT NULL,
    cell         TEXT NOT NULL,
    target       INTEGER NOT NULL CHECK (target >= 0),
    set_by       INTEGER REFERENCES users (id),
    set_at       TEXT NOT NULL,
    PRIMARY KEY (campaign_id, quota, cell)
);
