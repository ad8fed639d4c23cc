"""How `pendamping` prints results: JSON for scripts, aligned tables for people.

The record kinds' labels are :data:`schemas.codes.ENTITY_LABELS`, shared with the hub."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

__all__ = ["emit_json", "table"]


def emit_json(payload: Any) -> None:
    """`payload` as indented JSON on stdout, non-ASCII letters kept as they are."""
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """`rows` under `headers` in aligned columns; empty cells as ``-``, long ones cut."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any, limit: int = 40) -> str:
    text = "-" if value is None or value == "" else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
