"""`pendamping-hub init | serve`: prepare the data folder, and run the hub.

One process (the default, and the only way on Windows) is waitress. `--workers N` above 1
runs gunicorn: N processes of `--threads` threads each, sharing the SQLite file. Every
worker builds its own app after the fork (nothing preloaded), so no SQLite connection
crosses a fork; migrations run once, here, before any worker starts. Whatever must hold
hub-wide (limits, the write queue, the hub clock, seq) is in storage, not in a worker.
The serve process marks the data folder as served (server/serving.py) before it opens
anything, so a restore refuses; every process runs the scheduled jobs, and the jobs' lease
lets one of them do the work (server/jobs/, docs/jobs.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import waitress
from flask import Flask

from server.app import create_app
from server.cli.context import data_dir, hub, hub_app, settings
from server.jobs import ScheduleError, hub_jobs, start_jobs
from server.serving import RestoreInProgress, hold_serving_mark
from server.state import hub_state

__all__ = ["init", "serve"]

#: what a Windows office hears when it asks for several processes
WINDOWS_WORKERS = (
    "Beberapa proses hub (--workers lebih dari 1) butuh Linux; di Windows jalankan satu "
    "proses, atau beberapa layanan hub di balik reverse proxy."
)


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Siapkan folder data dan basis data hub (aman diulang)."""
    hub(ctx)
    click.echo(f"Hub siap di {data_dir(ctx)}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Jumlah proses hub (lebih dari 1: gunicorn, hanya di Linux/macOS).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int, workers: int) -> None:
    """Jalankan hub: satu proses dengan waitress, atau beberapa dengan gunicorn."""
    if workers > 1 and sys.platform == "win32":
        raise click.UsageError(WINDOWS_WORKERS, ctx)
    _mark_served(ctx)  # a restore now refuses, until this process (and its workers) end
    app = hub_app(ctx)  # creates and migrates the data folder, once, before any worker
    where = f"http://{host}:{port} (data: {data_dir(ctx)})"
    try:
        hub_jobs(app)  # a bad schedule line is said now, not in each worker
    except ScheduleError as exc:
        raise click.ClickException(str(exc)) from None
    if workers == 1:
        start_jobs(app)  # one of the hub's processes runs them (docs/jobs.md)
        click.echo(f"Hub berjalan di {where}")
        waitress.serve(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="pendamping-hub",
            clear_untrusted_proxy_headers=True,
        )
        return
    overrides = {"DATA_DIR": str(data_dir(ctx))}
    hub_state(app).storage.close()  # no connection of the parent's crosses the fork
    click.echo(f"Hub berjalan di {where}, {workers} proses x {threads} thread")
    _gunicorn(overrides, host, port, workers, threads)


def _mark_served(ctx: click.Context) -> None:
    """Hold the serving mark of the data folder (server/serving.py) for this process."""
    folder = Path(settings(ctx)["DATA_DIR"])
    try:
        hold_serving_mark(folder)
    except RestoreInProgress:
        raise click.ClickException(
            f"pemulihan (pendamping-hub restore) sedang berjalan di {folder}; "
            "jalankan hub setelah selesai."
        ) from None


def _gunicorn(overrides: dict[str, Any], host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn's gthread workers, each creating its own app (imported only here:
    gunicorn is not installed on Windows)."""
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": False,  # each worker opens its own SQLite connections
        "keepalive": 30,  # a laptop's calls in one round reuse its connection
        "proc_name": "pendamping-hub",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }

    class HubApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            app = create_app(overrides)  # in the worker, after the fork
            start_jobs(app)  # in every worker; the lease picks the one that runs them
            return app

    HubApplication().run()
