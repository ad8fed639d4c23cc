"""The field app's reads of ABF requests: how many in each status, a status's list, and
one request's page with its status history and where it is.

The list asks the read model's `local_requests` index (migration 0007) for the page's rows
and decodes only those records (for the device type and the time of the last status move),
so it costs the same with 5 requests as with 5,000. Reached as ``FieldStore.views.requests``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from client_sync.store import records
from client_sync.store.db import Db
from client_sync.store.record_page import Place, RecordPages
from schemas.codes import DEVICE_STATUSES

__all__ = ["RequestItem", "RequestPage", "RequestViews"]

_LIVE_REQUEST = "r.entity = 'device_request' AND r.live = 1"
_MAX_LIMIT = 500


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


class RequestViews:
    """The request reads over one store's connection."""

    def __init__(self, db: Db, pages: RecordPages) -> None:
        self._db = db
        self._pages = pages

    def counts(self) -> dict[str, int]:
        """Live requests on this laptop per status, every status in the lifecycle's order
        (0 included); a status the laptop does not know comes last."""
        rows = self._db.conn.execute(
            f"SELECT r.status, COUNT(*) FROM local_records AS r WHERE {_LIVE_REQUEST}"
            " GROUP BY r.status"
        ).fetchall()
        found = {status: int(n) for status, n in rows if isinstance(status, str)}
        return {s: found.pop(s, 0) for s in DEVICE_STATUSES} | found

    def listed(
        self, status: str, limit: int = 50, after: tuple[str, str] | None = None
    ) -> list[RequestItem]:
        """Live requests in `status`, the earliest filed first, each with its beneficiary's
        name and when it reached the status.

        :param after: the last row's `key`: the page after it.
        """
        keyset, keys = "", list[str]()
        if after is not None:
            keyset, keys = " AND (COALESCE(r.created_at, ''), r.id) > (?, ?)", list(after)
        rows = self._db.conn.execute(
            "SELECT r.id, r.beneficiary_id, b.name, r.kelurahan, r.status, r.created_at"
            " FROM local_records AS r LEFT JOIN local_records AS b ON b.id = r.beneficiary_id"
            f" WHERE {_LIVE_REQUEST} AND r.status = ?{keyset}"
            " ORDER BY COALESCE(r.created_at, ''), r.id LIMIT ?",
            [status, *keys, max(1, min(int(limit), _MAX_LIMIT))],
        ).fetchall()
        ids = [row[0] for row in rows]
        found = records.find_many(self._db, ids)
        moves = self._pages.status_moves(ids)
        items = []
        for rid, owner, name, kelurahan, state, created in rows:
            record = found.get(rid, {})
            history = [*(record.get("status_history") or []), *moves.get(rid, [])]
            items.append(
                RequestItem(
                    rid,
                    owner,
                    name,
                    kelurahan,
                    record.get("device_type"),
                    state,
                    _since(record, history) if record else created,
                    created,
                    (created or "", rid),
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
