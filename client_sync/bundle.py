"""USB bundles, the laptop's side: the outbox (and pending photos) in one signed file.

When there is no link at all, `pendamping export-bundle FILE` writes every pending change
into a zip that someone carries to the district office, where `pendamping-hub import-bundle`
applies it exactly as a push (docs/bundles.md). The changes stay `pending` here: nothing is
delivered until the hub says so. The next time the laptop reaches the hub,
:func:`confirm_exported` asks for the receipts of what was exported (a few bytes per change)
instead of pushing those changes again over a 2G link.

The file's format (``changes.json`` one change per line, ``photos/<sha256>``, the manifest
and its HMAC) is :mod:`schemas.bundle_format`, which the hub reads with too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client_sync.errors import BundleTargetUnusable
from client_sync.hub import HubClient
from client_sync.photos import pending_files
from client_sync.sealed import open_plain
from client_sync.store import FieldStore
from schemas.bundle_format import (
    CHANGES,
    CHANGES_TAIL,
    FIRST_SEPARATOR,
    MANIFEST,
    PHOTO_DIR,
    SEPARATOR,
    SIGNATURE,
    bundle_key,
    changes_head,
    manifest_bytes,
    sign_manifest,
)
from schemas.hlc import iso_from_ms, wall_ms
from schemas.protocol import RECEIPTS_MAX_IDS

__all__ = [
    "BundleSummary",
    "confirm_exported",
    "export_bundle",
    "exported_pending",
]

EXPORT_BATCH_BYTES = 1024 * 1024
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BundleSummary:
    """What an export wrote. `path` is None when there was nothing to export."""

    path: Path | None
    changes: int
    photos: int
    size: int
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path) if self.path else None,
            "changes": self.changes,
            "photos": self.photos,
            "size": self.size,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class _Photo:
    sha256: str
    path: Path


# -- export ----------------------------------------------------------------------------------


def export_bundle(
    store: FieldStore,
    home: str | Path,
    path: str | Path,
    *,
    batch_bytes: int = EXPORT_BATCH_BYTES,
) -> BundleSummary:
    """Write every pending change (and pending photo) into a bundle at `path`.

    `path` may be a folder (the root of a USB stick): the file is then named after the user
    and the time. The bundle is written beside the target under a temporary name, flushed to
    the device and only then renamed, so a stick that fills up or is pulled out never holds
    half a bundle under a good name. With nothing to export no file is written.

    :raises BundleTargetUnusable: the folder does not exist or cannot be written (full,
        read-only, no permission), named as given; the laptop's data is untouched.
    :raises OSError: a photo on the laptop is damaged.
    """
    identity = store.identity
    created_at = iso_from_ms(wall_ms())
    target = Path(path)
    if target.is_dir():
        target = target / _default_name(identity.user, created_at)
    if not target.parent.is_dir():
        raise BundleTargetUnusable(
            f"Folder {_shown(target.parent)} tidak ada, jadi bundle {target} tidak dapat "
            f"ditulis. {WHERE_HINT}"
        )
    photos = list(_pending_photos(store, Path(home)))
    key = store.photo_key()
    if store.pending_count() == 0 and not photos:
        return BundleSummary(None, 0, 0, 0, created_at)
    label = str(target.resolve())
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
                count, digest = _write_changes(bundle, store, label, created_at, batch_bytes)
                files = {CHANGES: digest}
                for photo in photos:
                    files[PHOTO_DIR + photo.sha256] = _write_photo(bundle, photo, key)
                manifest = manifest_bytes(
                    device_id=identity.device_id,
                    user=identity.user,
                    hub_url=identity.hub_url,
                    created_at=created_at,
                    changes=count,
                    files=files,
                )
                bundle.writestr(MANIFEST, manifest)
                signature = sign_manifest(bundle_key(identity.token), manifest)
                bundle.writestr(SIGNATURE, signature.encode("ascii"))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        store.exports.forget(label, created_at)
        if isinstance(exc, OSError) and _about_target(exc, temporary, target):
            raise _unusable(target, exc) from exc
        raise
    _fsync_folder(target.parent)
    return BundleSummary(target, count, len(photos), target.stat().st_size, created_at)


#: Where a USB stick is, for a message about a path that is not one.
WHERE_HINT = (
    "Tulis jalur flashdisk Anda, mis. E:\\ di Windows, /media/<nama-pengguna>/<flashdisk> di "
    "Linux, /Volumes/<flashdisk> di macOS (atau sebuah folder yang ada)."
)
_REASONS = {
    errno.ENOENT: "foldernya tidak ada",
    errno.ENOTDIR: "foldernya tidak ada",
    errno.EACCES: "tidak ada izin menulis di folder itu",
    errno.EPERM: "tidak ada izin menulis di folder itu",
    errno.EROFS: "foldernya hanya-baca",
    errno.ENOSPC: "tempatnya penuh",
}


def _shown(folder: Path) -> str:
    """A folder as the user wrote it, with where that is when it was relative."""
    text = str(folder)
    return text if folder.is_absolute() else f"{text} ({folder.resolve()})"


def _about_target(exc: OSError, temporary: Path, target: Path) -> bool:
    """Whether `exc` is about writing the bundle itself (not a damaged photo on the laptop):
    it names the temporary or the target file, or says the disk is full or read-only."""
    named = {str(exc.filename), str(exc.filename2)}
    return bool(named & {str(temporary), str(target)}) or exc.errno in (errno.ENOSPC, errno.EROFS)


def _unusable(target: Path, exc: OSError) -> BundleTargetUnusable:
    """The error for a bundle that could not be written, naming `target`, not the
    temporary file."""
    reason = _REASONS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return BundleTargetUnusable(
        f"Bundle {target} tidak dapat ditulis: {reason}. Data laptop tidak berubah. {WHERE_HINT}"
    )


def _default_name(user: str, created_at: str) -> str:
    stamp = dt.datetime.fromisoformat(created_at).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in user) or "laptop"
    return f"bundle-{safe}-{stamp}.zip"


def _write_changes(
    bundle: zipfile.ZipFile, store: FieldStore, label: str, created_at: str, batch_bytes: int
) -> tuple[int, str]:
    """Stream the outbox into ``changes.json``, a batch at a time, noting each change as
    exported. :returns: how many changes, and the member's SHA-256."""
    digest = hashlib.sha256()
    count = 0
    with bundle.open(CHANGES, "w", force_zip64=True) as member:

        def put(text: str) -> None:
            data = text.encode("utf-8")
            digest.update(data)
            member.write(data)

        # One change per line: still exactly a push body, and the hub can read it a line
        # at a time instead of holding 100,000 changes at once.
        put(changes_head())
        for batch in store.outbox_batches(batch_bytes):
            put((FIRST_SEPARATOR if count == 0 else SEPARATOR) + SEPARATOR.join(batch.changes_json))
            store.exports.note(batch.change_ids, label, created_at)
            count += len(batch.change_ids)
        put(CHANGES_TAIL)
    return count, digest.hexdigest()


