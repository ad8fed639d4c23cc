"""Photo attachments on the hub: tus uploads in progress, and finished content-addressed blobs.

Files, not SQL: a photo is bytes, and an upload's offset is simply the size of its partial
file, which a crash can never make disagree with a database row. Under ``<DATA_DIR>/attachments/``::

    uploads/<upload_id>.part   the bytes received so far (offset = its size)
    uploads/<upload_id>.json   upload_length, sha256, media_type, device_id, created_at
    blobs/<sha256>             a finished photo, its sha256 and type verified
    blobs/<sha256>.json        size, media_type, device_id, uploaded_at

`uploads/` holds unfinished uploads only: finishing one removes both its files. The upload
id is the photo's sha256 followed by a tag of (device, sha256), so a laptop that lost its
upload URL creates the same upload again and resumes where it stopped, and a finished
upload still answers HEAD (complete) from its blob alone. Only :mod:`pathlib`,
:func:`os.fsync` and :func:`os.replace` are used: the hub runs on Windows too. Refusals are
:mod:`server.exceptions`, as the other hub services raise them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from schemas.media import SHA256_RE, SNIFF_BYTES, sniff_media_type
from schemas.protocol import TUS_LENGTH_HEADER, TUS_OFFSET_HEADER
from server.exceptions import (
    ChecksumMismatch,
    Invalid,
    MediaTypeMismatch,
    MediaTypeNotAllowed,
    Missing,
    OffsetMismatch,
    TooLarge,
    Unavailable,
)
from server.timeutil import utc_iso

__all__ = ["AttachmentStore", "Upload", "upload_id_for"]

log = logging.getLogger(__name__)

_HEX = frozenset("0123456789abcdef")
#: an upload id: sha256 (64 hex) and tag (32 hex); older hubs made the tag alone
_ID_LENGTH, _LEGACY_ID_LENGTH = 96, 32
_FILENAME_MAX = 200
_HASH_BLOCK = 1024 * 1024


def upload_id_for(device_id: str, sha256: str) -> str:
    """The one upload id of a photo from a device: the same every time it is created. It
    starts with the sha256, so the hub finds a finished upload's blob without a record."""
    return sha256 + hashlib.sha256(f"{device_id}:{sha256}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Upload:
    """One tus upload as the hub holds it; `offset == length` once it is complete."""

    upload_id: str
    device_id: str
    sha256: str
    media_type: str
    length: int
    offset: int
    filename: str | None
    created_at: str

    @property
    def complete(self) -> bool:
        return self.offset >= self.length


def _is_upload_id(text: str) -> bool:
    return len(text) in (_ID_LENGTH, _LEGACY_ID_LENGTH) and _HEX.issuperset(text)


def _not_found() -> Missing:
    return Missing("Unggahan tidak ditemukan.")


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write a small JSON file whole or not at all: temp file, fsync, replace."""
    temp = path.with_name(path.name + ".tmp")
    with temp.open("wb") as handle:
        handle.write(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


class AttachmentStore:
    """The hub's attachment files. Thread-safe within one hub process (waitress' threads).

    :param root: the attachments folder, made if missing.
    :param max_bytes: the largest photo taken (``Tus-Max-Size``).
    :param media_types: the media types taken.
    :param clock: the hub's clock as ISO text, injected for tests.
    """

    def __init__(
        self,
        root: Path,
        max_bytes: int,
        media_types: Iterable[str],
        clock: Callable[[], str] = utc_iso,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self.media_types = tuple(media_types)
        self._clock = clock
        self._uploads = self.root / "uploads"
        self._blobs = self.root / "blobs"
        self._uploads.mkdir(parents=True, exist_ok=True)
        self._blobs.mkdir(parents=True, exist_ok=True)
        # One lock per stripe of upload ids: bounded memory, and two PATCHes of the same
        # upload (a retry racing its original) never append at once.
        self._stripes = [threading.Lock() for _ in range(64)]
        self._finishing = threading.Lock()

    # -- paths ------------------------------------------------------------------------------

    def _lock(self, upload_id: str) -> threading.Lock:
        """:raises Missing: an id the hub never makes (checked before any use)."""
        if not _is_upload_id(upload_id):
            raise _not_found()
        return self._stripes[int(upload_id[:8], 16) % len(self._stripes)]

    def _part(self, upload_id: str) -> Path:
        return self._uploads / f"{upload_id}.part"

    def _meta(self, upload_id: str) -> Path:
        return self._uploads / f"{upload_id}.json"

    def blob_path(self, sha256: str) -> Path | None:
        """The finished photo with this sha256, or ``None`` if the hub has none."""
        if not SHA256_RE.fullmatch(sha256 or ""):
            return None
        path = self._blobs / sha256
        return path if path.is_file() else None

    # -- reading ----------------------------------------------------------------------------

    def _read(self, upload_id: str) -> Upload | None:
        """The upload with its current offset, or ``None``. An unreadable one is discarded."""
        if not _is_upload_id(upload_id):
            return None  # never a path made of what a client typed
        try:
            meta = json.loads(self._meta(upload_id).read_bytes())
            upload = Upload(
                upload_id,
                str(meta["device_id"]),
                str(meta["sha256"]),
                str(meta["media_type"]),
                int(meta["upload_length"]),
                0,
                meta.get("filename"),
                str(meta["created_at"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            self._discard(upload_id)
            return None
        if self.blob_path(upload.sha256) is not None:
            self._discard(upload_id)  # finished, by this or another device (files left by
            offset = upload.length  # a crash, or an older hub, go now)
        else:
            try:
                offset = self._part(upload_id).stat().st_size
            except FileNotFoundError:
                offset = 0
        return replace(upload, offset=offset)

    def head(self, device_id: str, upload_id: str) -> Upload:
        """tus ``HEAD``: like :meth:`status`, but an upload whose bytes are all here and
        that was never finished (the hub failed between its last append and the blob: a
        full disk, a power cut) is finished now, so HEAD never calls complete a photo the
        hub does not hold.

        :raises Missing: as :meth:`status`.
        :raises ChecksumMismatch, MediaTypeMismatch: finishing finds it spoiled.
        """
        with self._lock(upload_id):
            upload = self.status(device_id, upload_id)
            if upload.complete and self.blob_path(upload.sha256) is None:
                self._finish(upload)
        return upload

    def status(self, device_id: str, upload_id: str) -> Upload:
        """The upload's offset and length (tus ``HEAD``); a finished one is complete.

        :raises Missing: there is no such upload, or it is another device's.
        """
        upload = self._read(upload_id) or self._finished(device_id, upload_id)
        if upload is None or upload.device_id != device_id:
            raise _not_found()
        return upload

    def _finished(self, device_id: str, upload_id: str) -> Upload | None:
        """`device_id`'s finished upload `upload_id`, from its blob; None if it is none."""
        sha256 = upload_id[:64]
        if upload_id != upload_id_for(device_id, sha256):
            return None  # not an id this device makes (nor a legacy one: those had files)
        blob = self.blob_path(sha256)
        if blob is None:
            return None
        try:
            size = blob.stat().st_size
            meta = json.loads((self._blobs / f"{sha256}.json").read_bytes())
        except (OSError, ValueError):
            return None
        media_type, when = str(meta.get("media_type", "")), str(meta.get("uploaded_at", ""))
        return Upload(upload_id, device_id, sha256, media_type, size, size, None, when)

    # -- writing ----------------------------------------------------------------------------

    def create(
        self,
        device_id: str,
        sha256: str,
        length: int,
        media_type: str,
        filename: str | None = None,
    ) -> Upload:
        """Start an upload (tus creation), or find the one this device already started.

        A photo the hub already holds gets an upload that is complete from the start.
        :raises Invalid: a bad `sha256` or `Upload-Length`.
        :raises TooLarge: over the limit.
        :raises MediaTypeNotAllowed: a media type not taken.
        """
        if not SHA256_RE.fullmatch(sha256):
            raise Invalid.on("sha256", "Harus sha256 berkas (64 huruf hex kecil).")
        if length < 1:
            raise Invalid.on(TUS_LENGTH_HEADER, "Berkas kosong tidak dapat diunggah.")
        if length > self.max_bytes:
            raise TooLarge.on(
                TUS_LENGTH_HEADER,
                f"Berkas {length} bita melebihi batas hub {self.max_bytes} bita.",
            )
        if media_type not in self.media_types:
            raise MediaTypeNotAllowed.on(
                "media_type",
                f"Jenis berkas {media_type!r} tidak diterima; hanya {', '.join(self.media_types)}.",
            )
        blob = self.blob_path(sha256)
        if blob is not None and blob.stat().st_size != length:
            raise Invalid.on(
                TUS_LENGTH_HEADER, f"Berkas sha256 ini berukuran {blob.stat().st_size}."
            )
        upload_id = upload_id_for(device_id, sha256)
        with self._lock(upload_id):
            found = self._read(upload_id)
            if found is not None and (found.length, found.media_type) == (length, media_type):
                if found.complete and self.blob_path(sha256) is None:
                    self._finish(found)  # all bytes here, never finished: finish it now
                return found
            self._discard(upload_id)  # none yet, or one that contradicts this creation
            held = self._finished(device_id, upload_id)
            if held is not None:
                return held  # the hub holds the photo: complete, and nothing kept for it
            meta = {
                "upload_id": upload_id,
                "device_id": device_id,
                "sha256": sha256,
                "media_type": media_type,
                "upload_length": length,
                "filename": (filename or None) and filename[:_FILENAME_MAX],
                "created_at": self._clock(),
            }
            _write_json(self._meta(upload_id), meta)
            upload = self._read(upload_id)
        assert upload is not None
        return upload

    def append(self, device_id: str, upload_id: str, offset: int, data: bytes) -> Upload:
        """Append one PATCH's bytes at `offset`, durably; finish the upload at its length.

        :raises Missing: an unknown upload.
        :raises OffsetMismatch: `offset` is not the hub's.
        :raises TooLarge: more bytes than announced.
        :raises MediaTypeMismatch: the first bytes are not the declared type.
        :raises ChecksumMismatch: the finished file's sha256 differs.
        The last two discard the upload: the laptop starts again.
        """
        with self._lock(upload_id):
            upload = self.status(device_id, upload_id)
            if offset != upload.offset:
                raise OffsetMismatch.on(
                    TUS_OFFSET_HEADER,
                    f"Hub sudah menerima {upload.offset} bita, bukan {offset}.",
                )
            if offset + len(data) > upload.length:
                raise TooLarge.on(
                    TUS_LENGTH_HEADER,
                    f"Lebih dari {upload.length} bita yang diumumkan saat unggahan dibuat.",
                )
            if not data:
                return upload
            if offset == 0 and len(data) >= SNIFF_BYTES:
                self._check_type(upload, data[:SNIFF_BYTES])  # refuse early, on 2G bytes
            with self._part(upload_id).open("ab") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            upload = replace(upload, offset=offset + len(data))
            if upload.complete:
                self._finish(upload)
            return upload

    def _check_type(self, upload: Upload, head: bytes) -> None:
        found = sniff_media_type(head)
        if found != upload.media_type:
            self._discard(upload.upload_id)
            raise MediaTypeMismatch.on(
                "media_type",
                f"Isi berkas bukan {upload.media_type} ({found or 'jenis tidak dikenal'}).",
            )

    def _finish(self, upload: Upload) -> None:
        """Verify the whole file, then move it into blobs/ under its sha256.

        :raises ChecksumMismatch, MediaTypeMismatch: the upload is discarded.
        :raises Unavailable: the disk fails (the bytes stay; the next HEAD finishes it).
        """
        try:
            self._verify_and_keep(upload)
        except OSError as exc:
            log.error("cannot finish upload %s: %s", upload.upload_id, exc)
            raise Unavailable(
                "Hub tidak dapat menyimpan foto sekarang; foto tetap di laptop, coba lagi nanti.",
                retry_after_s=60,
            ) from exc

    def _verify_and_keep(self, upload: Upload) -> None:
        part = self._part(upload.upload_id)
        digest = hashlib.sha256()
        with part.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
            digest.update(head)
            while block := handle.read(_HASH_BLOCK):
                digest.update(block)
        if digest.hexdigest() != upload.sha256:
            self._discard(upload.upload_id)
            raise ChecksumMismatch.on(
                "sha256",
                "Isi berkas tidak cocok dengan sha256-nya; unggahan dibuang, kirim ulang.",
            )
        self._check_type(upload, head)
        blob = self._blobs / upload.sha256
        with self._finishing:
            if blob.is_file():
                self._discard(upload.upload_id)  # another device finished the same photo
                return
            _write_json(
                self._blobs / f"{upload.sha256}.json",
                {
                    "sha256": upload.sha256,
                    "size": upload.length,
                    "media_type": upload.media_type,
                    "device_id": upload.device_id,
                    "uploaded_at": self._clock(),
                },
            )
            os.replace(part, blob)  # the blob's existence is what marks it finished
        _remove(self._meta(upload.upload_id))  # HEAD answers from the blob from now on

    def _discard(self, upload_id: str) -> None:
        _remove(self._part(upload_id))
        _remove(self._meta(upload_id))


def _remove(path: Path) -> None:
    """Delete a file if it is there; on Windows one still open elsewhere stays (logged)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc)
