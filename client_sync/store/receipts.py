"""What the hub's receipts do to the outbox, as plain functions: no SQL, no I/O.

:func:`plan_confirm` sorts a batch's receipts: a refused change is marked `rejected` with the
hub's reasons; an accepted one is marked `acked` (it stays visible until its record is
pulled back); a *quiet* one is folded. The hub marks a receipt quiet when it applied the
change exactly as sent on top of the very state this laptop holds, and leaves the record out
of this laptop's pulls; :func:`fold_quiet` then builds the hub's new record itself, with the
same :func:`schemas.stamps.stamp_record` the hub used, so both hold the same record without
its bytes crossing a 2G link twice. :mod:`client_sync.store.outbox` executes the plans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from schemas.jsonsafe import compact_json
from schemas.stamps import stamp_record, status_transition

__all__ = [
    "ConfirmPlan",
    "FoldPlan",
    "PendingChange",
    "PulledRow",
    "fold_quiet",
    "is_quiet",
    "plan_confirm",
]


Receipt = dict[str, Any]


class PendingChange(NamedTuple):
    """A change still pending in the outbox, as its row holds it."""

    change_id: str
    entity: str
    record_id: str
    fields: str  # JSON
    hlc: str
    author_id: str
    op: str


class PulledRow(NamedTuple):
    """The laptop's copy of a hub record, as the `pulled` table holds it."""

    id: str
    entity: str
    seq: int
    deleted: int
    data: str  # JSON


@dataclass(frozen=True, slots=True)
class ConfirmPlan:
    """What a batch of receipts does to the outbox.

    `quiet`: receipts to fold (:func:`fold_quiet`), in order; `acked`: ``(seq, receipt
    JSON, change_id)`` of changes to mark acked; `rejected`: ``(receipt JSON, change_id)``
    of changes to mark rejected. Only a change still pending is touched.
    """

    quiet: tuple[Receipt, ...]
    acked: tuple[tuple[int | None, str, str], ...]
    rejected: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class FoldPlan:
    """The folded records to write into `pulled` (newer over older only), and the outbox
    changes they settle, to forget."""

    pulled: tuple[PulledRow, ...]
    forget: tuple[str, ...]


def is_quiet(receipt: Receipt) -> bool:
    """Whether the hub applied the change as sent and will not echo it in a pull."""
    return (
        receipt.get("quiet") is True
        and receipt.get("status") == "applied"
        and type(receipt.get("seq")) is int
    )


def plan_confirm(receipts: Sequence[Receipt]) -> ConfirmPlan:
    """Sort one batch's receipts into what to fold, mark acked and mark rejected."""
    quiet, acked, rejected = [], [], []
    for receipt in receipts:
        if is_quiet(receipt):
            quiet.append(receipt)
        elif receipt["status"] == "rejected":
            rejected.append((compact_json(receipt), receipt["change_id"]))
        else:
            acked.append((receipt.get("seq"), compact_json(receipt), receipt["change_id"]))
    return ConfirmPlan(tuple(quiet), tuple(acked), tuple(rejected))


def fold_quiet(
    receipts: Sequence[Receipt],
    pending: Mapping[str, PendingChange],
    pulled: Mapping[str, PulledRow],
    device_id: str,
) -> FoldPlan:
    """Fold each quiet receipt's pending change into the laptop's copy of its record, in
    the order given: each fold starts from what the previous ones left.

    :param pending: the pending changes by change id (a receipt whose change is no longer
        pending is left alone).
    :param pulled: the laptop's copies of the changes' records, by record id.
    """
    current = dict(pulled)
    rows: list[PulledRow] = []
    forget: list[str] = []
    folded: set[str] = set()
    for receipt in receipts:
        change = pending.get(receipt["change_id"])
        if change is None or change.change_id in folded:
            continue
        before = current.get(change.record_id)
        row = _fold_one(change, before, receipt, device_id)
        if before is None or row.seq > before.seq:  # as the upsert's own guard decides
            current[change.record_id] = row
        rows.append(row)
        forget.append(change.change_id)
        folded.add(change.change_id)
    return FoldPlan(tuple(rows), tuple(forget))


def _fold_one(
    change: PendingChange, before: PulledRow | None, receipt: Receipt, device_id: str
) -> PulledRow:
    data: dict[str, Any] = orjson.loads(before.data) if before else {}
    fields = orjson.loads(change.fields)
    deleted = bool(before.deleted) if before else False
    transition = None
    if change.op == "delete":
        deleted = True
    else:
        transition = status_transition(data if before else None, fields)
        data.update(fields)
    stamp_record(
        data,
        hlc=receipt.get("hlc") or change.hlc,
        seq=receipt["seq"],
        author_id=change.author_id,
        device_id=device_id,
        transition=transition,
        created_before=data.get("created_at") if before else None,
        updated_before=data.get("updated_at") if before else None,
    )
    return PulledRow(
        change.record_id, change.entity, receipt["seq"], int(deleted), orjson.dumps(data).decode()
    )
