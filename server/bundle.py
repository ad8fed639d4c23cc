"""USB bundles, the hub's side: check a laptop's bundle from end to end, then apply it as a push.

A bundle (docs/bundles.md) is a zip written by `pendamping export-bundle`: ``changes.json``
(a push body, one change per line), ``photos/<sha256>``, ``manifest.json`` with the SHA-256
of every member, and ``manifest.hmac``, keyed with the SHA-256 of the device's token, which
is what the hub stores. Everything is checked before anything is written; then the changes
go through :meth:`server.sync.SyncService.push` in slices, so they get the very receipts a
push would and a second import of the same bundle changes nothing.

The zip itself is read by :mod:`server.bundle_reader`. A refused bundle raises
:class:`server.exceptions.BundleRefused`, whose `.slug` is a
:class:`schemas.bundle_format.BundleRefusal`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from schemas.bundle_format import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    CHANGES,
    MANIFEST,
    PHOTO_NAME,
    SIGNATURE,
    SIGNATURE_MAX_BYTES,
    BundleRefusal,
    sign_manifest,
)
from schemas.media import SNIFF_BYTES, sniff_media_type
from server.attachments import AttachmentStore
from server.bundle_reader import (
    BundleLimits,
    Member,
    check_members,
    iter_changes,
    limit_of,
    read_small,
)
from server.exceptions import BundleRefused, HubError
from server.storage import Device, NotFound
from server.sync import PushOrigin

if TYPE_CHECKING:
    from server.state import HubState

__all__ = ["BundleLimits", "BundleRefused", "ImportSummary", "import_bundle"]

#: Changes applied per push transaction, as a laptop's batches are.
SLICE = 2000
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(slots=True)
class ImportSummary:
    """What an import did. Statuses count what this import wrote, per receipt status;
    changes the hub had seen before (an earlier import, a push) wrote nothing and are
    counted only in `duplicates`, so a second import of one bundle says 0 applied."""

    device_id: str
    device_name: str
    user: str
    created_at: str
    changes: int = 0
    applied: int = 0
    merged: int = 0
    conflict: int = 0
    rejected: int = 0
    duplicates: int = 0
    photos: int = 0
    photos_stored: int = 0
    revoked: bool = False
    #: photos the attachment store refused (type, size), one line each; the changes stand
    photo_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_bundle(
    hub: HubState,
    path: str | Path,
    *,
    allow_revoked: bool = False,
    limits: BundleLimits | None = None,
    attachments: AttachmentStore | None = None,
    actor: str = "hub",
    authorise: Callable[[Device], None] | None = None,
) -> ImportSummary:
    """Check the bundle at `path` and apply it as its device's push.

    Each slice's audit entry names `actor` (who imported it), the signing device and the
    SHA-256 of the bundle file.

    :param hub: the hub's storage and sync service (:func:`server.state.hub_state`).
    :param allow_revoked: take a bundle from a revoked device (an admin's explicit choice).
    :param attachments: where the photos go; without it they are checked but not kept.
    :param authorise: called with the signing device before anything is written; it raises
        (a :class:`~server.exceptions.HubError`) to refuse the bundle, e.g. a supervisor's
        upload of a laptop outside their wilayah.
    :raises BundleRefused: anything is wrong; nothing was written.
    :raises OSError: the file cannot be read.
    """
    limits = limits or BundleLimits()
    try:
        bundle = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise BundleRefused(
            BundleRefusal.NOT_ZIP, f"{Path(path).name} bukan berkas bundle (bukan zip)."
        ) from exc
    with bundle:
        infos = check_members(bundle, limits)
        manifest_bytes = read_small(bundle, infos[MANIFEST], limits.manifest_bytes)
        signature = read_small(bundle, infos[SIGNATURE], SIGNATURE_MAX_BYTES)
        manifest = _parse_manifest(manifest_bytes)
        device = _authenticate(hub, manifest, manifest_bytes, signature)
        if authorise is not None:
            authorise(device)
        _check_manifest(manifest, infos)
        if device.revoked_at and not allow_revoked:
            raise BundleRefused(
                BundleRefusal.DEVICE_REVOKED,
                f"Laptop {device.name} ({device.user.name}) sudah dicabut pada "
                f"{device.revoked_at}; bundle darinya hanya diterima lewat impor admin yang "
                "disengaja (--allow-revoked).",
            )
        count, kept = _verify(bundle, infos, manifest["files"], limits)
        if count != manifest["changes"]:
            raise BundleRefused(
                BundleRefusal.BAD_MANIFEST,
                f"changes.json berisi {count} perubahan, manifest menyebut {manifest['changes']}.",
            )
        summary = ImportSummary(
            device.device_id,
            device.name,
            device.user.name,
            str(manifest.get("created_at", "")),
            revoked=bool(device.revoked_at),
        )
        with open(path, "rb") as raw:
            file_sha256 = hashlib.file_digest(raw, "sha256").hexdigest()
        origin = PushOrigin(
            actor, "bundle_import", {"bundle_sha256": file_sha256, "signer": device.device_id}
        )
        _apply(hub, bundle, device, manifest["files"], limits, summary, attachments, origin, kept)
    return summary


# -- the checks, in the order docs/bundles.md gives ------------------------------------------


def _parse_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = orjson.loads(data)
    except orjson.JSONDecodeError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleRefused(
            BundleRefusal.BAD_MANIFEST, "manifest.json rusak atau bukan manifest bundle."
        )
    if manifest.get("version") != BUNDLE_VERSION:
        raise BundleRefused(
            BundleRefusal.BAD_MANIFEST,
            f"Versi bundle {manifest.get('version')!r} tidak dikenal hub ini; perbarui hub.",
        )
    if not isinstance(manifest.get("device_id"), str):
        raise BundleRefused(BundleRefusal.BAD_MANIFEST, "manifest.json tidak menyebut device_id.")
    return manifest


def _authenticate(
    hub: HubState, manifest: dict[str, Any], manifest_bytes: bytes, signature: bytes
) -> Device:
    """The device that made the bundle, if its key signed these very manifest bytes."""
    device_id = manifest["device_id"]
    try:
        token_hash = hub.storage.device_token_hash(device_id)
        device = hub.storage.get_device(device_id)
    except NotFound:
        raise BundleRefused(
            BundleRefusal.UNKNOWN_DEVICE, f"Laptop {device_id} tidak terdaftar di hub ini."
        ) from None
    expected = sign_manifest(bytes.fromhex(token_hash), manifest_bytes)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().lower()):
        raise BundleRefused(
            BundleRefusal.BAD_SIGNATURE,
            "Tanda tangan tidak cocok: bundle diubah atau bukan dari laptop ini.",
        )
    return device


def _check_manifest(manifest: dict[str, Any], infos: Mapping[str, zipfile.ZipInfo]) -> None:
    """The manifest lists exactly the members there are, with a SHA-256 each."""
    files, changes = manifest.get("files"), manifest.get("changes")
    if (
        not isinstance(files, dict)
        or type(changes) is not int
        or changes < 0
        or not all(isinstance(v, str) and _SHA256.fullmatch(v) for v in files.values())
    ):
        raise BundleRefused(
            BundleRefusal.BAD_MANIFEST, "manifest.json tidak lengkap (files, changes)."
        )
    members = set(infos) - {MANIFEST, SIGNATURE}
    if CHANGES not in files:
        raise BundleRefused(BundleRefusal.BAD_MANIFEST, "Manifest tidak menyebut changes.json.")
    for name in sorted(members ^ set(files)):
        where = "tidak ada di dalam bundle" if name in files else "tidak disebut manifest"
        raise BundleRefused(BundleRefusal.BAD_MANIFEST, f"{name} {where}.")
    for name, digest in files.items():
        photo = PHOTO_NAME.fullmatch(name)
        if photo and photo.group(1) != digest:
            raise BundleRefused(
                BundleRefusal.BAD_MANIFEST, f"{name}: nama dan sidik di manifest berbeda."
            )


def _verify(
    bundle: zipfile.ZipFile,
    infos: Mapping[str, zipfile.ZipInfo],
    files: Mapping[str, str],
    limits: BundleLimits,
) -> tuple[int, list[Any] | None]:
    """Read every member once, front to back: its SHA-256 against the manifest, and
    changes.json's layout and JSON. :returns: the number of changes, and the changes
    themselves when they fit in one slice (then they are applied as read here, instead of
    being read and parsed a second time; a larger bundle is read again a slice at a time)."""
    count = 0
    kept: list[Any] | None = []
    for name, digest in files.items():
        member = Member(bundle, infos[name], limit_of(name, limits))
        with member:
            if name == CHANGES:
                for change in iter_changes(member, limits):
                    count += 1
                    if kept is not None:
                        kept.append(change)
                        if len(kept) > SLICE:
                            kept = None  # too many to hold: _apply reads them again
            else:
                member.drain()
        if member.hexdigest() != digest:
            raise BundleRefused(
                BundleRefusal.BAD_CHECKSUM,
                f"{name} tidak sama dengan manifest (SHA-256 berbeda): diubah?",
            )
    return count, kept


# -- reading members ---------------------------------------------------------------------------


# -- applying ----------------------------------------------------------------------------------


def _apply(
    hub: HubState,
    bundle: zipfile.ZipFile,
    device: Device,
    files: Mapping[str, str],
    limits: BundleLimits,
    summary: ImportSummary,
    attachments: AttachmentStore | None,
    origin: PushOrigin,
    kept: list[Any] | None,
) -> None:
    """Push the changes in slices of :data:`SLICE` (`kept`, the changes :func:`_verify`
    held, in one), then keep the photos."""
    infos = {info.filename: info for info in bundle.infolist()}
    if kept is not None:
        if kept:
            _push(hub, device, kept, summary, origin)
    else:
        _apply_changes(hub, bundle, infos[CHANGES], files, limits, summary, device, origin)
    for name, digest in files.items():
        if PHOTO_NAME.fullmatch(name):
            summary.photos += 1
            if attachments is not None:
                _keep_photo(attachments, bundle, infos[name], digest, device, limits, summary)


def _apply_changes(
    hub: HubState,
    bundle: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    files: Mapping[str, str],
    limits: BundleLimits,
    summary: ImportSummary,
    device: Device,
    origin: PushOrigin,
) -> None:
    """Read changes.json a second time, pushing a slice at a time: a bundle too large
    to hold, whose every change was checked by the first reading."""
    with Member(bundle, info, limits.changes_bytes) as member:
        pending: list[Any] = []
        for raw in iter_changes(member, limits):
            pending.append(raw)
            if len(pending) == SLICE:
                _push(hub, device, pending, summary, origin)
                pending = []
        if pending:
            _push(hub, device, pending, summary, origin)
    if member.hexdigest() != files[CHANGES]:  # the file changed between the two readings
        raise BundleRefused(
            BundleRefusal.BAD_CHECKSUM,
            "changes.json berubah selama impor; impor ulang dari salinan yang utuh.",
        )


def _keep_photo(
    attachments: AttachmentStore,
    bundle: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    digest: str,
    device: Device,
    limits: BundleLimits,
    summary: ImportSummary,
) -> None:
    """Hand one photo to the attachment store as a one-piece upload from its laptop, so the
    laptop's next upload round finds it complete and sends no byte of it."""
    data = read_small(bundle, info, limits.photo_bytes)
    if hashlib.sha256(data).hexdigest() != digest:
        raise BundleRefused(BundleRefusal.BAD_CHECKSUM, f"{info.filename} berubah selama impor.")
    try:
        upload = attachments.create(
            device.device_id, digest, len(data), sniff_media_type(data[:SNIFF_BYTES]) or "?"
        )
        if not upload.complete:
            attachments.append(
                device.device_id, upload.upload_id, upload.offset, data[upload.offset :]
            )
    except HubError as exc:
        summary.photo_errors.append(f"{info.filename}: {exc.message}")
        return
    except OSError as exc:  # the changes are in already: say what was not kept, go on
        summary.photo_errors.append(f"{info.filename}: tidak dapat disimpan di hub ({exc}).")
        return
    summary.photos_stored += 1


def _push(
    hub: HubState, device: Device, changes: list[Any], summary: ImportSummary, origin: PushOrigin
) -> None:
    # quiet: the laptop folds these receipts when it fetches them (/sync/receipts)
    outcome = hub.sync.push(device, changes, origin=origin, quiet=True)
    summary.changes += len(changes)
    summary.duplicates += outcome.duplicates
    for status in ("applied", "merged", "conflict", "rejected"):
        setattr(summary, status, getattr(summary, status) + outcome.fresh[status])
