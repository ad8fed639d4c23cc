-- The hub's scheduled jobs (docs/jobs.md; SQLite's 0008). One row per occurrence of a
-- job: the process that claims it first (the primary key) runs it, so an occurrence runs
-- once however many hub processes fire it; its outcome stays for `pendamping-hub jobs`.
CREATE TABLE job_runs (
    job_id        TEXT COLLATE "C" NOT NULL,   -- silent_laptops, backup, monthly_export
    scheduled_for TEXT COLLATE "C" NOT NULL,   -- the occurrence, UTC (the hub's clock format)
    owner         TEXT COLLATE "C" NOT NULL,   -- host:pid:token of the process that ran it
    started_at    TEXT COLLATE "C" NOT NULL,
    finished_at   TEXT COLLATE "C",
    outcome       TEXT COLLATE "C" NOT NULL DEFAULT 'running',  -- running, ok, failed, interrupted
    message       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, scheduled_for)
);

-- Laptops the daily job found silent, for the office's Ringkasan page; a laptop keeps
-- its first flag until it syncs again.
CREATE TABLE silent_devices (
    device_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES devices (device_id),
    flagged_at TEXT COLLATE "C" NOT NULL
);
