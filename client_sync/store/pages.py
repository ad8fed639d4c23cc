"""What a pulled page does to the laptop store, as a plain function: no SQL, no I/O.

:func:`plan_pull_page` turns one page of the hub's pull (records, conflicts, exits, the next
cursor) and the laptop's own state (its cursor, its clock) into the writes that store it;
:mod:`client_sync.store.pull` executes them in one transaction. A record is written only
over an older copy; a record that left the laptop's scope is dropped unless it came back;
the cursor never moves back; the clock observes the newest change seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.hlc import HybridClock, Timestamp

__all__ = ["PullPlan", "plan_pull_page"]


@dataclass(frozen=True, slots=True)
class PullPlan:
    """The writes one pulled page makes.

    `upserts`: ``(id, entity, seq, deleted, data JSON)`` rows, each stored only over an
    older copy; `exits`: ``(record id, seq)`` of records that left the laptop's scope, whose
    copy (and confirmed changes) at or before that seq are dropped; `conflicts`:
    ``(conflict_id, record_id, resolved, data JSON)`` rows to store; `cursor`: the new pull
    cursor, up to which confirmed changes whose record came back are forgotten; `hlc`: the
    laptop clock after the page.
    """

    upserts: list[tuple[str, str, int, int, str]]
    exits: list[tuple[str, int]]
    conflicts: list[tuple[str, str, int, str]]
    cursor: int
    hlc: str


def plan_pull_page(
    records: Sequence[dict[str, Any]],
    next_seq: int,
    conflicts: Sequence[dict[str, Any]] = (),
    exits: Sequence[dict[str, Any]] = (),
    *,
    cursor: int,
    last_hlc: str | None,
    device_id: str,
    wall: Callable[[], int],
) -> PullPlan:
    """Plan the writes of one page.

    :param cursor: the laptop's pull cursor before the page.
    :param last_hlc: the last timestamp the laptop's clock issued or saw (None: none yet).
    :param device_id: the laptop's clock node.
    :param wall: the wall clock in ms.
    """
    newest = max((r["hlc"] for r in records if r.get("hlc")), default=None)
    clock = HybridClock(device_id, Timestamp.parse(last_hlc) if last_hlc else None, wall)
    if newest:
        clock.observe(Timestamp.parse(newest))
    return PullPlan(
        upserts=[
            (r["id"], r["entity"], r["seq"], int(r["deleted"]), orjson.dumps(r["data"]).decode())
            for r in records
        ],
        exits=[(gone["id"], gone["seq"]) for gone in exits],
        conflicts=[
            (
                c["conflict_id"],
                c["record_id"],
                int(c.get("resolved_at") is not None),
                orjson.dumps(c).decode(),
            )
            for c in conflicts
        ],
        cursor=max(next_seq, cursor),
        hlc=clock.last.encode(),
    )
