"""The PostgreSQL :class:`~server.storage.limits.LimitStore`: hub-wide limits in the hub's
database, shared by every hub process on every machine that uses it.

The tables (migration ``pg_migrations/0005_limits.sql``) are UNLOGGED: the state is
ephemeral (a lost bucket refills, a lost ticket was a push that is retried), so no call
writes WAL or waits for an fsync, and a crashed server simply starts them empty. Every
change is one short transaction of :meth:`PgDatabase.transaction`, never under the hub's
write lock, so a rate check never queues behind a push. What makes each change exact
across processes:

- a bucket, a lease, the pace: its one row, locked (``SELECT ... FOR UPDATE`` after an
  ``INSERT ... ON CONFLICT DO NOTHING`` that makes sure it exists; a lease is one
  ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``), so two processes never both take the
  last token or both hold a lease;
- a key's failures: a transaction-scoped advisory lock of that key, so each count
  includes every failure added before it;
- the write queue: one advisory lock held while a ticket is drawn and committed, so
  tickets commit in their order and the queue ahead of a push only ever shrinks (an
  identity alone hands numbers out before commit, out of order).

The advisory locks use the two-number form (a class of this module, an object); the
hub's write lock is a single number, which PostgreSQL keeps in another key space.
Expired rows are swept in passing, a bounded batch at a time and skipping rows another
transaction holds, so no call waits on a sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from server.storage.base import StorageError
from server.storage.limits import LimitStore, QueuePlace
from server.storage.pg_db import PgDatabase

__all__ = ["PgLimitStore"]

#: the advisory locks' classes ("LIMT", "LIMF"): the queue's one lock, a key's failures
_QUEUE_LOCK = (0x4C494D54, 0)
_FAILURES_CLASS = 0x4C494D46
#: rows of lapsed state swept by one call at most
_SWEEP = 100


def _sweep(table: str, key: str, expiry: str) -> str:
    """A statement deleting up to :data:`_SWEEP` rows lapsed by ``%s``, skipping locked ones
    (the names are this module's constants, never input)."""
    return (
        f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table}"
        f" WHERE {expiry} <= %s ORDER BY {expiry} LIMIT {_SWEEP} FOR UPDATE SKIP LOCKED)"
    )


_SWEEP_BUCKETS = _sweep("limits_buckets", "key", "full_at")
_SWEEP_FAILURES = _sweep("limits_failures", "ctid", "expires_at")
_SWEEP_HOLDS = _sweep("limits_holds", "key", "until")


