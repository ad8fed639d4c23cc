"""`pendamping-hub import-bundle FILE`: apply a USB bundle carried in from a laptop.

The same checks and the same receipts as a push (docs/bundles.md); importing a bundle twice
changes nothing. A revoked laptop's bundle needs `--allow-revoked`, an admin's explicit word.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from server.audit import cli_actor
from server.bundle import BundleLimits, ImportSummary, import_bundle
from server.cli.context import hub, hub_app

__all__ = ["import_bundle_command"]


def _lines(summary: ImportSummary) -> list[str]:
    lines = [
        f"Bundle dari laptop {summary.device_name} ({summary.user}), dibuat {summary.created_at}:"
        f" {summary.changes} perubahan, {summary.photos} foto ({summary.photos_stored} disimpan).",
        f"{summary.applied} diterapkan, {summary.merged} digabung, {summary.conflict} konflik,"
        f" {summary.rejected} ditolak.",
    ]
    if summary.changes and summary.duplicates == summary.changes:
        lines.append("Semua perubahan sudah pernah diterima; tidak ada yang berubah.")
    elif summary.duplicates:
        lines.append(
            f"{summary.duplicates} di antaranya sudah pernah diterima (tidak mengubah apa pun)."
        )
    lines += [f"Foto tidak disimpan: {line}" for line in summary.photo_errors]
    if summary.revoked:
        lines.append("Perhatian: laptop ini sudah dicabut; bundle diterima atas izin admin.")
    if summary.conflict:
        lines.append("Lihat `pendamping-hub conflicts list` untuk nilai yang kalah.")
    return lines


@click.command("import-bundle")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@click.option(
    "--allow-revoked",
    is_flag=True,
    help="Terima juga bundle dari laptop yang sudah dicabut (keputusan admin).",
)
@click.pass_context
def import_bundle_command(
    ctx: click.Context, file: Path, as_json: bool, allow_revoked: bool
) -> None:
    """Terapkan bundle USB FILE dari laptop pendamping, seperti sinkron lewat jaringan."""
    state = hub(ctx)
    summary = import_bundle(  # a refused bundle: server/cli/errors.py says so
        state,
        file,
        allow_revoked=allow_revoked,
        limits=BundleLimits.from_config(hub_app(ctx).config),
        attachments=state.attachments,
        actor=cli_actor(),
    )
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in _lines(summary):
            click.echo(line)
