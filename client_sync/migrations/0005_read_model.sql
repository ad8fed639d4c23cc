-- The field app's read model (docs/field-app.md, "The store's reads for the app"): each
-- record as the laptop shows it (its pulled copy with the outbox on top) in plain indexed
-- columns, kept in the same transaction as every write to `pulled` or `outbox`, so a page
-- asks an index instead of decoding every record. The rows are derived data: the store
-- rebuilds them whole when `meta.read_model` is not the version it expects
-- (client_sync/store/read_model.py), which is also how an existing store is filled.

CREATE TABLE local_records (
    id             TEXT PRIMARY KEY,
    entity         TEXT NOT NULL,
    pulled_seq     INTEGER,             -- the seq of the pulled copy under it; NULL: none
    live           INTEGER NOT NULL,    -- 0: deleted (a tombstone pulled or waiting)
    kelurahan      TEXT,
    created_at     TEXT,
    updated_at     TEXT,
    sync           TEXT NOT NULL,       -- synced, pending or rejected, as the overlay says
    name           TEXT,                -- beneficiary
    name_key       TEXT,                -- beneficiary: schemas/name_keys.py name_key
    nik            TEXT,                -- beneficiary
    beneficiary_id TEXT,                -- visit, device_request
    visited_utc    TEXT,                -- visit: schemas/coverage.py utc_instant
    review_state   TEXT,                -- visit: menunggu, diterima, dikembalikan
    review_reason  TEXT,                -- visit: the office's reason for a return
    status         TEXT,                -- device_request
    -- when this laptop received the hub's receipt of its last change of the record (its
    -- own clock); kept across refreshes, NULL for a record only ever pulled
    confirmed_at   TEXT
) WITHOUT ROWID;

CREATE INDEX local_names ON local_records (name_key) WHERE entity = 'beneficiary' AND live = 1;
CREATE INDEX local_niks ON local_records (nik) WHERE entity = 'beneficiary' AND live = 1;
CREATE INDEX local_owned ON local_records (beneficiary_id, entity, live, visited_utc)
    WHERE beneficiary_id IS NOT NULL;
CREATE INDEX local_reviews ON local_records (review_state, visited_utc)
    WHERE entity = 'visit' AND live = 1;

-- Every folded word of a live beneficiary's name, for a search by the start of any word.
CREATE TABLE local_words (
    word      TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (word, record_id)
) WITHOUT ROWID;

-- Every programme of a live beneficiary, in name order, for who is due a visit.
CREATE TABLE local_programs (
    program   TEXT NOT NULL,
    name_key  TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (program, name_key, record_id)
) WITHOUT ROWID;

CREATE INDEX conflicts_record ON conflicts (record_id, resolved);
