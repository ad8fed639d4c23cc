-- A form half filled, kept as it is typed (docs/field-app.md): it survives a closed
-- browser, a killed app and a dead laptop, and never enters the outbox until it is saved
-- as a record, which removes it in the same transaction.

CREATE TABLE drafts (
    draft_id   TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,          -- the record it makes: beneficiary, visit, device_request
    record_id  TEXT,                   -- the record it edits; NULL: a new record
    fields     TEXT NOT NULL,          -- JSON object: the form's values as typed
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX drafts_updated ON drafts (updated_at);
