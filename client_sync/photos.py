"""Photos attached to records on the laptop, and their resumable upload to the hub.

:func:`attach` checks a photo at the doorstep (size, type by its magic bytes), copies it
into ``<home>/attachments/<sha256>`` so the camera's copy can go, then queues it and adds its
sha256 to the record (an ordinary edit, so the reference travels as a change like any
other) in one transaction of the store; :mod:`client_sync.photo_keep` holds its two halves,
for a caller that writes a record and its photos in one transaction (the field app's new
visit: every photo checked and kept first, then the visit and the photos' queueing in one
:meth:`FieldStore.transaction`, :func:`forget` when it fails). :func:`upload_pending` then
sends queued photos by tus, in chunks (one PATCH each: the hub's waitress drops a request
cut mid-body whole, so a cut loses at most one chunk), and only once their record has
reached the hub: a record syncs before its photos. The queue is the ``attachments`` table
of the laptop store, whose SQL lives in :mod:`client_sync.store.attachments`; this module
holds none. It needs the store only (not a `FieldDevice`), so store, photos, bundles and
engine import one way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from client_sync.errors import (
    HubRefused,
    HubUnreachable,
    ProtocolError,
    Unauthorized,
)
from client_sync.hub import HubClient
from client_sync.photo_keep import (
    ATTACHMENTS_DIR,
    InvalidPhoto,
    KeptPhoto,
    Source,
    check_kind,
    forget,
    keep,
    queue,
)
from client_sync.sealed import SealedError, open_plain
from client_sync.store import FieldStore
from client_sync.tus import OffsetMismatch, TusClient, UploadGone
from schemas.codes import ENTITIES
from schemas.error_codes import ErrorCode
from schemas.hlc import iso_from_ms, wall_ms
from schemas.media import DEFAULT_ATTACHMENT_MAX_BYTES, SNIFF_BYTES, sniff_media_type

__all__ = [
    "ATTACHMENTS_DIR",
    "DEFAULT_CHUNK_BYTES",
    "InvalidPhoto",
    "KeptPhoto",
    "PendingFile",
    "PhotoSummary",
    "Source",
    "attach",
    "check_kind",
    "forget",
    "keep",
    "list_photos",
    "pending_files",
    "queue",
    "read_kept",
    "upload_pending",
]

#: Bytes per PATCH: ~8 s at 256 kbit/s, so a dropped link costs at most that much again.
DEFAULT_CHUNK_BYTES = 256 * 1024
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_BLOCK = 1024 * 1024
_MAX_OFFSET_RETRIES = 3

#: Called after each chunk the hub confirmed: (sha256, bytes the hub holds, size).
Progress = Callable[[str, int, int], None]
Wall = Callable[[], int]


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A photo still to reach the hub: for the USB bundle, which carries files too."""

    sha256: str
    path: Path
    media_type: str
    size: int


@dataclass(slots=True)
class PhotoSummary:
    """What one upload round did.

    `sent` photos the hub now holds whole; `bytes_sent` bytes it confirmed this round;
    `refused` photos it (or the laptop) refused; `pending` photos still waiting after the
    round; `interrupted` the link failed and the round stopped, to resume next time.
    """

    sent: int = 0
    bytes_sent: int = 0
    refused: int = 0
    pending: int = 0
    interrupted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "bytes_sent": self.bytes_sent,
            "refused": self.refused,
            "pending": self.pending,
            "interrupted": self.interrupted,
        }


def _absolute(store: FieldStore, relative: str) -> Path:
    return store.home.joinpath(*PurePosixPath(relative).parts)


# -- attaching ------------------------------------------------------------------------------


def attach(
    store: FieldStore,
    entity: str,
    record_id: str,
    file_path: str | Path | BinaryIO,
    kind: str,
    *,
    max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES,
    wall: Wall = wall_ms,
) -> str:
    """Attach a photo to a record: check it, keep a copy, queue it, reference it.

    Works with no network. The photo is queued and the record's `attachments` gains its
    sha256 in one transaction of the store (:meth:`FieldStore.attach_photo`), so it syncs
    as an ordinary change; the file follows later.

    :returns: the photo's sha256.
    :raises InvalidPhoto: a bad kind or file. :raises RecordNotFound: no such record.
    """
    check_kind(kind)
    if entity not in ENTITIES:
        raise InvalidPhoto({"entity": [f"Harus salah satu dari: {', '.join(ENTITIES)}."]})
    store.get(entity, record_id)
    source = Path(file_path) if isinstance(file_path, str) else file_path
    photo = keep(store, source, max_bytes=max_bytes)
    try:
        queue(store, entity, record_id, photo, kind, wall=wall)
    except BaseException:
        forget([photo])  # the queue and the record are untouched: the kept copy goes too
        raise
    return photo.sha256


# -- the queue ------------------------------------------------------------------------------


def pending_files(store: FieldStore) -> list[PendingFile]:
    """Every photo the hub does not hold yet, oldest first, with its file on this laptop."""
    return [
        PendingFile(sha, _absolute(store, path), media_type, size)
        for sha, path, media_type, size in store.attachments.pending()
    ]


def list_photos(store: FieldStore) -> list[dict[str, Any]]:
    """Every photo on this laptop with its state and how much the hub has confirmed."""
    return store.attachments.listed()


