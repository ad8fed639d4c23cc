"""Opening the laptop store's file: plain SQLite, or encrypted with SQLCipher (`sqlcipher3`).

With a passphrase every page of the database, its WAL and its rollback journal is encrypted
(AES-256, key from the passphrase by SQLCipher's own PBKDF2-HMAC-SHA512, 256,000 rounds, a
random salt per file); without one the stdlib `sqlite3` opens it as before. The two never
mix silently: an encrypted file opened without a passphrase, a wrong passphrase, and a plain
file opened with a passphrase each give one plain line (:mod:`client_sync.errors`).

A new encrypted store has 16 KiB pages (:data:`PAGE_SIZE`): SQLCipher encrypts and
authenticates each page with its own IV and HMAC, so a first sync of 50,000 records writes a
quarter as many and spends about a third less time writing. A store made before has 4 KiB
pages (SQLCipher's default) and keeps them. The page size is not readable before the key
is, so an existing file's key is derived once here, with SQLCipher's own KDF settings and
the file's salt, and given as a raw key to each page size in turn: one key derivation per
open, whichever size the store has.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2 as sqlcipher

from client_sync.errors import NotEncrypted, PassphraseRequired, StoreError, WrongPassphrase

__all__ = [
    "LEGACY_PAGE_SIZE",
    "PAGE_SIZE",
    "SQLITE_HEADER",
    "Error",
    "connect",
    "encrypt_plain",
    "is_encrypted",
    "is_plain",
    "raw_key",
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
#: The page size of a new encrypted store, and the one every store had before it.
PAGE_SIZE = 16_384
LEGACY_PAGE_SIZE = 4_096
#: An encrypted file starts with its random salt (SQLCipher 4, no plaintext header).
_SALT_BYTES = 16
_KEY_BYTES = 32


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


def _normalised(passphrase: str) -> str:
    """NFC, so the same word typed on Windows, macOS or Linux gives the same key."""
    if "\x00" in passphrase:
        raise StoreError("Kata sandi tidak boleh memuat karakter NUL.")
    return unicodedata.normalize("NFC", passphrase)


def _literal(passphrase: str) -> str:
    """The passphrase as an SQL string literal (PRAGMA takes no parameters)."""
    return "'" + _normalised(passphrase).replace("'", "''") + "'"


@cache
def _kdf_settings() -> tuple[str, int]:
    """SQLCipher's KDF for a passphrase key: (hashlib's name of its hash, its rounds)."""
    conn = sqlcipher.connect(":memory:")
    try:
        algorithm = conn.execute("PRAGMA cipher_default_kdf_algorithm").fetchone()[0]
        rounds = int(conn.execute("PRAGMA cipher_default_kdf_iter").fetchone()[0])
    finally:
        conn.close()
    return str(algorithm).removeprefix("PBKDF2_HMAC_").lower(), rounds


def raw_key(passphrase: str, salt: bytes) -> bytes:
    """The key SQLCipher derives from `passphrase` for a file with `salt` (its PBKDF2)."""
    algorithm, rounds = _kdf_settings()
    return hashlib.pbkdf2_hmac(
        algorithm, _normalised(passphrase).encode("utf-8"), salt, rounds, _KEY_BYTES
    )


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
    salt = _salt(path)
    if salt is None:  # a new store: SQLCipher draws its salt and derives its key
        return _keyed(path, _literal(passphrase), PAGE_SIZE)
    key = "\"x'" + raw_key(passphrase, salt).hex() + "'\""
    for page_size in (PAGE_SIZE, LEGACY_PAGE_SIZE):
        try:
            return _keyed(path, key, page_size)
        except WrongPassphrase:
            continue
    raise WrongPassphrase(WRONG)


def _salt(path: Path) -> bytes | None:
    """The salt an existing encrypted file starts with; None for a missing or empty file."""
    try:
        with open(path, "rb") as handle:
            salt = handle.read(_SALT_BYTES)
    except FileNotFoundError:
        return None
    return salt if len(salt) == _SALT_BYTES else None


def _keyed(path: Path, key: str, page_size: int) -> Any:
    """Open `path` with `key` (a passphrase literal or a raw key) and `page_size`.

    :raises WrongPassphrase: the key does not open it at that page size.
    """
    conn = sqlcipher.connect(str(path), isolation_level=None, timeout=_TIMEOUT_S)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our line, not its log
        conn.execute(f"PRAGMA key = {key}")  # first, before anything reads the file
        conn.execute(f"PRAGMA cipher_page_size = {int(page_size)}")
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
        conn.execute(f"PRAGMA encrypted.cipher_page_size = {PAGE_SIZE}")
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
