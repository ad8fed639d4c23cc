-- The laptop's first schema: the state last pulled from the hub, and the outbox of changes
-- the hub has not yet confirmed. What the pendamping sees is the first with the second on top.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE pulled (
    id      TEXT PRIMARY KEY,
    entity  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    data    TEXT NOT NULL                  -- JSON object, as the hub sent it
);

CREATE INDEX pulled_entity ON pulled (entity);

CREATE TABLE outbox (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id  TEXT NOT NULL UNIQUE,
    entity     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    base_seq   INTEGER,
    fields     TEXT NOT NULL,               -- JSON object: only the fields this edit set
    hlc        TEXT NOT NULL,
    author_id  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- pending: not yet confirmed; acked: confirmed, shown until a pull brings it back;
    -- rejected: the hub refused it (kept with the receipt, never silently dropped);
    -- superseded: a refused record the pendamping corrected and queued again whole
    state      TEXT NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'acked', 'rejected', 'superseded')),
    acked_seq  INTEGER,
    receipt    TEXT
);

CREATE INDEX outbox_record ON outbox (record_id);
CREATE INDEX outbox_state ON outbox (state, position);
