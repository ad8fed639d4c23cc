"""`pendamping daemon`: sync in the background, a thin shell over :class:`SyncDaemon`.

    pendamping daemon [--every MENIT] [--settle DETIK] [--wait MENIT] [--once]

A round's exit code comes from :data:`client_sync.cli.failures.ROUND_EXIT_CODES`, the same
as `pendamping sync` gives for it.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import click

from client_sync.cli.failures import EXIT_ERROR, ROUND_EXIT_CODES
from client_sync.cli.home import home_of, store_passphrase, transport_factory
from client_sync.daemon import SyncDaemon
from client_sync.device import FieldDevice
from client_sync.errors import NotEnrolled
from client_sync.instance_lock import AlreadyRunning, only_instance
from client_sync.schedule import DAEMON_WAIT_S, DEFAULT_EVERY_S, DEFAULT_SETTLE_S

__all__ = ["daemon"]


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
    "--wait",
    "wait_min",
    type=click.FloatRange(min=0),
    default=DAEMON_WAIT_S / 60,
    show_default=True,
    metavar="MENIT",
    help="Menit terlama satu putaran menunggu selama hub menjawab sibuk; lalu coba lagi nanti.",
)
@click.option(
    "--once",
    is_flag=True,
    help="Satu putaran lalu keluar, dengan kode keluar seperti `pendamping sync`.",
)
@click.pass_context
def daemon(
    ctx: click.Context, every_min: float, settle_s: float, wait_min: float, once: bool
) -> None:
    """Sinkron otomatis di latar belakang: tiap --every menit, segera setelah perubahan
    baru, dan makin jarang saat hub tidak terjangkau. Ctrl-C untuk berhenti."""
    home = home_of(ctx)
    with contextlib.ExitStack() as held:
        if not once and home.is_dir():  # a home not enrolled yet: its first round says so
            # First, before any passphrase is asked or any line printed: another daemon on
            # this home means this one has nothing to do.
            try:
                held.enter_context(only_instance(home))
            except AlreadyRunning as exc:
                _log(str(exc))
                ctx.exit(EXIT_ERROR)
        _run(ctx, home, every_min, settle_s, wait_min, once)


def _run(
    ctx: click.Context, home: Path, every_min: float, settle_s: float, wait_min: float, once: bool
) -> None:
    """The daemon itself, once this process holds the home (or runs a single round)."""
    # a bad PENDAMPING_RETRIES/TIMEOUT fails here, exit 2
    factory = transport_factory(wait_min * 60)
    passphrase = store_passphrase(home)  # PENDAMPING_PASSPHRASE, or asked once on a terminal

    def open_home() -> FieldDevice:
        return FieldDevice.open(home, transport_factory=factory, passphrase=passphrase)

    # A wrong or missing passphrase cannot mend itself: one line and exit 1, not a backoff.
    with contextlib.suppress(NotEnrolled):  # a round says that one, in its own line
        open_home().close()

    runner = SyncDaemon(open_home, every_min * 60, settle_s, log=_log)
    if once:
        ctx.exit(ROUND_EXIT_CODES[runner.run_round().outcome])
    # APScheduler's own warnings (e.g. a slot skipped while a slow round runs) are not for
    # the pendamping: without a handler Python would print them to stderr.
    logging.getLogger("apscheduler").addHandler(logging.NullHandler())
    _log(
        f"Sinkron latar belakang untuk {home}: tiap {every_min:g} menit, {settle_s:g} detik "
        "setelah perubahan baru, makin jarang saat hub tidak terjangkau. "
        "Tekan Ctrl-C untuk berhenti."
    )
    final = runner.run()
    if final is None:
        _log("Sinkron latar belakang berhenti.")
        return
    ctx.exit(ROUND_EXIT_CODES[final])
