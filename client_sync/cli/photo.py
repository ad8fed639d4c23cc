"""`pendamping photo add | list`: photos of a house, an ABF handover, a signature.

Both work with no network: `add` checks and keeps the photo and queues it, `list` shows
what the hub has confirmed so far. The photos travel with `pendamping sync`, after their
record (docs/attachments.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from client_sync.cli.home import open_device
from client_sync.cli.output import emit_json, table
from client_sync.photos import attach, list_photos
from schemas.codes import ENTITIES, ENTITY_LABELS, PHOTO_KINDS

__all__ = ["photo"]

_STATES = {"pending": "menunggu", "uploaded": "terkirim", "refused": "ditolak"}


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def _sent(row: dict[str, Any]) -> str:
    size = row["size"] or 1
    return f"{_mib(row['bytes_sent'])} ({100 * row['bytes_sent'] // size}%)"


@click.group("photo")
def photo() -> None:
    """Foto lampiran: rumah, serah terima alat, tanda tangan."""


@photo.command("add")
@click.argument("entity", type=click.Choice(ENTITIES))
@click.argument("record_id", metavar="ID")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(PHOTO_KINDS),
    required=True,
    help="Isi foto: rumah, serah_terima (alat), tanda_tangan, lainnya.",
)
@click.pass_context
def add(ctx: click.Context, entity: str, record_id: str, file: Path, kind: str) -> None:
    """Lampirkan foto FILE (JPEG, PNG atau WebP) ke data ID.

    Foto disalin ke folder data laptop (salinan di folder kamera boleh dihapus) dan dikirim
    ke hub pada sinkron berikutnya, setelah datanya sendiri terkirim.
    """
    dev = open_device(ctx)
    sha256 = attach(dev.store, entity, record_id, file, kind)
    row = next(r for r in list_photos(dev.store) if r["sha256"] == sha256)
    click.echo(
        f"Foto {kind} dilampirkan ke {ENTITY_LABELS[entity]} {record_id}"
        f" ({_mib(row['size'])}, {row['media_type']}), menunggu dikirim: {sha256}"
    )


@photo.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Foto di laptop ini: status kirim dan berapa yang sudah diterima hub."""
    rows = list_photos(open_device(ctx).store)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("Belum ada foto.")
        return
    table(
        ("SHA256", "JENIS", "DATA", "UKURAN", "TERKIRIM", "STATUS", "KETERANGAN"),
        [
            (
                r["sha256"][:12],
                r["kind"],
                f"{ENTITY_LABELS.get(r['entity'], r['entity'])} {r['record_id'][:8]}",
                _mib(r["size"]),
                _sent(r),
                _STATES.get(r["state"], r["state"]),
                r["error"],
            )
            for r in rows
        ],
    )
