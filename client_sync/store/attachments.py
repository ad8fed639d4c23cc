"""The photo queue's SQL: the `attachments` table (migration 0003).

A row is a photo kept at ``<home>/<path>`` that waits until the hub holds it whole; the
upload (:mod:`client_sync.photos`) notes its progress here chunk by chunk. Rows are plain
tuples or dicts built from the cursor's description, never ``sqlite3.Row``: the connection
may be sqlcipher3's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from client_sync.store.db import Db

__all__ = ["Attachments", "NewAttachment"]

_LISTED = (
    "sha256, entity, record_id, kind, media_type, size, bytes_sent, state, error,"
    " created_at, uploaded_at"
)
_SETTABLE = frozenset({"state", "error", "upload_url", "bytes_sent", "uploaded_at"})


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A photo just kept on the laptop, to queue."""

    sha256: str
    entity: str
    record_id: str
    kind: str
    media_type: str
    size: int
    path: str  # relative to the laptop's home, with forward slashes
    created_at: str


class Attachments:
    """The photos of one laptop store, on the store's own connection."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, photo: NewAttachment) -> bool:
        """Queue a photo unless it is queued already; call inside the store's transaction.

        :returns: whether a row was added.
        """
        return bool(
            self._db.conn.execute(
                "INSERT INTO attachments (sha256, entity, record_id, kind, media_type, size,"
                " path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (sha256) DO NOTHING",
                (
                    photo.sha256,
                    photo.entity,
                    photo.record_id,
                    photo.kind,
                    photo.media_type,
                    photo.size,
                    photo.path,
                    photo.created_at,
                ),
            ).rowcount
        )

    def pending(self) -> list[tuple[str, str, str, int]]:
        """``(sha256, path, media_type, size)`` of every photo the hub does not hold yet,
        oldest first."""
        return self._db.conn.execute(
            "SELECT sha256, path, media_type, size FROM attachments WHERE state = 'pending'"
            " ORDER BY created_at, sha256"
        ).fetchall()

    def pending_count(self) -> int:
        return self._db.conn.execute(
            "SELECT COUNT(*) FROM attachments WHERE state = 'pending'"
        ).fetchone()[0]

    def ready(self) -> list[tuple[str, str, str, int, str, str | None]]:
        """``(sha256, kind, media_type, size, path, upload_url)`` of pending photos whose
        record has no change still pending in the outbox: a record syncs before its photos."""
        return self._db.conn.execute(
            "SELECT sha256, kind, media_type, size, path, upload_url FROM attachments a"
            " WHERE state = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox o"
            " WHERE o.record_id = a.record_id AND o.state = 'pending')"
            " ORDER BY created_at, sha256"
        ).fetchall()

    def listed(self) -> list[dict[str, Any]]:
        """Every photo with its state and how much the hub has confirmed."""
        cursor = self._db.conn.execute(
            f"SELECT {_LISTED} FROM attachments ORDER BY created_at, sha256"
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def set(self, sha256: str, **values: Any) -> None:
        """Note an upload's progress or end (`state`, `error`, `upload_url`, `bytes_sent`,
        `uploaded_at`), durably, before the next byte goes."""
        unknown = values.keys() - _SETTABLE
        if unknown:
            raise ValueError(f"not an attachment column: {sorted(unknown)}")
        names = ", ".join(f"{name} = ?" for name in values)
        with self._db.atomic() as conn:
            conn.execute(
                f"UPDATE attachments SET {names} WHERE sha256 = ?", (*values.values(), sha256)
            )
