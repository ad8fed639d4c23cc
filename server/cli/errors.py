"""The one place a `pendamping-hub` failure becomes an exit code and one line on stderr.

Never a stack trace, and every line starts ``Galat:``: click's own errors in Indonesian
(:mod:`schemas.click_words`), a service's refusal (:mod:`server.exceptions`), a storage
failure and a port another program holds each get one line, exit code 1 (click's usage
errors keep click's code, 2).
"""

from __future__ import annotations

import click

from schemas.click_words import indonesian_click
from server.exceptions import BundleRefused, HubError
from server.storage import SettingError, StorageError

__all__ = ["run"]


def run(command: click.Command, argv: list[str] | None) -> int:
    """Run `command` on `argv`. :returns: its exit code; failures are printed, not raised."""
    with indonesian_click():  # also for the messages worded below, after click returned
        return _run(command, argv)


def _run(command: click.Command, argv: list[str] | None) -> int:
    try:
        command.main(args=argv, prog_name="pendamping-hub", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Dibatalkan.", err=True)
        return 1
    except click.UsageError as exc:
        hint = f" (lihat `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"Galat: {exc.format_message()}{hint}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"Galat: {exc.format_message()}", err=True)
        return exc.exit_code
    except BundleRefused as exc:
        click.echo(f"Galat: Bundle ditolak, tidak ada yang disimpan: {exc}", err=True)
        return 1
    except HubError as exc:
        click.echo(f"Galat: {exc.message}", err=True)
        return 1
    except StorageError as exc:
        click.echo(f"Galat: basis data hub tidak dapat dipakai: {exc}", err=True)
        return 1
    except SettingError as exc:
        click.echo(f"Galat: pengaturan hub salah: {exc}", err=True)
        return 1
    return 0
