"""The exit codes of `pendamping-hub`, once, with what each means (docs/cli.md's table).

Every command ends in one of these: :mod:`server.cli.errors` turns a failure into its code
and one line on stderr; a refusal with a code of its own raises :class:`HubServingError`.
"""

from __future__ import annotations

import click

__all__ = [
    "EXIT_CODES",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_SERVING",
    "EXIT_USAGE",
    "TABLE_END",
    "TABLE_START",
    "HubServingError",
    "markdown_table",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SERVING = 3

#: code -> meaning, the rows of the table in docs/cli.md
EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_FAILED: (
        "refused or failed, and said why in one line: a service's refusal, the database "
        "unusable, a backup that failed its check, a restore file that is damaged, foreign or "
        "of a newer hub (nothing replaced), a broken audit chain (`audit verify`), a hub that "
        "cannot start (`check`), a `migrate-storage` refused or rolled back (nothing copied)"
    ),
    EXIT_USAGE: "bad usage: an unknown command or option, a value the option refuses",
    EXIT_SERVING: (
        "`restore` or `migrate-storage` refused because a hub process serves the data folder "
        "(or another restore runs); stop the hub and run it again"
    ),
}

TABLE_START = "<!-- hub-exit-codes: the rows of server.cli.exit_codes.EXIT_CODES; a test checks -->"
TABLE_END = "<!-- /hub-exit-codes -->"


class HubServingError(click.ClickException):
    """The data folder is in use by a serving hub or another restore (exit code 3)."""

    exit_code = EXIT_SERVING


def markdown_table() -> str:
    """The table as docs/cli.md holds it, markers included."""
    rows = "\n".join(f"| {code} | {meaning} |" for code, meaning in EXIT_CODES.items())
    return f"{TABLE_START}\n| code | meaning |\n|---|---|\n{rows}\n{TABLE_END}"
