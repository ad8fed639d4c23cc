"""The one place a `pendamping-hub` failure becomes an exit code and one line on stderr.

Never a stack trace: click's own errors keep click's wording, a service's refusal
(:mod:`server.exceptions`) and a storage failure get one ``Galat`` line each, exit code 1.
"""

from __future__ import annotations

import click

from server.exceptions import BundleRefused, HubError
from server.storage import StorageError

__all__ = ["run"]


def run(command: click.Command, argv: list[str] | None) -> int:
    """Run `command` on `argv`. :returns: its exit code; failures are printed, not raised."""
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
        exc.show()
        return exc.exit_code
    except BundleRefused as exc:
        refused = click.ClickException(f"Bundle ditolak, tidak ada yang disimpan: {exc}")
        refused.show()
        return refused.exit_code
    except HubError as exc:
        click.echo(f"Galat: {exc.message}", err=True)
        return 1
    except StorageError as exc:
        click.echo(f"Galat basis data hub: {exc}", err=True)
        return 1
    return 0
