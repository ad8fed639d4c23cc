-- The audit chain (docs/audit.md): one entry per write on the hub, appended in the write's
-- own transaction. Each entry holds the SHA-256 of the one before, so `pendamping-hub audit
-- verify` finds a changed, removed or reordered entry. server/audit.py computes the hashes.

CREATE TABLE audit (
    position  INTEGER PRIMARY KEY,          -- 1, 2, 3, ... without gaps
    at        TEXT NOT NULL,                -- the hub's clock, UTC
    actor     TEXT NOT NULL,                -- a user name, 'hub', or 'cli:<os user>'
    device_id TEXT,                         -- the device it came through, if any
    action    TEXT NOT NULL,                -- push, bundle_import, resolve_conflict, ...
    detail    TEXT NOT NULL,                -- canonical JSON: counts, ids, digests; no values
    prev_hash TEXT NOT NULL,                -- the previous entry's hash; 64 zeros for the first
    hash      TEXT NOT NULL                 -- SHA-256 of all the above
);

-- Append-only for the hub's own code. Whoever can write the file can drop these; the
-- chain is what shows that they did.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be changed');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be removed');
END;
