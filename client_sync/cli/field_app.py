"""`pendamping app`: the field app in the browser; `pendamping app launcher`: its shortcut.

    pendamping app [--port N] [--no-browser] [--idle-minutes M]
    pendamping app launcher

The app itself is :mod:`client_sync.app` (docs/field-app.md).
"""

from __future__ import annotations

import sys

import click

from client_sync.app import DEFAULT_IDLE_MINUTES, DEFAULT_PORT
from client_sync.cli.home import home_of

__all__ = ["app"]


@click.group("app", invoke_without_command=True)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port di 127.0.0.1; bila dipakai program lain, port bebas lain dipakai.",
)
@click.option("--no-browser", is_flag=True, help="Jangan buka peramban; alamatnya dicetak.")
@click.option(
    "--idle-minutes",
    type=click.FloatRange(min=1),
    default=DEFAULT_IDLE_MINUTES,
    show_default=True,
    metavar="MENIT",
    help="Menit tanpa kegiatan sebelum aplikasi mengunci diri.",
)
@click.pass_context
def app(ctx: click.Context, port: int, no_browser: bool, idle_minutes: float) -> None:
    """Aplikasi pendamping di peramban (hanya 127.0.0.1). Ctrl-C untuk berhenti."""
    if ctx.invoked_subcommand is not None:
        return
    from client_sync.app.serve import serve

    serve(home_of(ctx), port, idle_minutes, open_browser=not no_browser, say=click.echo)


@app.command("launcher")
@click.pass_context
def launcher(ctx: click.Context) -> None:
    """Buat pintasan yang membuka aplikasi dengan satu klik (menu aplikasi dan desktop)."""
    from client_sync.app.launcher import write_launchers

    for path in write_launchers(home_of(ctx), sys.executable):
        click.echo(f"Pintasan dibuat: {path}")
