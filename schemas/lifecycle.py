"""The lifecycle of an assistive-device request (DESIGN.md §3), shared by hub and laptop.

``diajukan → diverifikasi → disetujui → diserahkan``; ``ditolak`` from diajukan or
diverifikasi; ``dibatalkan`` from anything before diserahkan. ``diserahkan``, ``ditolak``
and ``dibatalkan`` are final.
"""

from __future__ import annotations

__all__ = [
    "INCOMPATIBLE",
    "ROLE_STATUSES",
    "TRANSITIONS",
    "is_legal_transition",
    "may_set",
    "role_refusal",
]

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


#: Outcomes that cannot both have happened: a concurrent pair of these is a conflict.
INCOMPATIBLE: frozenset[frozenset[str]] = frozenset(
    {frozenset({"disetujui", "ditolak"}), frozenset({"diserahkan", "dibatalkan"})}
)

#: Which statuses each role may move a request to. Pendamping submit, verify and cancel in
#: the field; the district office verifies too (issue 12: a request the field could not
#: verify), approves, rejects and records the handover; admin all.
ROLE_STATUSES: dict[str, frozenset[str]] = {
    "pendamping": frozenset({"diajukan", "diverifikasi", "dibatalkan"}),
    "supervisor": frozenset({"diverifikasi", "disetujui", "ditolak", "diserahkan"}),
    "admin": frozenset(TRANSITIONS),
}


def may_set(role: str, status: str) -> bool:
    """True when a user of `role` may move a request to `status`."""
    return status in ROLE_STATUSES.get(role, frozenset())


def role_refusal(role: str, status: str) -> str | None:
    """Why a user of `role` may not move a request to `status` (the words the hub and the
    laptop both use), or None when they may."""
    if may_set(role, status):
        return None
    return f"Peran {role} tidak boleh mengubah status menjadi {status}."
