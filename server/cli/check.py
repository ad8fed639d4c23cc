"""`pendamping-hub check`: is this hub ready to serve, and on what?

Reads, never writes: the data folder, the storage the configuration names (SQLite or
PostgreSQL, with the backend's version), the migrations it records against this hub's own
(at head, behind: the next start applies the rest, or of a newer hub: refused) and the photo
folder. Exit 0 when the hub can start; 1 with the reason on stderr when it cannot.
"""

from __future__ import annotations

from pathlib import Path

import click

from server.cli.context import emit, printable, settings
from server.storage.probe import StorageProbe, configured_url, probe

__all__ = ["check"]


def _migrations_line(found: StorageProbe) -> str:
    applied, available = len(found.applied), len(found.available)
    last = f" (terakhir {found.applied[-1][1]})" if found.applied else ""
    line = f"Migrasi: {applied} diterapkan dari {available}{last}"
    if found.unknown:
        names = ", ".join(name for _n, name in found.unknown)
        return f"{line}; basis data dari hub versi lebih baru ({names})."
    if found.pending:
        names = ", ".join(name for _n, name in found.pending)
        return f"{line}; belum terbaru: {names} diterapkan saat hub mulai (init/serve)."
    return f"{line}; skema terbaru."


#: where the key that signs the office's sessions comes from (docs/operations.md)
_SECRET_LINES = {
    "setting": "Kunci rahasia: dari SECRET_KEY (samakan di setiap proses dan mesin hub).",
    "file": "Kunci rahasia: berkas secret_key di folder data (beberapa mesin: pakai SECRET_KEY).",
    "none": "Kunci rahasia: belum ada; dibuat di folder data saat hub mulai.",
}


def _secret_source(setting: object, folder: Path) -> str:
    if setting:
        return "setting"
    return "file" if (folder / "secret_key").is_file() else "none"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> None:
    """Periksa hub tanpa mengubah apa pun: folder data, penyimpanan, versi, migrasi."""
    config = settings(ctx)
    folder = Path(config["DATA_DIR"])
    url = configured_url(config)
    try:
        found = probe(url)
    except ValueError as exc:
        raise click.ClickException(
            f"STORAGE_URL tidak dikenal: {exc} (atau postgresql://PENGGUNA@HOST:PORT/NAMA)"
        ) from None
    photos = folder / "attachments"
    secret = _secret_source(config.get("SECRET_KEY"), folder)
    problem = found.problem
    if problem is None and found.unknown:
        problem = "basis data dari hub versi lebih baru; pakai pendamping-hub versi itu."
    payload = {
        "data_dir": str(folder),
        "data_dir_exists": folder.is_dir(),
        "backend": found.backend,
        "where": found.where,
        "version": found.version,
        "migrations": {
            "applied": [name for _n, name in found.applied],
            "available": [name for _n, name in found.available],
            "pending": [name for _n, name in found.pending],
            "unknown": [name for _n, name in found.unknown],
            "at_head": found.at_head,
        },
        "secret_key": secret,
        "attachments": str(photos),
        "attachments_exist": photos.is_dir(),
        "ok": problem is None,
        "problem": problem,
    }
    lines = [
        f"Folder data: {printable(folder)}" + ("" if folder.is_dir() else " (belum ada)"),
        f"Penyimpanan: {found.backend} {found.version or '?'} di {printable(found.where)}",
        _migrations_line(found),
        _SECRET_LINES[secret],
        f"Foto: {printable(photos)}"
        + ("" if photos.is_dir() else " (belum ada; dibuat saat foto pertama)"),
    ]
    if problem is None:
        lines.append("Hub siap dijalankan.")
    emit(as_json, payload, lines)
    if problem is not None:
        raise click.ClickException(problem)
