-- Changes written into a USB bundle by `pendamping export-bundle`. They stay `pending` in the
-- outbox: only a receipt from the hub marks a change delivered. A row here only means "ask
-- the hub for this change's receipt (POST /api/v1/sync/receipts) before pushing it again",
-- so a bundle carried to the office spares the 2G link; rows of changes no longer pending
-- are dropped after each such check. `bundle` is the file the change first went into.

CREATE TABLE bundle_exports (
    change_id   TEXT PRIMARY KEY,
    bundle      TEXT NOT NULL,
    exported_at TEXT NOT NULL
);
