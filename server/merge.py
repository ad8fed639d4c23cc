"""The hub's conflict policy as pure functions: no Flask, no SQL, no clock.

One change meets the record as the hub holds it. For each field the change sets:

* **seen or sequential** – the field's current value was written at or before the change's
  `base_seq` (the laptop had pulled it), or by the same device (a laptop's successive offline
  edits arrive in the order they were made): the change replaces it; the old value is history.
* **concurrent** – written after `base_seq` by another device: equal values agree; different
  values are decided by HLC (last writer wins) and the losing value, whichever side it is on,
  is returned as a :class:`Loss` for the conflict queue. Nothing typed disappears.
* **status** of a device request follows the lifecycle instead of the clock: a transition the
  laptop made on top of the status it saw must be legal (else the change is refused); one made
  concurrently applies after the other if legal from the new status and not incompatible
  (approve/reject, deliver/cancel), else it becomes a conflict and the status stays legal.
* **deletes** are tombstones. A delete concurrent with an edit, or an edit of a tombstone,
  still happens (values are kept inside the tombstone) and is queued as a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from schemas.lifecycle import INCOMPATIBLE, is_legal_transition

__all__ = [
    "DELETED",
    "STATUS_FIELD",
    "Incoming",
    "Loss",
    "MergeResult",
    "Refusal",
    "Stamp",
    "merge_change",
    "node_of",
]

STATUS_FIELD = "status"
#: The pseudo-field whose stamp records when a record was deleted or restored.
DELETED = "_deleted"


def node_of(hlc: str) -> str:
    """The device (node) part of an encoded HLC."""
    return hlc.split(":", 2)[2]


class Stamp(NamedTuple):
    """When a field's current value was written: its HLC and the hub seq of that write.

    (Stamp and Incoming are NamedTuples, immutable like a frozen dataclass: a push builds
    one per change and per field held, and a frozen dataclass takes ~1 us to build.)"""

    hlc: str
    seq: int


class Incoming(NamedTuple):
    """The parts of a change the policy looks at."""

    fields: Mapping[str, Any]
    hlc: str
    base_seq: int | None
    #: True deletes the record, False restores a deleted one (the hub's resolutions only).
    delete: bool | None = None

    @property
    def node(self) -> str:
        return node_of(self.hlc)


@dataclass(frozen=True, slots=True)
class Loss:
    """A value that did not survive a concurrent edit, with both sides, for the queue.

    `kind` is ``field``, ``status`` or ``delete``. `lost_hlc` is the HLC of the losing value,
    `kept_hlc` that of the one that stayed; either may be the incoming change's.
    """

    field: str
    kind: str
    kept_value: Any
    kept_hlc: str
    lost_value: Any
    lost_hlc: str
    incoming_lost: bool


@dataclass(frozen=True, slots=True)
class Refusal:
    """The change breaks a rule outright (an illegal transition it cannot excuse)."""

    field: str
    message: str


@dataclass(slots=True)
class MergeResult:
    """What one change did. `status` is ``applied``, ``merged`` or ``conflict``."""

    data: dict[str, Any]
    stamps: dict[str, Stamp]
    deleted: bool
    status: str
    applied: list[str] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    transition: tuple[str | None, str] | None = None


def _seen(stamp: Stamp, change: Incoming) -> bool:
    """The change's author knew this value: pulled it, or wrote it from the same device."""
    return (change.base_seq is not None and stamp.seq <= change.base_seq) or (
        node_of(stamp.hlc) == change.node
    )


def merge_change(
    data: Mapping[str, Any],
    stamps: Mapping[str, Stamp],
    deleted: bool,
    change: Incoming,
    seq: int,
) -> MergeResult | Refusal:
    """Apply one change to a record's state; the record is new when `stamps` is empty.

    :param seq: the hub seq this write gets.
    :returns: the new state with what happened, or a :class:`Refusal`.
    """
    if not stamps and not data and not deleted and change.delete is None:
        return _merge_new(change, seq)
    return _merge_any(data, stamps, deleted, change, seq)


