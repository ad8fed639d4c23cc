"""The `bundle_exports` table's SQL (migration 0004): which pending changes went into a USB
bundle, so the next sync asks the hub for their receipts instead of pushing them again."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from client_sync.store.db import Db

__all__ = ["Exports"]


class Exports:
    """The bundle exports of one laptop store, on the store's own connection."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def note(self, change_ids: Sequence[str], bundle: str, exported_at: str) -> None:
        """Note changes as written into `bundle` (a change keeps its first bundle)."""
        with self._db.atomic() as conn:
            conn.executemany(
                "INSERT INTO bundle_exports (change_id, bundle, exported_at) VALUES (?, ?, ?)"
                " ON CONFLICT (change_id) DO NOTHING",
                [(change_id, bundle, exported_at) for change_id in change_ids],
            )

    def forget(self, bundle: str, exported_at: str) -> None:
        """Drop the rows of an export that failed (rows of earlier bundles stay); never
        raises, since it runs while another error is on its way."""
        with contextlib.suppress(Exception), self._db.atomic() as conn:
            conn.execute(
                "DELETE FROM bundle_exports WHERE bundle = ? AND exported_at = ?",
                (bundle, exported_at),
            )

    def pending_count(self) -> int:
        """How many pending changes went into a bundle and await the hub's word."""
        return self._db.conn.execute(
            "SELECT COUNT(*) FROM bundle_exports e JOIN outbox o ON o.change_id = e.change_id"
            " WHERE o.state = 'pending'"
        ).fetchone()[0]

    def pending_chunks(self, size: int) -> Iterator[list[str]]:
        """Pending exported change ids in outbox order, at most `size` at a time."""
        after = 0
        while True:
            rows = self._db.conn.execute(
                "SELECT o.position, o.change_id FROM outbox o"
                " JOIN bundle_exports e ON e.change_id = o.change_id"
                " WHERE o.state = 'pending' AND o.position > ? ORDER BY o.position LIMIT ?",
                (after, size),
            ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield [change_id for _position, change_id in rows]

    def drop_settled(self) -> None:
        """Drop the rows of changes no longer pending (the hub's receipts settled them)."""
        with self._db.atomic() as conn:
            conn.execute(
                "DELETE FROM bundle_exports WHERE change_id NOT IN"
                " (SELECT change_id FROM outbox WHERE state = 'pending')"
            )
