"""Photo uploads by tus 1.0 (core + creation) under /api/v1/attachments: docs/attachments.md.

``OPTIONS /attachments`` says what the hub speaks; ``POST /attachments`` creates an upload
(or finds the one this laptop started); ``HEAD /attachments/<id>`` answers how many bytes
the hub holds; ``PATCH /attachments/<id>`` appends from there. The views parse tus headers
and call :class:`server.attachments.AttachmentStore` once. Every answer carries
``Tus-Resumable``; errors are the hub's usual JSON body, naming the header or field.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Response, request, url_for

from schemas.error_codes import ErrorCode
from schemas.protocol import (
    ATTACHMENTS_ROUTE,
    TUS_EXTENSION_HEADER,
    TUS_LENGTH_HEADER,
    TUS_MAX_SIZE_HEADER,
    TUS_METADATA_HEADER,
    TUS_OFFSET_HEADER,
    TUS_PATCH_CONTENT_TYPE,
    TUS_RESUMABLE_HEADER,
    TUS_VERSION,
    TUS_VERSION_HEADER,
)
from server.attachments import AttachmentStore, Upload
from server.auth import current_device, require_device
from server.errors import ApiError, documents
from server.jsonprovider import Blueprint
from server.state import hub_state

__all__ = ["TUS_EXTENSIONS", "blp"]

TUS_EXTENSIONS = "creation"
_NUMBER = re.compile(r"[0-9]{1,15}")
_METADATA_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint("attachments", __name__, description="Lampiran foto (tus 1.0)")


def _store() -> AttachmentStore:
    return hub_state().attachments


@blp.after_request
def _tus_headers(response: Response) -> Response:
    """tus: every answer says the protocol version; a refused version lists ours."""
    response.headers[TUS_RESUMABLE_HEADER] = TUS_VERSION
    if response.status_code == 412:
        response.headers[TUS_VERSION_HEADER] = TUS_VERSION
    return response


def tus_resumable(view: F) -> F:
    """Refuse with 412 a request that does not speak tus 1.0.0, before anything else."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.headers.get(TUS_RESUMABLE_HEADER, "").strip() != TUS_VERSION:
            message = f"Header {TUS_RESUMABLE_HEADER} harus {TUS_VERSION}."
            raise ApiError(
                ErrorCode.TUS_VERSION_UNSUPPORTED, message, {TUS_RESUMABLE_HEADER: [message]}
            )
        return view(*args, **kwargs)

    return documents(412)(wrapper)  # type: ignore[return-value]


def _number(header: str) -> int:
    raw = request.headers.get(header, "").strip()
    if not _NUMBER.fullmatch(raw):
        message = f"Header {header} wajib, bilangan bulat tidak negatif."
        raise ApiError(ErrorCode.INVALID_FIELD, message, {header: [message]})
    return int(raw)


def _metadata() -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs, values UTF-8."""
    found: dict[str, str] = {}
    raw = request.headers.get(TUS_METADATA_HEADER, "")
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            if not _METADATA_KEY.fullmatch(key) or key in found:
                raise ValueError(key)
            found[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (ValueError, binascii.Error):
            message = "Harus pasangan 'kunci nilai-base64' dipisah koma, kunci tidak berulang."
            raise ApiError(
                ErrorCode.INVALID_FIELD, message, {TUS_METADATA_HEADER: [message]}
            ) from None
    for key in ("sha256", "media_type"):
        if not found.get(key):
            message = f"{key} wajib ada di {TUS_METADATA_HEADER}."
            raise ApiError(ErrorCode.INVALID_FIELD, message, {key: [message]})
    return found


def _answer(
    status: int, upload: Upload | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(status=status)
    del response.headers["Content-Type"]  # tus answers have no body
    if upload is not None:
        response.headers[TUS_OFFSET_HEADER] = str(upload.offset)
        response.headers[TUS_LENGTH_HEADER] = str(upload.length)
    response.headers.update(headers or {})
    return response


_TUS_HEADER = {
    "in": "header",
    "name": TUS_RESUMABLE_HEADER,
    "required": True,
    "schema": {"type": "string", "enum": [TUS_VERSION]},
}
_STRING = {"schema": {"type": "string"}}
_INTEGER = {"schema": {"type": "integer", "minimum": 0}}


@blp.route(ATTACHMENTS_ROUTE, methods=["OPTIONS"])
@blp.response(204, description="Tus-Version, Tus-Extension dan Tus-Max-Size.")
def options() -> Response:
    """What the hub speaks: tus 1.0.0 with creation, and the largest photo it takes."""
    return _answer(
        204,
        headers={
            TUS_VERSION_HEADER: TUS_VERSION,
            TUS_EXTENSION_HEADER: TUS_EXTENSIONS,
            TUS_MAX_SIZE_HEADER: str(_store().max_bytes),
        },
    )


@blp.route(ATTACHMENTS_ROUTE, methods=["POST"], provide_automatic_options=False)
@require_device
@tus_resumable
@blp.doc(
    parameters=[
        _TUS_HEADER,
        {"in": "header", "name": TUS_LENGTH_HEADER, "required": True, **_INTEGER},
        {
            "in": "header",
            "name": TUS_METADATA_HEADER,
            "required": True,
            "description": "sha256, media_type, filename (opsional); nilai base64",
            **_STRING,
        },
    ]
)
@blp.response(201, description="Unggahan dibuat (atau sudah ada); alamatnya di Location.")
@documents(413, 415, 422)
def create() -> Response:
    """Create the upload of one photo; the same photo from the same laptop finds the same one.

    A photo the hub already holds answers 201 too, with an upload already complete.
    """
    length = _number(TUS_LENGTH_HEADER)
    meta = _metadata()
    upload = _store().create(
        current_device().device_id,
        meta["sha256"],
        length,
        meta["media_type"],
        meta.get("filename"),
    )
    location = url_for("attachments.status", upload_id=upload.upload_id)
    return _answer(201, upload, {"Location": location})


@blp.route(ATTACHMENTS_ROUTE + "/<upload_id>", methods=["HEAD"])
@require_device
@tus_resumable
@blp.doc(parameters=[_TUS_HEADER])
@blp.response(200, description="Upload-Offset dan Upload-Length.")
@documents(404)
def status(upload_id: str) -> Response:
    """How many bytes of the upload the hub holds: the laptop resumes from there."""
    upload = _store().head(current_device().device_id, upload_id)
    return _answer(200, upload, {"Cache-Control": "no-store"})


@blp.route(ATTACHMENTS_ROUTE + "/<upload_id>", methods=["PATCH"])
@require_device
@tus_resumable
@blp.doc(
    parameters=[
        _TUS_HEADER,
        {"in": "header", "name": TUS_OFFSET_HEADER, "required": True, **_INTEGER},
    ],
    requestBody={
        "required": True,
        "content": {TUS_PATCH_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    },
)
@blp.response(204, description="Diterima; Upload-Offset yang baru.")
@documents(404, 409, 413, 415, 422, 460, 503)
def append(upload_id: str) -> Response:
    """Append bytes at Upload-Offset. The last chunk makes the hub check the sha256."""
    if request.mimetype != TUS_PATCH_CONTENT_TYPE:
        message = f"Content-Type harus {TUS_PATCH_CONTENT_TYPE}."
        raise ApiError(ErrorCode.BAD_CONTENT_TYPE, message, {"Content-Type": [message]})
    offset = _number(TUS_OFFSET_HEADER)
    upload = _store().append(
        current_device().device_id, upload_id, offset, request.get_data(cache=False)
    )
    return _answer(204, upload)
