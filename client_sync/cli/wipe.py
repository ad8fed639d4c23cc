"""`pendamping wipe [--force] [--yes]`: erase this laptop's data, but never silently lose work.

DESIGN.md §5: a revoked (or handed-over) laptop wipes its store only after what it could
still deliver was delivered or exported. So the command first counts what the hub does not
hold: changes waiting or refused, photos not uploaded, changes that went only into a USB
bundle the hub has not confirmed. With nothing undelivered it asks once (or takes `--yes`)
and deletes the store files and the photos folder. Otherwise it refuses, listing what would
be lost, unless `--force`, which lists it too and then wants the laptop's user name typed
(or `--yes`, for scripts).
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import click

from client_sync.bundle import exported_pending
from client_sync.cli.failures import EXIT_ERROR, Failure
from client_sync.cli.home import home_of, interactive, store_passphrase
from client_sync.device import STORE_FILE, FieldDevice
from client_sync.photos import ATTACHMENTS_DIR, list_photos
from client_sync.store import FieldStore

__all__ = ["Undelivered", "erase_home", "undelivered", "wipe"]

#: The store's file and the files SQLite (or SQLCipher) keeps beside it.
STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Undelivered:
    """What the hub does not hold of this laptop's work."""

    pending: int  # changes waiting to be sent
    in_bundle: int  # of those, changes already in a USB bundle the hub has not confirmed
    rejected: int  # changes the hub refused, kept for the pendamping to correct
    photos: int  # photos not uploaded (waiting, or refused by the hub)

    @property
    def nothing(self) -> bool:
        return not (self.pending or self.rejected or self.photos)

    def lines(self) -> list[str]:
        """One line per kind of loss, for people."""
        lines = []
        if self.pending:
            only_bundle = (
                f" ({self.in_bundle} di antaranya hanya ada di bundle USB yang belum "
                "dikonfirmasi hub)"
                if self.in_bundle
                else ""
            )
            lines.append(f"- {self.pending} perubahan belum terkirim ke hub{only_bundle}")
        if self.rejected:
            lines.append(f"- {self.rejected} perubahan ditolak hub (lihat `pendamping status`)")
        if self.photos:
            lines.append(f"- {self.photos} foto belum terunggah (lihat `pendamping photo list`)")
        return lines


def undelivered(store: FieldStore) -> Undelivered:
    """Count what wiping `store` would lose."""
    info = store.status()
    photos = sum(1 for photo in list_photos(store) if photo["state"] != "uploaded")
    return Undelivered(info["pending"], exported_pending(store), info["rejected"], photos)


def _remove_tree(folder: Path) -> int:
    """Delete `folder` and everything in it, read-only files too (Windows marks some so).

    :returns: how many files were removed.
    """
    files = 0
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            _unlink(path)
            files += 1
    folder.rmdir()
    return files


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except PermissionError:
        os.chmod(path, stat.S_IWRITE)  # a read-only file on Windows
        path.unlink(missing_ok=True)


def erase_home(home: Path) -> list[str]:
    """Delete the store's files and the photos folder of `home` (the store must be closed).

    :returns: what was removed, one item per file or folder.
    """
    removed = []
    for suffix in STORE_SUFFIXES:
        path = home / f"{STORE_FILE}{suffix}"
        if path.exists():
            _unlink(path)
            removed.append(path.name)
    photos = home / ATTACHMENTS_DIR
    if photos.is_dir():
        count = _remove_tree(photos)
        removed.append(f"{ATTACHMENTS_DIR}/ ({count} berkas)")
    with contextlib.suppress(OSError):
        home.rmdir()  # only when nothing else is left in it
    return removed


@click.command("wipe")
@click.option(
    "--force",
    is_flag=True,
    help="Hapus juga bila ada data yang belum sampai ke hub (data itu hilang).",
)
@click.option("--yes", is_flag=True, help="Tanpa pertanyaan konfirmasi (untuk skrip).")
@click.pass_context
def wipe(ctx: click.Context, force: bool, yes: bool) -> None:
    """Hapus data laptop ini (penyimpanan dan foto), hanya bila semuanya sudah sampai ke hub.

    Bila ada yang belum terkirim, perintah menolak dan menyebutkannya; bawa dulu
    `pendamping export-bundle` ke kantor dinas. --force menghapus tetap, setelah Anda
    mengetik nama pengguna laptop ini (atau --yes)."""
    home = home_of(ctx)
    dev = FieldDevice.open(home, passphrase=store_passphrase(home))
    try:
        user = dev.store.identity.user
        lost = undelivered(dev.store)
    finally:
        dev.close()  # before deleting: Windows cannot delete an open file
    if not lost.nothing:
        heading = "Data berikut belum sampai ke hub dan akan HILANG bila laptop ini dihapus:"
        advice = (
            "Bawa `pendamping export-bundle FILE` ke kantor dinas (atau `pendamping sync` bila "
            "laptop masih diterima hub), lalu ulangi."
        )
        if not force:
            raise Failure(
                [f"Tidak dihapus. {heading}", *lost.lines(), advice, "`--force` menghapus tetap."],
                EXIT_ERROR,
            )
        click.echo(heading)
        for line in lost.lines():
            click.echo(line)
        if not yes:
            typed = _ask(f"Ketik nama pengguna laptop ini ({user}) untuk tetap menghapus")
            if typed.strip() != user:
                raise Failure("Nama tidak cocok; tidak ada yang dihapus.", EXIT_ERROR)
    elif not yes and not _confirm(f"Semua data sudah di hub. Hapus data laptop di {home}?"):
        raise Failure("Tidak ada yang dihapus.", EXIT_ERROR)
    try:
        removed = erase_home(home)
    except OSError as exc:
        raise Failure(
            f"Tidak semua berkas dapat dihapus ({exc}); hentikan `pendamping daemon` dan "
            "program lain yang membuka folder ini, lalu ulangi.",
            EXIT_ERROR,
        ) from exc
    click.echo(f"Dihapus dari {home}: {', '.join(removed) or 'tidak ada berkas'}.")
    click.echo(
        "Salinan lama mungkin tersisa di blok kosong disk; enkripsi disk penuh (BitLocker, "
        "LUKS) yang melindunginya."
    )


def _need_terminal() -> None:
    if not interactive():
        raise Failure(
            "Konfirmasi diperlukan, tetapi tidak ada terminal: tambahkan --yes.", EXIT_ERROR
        )


def _ask(question: str) -> str:
    _need_terminal()
    return str(click.prompt(question, default="", show_default=False, err=True))


def _confirm(question: str) -> bool:
    _need_terminal()
    return click.confirm(question, default=False, err=True)