def _merge_new(change: Incoming, seq: int) -> MergeResult:
    """A change that creates its record: every field is taken as it comes (what
    :func:`_merge_any` does field by field when nothing is held), in one go. Most of a
    push is new visits, so this is the merge's common case."""
    fields = change.fields
    stamp = Stamp(change.hlc, seq)
    result = MergeResult(dict(fields), dict.fromkeys(fields, stamp), False, "applied", list(fields))
    if STATUS_FIELD in fields:
        result.transition = (None, fields[STATUS_FIELD])
    return result


def _merge_any(
    data: Mapping[str, Any],
    stamps: Mapping[str, Stamp],
    deleted: bool,
    change: Incoming,
    seq: int,
) -> MergeResult | Refusal:
    """:func:`merge_change` field by field, for any state."""
    result = MergeResult(dict(data), dict(stamps), deleted, "applied")
    unseen = [name for name, s in stamps.items() if not _seen(s, change)]
    concurrent = bool(unseen)
    concurrent_other = any(name not in change.fields for name in unseen)
    tombstone = stamps.get(DELETED)
    if change.delete is not None:
        _merge_delete(result, change, seq, concurrent_other)
    elif deleted and tombstone is not None and not _seen(tombstone, change):
        result.losses.append(Loss(DELETED, "delete", True, tombstone.hlc, False, change.hlc, True))
    for name, value in change.fields.items():
        if name == STATUS_FIELD:
            refusal = _merge_status(result, name, value, change, seq)
            if refusal is not None:
                return refusal
        else:
            _merge_field(result, name, value, change, seq)
    if result.losses:
        result.status = "conflict"
    elif concurrent and stamps:
        result.status = "merged"
    return result


def _merge_delete(result: MergeResult, change: Incoming, seq: int, concurrent: bool) -> None:
    if change.delete and concurrent and not result.deleted:
        edited = max(
            s.hlc
            for name, s in result.stamps.items()
            if name not in change.fields and not _seen(s, change)
        )
        result.losses.append(Loss(DELETED, "delete", True, change.hlc, False, edited, False))
    result.deleted = bool(change.delete)
    result.stamps[DELETED] = Stamp(change.hlc, seq)
    result.applied.append(DELETED)


def _merge_field(result: MergeResult, name: str, value: Any, change: Incoming, seq: int) -> None:
    held = result.stamps.get(name)
    current = result.data.get(name)
    if held is None or _seen(held, change):
        _take(result, name, value, change, seq)
    elif current == value:
        pass  # concurrent, but they agree
    elif change.hlc > held.hlc:
        result.losses.append(Loss(name, "field", value, change.hlc, current, held.hlc, False))
        _take(result, name, value, change, seq)
    else:
        result.losses.append(Loss(name, "field", current, held.hlc, value, change.hlc, True))


def _merge_status(
    result: MergeResult, name: str, value: Any, change: Incoming, seq: int
) -> Refusal | None:
    held = result.stamps.get(name)
    current = result.data.get(name)
    if current is None:
        _take(result, name, value, change, seq)
        result.transition = (None, value)
        return None
    if value == current:
        return None
    legal = is_legal_transition(current, value)
    if held is None or _seen(held, change):
        if not legal:
            return Refusal(name, f"Perubahan status {current} → {value} tidak diizinkan.")
    elif not legal or frozenset({current, value}) in INCOMPATIBLE:
        result.losses.append(Loss(name, "status", current, held.hlc, value, change.hlc, True))
        return None
    _take(result, name, value, change, seq)
    result.transition = (current, value)
    return None


def _take(result: MergeResult, name: str, value: Any, change: Incoming, seq: int) -> None:
    result.data[name] = value
    result.stamps[name] = Stamp(change.hlc, seq)
    result.applied.append(name)
