-- Deletes travel as tombstones (`op = 'delete'`), and the hub's word on conflicts that
-- concern this laptop's changes is kept for `pendamping conflicts`.

ALTER TABLE outbox ADD COLUMN op TEXT NOT NULL DEFAULT 'put' CHECK (op IN ('put', 'delete'));

CREATE TABLE conflicts (
    conflict_id INTEGER PRIMARY KEY,        -- the hub's id
    record_id   TEXT NOT NULL,
    resolved    INTEGER NOT NULL DEFAULT 0,
    data        TEXT NOT NULL               -- JSON, as the hub sent it
);
