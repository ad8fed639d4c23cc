"""`pendamping-hub migrate-storage --from sqlite:///... --to postgresql://...`: move a
district hub from its SQLite file into an empty PostgreSQL database, whole.

The rule is :mod:`server.storage.copy`; this command checks the URLs, holds the source's
data folder against a hub starting on it (server/serving.py, as `restore` does), brings the
target's schema to head, copies, and then says what it checked: every table's row count on
both sides and the audit chain verified on the target, read back through the PostgreSQL
storage as `audit verify` reads it. Photos are files and do not move here
(docs/operations.md, "Moving a district").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from server.cli.context import settings
from server.cli.exit_codes import HubServingError
from server.serving import HubServing, RestoreInProgress, restore_guard
from server.storage import StorageError
from server.storage.urls import PG_SCHEMES, hide_secrets, one_line, shown_url, sqlite_path

if TYPE_CHECKING:
    from server.storage.copy import CopyReport

__all__ = ["migrate_storage"]


def _source(value: str | None, data: Path) -> Path:
    if value is None:
        return data / "hub.sqlite3"
    try:
        return sqlite_path(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--from'") from None


def _target(value: str) -> str:
    if not value.startswith(PG_SCHEMES):
        raise click.BadParameter(
            f"harus berbentuk postgresql://PENGGUNA@HOST:PORT/NAMA, bukan {shown_url(value)!r}",
            param_hint="'--to'",
        )
    return value


def _move(source: Path, target: str) -> CopyReport:
    """Bring the target to head, copy into it, then read its chain back as the hub will."""
    # psycopg only when it is asked for: not on every `pendamping-hub` command
    from server.storage.copy import analyze, check_source, check_target_is_a_hub_or_empty, copy_hub
    from server.storage.pg_db import PgDatabase
    from server.storage.pg_migrations import apply_migrations

    where = shown_url(target)
    check_source(source)  # a refused source leaves the target untouched, unmigrated too
    database = PgDatabase(target, max_size=1)
    try:
        with database.read() as conn:
            check_target_is_a_hub_or_empty(conn, where)
        apply_migrations(database)
        report = copy_hub(
            source, database.write, where, progress=lambda t, n: click.echo(f"  {t}: {n} baris")
        )
        try:  # after COMMIT: the copy is there whatever happens here
            with database.read() as conn:
                analyze(conn, report.tables)
        except StorageError as exc:
            click.echo(
                f"Peringatan: statistik tabel belum dibuat ({hide_secrets(one_line(exc), target)});"
                " jalankan ANALYZE di basis data tujuan. Salinan sudah lengkap.",
                err=True,
            )
    finally:
        database.close()
    _read_back(target, where, report)
    return report


def _read_back(target: str, where: str, report: CopyReport) -> None:
    """Read the committed chain through the PostgreSQL storage, as `audit verify` on the
    moved hub will: the same length and head, whole as the source's was."""
    from server.storage.copy import walk_chain
    from server.storage.pg import PostgresStorage

    try:
        storage = PostgresStorage(target)
        try:
            walk = walk_chain(storage.iter_audit())
        finally:
            storage.close()
    except StorageError as exc:
        raise click.ClickException(
            f"hub sudah disalin ke {where}, tetapi rantai auditnya tidak dapat dibaca ulang: "
            f"{one_line(exc)}; periksa dengan `pendamping-hub audit verify`."
        ) from None
    if (walk.entries, walk.head) != (report.audit_entries, report.audit_head) or (
        walk.intact != (not report.audit_problems)
    ):
        raise click.ClickException(
            f"hub sudah disalin ke {where}, tetapi rantai auditnya tidak terbaca sama "
            f"({walk.entries} entri); periksa dengan `pendamping-hub audit verify`."
        )


@click.command("migrate-storage")
@click.option(
    "--from",
    "source_url",
    default=None,
    help="Hub asal: sqlite:///JALUR/hub.sqlite3. Bawaan: sqlite:///DATA_DIR/hub.sqlite3.",
)
@click.option(
    "--to",
    "target_url",
    required=True,
    help="Basis data PostgreSQL tujuan yang kosong: postgresql://PENGGUNA@HOST:PORT/NAMA.",
)
@click.pass_context
def migrate_storage(ctx: click.Context, source_url: str | None, target_url: str) -> None:
    """Pindahkan hub dari berkas SQLite ke basis data PostgreSQL kosong, utuh (hub berhenti)."""
    from server.storage.copy import CopyRefused

    data = Path(settings(ctx)["DATA_DIR"])
    source = _source(source_url, data)
    target = _target(target_url)
    folder = source.resolve().parent
    click.echo(f"Memindahkan hub dari {source} ke {shown_url(target)} ...")
    try:
        if (folder / "serving").is_dir():  # a hub's data folder: no hub may serve it now
            with restore_guard(folder):
                report = _move(source, target)
        else:
            report = _move(source, target)
    except HubServing as exc:
        raise HubServingError(
            f"hub sedang berjalan di folder {folder} (proses {', '.join(exc.owners)}); "
            "hentikan hub dulu, lalu ulangi. Tidak ada yang disalin."
        ) from None
    except RestoreInProgress:
        raise HubServingError(
            f"pemulihan atau pemindahan lain sedang berjalan di folder {folder}. "
            "Tidak ada yang disalin."
        ) from None
    except CopyRefused as exc:
        raise click.ClickException(str(exc)) from None
    except StorageError as exc:
        raise click.ClickException(
            f"basis data tujuan {shown_url(target)} tidak dapat dipakai:"
            f" {hide_secrets(one_line(exc), target)}. "
            "Tidak ada yang disalin."
        ) from None
    _say(report, data)


def _say(report: CopyReport, data: Path) -> None:
    click.echo(
        f"Selesai: {len(report.tables)} tabel, {report.rows} baris; jumlah baris tiap tabel "
        "sama di sumber dan tujuan."
    )
    if report.audit_problems:
        click.echo(
            f"Rantai audit disalin apa adanya: sudah rusak di sumber ({len(report.audit_problems)}"
            " masalah; lihat `pendamping-hub audit verify`).",
            err=True,
        )
    else:
        head = f", entri terakhir hash {report.audit_head}" if report.audit_head else ""
        click.echo(f"Rantai audit utuh di tujuan: {report.audit_entries} entri{head}.")
    click.echo(
        f"Foto tidak ada di basis data: folder {data / 'attachments'} ikut pindah bersama "
        "hub (atau dibagi ke setiap mesin hub)."
    )
    click.echo(
        "Lalu setel PENDAMPING_HUB_STORAGE_URL (atau STORAGE_URL di hub.cfg) ke basis data "
        "tujuan dan jalankan hub; laptop tetap memakai tokennya."
    )
