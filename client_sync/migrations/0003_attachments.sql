-- Photos attached to records (docs/attachments.md). The record holds only the sha256; the
-- file is kept at <home>/attachments/<sha256> and waits here until the hub has it all.

CREATE TABLE attachments (
    sha256      TEXT PRIMARY KEY,
    entity      TEXT NOT NULL,               -- the record it was first attached to
    record_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,               -- rumah, serah_terima, tanda_tangan, lainnya
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    path        TEXT NOT NULL,               -- relative to the laptop's home
    upload_url  TEXT,                        -- the tus upload, once the hub created it
    bytes_sent  INTEGER NOT NULL DEFAULT 0,  -- as the hub last confirmed it
    -- pending: to send; uploaded: the hub holds it whole, sha256 checked;
    -- refused: the hub (or the laptop) will not take it, `error` says why; the file stays
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'uploaded', 'refused')),
    error       TEXT,
    created_at  TEXT NOT NULL,
    uploaded_at TEXT
);

CREATE INDEX attachments_state ON attachments (state, created_at);
CREATE INDEX attachments_record ON attachments (record_id);
