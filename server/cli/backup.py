"""`pendamping-hub backup | restore`: the hub's database (and its photos) to a file and back.

`backup` works while the hub serves (SQLite's online backup); `restore` only while no hub
process serves the folder, and checks the file before it replaces anything
(server/jobs/backup.py, docs/jobs.md).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from schemas.codes import ENTITY_LABELS
from server.audit import cli_actor
from server.cli.context import data_dir, hub, hub_app, settings
from server.cli.exit_codes import HubServingError
from server.jobs.backup import BackupFailed, RestoreRefused, backup_name, make_backup, restore
from server.jobs.schedule import hub_timezone
from server.jobs.tasks import backup_folder
from server.serving import HubServing, RestoreInProgress, restore_guard
from server.storage import storage_kind
from server.storage.sqlite_backup import FileCheck

__all__ = ["backup", "restore_command"]


def _counts(check: FileCheck) -> str:
    parts = [f"{check.records.get(e, 0)} {label}" for e, label in ENTITY_LABELS.items()]
    return f"{check.record_count} data ({', '.join(parts)})"


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Berkas cadangan (atau folder untuknya). Bawaan: DATA_DIR/backups/hub-WAKTU.sqlite3.",
)
@click.option("--no-photos", is_flag=True, help="Jangan salin foto ke samping cadangan.")
@click.pass_context
def backup(ctx: click.Context, out: Path | None, no_photos: bool) -> None:
    """Cadangkan basis data hub (aman selagi hub berjalan), diperiksa sebelum diberi nama."""
    app = hub_app(ctx)
    tz = hub_timezone(float(app.config["JOBS_UTC_OFFSET_HOURS"]))
    name = backup_name(datetime.now(tz), tz)
    if out is None:
        out = backup_folder(app.config, data_dir(ctx)) / name
    elif out.is_dir():
        out = out / name
    elif out.exists():
        raise click.ClickException(f"{out} sudah ada; pilih nama lain (cadangan tidak ditimpa).")
    photos = None if no_photos else data_dir(ctx) / "attachments"
    try:
        result = make_backup(hub(ctx).storage, out, photos)
    except BackupFailed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Cadangan dibuat: {result.path}")
    click.echo(
        f"Isi: {_counts(result.check)}; rantai audit utuh, {result.check.audit_entries} entri."
    )
    if result.photos_folder is not None:
        click.echo(
            f"Foto: {result.photos_copied} baru disalin ke {result.photos_folder} "
            f"({result.photos_total} foto di hub)."
        )


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--no-photos", is_flag=True, help="Jangan kembalikan foto dari samping cadangan.")
@click.pass_context
def restore_command(ctx: click.Context, file: Path, no_photos: bool) -> None:
    """Pulihkan hub dari cadangan FILE (hub harus berhenti; berkas diperiksa lebih dulu)."""
    config = settings(ctx)  # the hub itself is not opened: its database may be the damage
    if storage_kind(config) != "sqlite":
        raise click.ClickException("pemulihan dari berkas hanya untuk hub SQLite.")
    folder = Path(config["DATA_DIR"])
    tz = hub_timezone(float(config["JOBS_UTC_OFFSET_HOURS"]))
    try:
        with restore_guard(folder):
            result = restore(folder, file, cli_actor(), datetime.now(tz), tz, not no_photos)
    except HubServing as exc:
        raise HubServingError(
            f"hub sedang berjalan di folder ini (proses {', '.join(exc.owners)}); hentikan hub "
            "dulu, lalu ulangi. Tidak ada yang diganti."
        ) from None
    except RestoreInProgress:
        raise HubServingError(
            "pemulihan lain sedang berjalan di folder ini. Tidak ada yang diganti."
        ) from None
    except RestoreRefused as exc:
        raise click.ClickException(
            f"berkas cadangan ditolak, tidak ada yang diganti: {exc}"
        ) from None
    check = result.check
    click.echo(f"Hub dipulihkan dari {result.source}.")
    click.echo(f"Isi: {_counts(check)}; rantai audit utuh, {check.audit_entries} entri.")
    if check.behind:
        click.echo("Cadangan dari versi hub lebih lama; skemanya sudah dimutakhirkan.")
    if result.aside is not None:
        click.echo(f"Basis data sebelumnya disimpan sebagai {result.aside}.")
    if result.photos_restored:
        click.echo(f"Foto: {result.photos_restored} dikembalikan dari samping cadangan.")
    for problem in result.photos_refused:
        click.echo(f"Foto tidak dikembalikan: {problem}", err=True)
    click.echo("Jalankan hub kembali: pendamping-hub serve")
