"""The hub's scheduled jobs (docs/jobs.md): silent laptops, the nightly backup, the monthly
export, run by exactly one process of the hub at a time.

:func:`hub_jobs` builds the jobs from the configuration; :func:`start_jobs` starts them in
a serve process (`pendamping-hub serve`, each gunicorn worker); `pendamping-hub jobs` lists
them with :func:`hub_jobs` and the outcomes storage keeps.
"""

from __future__ import annotations

import atexit
from pathlib import Path

from flask import Flask

from server.jobs.monthly import EXPORTS_MISSING, monthly_exporter
from server.jobs.runner import LEASE, Job, JobRunner
from server.jobs.schedule import ScheduleError, hub_timezone, parse_schedule
from server.jobs.tasks import monthly_export, nightly_backup, silent_laptops
from server.state import hub_state

__all__ = ["LEASE", "Job", "JobRunner", "ScheduleError", "hub_jobs", "start_jobs"]

_OFF = "dimatikan di konfigurasi ({setting} kosong)."


def hub_jobs(app: Flask) -> list[Job]:
    """The hub's jobs as `app` is configured, in a fixed order.

    :raises ScheduleError: a schedule setting is not a crontab line (it names the setting).
    """
    config = app.config
    tz = hub_timezone(float(config["JOBS_UTC_OFFSET_HOURS"]))
    exporter = monthly_exporter(app)
    plans = [
        ("silent_laptops", "Tandai laptop diam", "JOB_SILENT_LAPTOPS_AT", silent_laptops, None),
        ("backup", "Cadangan malam", "JOB_BACKUP_AT", nightly_backup, None),
        (
            "monthly_export",
            "Ekspor bulanan",
            "JOB_MONTHLY_EXPORT_AT",
            monthly_export(exporter) if exporter is not None else None,
            None if exporter is not None else EXPORTS_MISSING,
        ),
    ]
    jobs = []
    for job_id, title, setting, func, skipped in plans:
        trigger = parse_schedule(setting, config.get(setting), tz)
        if trigger is None:
            skipped = _OFF.format(setting=setting)
        jobs.append(Job(job_id, title, setting, func, trigger, skipped))
    return jobs


def start_jobs(app: Flask) -> JobRunner | None:
    """Start the jobs in this serve process (stopped at exit); None when `JOBS_ENABLED` is
    off. Every serve process calls it: the lease makes one of them the runner."""
    config = app.config
    if not config.get("JOBS_ENABLED", True):
        return None
    runner = JobRunner(
        hub_state(app).storage,
        hub_jobs(app),
        config,
        Path(config["DATA_DIR"]),
        hub_timezone(float(config["JOBS_UTC_OFFSET_HOURS"])),
        lease_ttl_s=float(config["JOBS_LEASE_TTL_S"]),
        catch_up_s=float(config["JOBS_CATCH_UP_S"]),
    )
    runner.start()
    atexit.register(runner.stop)
    return runner
