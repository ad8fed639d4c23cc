"""`pendamping daemon`: sync in the background, a thin shell over :class:`SyncDaemon`.

    pendamping daemon [--every MENIT] [--settle DETIK] [--once]

Kept apart from :mod:`client_sync.cli`; :func:`register` adds the command to the group.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import click

from client_sync.cli_support import (
    EXIT_ERROR,
    EXIT_HUB,
    EXIT_OK,
    EXIT_UNAUTHORIZED,
    store_passphrase,
    transport_factory,
)
from client_sync.daemon import SyncDaemon
from client_sync.device import FieldDevice
from client_sync.errors import NotEnrolled
from client_sync.instance_lock import AlreadyRunning, only_instance
from client_sync.schedule import DEFAULT_EVERY_S, DEFAULT_SETTLE_S, Outcome

__all__ = ["EXIT_CODES", "daemon", "register"]

#: The exit code of a round, the same as `pendamping sync` gives for it.
EXIT_CODES = {
    Outcome.OK: EXIT_OK,
    Outcome.OFFLINE: EXIT_HUB,
    Outcome.REFUSED: EXIT_HUB,
    Outcome.LOCAL: EXIT_ERROR,
    Outcome.UNAUTHORIZED: EXIT_UNAUTHORIZED,
    Outcome.NOT_ENROLLED: EXIT_ERROR,
    Outcome.CANCELLED: EXIT_ERROR,
}


def _log(line: str) -> None:
    click.echo(line, err=True)


@click.command("daemon")
@click.option(
    "--every",
    "every_min",
    type=click.FloatRange(min=1),
    default=DEFAULT_EVERY_S / 60,
    show_default=True,
    envvar="PENDAMPING_SYNC_EVERY_MIN",
    show_envvar=True,
    metavar="MENIT",
    help="Menit antara dua sinkron selama semua lancar; juga jeda terpanjang saat offline.",
)
@click.option(
    "--settle",
    "settle_s",
    type=click.FloatRange(min=0),
    default=DEFAULT_SETTLE_S,
    show_default=True,
    metavar="DETIK",
    help="Detik menunggu setelah perubahan baru sebelum sinkron (perubahan beruntun: sekali).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Satu putaran lalu keluar, dengan kode keluar seperti `pendamping sync`.",
)
@click.pass_context
def daemon(ctx: click.Context, every_min: float, settle_s: float, once: bool) -> None:
    """Sinkron otomatis di latar belakang: tiap --every menit, segera setelah perubahan
    baru, dan makin jarang saat hub tidak terjangkau. Ctrl-C untuk berhenti."""
    home = ctx.find_root().obj["home"]
    factory = transport_factory()  # a bad PENDAMPING_RETRIES/TIMEOUT fails here, exit 2
    passphrase = store_passphrase(home)  # PENDAMPING_PASSPHRASE, or asked once on a terminal

    def open_home() -> FieldDevice:
        return FieldDevice.open(home, transport_factory=factory, passphrase=passphrase)

    # A wrong or missing passphrase cannot mend itself: one line and exit 1, not a backoff.
    with contextlib.suppress(NotEnrolled):  # a round says that one, in its own line
        open_home().close()

    runner = SyncDaemon(open_home, every_min * 60, settle_s, log=_log)
    if once:
        ctx.exit(EXIT_CODES[runner.run_round().outcome])
    # APScheduler's own warnings (e.g. a slot skipped while a slow round runs) are not for
    # the pendamping: without a handler Python would print them to stderr.
    logging.getLogger("apscheduler").addHandler(logging.NullHandler())
    _log(
        f"Sinkron latar belakang untuk {home}: tiap {every_min:g} menit, {settle_s:g} detik "
        "setelah perubahan baru, makin jarang saat hub tidak terjangkau. "
        "Tekan Ctrl-C untuk berhenti."
    )
    try:
        with only_instance(Path(home)):
            final = runner.run()
    except AlreadyRunning as exc:
        _log(str(exc))
        ctx.exit(EXIT_ERROR)
    if final is None:
        _log("Sinkron latar belakang berhenti.")
        return
    ctx.exit(EXIT_CODES[final])


def register(cli: click.Group) -> None:
    """Add `daemon` to the `pendamping` group."""
    cli.add_command(daemon)
