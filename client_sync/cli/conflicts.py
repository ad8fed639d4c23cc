"""`pendamping conflicts [--all] [--json]`: the conflicts on this laptop's changes.

Read from the store, as the hub reported them on the last sync; works with no network.
"""

from __future__ import annotations

from typing import Any

import click

from client_sync.cli.home import open_device
from client_sync.cli.output import emit_json
from schemas.conflict_outcome import outcome
from schemas.labels import field_label

__all__ = ["conflicts"]

_KIND_LABELS = {
    "field": "isian",
    "status": "status",
    "delete": "hapus vs ubah",
    "duplicate_person": "NIK ganda",
}


def _describe(conflict: dict[str, Any]) -> str:
    kind = _KIND_LABELS.get(conflict["kind"], conflict["kind"])
    if conflict["kind"] == "duplicate_person":
        body = f"NIK {conflict['lost']['value']} sudah dipakai {conflict['other_record_id']}"
    else:
        now = outcome(conflict)  # after a take_lost, the value that lost the merge is in force
        chosen = f", pilihan {now.chosen_by}" if now.chosen_by else ""
        aside = ", ".join(f"{s.value!r} ({s.author or 'hub'})" for s in now.set_aside)
        body = (
            f"{field_label(conflict['field'])}: berlaku {now.in_force.value!r} "
            f"({now.in_force.author or 'hub'}{chosen}), tidak berlaku {aside}"
        )
    state = (
        "terbuka"
        if not conflict.get("resolved_at")
        else (f"diselesaikan {conflict['resolved_by']}: {conflict['resolution']['choice']}")
    )
    return f"#{conflict['conflict_id']} [{kind}] {conflict['record_id']} — {body} — {state}"


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
            click.echo(_describe(conflict))
