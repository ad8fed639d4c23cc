-- The field app's read model (docs/field-app.md, "The store's reads for the app"): each
-- record as the laptop shows it in plain indexed columns, kept in the same transaction as
-- every write to `pulled` or `outbox`, so a page asks an index instead of decoding every
-- record. A pulled copy carries its own columns (written by the same upsert that writes
-- it: no second row, no second id index on the first sync's path); a record with changes
-- still shown from the outbox has its overlaid columns in `local_overlay`, which wins. The
-- columns are derived data: the store recomputes them all when `meta.read_model` is not
-- the version it expects (client_sync/store/read_model.py), which is also how a store made
-- before this migration is filled.

ALTER TABLE pulled ADD COLUMN kelurahan TEXT;
ALTER TABLE pulled ADD COLUMN name TEXT;            -- beneficiary
ALTER TABLE pulled ADD COLUMN nik TEXT;             -- beneficiary
ALTER TABLE pulled ADD COLUMN beneficiary_id TEXT;  -- visit, device_request
ALTER TABLE pulled ADD COLUMN visited_utc TEXT;     -- visit: schemas/coverage.py utc_instant
ALTER TABLE pulled ADD COLUMN review_state TEXT;    -- visit: menunggu, diterima, dikembalikan
ALTER TABLE pulled ADD COLUMN review_reason TEXT;   -- visit: the office's reason

CREATE INDEX pulled_niks ON pulled (nik) WHERE nik IS NOT NULL;
CREATE INDEX pulled_owned ON pulled (beneficiary_id, entity, deleted, visited_utc)
    WHERE beneficiary_id IS NOT NULL;
CREATE INDEX pulled_returned ON pulled (visited_utc) WHERE review_state = 'dikembalikan';

-- The records with changes still shown from the outbox (pending, acked, refused), as the
-- pendamping sees them: the pulled copy with the outbox on top. Small: the unsent work.
CREATE TABLE local_overlay (
    id             TEXT PRIMARY KEY,
    entity         TEXT NOT NULL,
    live           INTEGER NOT NULL,    -- 0: deleted on the laptop, the delete not yet pulled
    kelurahan      TEXT,
    name           TEXT,
    nik            TEXT,
    beneficiary_id TEXT,
    visited_utc    TEXT,
    review_state   TEXT,
    review_reason  TEXT,
    sync           TEXT NOT NULL,       -- pending or rejected, as records.overlay says
    -- the rowid of the pulled copy this row hides (NULL: none): every index of `pulled`
    -- holds the rowid, so "not hidden" is checked without reading the pulled row
    pulled_rowid   INTEGER
);

CREATE INDEX local_overlay_owned ON local_overlay (beneficiary_id, entity, live, visited_utc);
CREATE INDEX local_overlay_niks ON local_overlay (nik);

-- Every record as shown: the pulled copies not overlaid, and the overlaid ones.
CREATE VIEW local_records AS
    SELECT id, entity, deleted = 0 AS live, kelurahan, name, nik, beneficiary_id, visited_utc,
           review_state, review_reason, 'synced' AS sync
      FROM pulled
     WHERE rowid NOT IN (SELECT pulled_rowid FROM local_overlay WHERE pulled_rowid IS NOT NULL)
    UNION ALL
    SELECT id, entity, live, kelurahan, name, nik, beneficiary_id, visited_utc,
           review_state, review_reason, sync
      FROM local_overlay;

-- When this laptop received the hub's receipt of its last change of a record (its own
-- clock): "terkirim" with a time. The protocol's receipts carry no time of the hub's own.
CREATE TABLE local_receipts (
    record_id    TEXT PRIMARY KEY,
    confirmed_at TEXT NOT NULL
);

-- Every folded word of a live beneficiary's name, for a search by the start of any word:
-- a typed prefix is one range of this table, sorted by name without reading the records.
CREATE TABLE local_words (
    word      TEXT NOT NULL,
    record_id TEXT NOT NULL,
    name_key  TEXT NOT NULL,
    kelurahan TEXT,
    PRIMARY KEY (word, record_id)
) WITHOUT ROWID;

CREATE INDEX local_words_record ON local_words (record_id);

-- Every programme of a live beneficiary, in name order: who is due is a walk of one
-- programme's range, each name checked for a visit in the window.
CREATE TABLE local_programs (
    program    TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    kelurahan  TEXT,
    PRIMARY KEY (program, name_key, record_id)
) WITHOUT ROWID;

CREATE INDEX local_programs_record ON local_programs (record_id);

CREATE INDEX conflicts_record ON conflicts (record_id, resolved);
