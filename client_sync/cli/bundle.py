"""`pendamping export-bundle FILE`: the outbox on a USB stick, for when there is no signal.

Works with no network. The changes stay waiting on the laptop until the hub has them; the
next `sync` asks the hub about them instead of sending them again (docs/bundles.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from client_sync.bundle import export_bundle
from client_sync.cli.home import open_device
from client_sync.cli.output import emit_json
from client_sync.progress import size_words

__all__ = ["export_bundle_command"]


@click.command("export-bundle")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@click.pass_context
def export_bundle_command(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Tulis semua perubahan yang menunggu (dan fotonya) ke satu berkas FILE, mis. di flashdisk.

    FILE boleh berupa folder: nama berkasnya dibuat dari nama pengguna dan waktu.
    """
    dev = open_device(ctx)
    summary = export_bundle(dev.store, dev.home, file)
    if as_json:
        emit_json(summary.as_dict())
        return
    if summary.path is None:
        click.echo("Tidak ada perubahan yang menunggu dikirim; tidak ada berkas yang ditulis.")
        return
    click.echo(
        f"Bundle ditulis: {summary.path} ({summary.changes} perubahan, {summary.photos} foto,"
        f" {size_words(summary.size)})."
    )
    click.echo(
        "Bawa berkas ini ke kantor dinas untuk diimpor (`pendamping-hub import-bundle`). "
        "Perubahan tetap tersimpan di laptop sampai hub menerimanya; sinkron berikutnya "
        "hanya menanyakan tanda terimanya, tanpa mengirim ulang."
    )
