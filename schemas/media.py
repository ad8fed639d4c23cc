"""Photo attachments as both sides see them: which types, how large, and how to tell a type.

The laptop refuses a wrong file at the doorstep, before it is queued; the hub checks again
when the last byte arrives. Both use this one rule (the file's magic bytes, never its name
or the sender's word), so they cannot drift apart. No I/O here.
"""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_ATTACHMENT_MAX_BYTES",
    "DEFAULT_ATTACHMENT_TYPES",
    "SHA256_RE",
    "SNIFF_BYTES",
    "sniff_media_type",
]

#: Largest photo either side takes unless the hub's ATTACHMENT_MAX_BYTES says otherwise.
DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
#: Photo types accepted unless the hub's ATTACHMENT_TYPES says otherwise.
DEFAULT_ATTACHMENT_TYPES: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
#: How many leading bytes :func:`sniff_media_type` needs to decide.
SNIFF_BYTES = 12
#: A content address: the lowercase hex SHA-256 of the whole file.
SHA256_RE = re.compile(r"[0-9a-f]{64}")

_PNG = b"\x89PNG\r\n\x1a\n"


def sniff_media_type(head: bytes) -> str | None:
    """The media type that the first bytes of a file announce, or ``None``.

    JPEG starts ``FF D8 FF``; PNG with its 8-byte signature; WebP is a RIFF container
    whose form type (bytes 8-12) is ``WEBP``.
    """
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == _PNG:
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
