"""Photo files sealed at rest with AES-256-GCM, when the laptop's store is encrypted.

A photo of a house, an ABF handover or a KTP can show what the encrypted store protects, so
the copy the laptop keeps until the hub has it is sealed too. The key is 32 random bytes
kept *inside* the SQLCipher store (meta `photo_key`), so the passphrase protects it and a
passphrase change does not touch the photos. A plain store keeps plain photos, as before.

The file is cut into segments of :data:`SEGMENT` plaintext bytes, each sealed on its own
(random 96-bit nonce, 128-bit tag, its index and the file's sha256 as associated data, so
segments cannot be swapped, dropped or moved between files), which lets a resumed upload
read from any offset without opening the whole photo::

    MAGIC | for each segment: nonce (12) | ciphertext (≤ SEGMENT) | tag (16)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["MAGIC", "SEGMENT", "SealedError", "open_plain", "seal_into"]

MAGIC = b"PSEAL1\n"
SEGMENT = 64 * 1024
_NONCE, _TAG = 12, 16


class SealedError(OSError):
    """A sealed photo does not open: the wrong key, or the file was changed or cut."""


def new_key() -> bytes:
    return secrets.token_bytes(32)


def _aad(sha256: str, index: int) -> bytes:
    return f"{sha256}:{index}".encode("ascii")


def seal_into(key: bytes, sha256: str, source: BinaryIO, target: BinaryIO) -> None:
    """Write `source`'s bytes (whose sha256 is `sha256`) sealed into `target`."""
    aead = AESGCM(key)
    target.write(MAGIC)
    index = 0
    while block := source.read(SEGMENT):
        nonce = os.urandom(_NONCE)
        target.write(nonce + aead.encrypt(nonce, block, _aad(sha256, index)))
        index += 1


class _PlainView:
    """Read and seek over a sealed file's plaintext, one segment decrypted at a time."""

    def __init__(self, handle: BinaryIO, key: bytes, sha256: str) -> None:
        self._handle = handle
        self._aead = AESGCM(key)
        self._sha256 = sha256
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def _segment(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        stored = SEGMENT + _NONCE + _TAG
        self._handle.seek(len(MAGIC) + index * stored)
        raw = self._handle.read(stored)
        if not raw:
            return b""
        if len(raw) <= _NONCE + _TAG:
            raise SealedError("foto tersegel terpotong")
        try:
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(self._sha256, index))
        except InvalidTag as exc:
            raise SealedError("foto tersegel rusak atau kuncinya salah") from exc
        self._cached = (index, plain)
        return plain

    def seek(self, offset: int) -> int:
        self._pos = offset
        return offset

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            index, within = divmod(self._pos, SEGMENT)
            plain = self._segment(index)[within:]
            if not plain:
                break
            take = plain if size < 0 else plain[: size - len(out)]
            out += take
            self._pos += len(take)
        return bytes(out)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> _PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_plain(path: Path, key: bytes | None, sha256: str) -> BinaryIO:
    """The photo's plaintext as a readable, seekable file, sealed or not (a photo kept
    before the store was encrypted stays plain and still opens)."""
    handle = path.open("rb")
    if handle.read(len(MAGIC)) != MAGIC:
        handle.seek(0)
        return handle
    if key is None:
        handle.close()
        raise SealedError("foto tersegel, tetapi penyimpanan dibuka tanpa kata sandi")
    return _PlainView(handle, key, sha256)  # type: ignore[return-value]
