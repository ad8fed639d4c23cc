"""What the hub adds to a record on every write: `created_at`, `updated_at`, status history.

One function for both sides: the hub stamps each write with it, and a laptop whose change
the hub applied exactly as sent (a *quiet* receipt) stamps its own copy with it instead of
pulling the record back, so both hold the same bytes without the echo crossing the link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.hlc import Timestamp, iso_from_ms

__all__ = ["stamp_record", "status_transition"]


def status_transition(
    before: Mapping[str, Any] | None, fields: Mapping[str, Any]
) -> tuple[str | None, str] | None:
    """The status move a change makes on a record it saw, or None (the merge's rule when
    nothing happened concurrently: a first status is a move from None; an equal one is none)."""
    if "status" not in fields:
        return None
    current = before.get("status") if before else None
    value = fields["status"]
    if current is not None and value == current:
        return None
    return (current, value)


def stamp_record(
    data: dict[str, Any],
    *,
    hlc: str,
    seq: int,
    author_id: str,
    device_id: str,
    transition: tuple[str | None, str] | None,
    created_before: str | None,
    updated_before: str | None,
) -> tuple[str, str]:
    """Add the hub's fields to `data` (in place) for one write.

    :param created_before: the record's `created_at` before this write; None for a new one.
    :returns: the record's `created_at` and `updated_at` after it.
    """
    stamp = iso_from_ms(Timestamp.parse(hlc).ms)
    if transition is not None:
        before, after = transition
        data["status_history"] = [
            *data.get("status_history", []),
            {
                "from": before,
                "to": after,
                "by": author_id,
                "device": device_id,
                "at": stamp,
                "seq": seq,
            },
        ]
    created = created_before or stamp
    updated = max(updated_before, stamp) if updated_before else stamp
    data["created_at"], data["updated_at"] = created, updated
    return created, updated
