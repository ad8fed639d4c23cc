"""A photo of a beneficiary's records, for a user whose scope covers a record it is on.

Photos are content-addressed blobs (server/attachments.py: ``blobs/<sha256>``) that records
name in their ``attachments`` list. A sha256 alone opens nothing: a photo is served only
as one of a beneficiary's records (the beneficiary itself, its visits, its ABF requests)
whose kelurahan lies in the caller's scope, so a supervisor of `31.71` who learned the
sha256 of a `31.72` photo still gets "not found". The media type is read from the file's
own first bytes (the rule the hub checked when the upload finished), never from a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from schemas.media import SHA256_RE, SNIFF_BYTES, sniff_media_type
from server.attachments import AttachmentStore
from server.exceptions import Missing
from server.scope import Scope
from server.storage import HubStorage, NotFound

__all__ = ["Photo", "beneficiary_photo", "photo_owners"]


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo the caller may see: the file, its type and size."""

    sha256: str
    path: Path
    media_type: str
    size: int


def _missing() -> Missing:
    return Missing("Foto tidak ditemukan.")


def photo_owners(storage: HubStorage, scope: Scope, beneficiary_id: str, sha256: str) -> list[str]:
    """The ids of the beneficiary's live records in `scope` that name `sha256`: the
    beneficiary itself, its visits and its requests. Empty when the beneficiary is not a
    live one in scope, or none of its records names the photo."""
    try:
        row = storage.get_record(beneficiary_id)
    except NotFound:
        return []
    if row.entity != "beneficiary" or row.deleted or not scope.covers(row.kelurahan):
        return []
    owners = [row.id] if sha256 in (row.data.get("attachments") or ()) else []
    for other in storage.office.beneficiary_records(row.id):
        if scope.covers(other.kelurahan) and sha256 in (other.data.get("attachments") or ()):
            owners.append(other.id)
    return owners


def beneficiary_photo(
    storage: HubStorage,
    attachments: AttachmentStore,
    scope: Scope,
    beneficiary_id: str,
    sha256: str,
) -> Photo:
    """The photo `sha256` of the beneficiary `beneficiary_id`, as `scope` may see it.

    :raises Missing: not a sha256; no such live beneficiary in scope; none of its records
        in scope names the photo; or the hub does not hold the file yet (the laptop has not
        sent it). One answer for all, so nothing outside the scope can be told apart.
    """
    if not SHA256_RE.fullmatch(sha256 or ""):
        raise _missing()
    if not photo_owners(storage, scope, beneficiary_id, sha256):
        raise _missing()
    path = attachments.blob_path(sha256)
    if path is None:
        raise _missing()
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        size = path.stat().st_size
    except OSError:
        raise _missing() from None
    media_type = sniff_media_type(head)
    if media_type is None or media_type not in attachments.media_types:
        raise _missing()
    return Photo(sha256, path, media_type, size)
