"""A beneficiary's page, a record's history, and *where each record is*, from the store.

*Where is it* (issue 13 item 7) is one of five states, decided in this order:

- ``ditolak``: the record's latest change was refused by the hub; `errors` holds the
  hub's messages by field (the receipt keeps them);
- ``konflik``: the hub reported a conflict on this laptop's change of it, still open;
- ``tersimpan``: a change is in the outbox, not yet confirmed (*tersimpan di laptop*);
- ``dikembalikan``: a visit the office returned for correction; `reason` is the office's;
- ``terkirim``: the hub holds the record as the laptop shows it; `received_at` is when the
  hub received the laptop's last change of it (the push answer's `received_at`, by the
  hub's clock; from an older hub that does not send it, when the receipt reached the laptop
  by its own clock: :func:`client_sync.store.read_model.note_confirmed`), None for a record
  the laptop only ever pulled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from client_sync.store import records
from client_sync.store.db import Db
from schemas.review import RETURNED, REVIEW_FIELD

__all__ = ["PLACE_LABELS", "BeneficiaryPage", "Place", "RecordPages"]

#: each state as the pendamping reads it
PLACE_LABELS: dict[str, str] = {
    "tersimpan": "tersimpan di laptop",
    "terkirim": "terkirim",
    "konflik": "konflik",
    "dikembalikan": "dikembalikan",
    "ditolak": "ditolak",
}
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Place:
    """Where one record is, and the detail its state carries."""

    state: str  # a key of PLACE_LABELS
    received_at: str | None = None  # terkirim (and a change acked, awaiting its pull)
    reason: str | None = None  # dikembalikan: the office's reason
    errors: dict[str, Any] = field(default_factory=dict)  # ditolak: the hub's, by field
    conflicts: int = 0  # open conflicts on this laptop's changes of it

    @property
    def label(self) -> str:
        return PLACE_LABELS[self.state]


@dataclass(frozen=True, slots=True)
class BeneficiaryPage:
    """All a beneficiary's page shows; each record as :func:`records.overlay` shows it."""

    record: dict[str, Any]
    place: Place | None
    visits: list[dict[str, Any]]  # newest visit first
    requests: list[dict[str, Any]]  # oldest first; each with `history` (see below)
    photos: list[dict[str, Any]]  # every photo of the person, their visits and requests
    history: list[dict[str, Any]]  # the beneficiary record's own (RecordPages.history)
    places: dict[str, Place]  # where each visit and request is, by id


