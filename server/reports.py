"""What a laptop says of itself on each sync: its version and how many changes it holds.

Two request headers, so that every call can carry them without touching the body:
`Pendamping-Client` (the client's version) and `Pendamping-Queue` (changes still waiting on
the laptop). The office sees them in `pendamping-hub device list`: a laptop whose queue grows
while it syncs is stuck; one that stopped reporting is silent.
"""

from __future__ import annotations

from collections.abc import Mapping

from server.storage import DeviceReport

__all__ = ["CLIENT_HEADER", "QUEUE_HEADER", "device_report"]

CLIENT_HEADER = "Pendamping-Client"
QUEUE_HEADER = "Pendamping-Queue"


def device_report(headers: Mapping[str, str]) -> DeviceReport | None:
    """The report in these headers, or None when the laptop sent none. Junk is ignored
    rather than refused: a report is a courtesy, never a reason to lose a push."""
    version = (headers.get(CLIENT_HEADER) or "").strip()[:40] or None
    queue_text = (headers.get(QUEUE_HEADER) or "").strip()
    queue = int(queue_text) if queue_text.isascii() and queue_text.isdigit() else None
    if queue is not None and queue >= 2**63:
        queue = None
    if version is None and queue is None:
        return None
    return DeviceReport(version, queue)