def read_kept(store: FieldStore, sha256: str) -> tuple[bytes, str]:
    """A photo kept on this laptop, unsealed, and its media type (sniffed from its bytes),
    for showing it (the field app's photo view).

    :raises FileNotFoundError: no such photo kept here (a bad name, or one only the hub
        holds). :raises SealedError: it does not open (wrong key, changed or cut file).
    """
    if not (len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
        raise FileNotFoundError(sha256)
    with open_plain(store.home / ATTACHMENTS_DIR / sha256, store.photo_key(), sha256) as handle:
        data = handle.read()
    media_type = sniff_media_type(data[:SNIFF_BYTES])
    if media_type is None:
        raise SealedError("not a photo")
    return data, media_type


# -- uploading ------------------------------------------------------------------------------


def upload_pending(
    store: FieldStore,
    hub_client: HubClient,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: Progress | None = None,
    wall: Wall = wall_ms,
) -> PhotoSummary:
    """Send queued photos whose record has no change still pending in the outbox.

    A lost link (:class:`HubUnreachable`) or a garbled answer stops the round quietly with
    `interrupted` set: what the hub confirmed is kept, and the next round asks it (HEAD)
    where to resume. A refusal marks the photo `refused` with the hub's message; its file
    stays. :raises Unauthorized: the hub no longer accepts this laptop.
    """
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes must be positive")
    tus = TusClient(hub_client.transport, hub_client.token)
    summary = PhotoSummary()
    for row in store.attachments.ready():
        try:
            _Upload(store, tus, row, chunk_bytes, progress, summary, wall).run()
        except (HubUnreachable, ProtocolError):
            summary.interrupted = True
            break
    summary.pending = store.attachments.pending_count()
    return summary


class _Upload:
    """One photo's trip: create if needed, HEAD for the offset, PATCH chunk by chunk."""

    def __init__(
        self,
        store: FieldStore,
        tus: TusClient,
        row: tuple[Any, ...],
        chunk_bytes: int,
        progress: Progress | None,
        summary: PhotoSummary,
        wall: Wall,
    ) -> None:
        self.sha256, self.kind, self.media_type, self.size, relative, self.url = row
        self.path = _absolute(store, relative)
        self.key = store.photo_key()
        self.attachments, self.tus, self.chunk_bytes = store.attachments, tus, chunk_bytes
        self.progress, self.summary, self.wall = progress, summary, wall

    def _set(self, **values: Any) -> None:
        self.attachments.set(self.sha256, **values)

    def _refuse(self, message: str) -> None:
        self._set(state="refused", error=message)
        self.summary.refused += 1

    def run(self) -> None:
        if not self.path.is_file():
            self._refuse("Berkas foto tidak ada lagi di laptop.")
            return
        fresh_starts = 0  # a re-creation after 404, or a new start after a sha256 mismatch
        while True:
            try:
                self._send()
                return
            except Unauthorized:
                raise
            except OSError as exc:
                self._refuse(f"Berkas foto tidak dapat dibaca di laptop: {exc.strerror or exc}.")
                return
            except UploadGone:
                if fresh_starts:
                    raise ProtocolError(
                        "Hub kehilangan unggahan lagi; dicoba di sinkron berikut."
                    ) from None
            except HubRefused as exc:
                if exc.status != ErrorCode.CHECKSUM_MISMATCH.status or fresh_starts:
                    self._refuse(str(exc))
                    return
                if not self._intact():
                    self._refuse(_CORRUPT)
                    return
                # spoiled on the way: the hub discarded its copy, so start again, once
            fresh_starts += 1
            self.url = None
            self._set(upload_url=None, bytes_sent=0)

    def _intact(self) -> bool:
        """Whether the kept file still has the sha256 it is named by."""
        digest = hashlib.sha256()
        try:
            with open_plain(self.path, self.key, self.sha256) as handle:
                while block := handle.read(_BLOCK):
                    digest.update(block)
        except SealedError:
            return False
        return digest.hexdigest() == self.sha256

    def _send(self) -> None:
        if self.url is None:
            filename = f"{self.kind}-{self.sha256[:12]}.{_EXTENSIONS.get(self.media_type, 'bin')}"
            self.url = self.tus.create(
                self.size,
                {"sha256": self.sha256, "media_type": self.media_type, "filename": filename},
            )
            self._set(upload_url=self.url)  # durable before any byte: a lost URL costs a POST
        state = self.tus.head(self.url)
        if state.length != self.size:  # not this file's upload: make it again, once
            raise UploadGone(409, "length_mismatch", "Panjang unggahan di hub berbeda.")
        offset = state.offset
        self._set(bytes_sent=offset)
        mismatches = 0
        with open_plain(self.path, self.key, self.sha256) as handle:
            while offset < self.size:
                handle.seek(offset)
                chunk = handle.read(self.chunk_bytes)
                if not chunk:
                    self._refuse("Berkas foto di laptop berubah ukuran.")
                    return
                try:
                    offset = self.tus.patch(self.url, offset, chunk)
                except OffsetMismatch:
                    mismatches += 1  # e.g. a retried PATCH whose first try had landed
                    if mismatches > _MAX_OFFSET_RETRIES:
                        raise ProtocolError("Offset hub terus berubah.") from None
                    offset = self.tus.head(self.url).offset
                    continue
                self.summary.bytes_sent += len(chunk)
                self._set(bytes_sent=offset)
                if self.progress is not None:
                    self.progress(self.sha256, offset, self.size)
        self._set(
            state="uploaded", error=None, uploaded_at=iso_from_ms(self.wall()), bytes_sent=self.size
        )
        self.summary.sent += 1


_CORRUPT = "Berkas foto di laptop rusak: isinya tidak cocok lagi dengan sha256-nya."
