-- The hub's first schema: people and laptops, records with per-field clocks, the change log
-- that makes pushes idempotent, and the conflict queue.

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('pendamping', 'supervisor', 'admin')),
    wilayah       TEXT NOT NULL,            -- JSON list of wilayah codes
    password_hash TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE enroll_codes (
    code_hash  TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users (name),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE TABLE devices (
    device_id    TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL REFERENCES users (name),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    enrolled_at  TEXT NOT NULL,
    last_seen_at TEXT,
    last_sync_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE records (
    id         TEXT PRIMARY KEY,
    entity     TEXT NOT NULL,
    kelurahan  TEXT NOT NULL,
    seq        INTEGER NOT NULL UNIQUE,
    deleted    INTEGER NOT NULL DEFAULT 0,
    data       TEXT NOT NULL,               -- JSON object of the record's fields
    clocks     TEXT NOT NULL,               -- packed: field -> HLC and seq of its current value
    hlc        TEXT NOT NULL,               -- the greatest of those clocks; laptops observe it
    nik        TEXT,                        -- a live beneficiary's NIK, for duplicate persons
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX records_entity_kelurahan ON records (entity, kelurahan);
CREATE INDEX records_nik ON records (nik) WHERE nik IS NOT NULL;
CREATE INDEX records_beneficiary ON records (json_extract(data, '$.beneficiary_id'))
    WHERE entity != 'beneficiary';

CREATE TABLE changes (
    change_id   TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    author_id   TEXT NOT NULL,
    entity      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    hlc         TEXT NOT NULL,
    fields      TEXT NOT NULL,              -- JSON, as the laptop sent it (after validation)
    received_at TEXT NOT NULL,
    receipt     TEXT NOT NULL               -- JSON, returned unchanged on every resend
);

CREATE INDEX changes_record ON changes (record_id);

-- The review queue: every value that lost to a concurrent edit, both sides of it, and how
-- a supervisor settled it.
CREATE TABLE conflicts (
    conflict_id     INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,          -- field | status | delete | duplicate_person
    record_id       TEXT NOT NULL,
    entity          TEXT NOT NULL,
    kelurahan       TEXT NOT NULL,          -- the record's, to scope the queue
    field           TEXT NOT NULL,
    kept_value      TEXT,                   -- JSON of the value that stayed
    kept_hlc        TEXT,
    kept_device     TEXT,
    kept_author     TEXT,
    lost_value      TEXT,                   -- JSON of the value that lost
    lost_hlc        TEXT,
    lost_device     TEXT,
    lost_author     TEXT,
    lost_change     TEXT,
    other_record_id TEXT,                   -- duplicate_person: the record already there
    seq             INTEGER NOT NULL,       -- hub seq of the write that raised it
    created_at      TEXT NOT NULL,
    resolved_at     TEXT,
    resolved_by     TEXT,
    resolved_seq    INTEGER,
    resolution      TEXT                    -- JSON: the choice and what it wrote
);

CREATE INDEX conflicts_open ON conflicts (resolved_at, record_id);
CREATE INDEX conflicts_seq ON conflicts (seq);
CREATE INDEX conflicts_resolved_seq ON conflicts (resolved_seq);

CREATE TABLE hub_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
