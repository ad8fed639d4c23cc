"""The one place a `pendamping-hub` failure becomes an exit code and one line on stderr.

Never a stack trace: click's own errors keep click's wording, a service's refusal
(:mod:`server.exceptions`) and a storage failure get one ``Galat`` line each, exit code 1.
"""

from __future__ import annotations

import click

from server.exceptions import BundleRefused, HubError
from server.storage import StorageError

__all__ = ["EXIT_CODES", "markdown_table", "run"]

#: every exit code of `pendamping-hub` and what it means (docs/cli.md shows this table;
#: a test compares the two)
EXIT_CODES: dict[int, str] = {
    0: "done (`request approve` etc. also when the move met a field change and went to the "
    "conflict queue: the line says so, `--json` has `outcome: conflict`)",
    1: "refused, nothing written: a value that breaks a rule (named), no such record or "
    "user (or outside the acting user's wilayah), a role that may not do it, a record no "
    "longer in a state that allows it, a bundle refused, the database failing; cancelled",
    2: "bad usage: an unknown command or option, a required option missing, a file that "
    "cannot be read",
}


def markdown_table() -> str:
    """:data:`EXIT_CODES` as the table in docs/cli.md, between its markers."""
    rows = "\n".join(f"| {code} | {meaning} |" for code, meaning in EXIT_CODES.items())
    return (
        "<!-- hub-exit-codes: the rows of server.cli.errors.EXIT_CODES; a test checks -->\n"
        f"| code | meaning |\n|---|---|\n{rows}\n<!-- /hub-exit-codes -->"
    )


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
