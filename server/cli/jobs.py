"""`pendamping-hub jobs`: the hub's scheduled jobs, when each runs next, and how it last ended.

Read from the configuration (the schedule) and from storage (the outcomes, the lease), so it
says the same whichever process runs the jobs, and works while the hub is stopped.
"""

from __future__ import annotations

import time
from datetime import datetime

import click

from server.cli.context import emit, hub, hub_app
from server.jobs import LEASE, ScheduleError, hub_jobs
from server.jobs.schedule import hub_timezone

__all__ = ["jobs"]

_OUTCOMES = {
    "running": "sedang berjalan",
    "ok": "berhasil",
    "failed": "gagal",
    "interrupted": "terputus",
}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Cetak sebagai JSON.")
@click.pass_context
def jobs(ctx: click.Context, as_json: bool) -> None:
    """Tugas terjadwal hub: jadwal, jalan berikutnya, dan hasil terakhir."""
    app = hub_app(ctx)
    try:
        planned = hub_jobs(app)
    except ScheduleError as exc:
        raise click.ClickException(str(exc)) from None
    tz = hub_timezone(float(app.config["JOBS_UTC_OFFSET_HOURS"]))
    storage = hub(ctx).storage
    last = storage.jobs.last_runs()
    holder = storage.limits.lease_holder(LEASE, time.time())
    now = datetime.now(tz)
    rows, lines = [], []
    for job in planned:
        upcoming = job.trigger.get_next_fire_time(None, now) if job.active and job.trigger else None
        run = last.get(job.job_id)
        rows.append(
            {
                "job": job.job_id,
                "title": job.title,
                "schedule": app.config.get(job.setting) or "",
                "setting": job.setting,
                "next_run": upcoming.isoformat() if upcoming else None,
                "skipped": job.skipped,
                "last_run": None
                if run is None
                else {
                    "scheduled_for": run.scheduled_for,
                    "outcome": run.outcome,
                    "message": run.message,
                    "finished_at": run.finished_at,
                    "owner": run.owner,
                },
            }
        )
        when = (
            f"berikutnya {upcoming:%Y-%m-%d %H:%M}" if upcoming else f"tidak jalan: {job.skipped}"
        )
        lines.append(f"{job.job_id} ({job.title}), jadwal '{rows[-1]['schedule']}': {when}")
        if run is not None:
            lines.append(
                f"  terakhir {run.scheduled_for}: {_OUTCOMES.get(run.outcome, run.outcome)}"
                + (f" — {run.message}" if run.message else "")
            )
        else:
            lines.append("  belum pernah dijalankan")
    if holder is None:
        lines.append("Tidak ada proses hub yang memegang tugas (hub berhenti?).")
    else:
        lines.append(f"Dijalankan oleh proses {holder[0]}.")
    emit(as_json, {"jobs": rows, "runner": holder[0] if holder else None}, lines)
