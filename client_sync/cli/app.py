"""The `pendamping` group: its global option, every command registered in one place, and the
console entry point that turns any failure into one line and an exit code.

Each subject's commands live in their own module of :mod:`client_sync.cli` and know nothing of
this group; :func:`main` hands whatever a command raises to
:func:`client_sync.cli.failures.failure_for`, the one table of messages and exit codes.
"""

from __future__ import annotations

from pathlib import Path

import click

from client_sync.cli import (
    bundle,
    conflicts,
    daemon,
    enroll,
    field_app,
    passphrase,
    photo,
    records,
    sync,
    wipe,
)
from client_sync.cli.failures import EXIT_OK, failure_for
from client_sync.device import default_home
from client_sync.version import CLIENT_VERSION
from schemas.click_words import IndonesianGroup, indonesian_click

__all__ = ["COMMANDS", "cli", "main"]


@click.group(cls=IndonesianGroup)
@click.version_option(
    CLIENT_VERSION,
    prog_name="pendamping",
    message="%(prog)s %(version)s",
    help="Tampilkan versi lalu keluar.",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder data laptop. Bawaan: PENDAMPING_HOME, atau folder data pengguna.",
)
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """Catatan lapangan pendamping: bekerja tanpa sinyal, sinkron ke hub saat ada jaringan."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home if home is not None else default_home()


#: Every `pendamping` command and group, each defined in the module of its subject.
COMMANDS: tuple[click.Command, ...] = (
    enroll.enroll,
    records.beneficiary,
    records.visit,
    records.request,
    records.list_records,
    records.delete,
    sync.sync,
    sync.status,
    conflicts.conflicts,
    photo.photo,
    bundle.export_bundle_command,
    daemon.daemon,
    passphrase.passphrase,
    wipe.wipe,
    field_app.app,
)
for _command in COMMANDS:
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code instead of raising. click's own words
    (help, usage errors, prompts) are Indonesian here, those of failures worded after click
    returned too (:mod:`schemas.click_words`)."""
    with indonesian_click():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="pendamping", standalone_mode=False)
    except Exception as exc:  # a bug too: still one line, never a stack trace
        failure = failure_for(exc)
        for line in failure.lines:
            click.echo(line, err=True)
        return failure.exit_code
    return rv if isinstance(rv, int) else EXIT_OK
