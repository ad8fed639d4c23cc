"""Opening the laptop store's file: plain SQLite, or encrypted with SQLCipher (`sqlcipher3`).

With a passphrase every page of the database, its WAL and its rollback journal is encrypted
(AES-256, key from the passphrase by SQLCipher's own PBKDF2-HMAC-SHA512, 256,000 rounds, a
random salt per file); without one the stdlib `sqlite3` opens it as before. The two never
mix silently: an encrypted file opened without a passphrase, a wrong passphrase, and a plain
file opened with a passphrase each give one plain line (:mod:`client_sync.errors`).
"""

from __future__ import annotations

import os
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2 as sqlcipher

from client_sync.errors import NotEncrypted, PassphraseRequired, StoreError, WrongPassphrase

__all__ = [
    "SQLITE_HEADER",
    "Error",
    "connect",
    "encrypt_plain",
    "is_encrypted",
    "is_plain",
    "rekey",
]

#: The first 16 bytes of every plain SQLite file; an encrypted one starts with its salt.
SQLITE_HEADER = b"SQLite format 3\x00"
#: What a driver error may be, from either driver (they share no base class).
Error: tuple[type[Exception], ...] = (sqlite3.Error, sqlcipher.Error)

WRONG = "Kata sandi penyimpanan salah."
REQUIRED = "Penyimpanan terenkripsi: setel PENDAMPING_PASSPHRASE atau masukkan kata sandi."
PLAIN = (
    "Penyimpanan laptop ini belum terenkripsi: jalankan `pendamping passphrase set` untuk "
    "mengenkripsinya (tanpa PENDAMPING_PASSPHRASE, penyimpanan tetap dibuka tanpa enkripsi)."
)
_TIMEOUT_S = 10


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return b""


def is_encrypted(path: str | Path) -> bool:
    """Whether `path` holds a database that is not plain SQLite (a SQLCipher one)."""
    head = _head(Path(path))
    return len(head) == len(SQLITE_HEADER) and head != SQLITE_HEADER


def is_plain(path: str | Path) -> bool:
    """Whether `path` holds a plain, readable SQLite database."""
    return _head(Path(path)) == SQLITE_HEADER


def _literal(passphrase: str) -> str:
    """The passphrase as an SQL string literal (PRAGMA takes no parameters), NFC-normalised
    so the same word typed on Windows, macOS or Linux gives the same key."""
    if "\x00" in passphrase:
        raise StoreError("Kata sandi tidak boleh memuat karakter NUL.")
    return "'" + unicodedata.normalize("NFC", passphrase).replace("'", "''") + "'"


def connect(path: str | Path, passphrase: str | None) -> Any:
    """A connection in autocommit mode with a 10 s busy timeout.

    :param passphrase: ``None`` or ``""``: a plain file through stdlib `sqlite3`.
    :raises PassphraseRequired: the file is encrypted and no passphrase was given.
    :raises WrongPassphrase: the passphrase does not open it.
    :raises NotEncrypted: a passphrase was given for a plain file (never left plain silently).
    """
    path = Path(path)
    if not passphrase:
        if is_encrypted(path):
            raise PassphraseRequired(REQUIRED)
        return sqlite3.connect(path, isolation_level=None, timeout=_TIMEOUT_S)
    if is_plain(path):
        raise NotEncrypted(PLAIN)
    key = _literal(passphrase)
    conn = sqlcipher.connect(str(path), isolation_level=None, timeout=_TIMEOUT_S)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our line, not its log
        conn.execute(f"PRAGMA key = {key}")  # first, before anything reads the file
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # checks the key
        conn.execute("PRAGMA temp_store = MEMORY")  # no plain temporary files on disk
    except sqlcipher.DatabaseError as exc:
        conn.close()
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise WrongPassphrase(WRONG) from exc
        raise
    return conn


def rekey(conn: Any, new_passphrase: str) -> None:
    """Re-encrypt the open database under `new_passphrase` (SQLCipher's ``PRAGMA rekey``).

    :raises NotEncrypted: `conn` is a plain store; see :func:`encrypt_plain`.
    """
    if not isinstance(conn, sqlcipher.Connection):
        raise NotEncrypted(PLAIN)
    if not new_passphrase:
        raise StoreError("Kata sandi baru tidak boleh kosong.")
    conn.execute(f"PRAGMA rekey = {_literal(new_passphrase)}")


def encrypt_plain(path: str | Path, passphrase: str) -> None:
    """Turn the plain database at `path` into an encrypted one, in place.

    SQLCipher's ``sqlcipher_export`` copies it into a new encrypted file beside it, which then
    replaces the plain one. No other process may have the store open meanwhile (stop the
    daemon first): on Windows the replace fails if one does; elsewhere its writes would be lost.
    :raises StoreError: `path` is not a plain store, or the passphrase is empty.
    """
    path = Path(path)
    if not is_plain(path):
        raise StoreError(f"{path} bukan penyimpanan SQLite tanpa enkripsi.")
    if not passphrase:
        raise StoreError("Kata sandi baru tidak boleh kosong.")
    temp = path.with_name(path.name + ".encrypting")
    for leftover in (temp, Path(f"{temp}-journal"), Path(f"{temp}-wal")):
        leftover.unlink(missing_ok=True)
    conn = sqlcipher.connect(str(path), isolation_level=None, timeout=_TIMEOUT_S)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute(f"ATTACH DATABASE ? AS encrypted KEY {_literal(passphrase)}", (str(temp),))
        conn.execute("BEGIN IMMEDIATE")  # no writer on the plain file while it is copied
        conn.execute("SELECT sqlcipher_export('encrypted')")
        version = conn.execute("PRAGMA main.user_version").fetchone()[0]
        conn.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE encrypted")
    except BaseException:
        conn.close()
        temp.unlink(missing_ok=True)
        raise
    conn.close()
    with open(temp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, path)
    for side in ("-wal", "-shm"):  # the plain store's, emptied by the checkpoint
        Path(f"{path}{side}").unlink(missing_ok=True)
