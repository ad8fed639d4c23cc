"""`pendamping conflicts [--all] [--json]`: the conflicts on this laptop's changes.

Read from the store, as the hub reported them on the last sync; works with no network. The
words are :mod:`client_sync.conflict_words`' (the field app's Konflik page shows the same).
"""

from __future__ import annotations

import click

from client_sync.cli.home import open_device
from client_sync.cli.output import emit_json
from client_sync.conflict_words import conflict_line

__all__ = ["conflicts"]


@click.command("conflicts")
@click.option("--all", "show_all", is_flag=True, help="Termasuk yang sudah diselesaikan.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def conflicts(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """Konflik pada perubahan Anda, seperti dilaporkan hub pada sinkron terakhir."""
    found = open_device(ctx).store.conflicts(open_only=not show_all)
    if as_json:
        emit_json(found)
    elif not found:
        click.echo("Tidak ada konflik." if show_all else "Tidak ada konflik terbuka.")
    else:
        for conflict in found:
            click.echo(conflict_line(conflict))
