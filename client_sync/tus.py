"""The tus 1.0 calls the laptop makes (core + creation), over the sync's own transport.

Not the `tuspy` library: it brings aiohttp and tinydb and its own retry and timeout stack,
while :class:`client_sync.transport.HttpTransport` already has urllib3 `Retry`, backoff with
jitter, `Retry-After` and (connect, read) timeouts, the one place retries live. tus is
three small requests; these are they.

Errors, beside those of :mod:`client_sync.errors`::

    HubRefused (4xx)
     ├── UploadGone         404: the hub has no such upload (any more); create it again
     └── OffsetMismatch     409: the hub holds another offset; ask it with HEAD
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson

from client_sync.errors import HubRefused, HubUnreachable, ProtocolError, Unauthorized
from client_sync.transport import RawResponse, Transport
from schemas.protocol import ATTACHMENTS_PATH as CREATE_PATH
from schemas.protocol import (
    TUS_LENGTH_HEADER,
    TUS_METADATA_HEADER,
    TUS_OFFSET_HEADER,
    TUS_PATCH_CONTENT_TYPE,
    TUS_RESUMABLE_HEADER,
    TUS_VERSION,
)

__all__ = ["OffsetMismatch", "TusClient", "UploadGone", "UploadState"]


class UploadGone(HubRefused):
    """404: the upload is unknown to the hub (expired, discarded, or never made)."""


class OffsetMismatch(HubRefused):
    """409: the PATCH's Upload-Offset is not what the hub holds."""


@dataclass(frozen=True, slots=True)
class UploadState:
    """What the hub holds of one upload."""

    offset: int
    length: int

    @property
    def complete(self) -> bool:
        return self.offset >= self.length


class TusClient:
    """tus requests for one laptop.

    :param transport: how requests reach the hub (paths, not URLs).
    :param token: the device token.
    """

    def __init__(self, transport: Transport, token: str | None) -> None:
        self.transport = transport
        self.token = token

    def _send(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> RawResponse:
        sent = {TUS_RESUMABLE_HEADER: TUS_VERSION, **headers}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        response = self.transport.send(method, path, body=body, headers=sent)
        if response.status >= 500 or response.status == 429:  # busy: try again next round
            raise HubUnreachable(f"Hub sedang sibuk atau bermasalah (HTTP {response.status}).")
        if response.status >= 400:
            raise _refusal(response)
        return response

    def create(self, length: int, metadata: Mapping[str, str]) -> str:
        """POST: start (or find) the upload of a file of `length` bytes.

        :returns: the upload's path on the hub, to keep for HEAD and PATCH.
        """
        encoded = ",".join(
            f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
            for key, value in metadata.items()
        )
        response = self._send(
            "POST",
            CREATE_PATH,
            {TUS_LENGTH_HEADER: str(length), TUS_METADATA_HEADER: encoded},
        )
        location = _header(response, "Location")
        if response.status != 201 or not location:
            raise ProtocolError("Hub tidak memberi alamat unggahan (Location).")
        parts = urlsplit(location)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def head(self, path: str) -> UploadState:
        """HEAD: how many bytes the hub holds. :raises UploadGone: it has no such upload."""
        response = self._send("HEAD", path, {})
        return UploadState(
            _number(response, TUS_OFFSET_HEADER), _number(response, TUS_LENGTH_HEADER)
        )

    def patch(self, path: str, offset: int, chunk: bytes) -> int:
        """PATCH: append `chunk` at `offset`. :returns: the hub's new offset.

        :raises OffsetMismatch: the hub holds another offset.
        """
        response = self._send(
            "PATCH",
            path,
            {"Content-Type": TUS_PATCH_CONTENT_TYPE, TUS_OFFSET_HEADER: str(offset)},
            chunk,
        )
        new_offset = _number(response, TUS_OFFSET_HEADER)
        if new_offset != offset + len(chunk):
            raise ProtocolError(f"Hub menjawab offset {new_offset}, bukan {offset + len(chunk)}.")
        return new_offset


def _header(response: RawResponse, name: str) -> str | None:
    lowered = name.lower()
    for key, value in response.headers.items():
        if key.lower() == lowered:
            return value
    return None


def _number(response: RawResponse, name: str) -> int:
    raw = (_header(response, name) or "").strip()
    if not raw.isdigit():
        raise ProtocolError(f"Jawaban hub tanpa {name} yang sah.")
    return int(raw)


def _refusal(response: RawResponse) -> HubRefused:
    """The hub's 4xx as an exception carrying its slug and its Indonesian message."""
    try:
        info = orjson.loads(response.body) if response.body else {}
    except ValueError:
        info = {}
    info = info if isinstance(info, dict) else {}
    slug = str(info.get("error", "error"))
    message = str(info.get("message") or f"Hub menolak (HTTP {response.status}).")
    cls: type[HubRefused] = {
        401: Unauthorized,
        404: UploadGone,
        409: OffsetMismatch,
    }.get(response.status, HubRefused)
    return cls(response.status, slug, message)
