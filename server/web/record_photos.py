"""A photo named by one record, served to a user whose scope covers that record.

Kunjungan and Permohonan ABF show a visit's photos and a request's handover photo. Photos
are content-addressed blobs (server/attachments.py); a sha256 alone opens nothing: the
photo is sent only when the record (a live visit or request, or a request whose history
stays readable) lies in the caller's scope and its ``attachments`` names that sha256. The
media type is read from the file's own first bytes, never from a name. Anything else is
one "not found", so nothing outside the scope can be told apart.
"""

from __future__ import annotations

from flask import Response, send_file

from schemas.media import SHA256_RE, SNIFF_BYTES, sniff_media_type
from server.attachments import AttachmentStore
from server.scope import Scope
from server.storage import HubStorage, NotFound

__all__ = ["photo_response"]


def photo_response(
    storage: HubStorage,
    attachments: AttachmentStore,
    scope: Scope,
    entity: str,
    record_id: str,
    sha256: str,
) -> Response | None:
    """The photo's bytes as its own media type, inline; None when the caller may not see
    it (not a sha256, no such record of `entity` in `scope`, the record does not name it,
    or the hub does not hold the file yet)."""
    if not SHA256_RE.fullmatch(sha256 or ""):
        return None
    try:
        row = storage.get_record(record_id)
    except NotFound:
        return None
    if row.entity != entity or not scope.covers(row.kelurahan):
        return None
    if sha256 not in (row.data.get("attachments") or ()):
        return None
    path = attachments.blob_path(sha256)
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            media_type = sniff_media_type(handle.read(SNIFF_BYTES))
    except OSError:
        return None
    if media_type is None or media_type not in attachments.media_types:
        return None
    response = send_file(path, mimetype=media_type, conditional=False, etag=False, max_age=None)
    response.headers["Content-Disposition"] = "inline"
    return response
