"""What a review-queue entry left in force, for the two command lines that print the queue.

A conflict keeps the two sides as they met (`kept` won the merge, `lost` did not); a
supervisor's resolution may turn that round (`take_lost`) or put a third value in
(`value`). Printing `kept` as what stayed after a `take_lost` said the opposite of what the
record holds, so `pendamping-hub conflicts list` and `pendamping conflicts` both ask
:func:`outcome` which value is in force now and which were set aside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Outcome", "Side", "outcome"]


@dataclass(frozen=True, slots=True)
class Side:
    """One value of a conflict and who wrote it (``None``: the hub itself)."""

    value: Any
    author: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The value in force, the values set aside, and who chose when a resolution decided
    (``None``: the merge decided, or nobody yet)."""

    in_force: Side
    set_aside: tuple[Side, ...]
    chosen_by: str | None = None


def outcome(conflict: Mapping[str, Any]) -> Outcome:
    """What `conflict` (the hub's conflict view) leaves in force now."""
    kept = Side(conflict["kept"]["value"], conflict["kept"]["author"])
    lost = Side(conflict["lost"]["value"], conflict["lost"]["author"])
    resolution = conflict.get("resolution") or {}
    choice = resolution.get("choice") if conflict.get("resolved_at") else None
    by = conflict.get("resolved_by")
    if choice == "take_lost":
        return Outcome(lost, (kept,), by)
    if choice == "value":
        return Outcome(Side(resolution.get("value"), by), (kept, lost), by)
    return Outcome(kept, (lost,), by if choice == "keep" else None)
