"""A photo checked at the doorstep and kept on the laptop, then queued on its record: the
two halves of :func:`client_sync.photos.attach`, for a caller that writes a record and its
photos in one store transaction (the field app's new visit, :mod:`client_sync.visits`).

:func:`keep` checks a photo (size, type by its magic bytes) and copies it into
``<home>/attachments/<sha256>``, sealed on an encrypted store, from a file or from an open
stream (an upload held in memory: no plain copy touches the disk); :func:`queue` puts it in
the store's photo queue and on the record; :func:`forget` removes a copy whose queueing
failed. The SQL is the store's (:mod:`client_sync.store.attachments`).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from client_sync.errors import InvalidRecord
from client_sync.sealed import seal_into
from client_sync.store import FieldStore, NewAttachment
from schemas.codes import PHOTO_KINDS
from schemas.hlc import iso_from_ms, wall_ms
from schemas.media import DEFAULT_ATTACHMENT_MAX_BYTES, SNIFF_BYTES, sniff_media_type

__all__ = [
    "ATTACHMENTS_DIR",
    "InvalidPhoto",
    "KeptPhoto",
    "Source",
    "check_kind",
    "forget",
    "keep",
    "queue",
]

ATTACHMENTS_DIR = "attachments"
_BLOCK = 1024 * 1024
Wall = Callable[[], int]


class InvalidPhoto(InvalidRecord):
    """A photo refused on the laptop (too large, not a photo, unknown kind); names the field."""


Source = Path | BinaryIO
"""A photo to keep: a file on the laptop (`pendamping photo add`) or an open, seekable
binary stream (the app's upload, kept in memory so no plain copy touches the disk)."""


@contextmanager
def _opened(source: Source) -> Iterator[BinaryIO]:
    """`source` read from its start; a stream is left open for its owner."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            yield handle
    else:
        source.seek(0)
        yield source


def _sniff(source: Source, max_bytes: int) -> tuple[str, int]:
    """The photo's media type and size. :raises InvalidPhoto: naming `file`."""
    try:
        with _opened(source) as handle:
            head = handle.read(SNIFF_BYTES)
            size = handle.seek(0, os.SEEK_END)
    except OSError as exc:
        raise InvalidPhoto(
            {"file": [f"Berkas tidak dapat dibaca: {exc.strerror or exc}."]}
        ) from exc
    if size == 0:
        raise InvalidPhoto({"file": ["Berkas kosong."]})
    if size > max_bytes:
        raise InvalidPhoto(
            {
                "file": [
                    f"Foto {size / 2**20:.1f} MiB, lebih dari batas {max_bytes / 2**20:.0f} MiB."
                ]
            }
        )
    media_type = sniff_media_type(head)
    if media_type is None:
        raise InvalidPhoto({"file": ["Bukan foto JPEG, PNG atau WebP."]})
    return media_type, size


def _copy_in(source: Source, folder: Path, key: bytes | None = None) -> tuple[str, Path, bool]:
    """Copy `source` into `folder` under its sha256, durably; sealed with `key` when the
    store is encrypted (:mod:`client_sync.sealed`).

    :returns: the sha256, the kept file, and whether this call made it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{uuid.uuid4().hex}.tmp"
    digest = hashlib.sha256()
    try:
        with _opened(source) as reader:
            while block := reader.read(_BLOCK):
                digest.update(block)
        sha256 = digest.hexdigest()
        with _opened(source) as reader, temp.open("wb") as writer:
            if key is not None:
                seal_into(key, sha256, reader, writer)
            else:
                while block := reader.read(_BLOCK):
                    writer.write(block)
            writer.flush()
            os.fsync(writer.fileno())
        kept = folder / sha256
        if kept.is_file():
            return sha256, kept, False
        os.replace(temp, kept)
        return sha256, kept, True
    finally:
        temp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class KeptPhoto:
    """A photo checked and copied into the laptop's home, not yet queued: :func:`queue`
    puts it on a record, :func:`forget` removes the copy when that write fails."""

    sha256: str
    media_type: str
    size: int
    path: Path
    made: bool  # this keep made the copy (False: the same photo was kept already)


def check_kind(kind: str) -> None:
    """:raises InvalidPhoto: `kind` is not one of :data:`schemas.codes.PHOTO_KINDS`."""
    if kind not in PHOTO_KINDS:
        raise InvalidPhoto({"kind": [f"Harus salah satu dari: {', '.join(PHOTO_KINDS)}."]})


def keep(
    store: FieldStore, source: Source, *, max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES
) -> KeptPhoto:
    """Check a photo at the doorstep (size, type by its magic bytes) and keep a copy in
    ``<home>/attachments`` (sealed on an encrypted store); nothing is queued yet.

    :raises InvalidPhoto: naming `file`.
    """
    media_type, size = _sniff(source, max_bytes)
    sha256, kept, made = _copy_in(source, store.home / ATTACHMENTS_DIR, store.photo_key())
    return KeptPhoto(sha256, media_type, size, kept, made)


def queue(
    store: FieldStore,
    entity: str,
    record_id: str,
    photo: KeptPhoto,
    kind: str,
    *,
    wall: Wall = wall_ms,
) -> None:
    """Queue a kept photo and add its sha256 to the record, in one transaction of the
    store (inside a larger one when the caller holds :meth:`FieldStore.transaction`).

    :raises RecordNotFound: no such record. :raises InvalidRecord: the edit is refused.
    """
    store.attach_photo(
        NewAttachment(
            photo.sha256,
            entity,
            record_id,
            kind,
            photo.media_type,
            photo.size,
            f"{ATTACHMENTS_DIR}/{photo.sha256}",
            iso_from_ms(wall()),
        )
    )


def forget(photos: Sequence[KeptPhoto]) -> None:
    """Remove the copies these keeps made: their queueing failed, nothing refers to them."""
    for photo in photos:
        if photo.made:
            photo.path.unlink(missing_ok=True)