def _write_photo(bundle: zipfile.ZipFile, photo: _Photo, key: bytes | None = None) -> str:
    """Copy one photo in, stored as is (it is compressed already). :returns: its SHA-256.

    :raises OSError: the photo on the laptop no longer matches its name (a damaged file).
    """
    digest = hashlib.sha256()
    info = zipfile.ZipInfo(PHOTO_DIR + photo.sha256, date_time=_zip_time())
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = photo.path.stat().st_size
    with open_plain(photo.path, key, photo.sha256) as source, bundle.open(info, "w") as member:
        while chunk := source.read(_COPY_CHUNK):
            digest.update(chunk)
            member.write(chunk)
    if digest.hexdigest() != photo.sha256:
        raise OSError(f"Foto {photo.path} rusak: isinya tidak sesuai sidik SHA-256-nya.")
    return photo.sha256


def _zip_time() -> tuple[int, int, int, int, int, int]:
    return time.localtime()[:6]


def _pending_photos(store: FieldStore, home: Path) -> Iterator[_Photo]:
    """The photos not yet on the hub (:func:`client_sync.photos.pending_files`)."""
    for pending in pending_files(store):
        path = Path(pending.path)
        yield _Photo(pending.sha256, path if path.is_absolute() else home / path)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the OS allows it (not on Windows)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- after the bundle reached the hub ---------------------------------------------------------


def exported_pending(store: FieldStore) -> int:
    """How many pending changes went into a bundle and await the hub's word."""
    return store.exports.pending_count()


def confirm_exported(
    store: FieldStore, hub_client: HubClient, *, chunk_size: int = RECEIPTS_MAX_IDS
) -> int:
    """Ask the hub for the receipts of pending changes that went into a bundle, and record
    them, so a bundle already imported at the office is not pushed again over the link.

    Call it before pushing. Changes the hub does not know yet (the bundle has not arrived)
    stay pending and are pushed as usual. A hub without the receipts endpoint is treated
    the same way. Makes no request when nothing was exported.

    :param chunk_size: the most change ids one request asks about (the hub refuses more
        than :data:`schemas.protocol.RECEIPTS_MAX_IDS`).
    :returns: how many changes the hub's receipts settled (delivered or refused).
    :raises client_sync.errors.SyncError: the hub could not be asked; nothing is lost.
    """
    confirmed = 0
    asked = False
    for change_ids in store.exports.pending_chunks(chunk_size):
        asked = True
        receipts = hub_client.receipts(change_ids)
        if receipts is None:
            return confirmed
        if receipts:
            store.confirm(receipts)
            confirmed += len(receipts)
    if asked:
        store.exports.drop_settled()
    return confirmed
