"""Drafts: a form half filled, kept in the encrypted store as it is typed (issue 13 item 6).

A draft is the form's values as typed (a JSON object), the kind of record it makes, and the
record it edits if any. Each save is one durable transaction, so a draft outlives a closed
browser, a killed app and a dead laptop. A draft never enters the outbox: only
:meth:`Drafts.save_as_record` turns it into a record, and it removes the draft in the same
transaction as the record's change, after the record's schema has accepted the fields; a
refused save changes nothing and the draft stays.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from client_sync.errors import InvalidRecord, RecordNotFound
from client_sync.store import entry
from client_sync.store.db import Db
from schemas.codes import ENTITIES
from schemas.hlc import iso_from_ms

__all__ = ["DRAFT_MAX_BYTES", "Draft", "Drafts"]

#: the largest draft kept (its fields as JSON); a form is a few KiB
DRAFT_MAX_BYTES = 256 * 1024
_ID_MAX = 100
_COLUMNS = "draft_id, kind, record_id, fields, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class Draft:
    """One kept draft."""

    draft_id: str
    kind: str  # the record it makes: beneficiary, visit or device_request
    record_id: str | None  # the record it edits; None: a new record
    fields: dict[str, Any]
    created_at: str
    updated_at: str


def _draft(row: tuple) -> Draft:
    return Draft(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])


class Drafts:
    """The drafts of one laptop store, on the store's own connection."""

    def __init__(self, db: Db, wall: Callable[[], int]) -> None:
        self._db = db
        self._wall = wall

    def save(
        self, draft_id: str, kind: str, fields: dict[str, Any], record_id: str | None = None
    ) -> Draft:
        """Keep the form as typed now, over the draft's last save (created if new), durably.

        :param draft_id: chosen by the form (a UUID made when it opened), so each autosave
            of one form replaces the last.
        :raises InvalidRecord: a bad id, kind or record id, or fields that are not a JSON
            object or are larger than :data:`DRAFT_MAX_BYTES`; nothing is written.
        """
        errors: dict[str, list[str]] = {}
        if not isinstance(draft_id, str) or not 0 < len(draft_id) <= _ID_MAX:
            errors["draft_id"] = [f"Harus teks 1-{_ID_MAX} karakter."]
        if kind not in ENTITIES:
            errors["kind"] = [f"Harus salah satu dari: {', '.join(ENTITIES)}."]
        if record_id is not None and (not isinstance(record_id, str) or len(record_id) > _ID_MAX):
            errors["record_id"] = ["Harus id data."]
        text = ""
        if not isinstance(fields, dict):
            errors["fields"] = ["Harus berupa objek."]
        else:
            try:
                text = json.dumps(
                    fields, ensure_ascii=False, separators=(",", ":"), allow_nan=False
                )
                size = len(text.encode("utf-8"))
            except (TypeError, ValueError):  # a lone surrogate, a NaN, a set...
                errors["fields"] = ["Hanya nilai JSON yang dapat disimpan."]
                size = 0
            if size > DRAFT_MAX_BYTES:
                errors["fields"] = [f"Draf terlalu besar (paling banyak {DRAFT_MAX_BYTES} B)."]
        if errors:
            raise InvalidRecord(errors)
        now = iso_from_ms(self._wall())
        with self._db.atomic() as conn:
            conn.execute(
                f"INSERT INTO drafts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (draft_id) DO UPDATE SET kind = excluded.kind,"
                " record_id = excluded.record_id, fields = excluded.fields,"
                " updated_at = excluded.updated_at",
                (draft_id, kind, record_id, text, now, now),
            )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM drafts WHERE draft_id = ?", (draft_id,)
            ).fetchone()
        return _draft(row)

    def get(self, draft_id: str) -> Draft:
        """:raises RecordNotFound: no such draft."""
        row = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM drafts WHERE draft_id = ?", (draft_id,)
        ).fetchone()
        if row is None:
            raise RecordNotFound(f"Tidak ada draf {draft_id}.")
        return _draft(row)

    def list(self, kind: str | None = None, record_id: str | None = None) -> list[Draft]:
        """Kept drafts, the most recently typed first; only of `kind` / of the record
        `record_id` edits, when given."""
        sql, params = f"SELECT {_COLUMNS} FROM drafts WHERE 1", list[str]()
        if kind is not None:
            sql, params = sql + " AND kind = ?", [*params, kind]
        if record_id is not None:
            sql, params = sql + " AND record_id = ?", [*params, record_id]
        rows = self._db.conn.execute(sql + " ORDER BY updated_at DESC, draft_id", params)
        return [_draft(row) for row in rows.fetchall()]

    def count(self) -> int:
        return int(self._db.conn.execute("SELECT COUNT(*) FROM drafts").fetchone()[0])

    def discard(self, draft_id: str) -> bool:
        """Throw a draft away. :returns: whether there was one."""
        with self._db.atomic() as conn:
            return bool(conn.execute("DELETE FROM drafts WHERE draft_id = ?", (draft_id,)).rowcount)

    def save_as_record(self, draft_id: str, fields: dict[str, Any] | None = None) -> str:
        """Turn a draft into its record and remove it, in one transaction.

        A draft with no `record_id` becomes a new record (``FieldStore.add``), one with a
        `record_id` an edit of it (``FieldStore.update``).

        :param fields: the record's fields made from the form (what the form-to-record
            conversion gave); default: the draft's fields as they are.
        :returns: the record's id.
        :raises RecordNotFound: no such draft, or the record it edits is gone.
        :raises InvalidRecord: the record's schema refused the fields (naming each field);
            nothing is written and the draft stays as it was.
        """
        draft = self.get(draft_id)
        values = draft.fields if fields is None else fields
        with self._db.atomic() as conn:
            if draft.record_id is None:
                record_id = entry.add(self._db, self._wall, draft.kind, values)
            else:
                record_id = draft.record_id
                entry.update(self._db, self._wall, draft.kind, record_id, values)
            gone = conn.execute("DELETE FROM drafts WHERE draft_id = ?", (draft_id,)).rowcount
            if not gone:  # discarded meanwhile by another window: keep nothing of it
                raise RecordNotFound(f"Tidak ada draf {draft_id}.")
        return record_id
