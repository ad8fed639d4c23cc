"""`pendamping-hub stats`: how much the hub holds, at a glance."""

from __future__ import annotations

import click

from schemas.codes import ENTITY_LABELS
from server.cli.context import emit, hub

__all__ = ["stats"]


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Jumlah data per jenis, laptop, dan konflik terbuka."""
    figures = hub(ctx).storage.stats()
    lines = [f"{ENTITY_LABELS[entity]}: {count}" for entity, count in figures["records"].items()]
    lines += [
        f"laptop aktif: {figures['devices']}",
        f"konflik terbuka: {figures['open_conflicts']}",
    ]
    emit(as_json, figures, lines)
