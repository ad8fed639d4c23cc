"""`pendamping-hub import-bundle FILE...`: apply USB bundles carried in from laptops.

The same checks and the same receipts as a push (docs/bundles.md); importing a bundle twice
changes nothing. A revoked laptop's bundle needs `--allow-revoked`, an admin's explicit word.
Month end brings a bundle from every laptop: given several, the command opens the hub once
and imports them one after another (a process per bundle cost more than the import).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from server.audit import cli_actor
from server.bundle import BundleLimits, ImportSummary, import_bundle
from server.cli.context import hub, hub_app
from server.exceptions import BundleRefused

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
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@click.option(
    "--allow-revoked",
    is_flag=True,
    help="Terima juga bundle dari laptop yang sudah dicabut (keputusan admin).",
)
@click.pass_context
def import_bundle_command(
    ctx: click.Context, files: tuple[Path, ...], as_json: bool, allow_revoked: bool
) -> None:
    """Terapkan bundle USB FILE dari laptop pendamping, seperti sinkron lewat jaringan.

    Beberapa FILE sekaligus diterapkan satu per satu (hub dibuka sekali saja); bundle yang
    ditolak tidak menyimpan apa pun, bundle lainnya tetap diterapkan.
    """
    state = hub(ctx)
    limits = BundleLimits.from_config(hub_app(ctx).config)
    actor = cli_actor()
    results: list[dict[str, object]] = []
    refused = 0
    for file in files:
        try:
            summary = import_bundle(
                state,
                file,
                allow_revoked=allow_revoked,
                limits=limits,
                attachments=state.attachments,
                actor=actor,
            )
        except BundleRefused as exc:
            if len(files) == 1:
                raise  # one bundle: server/cli/errors.py says so, as it always has
            refused += 1
            click.echo(f"{file.name}: Bundle ditolak, tidak ada yang disimpan: {exc}", err=True)
            results.append({"file": str(file), "refused": exc.slug, "message": str(exc)})
            continue
        results.append({"file": str(file), **summary.as_dict()})
        if not as_json:
            if len(files) > 1:
                click.echo(f"{file.name}:")
            for line in _lines(summary):
                click.echo(line)
    if as_json:
        # one bundle: its summary, as before; several: a list, each naming its file
        payload: object = results
        if len(files) == 1:
            payload = {k: v for k, v in results[0].items() if k != "file"}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    if refused:
        raise click.ClickException(
            f"{refused} dari {len(files)} bundle ditolak (lihat di atas); yang lain diterapkan."
        )
