"""The lifecycle of an assistive-device request (DESIGN.md §3), shared by hub and laptop.

``diajukan → diverifikasi → disetujui → diserahkan``; ``ditolak`` from diajukan or
diverifikasi; ``dibatalkan`` from anything before diserahkan. ``diserahkan``, ``ditolak``
and ``dibatalkan`` are final.
"""

from __future__ import annotations

__all__ = ["TRANSITIONS", "is_legal_transition"]

TRANSITIONS: dict[str, frozenset[str]] = {
    "diajukan": frozenset({"diverifikasi", "ditolak", "dibatalkan"}),
    "diverifikasi": frozenset({"disetujui", "ditolak", "dibatalkan"}),
    "disetujui": frozenset({"diserahkan", "dibatalkan"}),
    "diserahkan": frozenset(),
    "ditolak": frozenset(),
    "dibatalkan": frozenset(),
}


def is_legal_transition(current: str, new: str) -> bool:
    """True when a request in `current` may move to `new` (staying put is allowed)."""
    return new == current or new in TRANSITIONS.get(current, frozenset())
