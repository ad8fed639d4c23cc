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

import errno
import logging
import socket
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from waitress.server import create_server

from server.app import create_app
from server.cli.context import data_dir, hub, hub_app, settings
from server.jobs import ScheduleError, hub_jobs, start_jobs
from server.serving import RestoreInProgress, hold_serving_mark
from server.state import hub_state

__all__ = ["address_problem", "init", "serve"]

#: what a Windows office hears when it asks for several processes
WINDOWS_WORKERS = (
    "Beberapa proses hub (--workers lebih dari 1) butuh Linux; di Windows jalankan satu "
    "proses, atau beberapa layanan hub di balik reverse proxy."
)


#: errno values that say another program holds the port (Linux, macOS, Windows)
_IN_USE = {errno.EADDRINUSE, 10048}
_DENIED = {errno.EACCES, 10013}


def address_problem(host: str, port: int, exc: OSError) -> str:
    """One line saying why the hub cannot listen on `host`:`port`, and what to do."""
    if exc.errno in _IN_USE:
        other = port + 1 if port < 65535 else 8080
        return (
            f"port {port} di {host} sudah dipakai program lain (mungkin hub yang sudah "
            f"berjalan); pilih port lain, mis. `pendamping-hub serve --port {other}`."
        )
    if exc.errno in _DENIED:
        return (
            f"port {port} di {host} tidak boleh dipakai (butuh hak administrator, atau "
            f"dicadangkan sistem); pilih port lain, mis. `pendamping-hub serve --port 8080`."
        )
    return f"hub tidak dapat mendengarkan di {host}:{port}: {exc.strerror or exc}."


def _probe(host: str, port: int) -> None:
    """Bind `host`:`port` once, as a server would, and let go. :raises OSError: it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":  # a port in TIME_WAIT is free to a server, as here
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Siapkan folder data dan basis data hub (aman diulang)."""
    hub(ctx)
    click.echo(f"Hub siap di {data_dir(ctx)}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
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
        try:  # binds the port now, so a taken one is said before "berjalan"
            server = create_server(
                app,
                host=host,
                port=port,
                threads=threads,
                ident="pendamping-hub",
                # PROXY_HOPS: the proxy's headers reach the app, whose ProxyFix trusts them
                clear_untrusted_proxy_headers=not int(app.config["PROXY_HOPS"]),
            )
        except OSError as exc:
            raise click.ClickException(address_problem(host, port, exc)) from None
        logging.basicConfig()  # waitress' own warnings, as waitress.serve shows them
        start_jobs(app)  # one of the hub's processes runs them (docs/jobs.md)
        click.echo(f"Hub berjalan di {where}")
        server.run()
        return
    try:  # gunicorn would retry a taken port for seconds and then print its own lines
        _probe(host, port)
    except OSError as exc:
        raise click.ClickException(address_problem(host, port, exc)) from None
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
