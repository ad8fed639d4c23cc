"""The field app's reads of ABF requests: how many in each status, a status's list, and
one request's page with its status history and where it is.

A hub copy's status and filing time are an index of their own (migration 0008: an
expression index over the pulled JSON, so there is nothing else to keep in step); the
requests shown from the outbox (`local_overlay`: the laptop's unsent work, small) are read
whole and merged in. A page decodes only its own rows (for the device type and the time of
the last status move), so it costs the same with 5 requests as with 5,000. Reached as
``FieldStore.views.requests``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from client_sync.store import records
from client_sync.store.db import Db
from client_sync.store.record_page import Place, RecordPages
from schemas.codes import DEVICE_STATUSES

__all__ = ["RequestItem", "RequestPage", "RequestViews"]

_MAX_LIMIT = 500
_STATUS = "json_extract(data, '$.status')"
_CREATED = "json_extract(data, '$.created_at')"
#: a hub copy of a live request not overlaid by the outbox (the index's rows)
_HUB_COPY = "entity = 'device_request' AND deleted = 0 AND id NOT IN (SELECT id FROM local_overlay)"


@dataclass(frozen=True, slots=True)
class RequestItem:
    """A request in a status's list. `since`: when it reached its status (the last move's
    time, or when it was filed); `key`: the cursor of the next page when this is the last."""

    id: str
    beneficiary_id: str | None
    beneficiary_name: str | None
    kelurahan: str | None
    device_type: str | None
    status: str | None
    since: str | None
    created_at: str | None
    key: tuple[str, str]


@dataclass(frozen=True, slots=True)
class RequestPage:
    """All a request's page shows: the record as the laptop sees it, its beneficiary's
    name, its status history (the hub's moves, then the laptop's own not yet pulled back,
    marked ``"laptop": True``), where it is, and the record's history."""

    record: dict[str, Any]
    beneficiary_name: str | None
    moves: list[dict[str, Any]]
    place: Place | None
    history: list[dict[str, Any]]

    @property
    def since(self) -> str | None:
        return _since(self.record, self.moves)


def _since(record: dict[str, Any], moves: list[dict[str, Any]]) -> str | None:
    for move in reversed(moves):
        if isinstance(move, dict) and move.get("to") == record.get("status") and move.get("at"):
            return str(move["at"])
    created = record.get("created_at")
    return created if isinstance(created, str) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class RequestViews:
    """The request reads over one store's connection."""

    def __init__(self, db: Db, pages: RecordPages) -> None:
        self._db = db
        self._pages = pages

    def _shown_from_outbox(self) -> list[dict[str, Any]]:
        """The live requests with changes shown from the outbox, whole."""
        ids = [
            row[0]
            for row in self._db.conn.execute(
                "SELECT id FROM local_overlay WHERE entity = 'device_request' AND live = 1"
            )
        ]
        return list(records.find_many(self._db, ids).values())

    def counts(self) -> dict[str, int]:
        """Live requests on this laptop per status, every status in the lifecycle's order
        (0 included); a status the laptop does not know comes last."""
        found: dict[str, int] = {}
        for status, n in self._db.conn.execute(
            f"SELECT {_STATUS}, COUNT(*) FROM pulled WHERE {_HUB_COPY} GROUP BY 1"
        ):
            if isinstance(status, str):
                found[status] = found.get(status, 0) + int(n)
        for record in self._shown_from_outbox():
            status = _text(record.get("status"))
            if status:
                found[status] = found.get(status, 0) + 1
        return {s: found.pop(s, 0) for s in DEVICE_STATUSES} | found

    def listed(
        self, status: str, limit: int = 50, after: tuple[str, str] | None = None
    ) -> list[RequestItem]:
        """Live requests in `status`, the earliest filed first, each with its beneficiary's
        name and when it reached the status.

        :param after: the last row's `key`: the page after it.
        """
        limit = max(1, min(int(limit), _MAX_LIMIT))
        start = after or ("", "")
        rows = self._db.conn.execute(
            f"SELECT id, COALESCE({_CREATED}, '') FROM pulled WHERE {_HUB_COPY}"
            f" AND {_STATUS} = ? AND (COALESCE({_CREATED}, ''), id) > (?, ?)"
            f" ORDER BY COALESCE({_CREATED}, ''), id LIMIT ?",
            (status, *start, limit),
        ).fetchall()
        keys = [(created, rid) for rid, created in rows]
        keys += [
            (_text(r.get("created_at")), r["id"])
            for r in self._shown_from_outbox()
            if r.get("status") == status and (_text(r.get("created_at")), r["id"]) > start
        ]
        keys = sorted(keys)[:limit]
        ids = [rid for _, rid in keys]
        found = records.find_many(self._db, ids)
        owners = {r.get("beneficiary_id") for r in found.values()} - {None}
        people = records.find_many(self._db, [o for o in owners if isinstance(o, str)])
        moves = self._pages.status_moves(ids)
        items = []
        for created, rid in keys:
            record = found.get(rid)
            if record is None:
                continue
            owner = record.get("beneficiary_id")
            person = people.get(owner) if isinstance(owner, str) else None
            history = [*(record.get("status_history") or []), *moves.get(rid, [])]
            items.append(
                RequestItem(
                    rid,
                    owner if isinstance(owner, str) else None,
                    person.get("name") if person else None,
                    record.get("kelurahan"),
                    record.get("device_type"),
                    record.get("status"),
                    _since(record, history),
                    record.get("created_at"),
                    (created, rid),
                )
            )
        return items

    def page(self, record_id: str) -> RequestPage:
        """One request's page. :raises RecordNotFound: no such request on this laptop."""
        record = records.get(self._db, "device_request", record_id)
        owner = record.get("beneficiary_id")
        person = records.find(self._db, "beneficiary", owner) if isinstance(owner, str) else None
        moves = self._pages.status_moves([record_id]).get(record_id, [])
        return RequestPage(
            record=record,
            beneficiary_name=person.get("name") if person else None,
            moves=[*(record.get("status_history") or []), *moves],
            place=self._pages.where_many([record_id]).get(record_id),
            history=self._pages.history(record_id),
        )
