-- The hub's scheduled jobs (docs/jobs.md). One row per occurrence of a job: the process
-- that claims it first (the primary key) runs it, so an occurrence runs once however many
-- hub processes fire it; its outcome stays for `pendamping-hub jobs`.
CREATE TABLE job_runs (
    job_id        TEXT NOT NULL,            -- silent_laptops, backup, monthly_export
    scheduled_for TEXT NOT NULL,            -- the occurrence, UTC (the hub's clock format)
    owner         TEXT NOT NULL,            -- host:pid:token of the process that ran it
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    outcome       TEXT NOT NULL DEFAULT 'running',  -- running, ok, failed, interrupted
    message       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, scheduled_for)
) WITHOUT ROWID;

-- Laptops the daily job found silent (not heard from in WEB_SILENT_DAYS, or never synced),
-- for the office's Ringkasan page; a laptop keeps its first flag until it syncs again.
CREATE TABLE silent_devices (
    device_id  TEXT PRIMARY KEY REFERENCES devices (device_id),
    flagged_at TEXT NOT NULL
) WITHOUT ROWID;
