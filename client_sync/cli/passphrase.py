"""`pendamping passphrase set|change`: encrypt a plain store, or change the passphrase.

    pendamping passphrase set       encrypt a store enrolled with --no-passphrase (or older)
    pendamping passphrase change    old passphrase -> new one (SQLCipher's PRAGMA rekey)

Passphrases come from the environment for scripts, else are asked (hidden) on a terminal;
see docs/cli.md.
"""

from __future__ import annotations

import click

from client_sync.cli.failures import EXIT_ERROR, Failure
from client_sync.cli.home import home_of, new_passphrase, store_passphrase
from client_sync.database import encrypt_plain, is_encrypted, is_plain
from client_sync.device import PASSPHRASE_ENV, STORE_FILE, FieldDevice

__all__ = ["NEW_PASSPHRASE_ENV", "passphrase"]

#: The new passphrase of `passphrase change` for scripts.
NEW_PASSPHRASE_ENV = "PENDAMPING_NEW_PASSPHRASE"
_AFTER = (
    "Perbarui PENDAMPING_PASSPHRASE di mana pun ia disetel (mis. tugas daemon) lalu mulai "
    "ulang daemon. Foto di folder attachments tidak terenkripsi."
)


@click.group()
def passphrase() -> None:
    """Kata sandi penyimpanan laptop (enkripsi SQLCipher)."""


@passphrase.command("set")
@click.pass_context
def passphrase_set(ctx: click.Context) -> None:
    """Enkripsi penyimpanan yang belum terenkripsi. Hentikan daemon dahulu.

    Kata sandi dari PENDAMPING_PASSPHRASE, atau ditanyakan dua kali."""
    home = home_of(ctx)
    path = home / STORE_FILE
    if is_encrypted(path):
        raise Failure(
            "Penyimpanan ini sudah terenkripsi; untuk mengganti kata sandi: "
            "`pendamping passphrase change`."
        )
    FieldDevice.open(home, passphrase="").close()  # enrolled, and migrated to head
    if not is_plain(path):
        raise Failure(f"Penyimpanan {path} tidak dapat dibaca.", EXIT_ERROR)
    new = new_passphrase(PASSPHRASE_ENV)
    try:
        encrypt_plain(path, new)
    except PermissionError as exc:
        raise Failure(
            f"Penyimpanan sedang dipakai program lain (daemon?): hentikan dahulu ({exc})."
        ) from exc
    FieldDevice.open(home, passphrase=new).close()  # proves the new file opens
    click.echo(f"Penyimpanan {path} kini terenkripsi. {_AFTER}")


@passphrase.command("change")
@click.pass_context
def passphrase_change(ctx: click.Context) -> None:
    """Ganti kata sandi penyimpanan: yang lama dari PENDAMPING_PASSPHRASE atau ditanyakan,
    yang baru dari PENDAMPING_NEW_PASSPHRASE atau ditanyakan dua kali."""
    home = home_of(ctx)
    if not is_encrypted(home / STORE_FILE):
        FieldDevice.open(home, passphrase="").close()  # not enrolled: says so
        raise Failure("Penyimpanan ini belum terenkripsi: jalankan `pendamping passphrase set`.")
    with FieldDevice.open(home, passphrase=store_passphrase(home)) as dev:
        new = new_passphrase(NEW_PASSPHRASE_ENV)
        dev.store.rekey(new)
    FieldDevice.open(home, passphrase=new).close()
    click.echo(f"Kata sandi penyimpanan diganti. {_AFTER}")