class PgLimitStore(LimitStore):
    """Limits in tables of the hub's PostgreSQL database.

    :param db: the hub's database (its pool is shared with the other facets, and closed
        by its owner, :class:`~server.storage.pg.PostgresStorage`).
    :param owns_db: close `db` with this store (a handle of its own, :meth:`open`).
    """

    def __init__(self, db: PgDatabase, *, owns_db: bool = False) -> None:
        self._db = db
        self._owns_db = owns_db

    @classmethod
    def open(cls, url: str, max_size: int = 2) -> PgLimitStore:
        """Another handle on the limits of the database at `url`, with a pool of its own
        (what another hub process has): closing it closes that pool."""
        return cls(PgDatabase(url, max_size=max_size), owns_db=True)

    def close(self) -> None:
        if self._owns_db:
            self._db.close()

    # -- token buckets ------------------------------------------------------------------

    def take_token(self, key: str, rate: float, burst: float, now: float) -> float:
        with self._db.transaction() as conn:
            conn.execute(_SWEEP_BUCKETS, (now,))  # a bucket full again is as if never seen
            # One statement makes or finds the bucket AND locks its row: with a separate
            # SELECT ... FOR UPDATE, another process's sweep could delete the bucket in
            # between (DO NOTHING takes no lock) and the SELECT would find no row.
            row = conn.execute(
                "INSERT INTO limits_buckets (key, tokens, at, full_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (key) DO UPDATE SET key = excluded.key"
                " RETURNING tokens, at, full_at",
                (key, burst, now, now),
            ).fetchone()
            if row is None:  # pragma: no cover - RETURNING always gives the row
                raise StorageError("the rate-limit bucket was not returned")
            stored, at, full_at = row
            tokens = burst if full_at <= now else min(burst, stored + max(0.0, now - at) * rate)
            if tokens < 1.0:
                return (1.0 - tokens) / rate if rate > 0 else float("inf")
            tokens -= 1.0
            full_at = now + (burst - tokens) / rate if rate > 0 else float("inf")
            conn.execute(
                "UPDATE limits_buckets SET tokens = %s, at = %s, full_at = %s WHERE key = %s",
                (tokens, now, full_at, key),
            )
            return 0.0

    # -- failures -----------------------------------------------------------------------

    def add_failure(self, key: str, now: float, window_s: float) -> int:
        with self._db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_FAILURES_CLASS, key))
            conn.execute(_SWEEP_FAILURES, (now,))
            conn.execute(
                "INSERT INTO limits_failures (key, at, expires_at) VALUES (%s, %s, %s)",
                (key, now, now + window_s),
            )
            row = conn.execute(
                "SELECT count(*) FROM limits_failures WHERE key = %s AND at > %s",
                (key, now - window_s),
            ).fetchone()
            assert row is not None
            return int(row[0])

    def failures(self, key: str, now: float, window_s: float) -> list[float]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT at FROM limits_failures WHERE key = %s AND at > %s ORDER BY at",
                (key, now - window_s),
            ).fetchall()
        return [float(at) for (at,) in rows]

    def clear_failures(self, key: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_FAILURES_CLASS, key))
            conn.execute("DELETE FROM limits_failures WHERE key = %s", (key,))

    # -- holds --------------------------------------------------------------------------

    def hold(self, key: str, until: float, now: float) -> None:
        with self._db.transaction() as conn:
            conn.execute(_SWEEP_HOLDS, (now,))
            conn.execute(
                "INSERT INTO limits_holds (key, until) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET until = excluded.until",
                (key, until),
            )

    def held_until(self, keys: Sequence[str], now: float) -> float:
        if not keys:
            return 0.0
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT max(until) FROM limits_holds WHERE key = ANY(%s)", (list(keys),)
            ).fetchone()
        until = None if row is None else row[0]
        return float(until) if until is not None and until > now else 0.0

    # -- the write queue ----------------------------------------------------------------

    def enqueue(self, cost: int, now: float, expires_at: float) -> QueuePlace:
        with self._db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _QUEUE_LOCK)
            conn.execute("DELETE FROM limits_tickets WHERE expires_at <= %s", (now,))
            row = conn.execute(
                "INSERT INTO limits_tickets (cost, expires_at) VALUES (%s, %s) RETURNING ticket",
                (cost, expires_at),
            ).fetchone()
            assert row is not None
            return self._place(conn, int(row[0]), now)

    def queue_ahead(self, ticket: int, now: float) -> QueuePlace:
        with self._db.read() as conn:
            return self._place(conn, ticket, now)

    @staticmethod
    def _place(conn: psycopg.Connection[Any], ticket: int, now: float) -> QueuePlace:
        row = conn.execute(
            "SELECT coalesce(sum(cost), 0), count(*),"
            " (SELECT value FROM limits_pace WHERE name = 'write')"
            " FROM limits_tickets WHERE ticket < %s AND expires_at > %s",
            (ticket, now),
        ).fetchone()
        assert row is not None
        changes, pushes, pace = row
        return QueuePlace(ticket, int(changes), int(pushes), None if pace is None else float(pace))

    def leave(self, ticket: int, pace_sample: float | None = None, weight: float = 0.3) -> None:
        with self._db.transaction() as conn:
            gone = conn.execute("DELETE FROM limits_tickets WHERE ticket = %s", (ticket,)).rowcount
            if pace_sample is None or not gone:
                return
            conn.execute(
                "INSERT INTO limits_pace AS p (name, value) VALUES ('write', %s)"
                " ON CONFLICT (name)"
                " DO UPDATE SET value = p.value + %s * (excluded.value - p.value)",
                (pace_sample, weight),
            )

    # -- leases -------------------------------------------------------------------------

    def take_lease(self, name: str, owner: str, now: float, ttl_s: float) -> bool:
        with self._db.transaction() as conn:
            # One statement: a row another process inserts or renews meanwhile is waited
            # for, then the condition is checked against it (READ COMMITTED's re-check).
            row = conn.execute(
                "INSERT INTO limits_leases AS l (name, owner, expires_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE"
                " SET owner = excluded.owner, expires_at = excluded.expires_at"
                " WHERE l.owner = excluded.owner OR l.expires_at <= %s"
                " RETURNING owner",
                (name, owner, now + ttl_s, now),
            ).fetchone()
            return row is not None

    def release_lease(self, name: str, owner: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM limits_leases WHERE name = %s AND owner = %s", (name, owner))

    def lease_holder(self, name: str, now: float) -> tuple[str, float] | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT owner, expires_at FROM limits_leases WHERE name = %s", (name,)
            ).fetchone()
        if row is None or row[1] <= now:
            return None
        return str(row[0]), float(row[1])
