-- Each laptop's last push or bundle import, for the office's Pendamping & perangkat page
-- (server/storage/sqlite_people.py): one index seek per laptop instead of a scan of the
-- whole audit chain. Partial, so other entries (logins, resolutions) cost it nothing; a
-- push adds one entry per batch, so the push path pays one small index insert per batch.
CREATE INDEX audit_device_pushes ON audit (device_id, position)
    WHERE action IN ('push', 'bundle_import');
