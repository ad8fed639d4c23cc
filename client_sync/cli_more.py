"""More `pendamping` commands: deleting, moving a request along its lifecycle, conflicts.

Kept apart from :mod:`client_sync.cli` so each module stays small; :func:`register` adds
them to the main group.
"""

from __future__ import annotations

from typing import Any

import click

from client_sync.cli_support import emit_json, open_device
from schemas.codes import DEVICE_STATUSES, ENTITIES

__all__ = ["register"]

_KIND_LABELS = {
    "field": "isian",
    "status": "status",
    "delete": "hapus vs ubah",
    "duplicate_person": "NIK ganda",
}


@click.command("delete")
@click.argument("entity", type=click.Choice(ENTITIES))
@click.argument("record_id", metavar="ID")
@click.pass_context
def delete(ctx: click.Context, entity: str, record_id: str) -> None:
    """Hapus data ID; di hub data itu disimpan sebagai nisan (tombstone), tidak hilang."""
    open_device(ctx).store.delete(entity, record_id)
    click.echo(f"Dihapus (menunggu dikirim): {record_id}")


@click.command("status")
@click.argument("record_id", metavar="ID")
@click.argument("status", type=click.Choice(DEVICE_STATUSES))
@click.pass_context
def request_status(ctx: click.Context, record_id: str, status: str) -> None:
    """Ubah status permohonan ID (pendamping: diverifikasi atau dibatalkan)."""
    open_device(ctx).store.update("device_request", record_id, {"status": status})
    click.echo(f"Status permohonan {record_id}: {status} (menunggu dikirim)")


def _describe(conflict: dict[str, Any]) -> str:
    kind = _KIND_LABELS.get(conflict["kind"], conflict["kind"])
    kept, lost = conflict["kept"], conflict["lost"]
    if conflict["kind"] == "duplicate_person":
        body = f"NIK {lost['value']} sudah dipakai {conflict['other_record_id']}"
    else:
        body = (
            f"{conflict['field']}: berlaku {kept['value']!r} ({kept['author'] or 'hub'}), "
            f"tidak berlaku {lost['value']!r} ({lost['author'] or 'hub'})"
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


def register(cli: click.Group, request: click.Group) -> None:
    """Add these commands to the `pendamping` group and its `request` subgroup."""
    cli.add_command(delete)
    cli.add_command(conflicts)
    request.add_command(request_status)
