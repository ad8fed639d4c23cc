"""`pendamping sync | status`: send the outbox and pull the district, and say where things are.

`sync` is the one command that needs the hub after enrolment; `status` reads only the laptop.
Both print what the hub refused, one line per field, the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import click

from client_sync.bundle import exported_pending
from client_sync.cli.failures import field_lines, sync_failure
from client_sync.cli.home import open_device
from client_sync.cli.output import emit_json
from client_sync.engine import SyncResult
from client_sync.errors import SyncError
from client_sync.photos import list_photos
from client_sync.progress import TerminalProgress
from client_sync.store import FieldStore
from client_sync.transport import DEFAULT_WAIT_S
from schemas.codes import ENTITY_LABELS

__all__ = ["round_lines", "status", "sync"]


@click.command("sync")
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@click.option(
    "--wait",
    "wait_min",
    type=click.FloatRange(min=0),
    default=DEFAULT_WAIT_S / 60,
    show_default=True,
    metavar="MENIT",
    help="Menit terlama menunggu selama hub menjawab sibuk (0: tidak menunggu).",
)
@click.pass_context
def sync(ctx: click.Context, as_json: bool, wait_min: float) -> None:
    """Kirim perubahan ke hub lalu tarik data terbaru wilayah Anda. Selama hub sibuk,
    laptop menunggu sesuai permintaan hub, paling lama --wait menit."""
    dev = open_device(ctx, network=True, wait_s=wait_min * 60)
    # One updating line on stderr, only on a terminal and never with --json.
    progress = TerminalProgress(None if as_json else sys.stderr)
    try:
        result = dev.sync(progress=progress if progress.active else None)
    except SyncError as exc:
        raise sync_failure(exc, dev.store.pending_count()) from exc
    finally:
        progress.close()
    if as_json:
        emit_json(result.as_dict())
        return
    for line in round_lines(result, dev.store):
        click.echo(line)


def round_lines(result: SyncResult, store: FieldStore) -> list[str]:
    """What a finished round says: its counts, its conflicts, each refused change's fields.
    The field app shows the same lines (client_sync/app/syncing.py)."""
    lines = [
        f"Sinkron selesai: {result.pushed} terkirim, {result.pulled} diterima, "
        f"{result.conflicts} konflik, {result.rejected} ditolak{result.extras_text()}"
    ]
    if result.conflicts:
        lines.append(_conflicts_line(result.conflicts, result.conflict_changes))
    refused = {r["change_id"]: r for r in store.rejected()} if result.errors else {}
    for item in result.errors:
        lines.append(_rejected_lines(refused.get(item["change_id"], item), item["errors"]))
    return lines


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Cetak sebagai JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Keadaan laptop: perubahan yang menunggu, sinkron terakhir, perubahan yang ditolak."""
    store = open_device(ctx).store
    info = store.status()
    info["in_bundle"] = exported_pending(store)
    photos = [p["state"] for p in list_photos(store)]
    info["photos_waiting"] = photos.count("pending")
    info["photos_refused"] = photos.count("refused")
    refused = store.rejected()
    if as_json:
        emit_json({**info, "rejected_changes": refused})
        return
    outcome = {"ok": "berhasil", "failed": "gagal"}.get(info["last_sync_outcome"] or "", "")
    click.echo(f"Laptop: {info['device_id']} ({info['user']}), hub {info['hub_url']}")
    click.echo(f"Menunggu dikirim: {info['pending']} perubahan")
    click.echo(f"Terkirim, menunggu ditarik kembali: {info['awaiting_pull']} perubahan")
    click.echo(f"Ditolak hub: {info['rejected']} perubahan")
    if info["in_bundle"]:
        click.echo(f"Sudah di bundle USB, menunggu konfirmasi hub: {info['in_bundle']} perubahan")
    if info["photos_waiting"] or info["photos_refused"]:
        click.echo(
            f"Foto menunggu dikirim: {info['photos_waiting']}; ditolak hub: "
            f"{info['photos_refused']} (lihat `pendamping photo list`)"
        )
    if info["last_sync_at"]:
        click.echo(
            f"Sinkron terakhir: {info['last_sync_at']} ({outcome}: {info['last_sync_message']})"
        )
        click.echo(f"Sinkron berhasil terakhir: {info['last_success_at'] or 'belum pernah'}")
    else:
        click.echo("Sinkron terakhir: belum pernah")
    if info["returned"]:
        click.echo(
            f"{info['returned']} kunjungan dikembalikan untuk diperbaiki "
            "(lihat `pendamping list visit --returned`)"
        )
    if info["conflicts"]:
        click.echo(
            f"Konflik terbuka pada perubahan Anda: {info['conflicts']} "
            "(lihat `pendamping conflicts`)"
        )
    for change in refused:
        click.echo(_rejected_lines(change, change["errors"]))


def _conflicts_line(entries: int, changes: int) -> str:
    """What the round's `N konflik` are: entries in the office's review queue, counted as
    the hub counts them (one per field that lost, one per duplicate NIK)."""
    return (
        f"{entries} konflik masuk antrean tinjauan kantor (satu per isian yang bentrok atau NIK "
        f"ganda; dari {changes} perubahan Anda). Lihat `pendamping conflicts`."
    )


def _rejected_lines(change: Mapping[str, Any], errors: Mapping[str, Any]) -> str:
    what = (
        f"{ENTITY_LABELS.get(change.get('entity', ''), 'perubahan')} {change.get('record_id', '')}"
    )
    head = f"Ditolak hub ({what.strip()})"
    return "\n".join(f"{head}: {line}" for line in field_lines(errors)) or head
