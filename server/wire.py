"""HTTP wire handling for the hub: gzip request bodies in, gzip responses out.

Laptops on 2G send `Content-Encoding: gzip` bodies. :class:`GunzipRequests` inflates them
before Flask sees them, bounded so a small bomb cannot inflate into gigabytes; a malformed
body is a 400 and an oversized one a 413, both as JSON.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, request

from schemas.error_codes import ErrorCode

__all__ = ["GunzipRequests", "init_app"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


#: The status lines this middleware answers with, spelled as they always were.
_REASONS = {400: "Bad Request", 413: "Request Entity Too Large", 415: "Unsupported Media Type"}


def _json_error(start_response: Callable[..., Any], error: ErrorCode, message: str) -> list[bytes]:
    body = json.dumps({"code": error.status, "error": error.value, "message": message}).encode()
    start_response(
        f"{error.status} {_REASONS[error.status]}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


_INFLATE_CHUNK = 256 * 1024


def _inflate(compressed: bytes, limit: int, sink: Callable[[bytes], Any] | None) -> int | None:
    """Inflate one whole gzip member a chunk at a time, handing each chunk to `sink`.

    :returns: the inflated size, or None as soon as it passes `limit`.
    :raises zlib.error: not gzip, truncated, or bytes after the member.
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    size, data = 0, compressed
    while True:
        chunk = inflater.decompress(data, _INFLATE_CHUNK)
        size += len(chunk)
        if size > limit:
            return None
        if sink is not None:
            sink(chunk)
        data = inflater.unconsumed_tail
        if inflater.eof or (not data and len(chunk) < _INFLATE_CHUNK):
            break
    if not inflater.eof or inflater.unused_data:
        raise zlib.error("truncated gzip stream, or bytes after it")
    return size


class GunzipRequests:
    """WSGI middleware that inflates gzip request bodies, with size limits."""

    def __init__(self, app: WSGIApp, max_compressed: int, max_decompressed: int) -> None:
        self.app = app
        self.max_compressed = max_compressed
        self.max_decompressed = max_decompressed

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding in ("", "identity"):
            return self.app(environ, start_response)
        if encoding != "gzip":
            return _json_error(
                start_response,
                ErrorCode.UNSUPPORTED_ENCODING,
                "Hanya Content-Encoding gzip diterima.",
            )
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return _json_error(start_response, ErrorCode.BAD_LENGTH, "Content-Length tidak valid.")
        if length > self.max_compressed:
            return _json_error(
                start_response, ErrorCode.TOO_LARGE, "Badan permintaan terlalu besar."
            )
        compressed = environ["wsgi.input"].read(length) if length else b""
        try:
            # Counted first with nothing kept, so a bomb costs a few hundred kB of memory
            # however far it would inflate; only a body within the limit is inflated again
            # and kept (pushes are a few hundred kB: the second pass costs ~1 ms).
            if _inflate(compressed, self.max_decompressed, None) is None:
                return _json_error(
                    start_response,
                    ErrorCode.TOO_LARGE,
                    "Badan permintaan setelah gunzip terlalu besar.",
                )
            body = io.BytesIO()
            size = _inflate(compressed, self.max_decompressed, body.write)
        except zlib.error:
            return _json_error(
                start_response, ErrorCode.BAD_GZIP, "Badan gzip rusak atau terpotong."
            )
        body.seek(0)
        environ = dict(environ)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(size)
        environ.pop("HTTP_CONTENT_ENCODING", None)
        return self.app(environ, start_response)


def _gzip_response(response: Response) -> Response:
    """Gzip a response when the client accepts it and it is large enough to gain."""
    app_config = current_app.config
    if (
        response.direct_passthrough
        or response.status_code < 200
        or "Content-Encoding" in response.headers
        or "gzip" not in request.headers.get("Accept-Encoding", "")
    ):
        return response
    data = response.get_data()
    if len(data) < app_config["GZIP_MIN_BYTES"]:
        return response
    response.set_data(gzip.compress(data, compresslevel=app_config["GZIP_LEVEL"], mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def init_app(app: Flask) -> None:
    """Install the gunzip middleware and gzip every large enough response."""
    app.wsgi_app = GunzipRequests(  # type: ignore[method-assign]
        app.wsgi_app, app.config["MAX_COMPRESSED_LENGTH"], app.config["MAX_CONTENT_LENGTH"]
    )

    app.after_request(_gzip_response)
