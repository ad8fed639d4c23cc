-- The monthly verification (docs/office.md, "Monthly verification"): what a visit found of
-- a beneficiary's eligibility, and the frozen list of a closed month.

-- A visit's `verification_outcome` (layak, tidak_layak, meninggal, pindah), kept by the
-- writer beside migration 0007's columns (server/storage/read_columns.py), filled here once.
ALTER TABLE records ADD COLUMN verification_outcome TEXT;

UPDATE records SET verification_outcome = CASE
    WHEN json_type(data, '$.verification_outcome') = 'text'
    THEN json_extract(data, '$.verification_outcome') END
WHERE entity = 'visit';

-- The visits that can decide a month's state (a verification visit, or any visit that
-- recorded an outcome), by when they happened: a month is one range of this index, and
-- every column the state needs is in it. Partial, so a monitoring visit without an outcome
-- (most of the push path's visits) writes nothing here.
CREATE INDEX office_verifications ON records
    (visited_utc, beneficiary_id, verification_outcome, purpose, author, id, entity, deleted)
    WHERE entity = 'visit' AND deleted = 0
      AND (verification_outcome IS NOT NULL OR purpose = 'verifikasi');

-- A closed month: one programme, one month of the office's calendar, the wilayah closed
-- (prefixes separated by spaces; '' is every wilayah, an admin's close), who and when, and
-- the count of each state at that moment. Closes of one programme and month never overlap
-- (the storage refuses it in the closing transaction).
CREATE TABLE verification_closes (
    close_id  INTEGER PRIMARY KEY,
    program   TEXT NOT NULL,
    month     TEXT NOT NULL,
    wilayah   TEXT NOT NULL,
    closed_by TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    counts    TEXT NOT NULL
);

CREATE INDEX verification_closes_month ON verification_closes (program, month);

-- The frozen list: each beneficiary enrolled in the programme inside the closed wilayah,
-- as it stood when the month was closed. Later changes are amendments computed beside it
-- (live state against these rows), never written into it.
CREATE TABLE verification_rows (
    -- deferred: the rows go in first, then the close with their counts (never updated)
    close_id       INTEGER NOT NULL
        REFERENCES verification_closes (close_id) DEFERRABLE INITIALLY DEFERRED,
    kelurahan      TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    beneficiary_id TEXT NOT NULL,
    name           TEXT NOT NULL,
    nik            TEXT,
    state          TEXT NOT NULL,
    visit_id       TEXT,
    visited_utc    TEXT,
    pendamping     TEXT,
    PRIMARY KEY (close_id, kelurahan, name_key, beneficiary_id)
) WITHOUT ROWID;

-- Frozen means frozen: no statement may change or remove a close or its rows.
CREATE TRIGGER verification_closes_frozen_update BEFORE UPDATE ON verification_closes
BEGIN SELECT RAISE(ABORT, 'a closed month is frozen'); END;
CREATE TRIGGER verification_closes_frozen_delete BEFORE DELETE ON verification_closes
BEGIN SELECT RAISE(ABORT, 'a closed month is frozen'); END;
CREATE TRIGGER verification_rows_frozen_update BEFORE UPDATE ON verification_rows
BEGIN SELECT RAISE(ABORT, 'a closed month is frozen'); END;
CREATE TRIGGER verification_rows_frozen_delete BEFORE DELETE ON verification_rows
BEGIN SELECT RAISE(ABORT, 'a closed month is frozen'); END;