class RecordPages:
    """The per-record reads over one store's connection."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def beneficiary(self, record_id: str) -> BeneficiaryPage:
        """The beneficiary, their visits (newest first), their ABF requests (each with its
        status history as far as the laptop knows: the hub's, then the laptop's own moves
        not yet pulled back, marked ``"laptop": True``), their photos (each with its
        `state` on the laptop, or ``di_hub`` for one the laptop never held), the record's
        history, and where each record is.

        :raises RecordNotFound: no such beneficiary on this laptop.
        """
        record = records.get(self._db, "beneficiary", record_id)
        owned = self._db.conn.execute(
            "SELECT id, entity FROM local_records WHERE beneficiary_id = ? AND live = 1"
            " AND entity IN ('visit', 'device_request')",
            (record_id,),
        ).fetchall()
        found = records.find_many(self._db, [row[0] for row in owned])
        visits = [found[i] for i, e in owned if e == "visit" and i in found]
        visits.sort(key=lambda v: (v.get("visited_at") or "", v["id"]), reverse=True)
        requests = [found[i] for i, e in owned if e == "device_request" and i in found]
        requests.sort(key=lambda r: (r.get("created_at") or "", r["id"]))
        moves = self.status_moves([r["id"] for r in requests])
        requests = [
            {**r, "history": [*(r.get("status_history") or []), *moves.get(r["id"], [])]}
            for r in requests
        ]
        every = [record, *visits, *requests]
        return BeneficiaryPage(
            record=record,
            place=self.where_many([record_id]).get(record_id),
            visits=visits,
            requests=requests,
            photos=self._photos(every),
            history=self.history(record_id),
            places=self.where_many([r["id"] for r in [*visits, *requests]]),
        )

    def status_moves(self, request_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Status changes of these requests still in the outbox (not pulled back yet)."""
        moves: dict[str, list[dict[str, Any]]] = {}
        for chunk in _chunks(list(request_ids)):
            rows = self._db.conn.execute(
                "SELECT record_id, fields, author_id, created_at, state FROM outbox"
                f" WHERE record_id IN ({_marks(chunk)}) AND state IN ('pending', 'acked')"
                " ORDER BY position",
                chunk,
            ).fetchall()
            for record_id, fields, author, at, state in rows:
                status = json.loads(fields).get("status")
                if isinstance(status, str):
                    moves.setdefault(record_id, []).append(
                        {"to": status, "by": author, "at": at, "laptop": True, "state": state}
                    )
        return moves

    def _photos(self, owners: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted: list[tuple[str, dict[str, Any]]] = []
        for owner in owners:
            for sha in owner.get("attachments") or []:
                wanted.append((sha, owner))
        held: dict[str, dict[str, Any]] = {}
        shas = list(dict.fromkeys(sha for sha, _ in wanted))
        for chunk in _chunks(shas):
            cursor = self._db.conn.execute(
                "SELECT sha256, kind, media_type, size, state, error, created_at, uploaded_at"
                f" FROM attachments WHERE sha256 IN ({_marks(chunk)})",
                chunk,
            )
            names = [c[0] for c in cursor.description]
            held.update((row[0], dict(zip(names, row, strict=True))) for row in cursor)
        photos, seen = [], set()
        for sha, owner in wanted:
            if sha in seen:
                continue
            seen.add(sha)
            photo = held.get(sha) or {"sha256": sha, "state": "di_hub"}
            photos.append({**photo, "record_id": owner["id"]})
        return photos

    def history(self, record_id: str) -> list[dict[str, Any]]:
        """What the laptop knows of a record's past, oldest first: each change it made that
        is still in the outbox (``kind: laptop``, with its `state` and, refused, the hub's
        `errors`), the hub's copy it holds (``kind: hub``: `seq`, `at` = its updated_at),
        the office's review of a visit (``kind: review``), each status move the hub
        recorded (``kind: status``) and each conflict the hub reported (``kind: conflict``).
        A change the hub confirmed and sent back is folded into the hub's copy."""
        conn = self._db.conn
        entries: list[dict[str, Any]] = []
        for fields, state, receipt, at, op, author in conn.execute(
            "SELECT fields, state, receipt, created_at, op, author_id FROM outbox"
            " WHERE record_id = ? ORDER BY position",
            (record_id,),
        ):
            entry = {"kind": "laptop", "at": at, "state": state, "op": op, "by": author}
            entry["fields"] = json.loads(fields)
            if state == "rejected" and receipt:
                entry["errors"] = json.loads(receipt).get("errors", {})
            entries.append(entry)
        pulled = conn.execute(
            "SELECT seq, deleted, data FROM pulled WHERE id = ?", (record_id,)
        ).fetchone()
        if pulled is not None:
            data = json.loads(pulled[2])
            entries.append(
                {
                    "kind": "hub",
                    "at": data.get("updated_at"),
                    "seq": pulled[0],
                    "deleted": bool(pulled[1]),
                }
            )
            review = data.get(REVIEW_FIELD)
            if isinstance(review, dict):
                entries.append({"kind": "review", **review})
            for move in data.get("status_history") or []:
                if isinstance(move, dict):
                    entries.append({"kind": "status", **move})
        for (text,) in conn.execute(
            "SELECT data FROM conflicts WHERE record_id = ? ORDER BY conflict_id", (record_id,)
        ):
            conflict = json.loads(text)
            entries.append({"kind": "conflict", "at": conflict.get("created_at"), **conflict})
        entries.sort(key=lambda e: e.get("at") or "")
        return entries

    def where_many(self, record_ids: Sequence[str]) -> dict[str, Place]:
        """Where each of these records is (the module's five states), by id; a record not
        on this laptop is left out. Four indexed queries per 500 ids."""
        places: dict[str, Place] = {}
        conn = self._db.conn
        for chunk in _chunks(list(dict.fromkeys(record_ids))):
            marks = _marks(chunk)
            latest: dict[str, tuple[str, str | None]] = {}
            for record_id, state, receipt in conn.execute(
                "SELECT record_id, state, receipt FROM outbox WHERE record_id IN"
                f" ({marks}) AND state IN ('pending', 'acked', 'rejected') ORDER BY position",
                chunk,
            ):
                latest[record_id] = (state, receipt)
            conflicts = dict(
                conn.execute(
                    "SELECT record_id, COUNT(*) FROM conflicts WHERE resolved = 0"
                    f" AND record_id IN ({marks}) GROUP BY record_id",
                    chunk,
                ).fetchall()
            )
            confirmed_at = dict(
                conn.execute(
                    "SELECT record_id, confirmed_at FROM local_receipts"
                    f" WHERE record_id IN ({marks})",
                    chunk,
                ).fetchall()
            )
            for record_id, review, reason in conn.execute(
                f"SELECT id, review_state, review_reason FROM local_records WHERE id IN ({marks})",
                chunk,
            ):
                confirmed = confirmed_at.get(record_id)
                state, receipt = latest.get(record_id, (None, None))
                open_conflicts = int(conflicts.get(record_id, 0))
                if state == "rejected":
                    errors = json.loads(receipt).get("errors", {}) if receipt else {}
                    place = Place("ditolak", errors=errors, conflicts=open_conflicts)
                elif open_conflicts:
                    place = Place("konflik", received_at=confirmed, conflicts=open_conflicts)
                elif state == "pending":
                    place = Place("tersimpan")
                elif review == RETURNED:
                    place = Place("dikembalikan", received_at=confirmed, reason=reason)
                else:
                    place = Place("terkirim", received_at=confirmed)
                places[record_id] = place
        return places


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]


def _marks(chunk: Sequence[str]) -> str:
    return ",".join("?" * len(chunk))
