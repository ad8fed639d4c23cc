-- Scope exits (docs/protocol.md, "Pull"): a write that moves a record's kelurahan leaves a
-- row here, in the write's own transaction. A laptop whose wilayah covered the old kelurahan
-- but not the new one no longer pulls the record; the pull tells it, by this row, to drop
-- its copy. `seq` is the seq of the write that moved the record.

CREATE TABLE scope_exits (
    seq           INTEGER NOT NULL,
    record_id     TEXT NOT NULL,
    entity        TEXT NOT NULL,
    old_kelurahan TEXT NOT NULL,
    new_kelurahan TEXT NOT NULL
);

CREATE INDEX scope_exits_seq ON scope_exits (seq);
