"""docs/cli.md's part on `pendamping-hub` says what the code does: its exit-code table is
the code's, and each command it documents exists with exactly the options it lists."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from server.cli import cli
from server.cli.exit_codes import TABLE_END, TABLE_START, markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
#: a command, or a group's subcommand (`review accept`): the lowercase words before its
#: arguments (upper case) and options (`--program`: a word cannot start with a dash)
HEADING = re.compile(r"^### `pendamping-hub ([a-z][a-z-]*(?: [a-z][a-z-]*)*)(.*)`$", re.MULTILINE)


def _documented() -> dict[str, set[str]]:
    text = DOC.read_text(encoding="utf-8")
    return {m[1]: set(re.findall(r"--[a-z-]+", m[2])) for m in HEADING.finditer(text)}


def test_the_exit_code_table_in_docs_cli_md_is_the_codes_table():
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    assert text[start:end] == markdown_table(), (
        "docs/cli.md's hub exit-code table is out of date; paste `python -c 'from "
        "server.cli.exit_codes import markdown_table; print(markdown_table())'`"
    )


def test_backup_restore_and_jobs_are_documented():
    assert {"backup", "restore", "jobs"} <= set(_documented())


@pytest.mark.parametrize("name", sorted(_documented()))
def test_a_documented_command_has_exactly_the_options_its_heading_lists(name: str):
    command: click.Command | None = cli
    for word in name.split():
        command = command.commands.get(word) if isinstance(command, click.Group) else None
    assert command is not None, f"docs/cli.md documents `pendamping-hub {name}`; no such command"
    options = {
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--")
    }
    assert options == _documented()[name]
