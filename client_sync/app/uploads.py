"""Uploaded files kept in memory, never spooled to a temporary file.

Werkzeug writes an upload larger than 500 KiB to a temporary file on disk before a view
sees it: a photo of a beneficiary's house would sit there unencrypted (and stay after a
crash) while the store it goes into is encrypted. The app's requests keep every upload in
memory instead, bounded by ``MAX_CONTENT_LENGTH``; :func:`client_sync.photos.keep` then
seals it straight from memory into the laptop's home.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Request

__all__ = ["MemoryUploads"]


class MemoryUploads(Request):
    """A request whose uploaded files are in-memory streams."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()
