"""What a laptop says of itself on each sync: its version and how many changes it holds.

Two request headers, so that every call can carry them without touching the body:
`Pendamping-Client` (the client's version) and `Pendamping-Queue` (changes still waiting on
the laptop), both named in :mod:`schemas.protocol`. The office sees them in
`pendamping-hub device list`: a laptop whose queue grows while it syncs is stuck; one that
stopped reporting is silent.
"""

from __future__ import annotations

from typing import Protocol

from schemas.protocol import CLIENT_HEADER, CLIENT_VERSION_MAX, MAX_SEQ, QUEUE_HEADER
from server.storage import DeviceReport

__all__ = ["HeaderSource", "device_report"]


class HeaderSource(Protocol):
    """Anything that looks a header up by name: a request's headers, or a plain dict."""

    def get(self, key: str, /) -> str | None: ...


def device_report(headers: HeaderSource) -> DeviceReport | None:
    """The report in these headers, or None when the laptop sent none. Junk is ignored
    rather than refused: a report is a courtesy, never a reason to lose a push."""
    version = (headers.get(CLIENT_HEADER) or "").strip()[:CLIENT_VERSION_MAX] or None
    queue_text = (headers.get(QUEUE_HEADER) or "").strip()
    queue = int(queue_text) if queue_text.isascii() and queue_text.isdigit() else None
    if queue is not None and queue > MAX_SEQ:
        queue = None
    if version is None and queue is None:
        return None
    return DeviceReport(version, queue)
