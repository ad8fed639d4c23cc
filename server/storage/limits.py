"""Hub-wide back-pressure state: the :class:`LimitStore` facet of hub storage.

The hub may run as several processes (`pendamping-hub serve --workers N`), so nothing
that must hold for the whole hub (a device's token bucket, an address's failed
enrolments, a locked login, the write queue and its measured pace) may live in one
process's memory. A backend keeps it here instead. The state is ephemeral: losing it
costs a laptop a few seconds at most, so a backend may keep it without durability (the
SQLite backend keeps it in a small file of its own, a PostgreSQL one would use an
UNLOGGED table).

Every method takes the time as wall-clock seconds (``now``) from the caller, never from a
clock of its own: monotonic clocks differ between processes, and tests move time by hand.
The policy (how many, how long, what to answer) stays in :mod:`server.throttle`,
:mod:`server.web.lockout` and :mod:`server.jobs.runner` (the jobs' lease); a store only
keeps the numbers and changes each one atomically.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LimitStore", "QueuePlace"]


@dataclass(frozen=True, slots=True)
class QueuePlace:
    """Where a push stands in the hub-wide write queue."""

    #: the push's ticket, ordered hub-wide (a younger push has a larger one)
    ticket: int
    #: changes of the live tickets ahead of it (the one writing included)
    ahead_changes: int
    #: live tickets ahead of it
    ahead_pushes: int
    #: the measured seconds per change of recent writes; None before the first
    pace: float | None


class LimitStore(abc.ABC):
    """Counters, buckets, holds and a queue, shared by every process of one hub."""

    # -- token buckets ------------------------------------------------------------------

    @abc.abstractmethod
    def take_token(self, key: str, rate: float, burst: float, now: float) -> float:
        """Spend one token of `key`'s bucket, which holds at most `burst` and refills
        `rate` tokens a second (a bucket never seen is full).

        :returns: 0.0 when a token was spent; otherwise the seconds until one is there
            (nothing is spent then).
        """

    # -- failures in a sliding window ---------------------------------------------------

    @abc.abstractmethod
    def add_failure(self, key: str, now: float, window_s: float) -> int:
        """Count one failure of `key` at `now`, kept for `window_s` seconds.

        :returns: the failures of `key` within the window ending at `now`, this one included.
        """

    @abc.abstractmethod
    def failures(self, key: str, now: float, window_s: float) -> list[float]:
        """:returns: the times of `key`'s failures within the window ending at `now`,
        oldest first."""

    @abc.abstractmethod
    def clear_failures(self, key: str) -> None:
        """Forget every failure of `key`."""

    # -- holds (a key locked until a time) ----------------------------------------------

    @abc.abstractmethod
    def hold(self, key: str, until: float, now: float) -> None:
        """Hold `key` until `until` (a later hold of the same key replaces it); holds
        ended by `now` may be forgotten."""

    @abc.abstractmethod
    def held_until(self, keys: Sequence[str], now: float) -> float:
        """:returns: the latest time any of `keys` is held until, if after `now`; else 0.0."""

    # -- the write queue ----------------------------------------------------------------

    @abc.abstractmethod
    def enqueue(self, cost: int, now: float, expires_at: float) -> QueuePlace:
        """Queue a push of `cost` changes; its ticket lapses at `expires_at` if never left
        (a crashed worker's), and tickets lapsed by `now` no longer count.

        :returns: its place: the queue ahead of it and the measured pace.
        """

    @abc.abstractmethod
    def queue_ahead(self, ticket: int, now: float) -> QueuePlace:
        """:returns: the place of `ticket` now (the queue ahead may only have shrunk)."""

    @abc.abstractmethod
    def leave(self, ticket: int, pace_sample: float | None = None, weight: float = 0.3) -> None:
        """Take `ticket` out of the queue; with `pace_sample` (seconds per change the push
        took), move the measured pace towards it: ``pace += weight * (sample - pace)``.
        Leaving twice, or a ticket that lapsed, does nothing more."""

    # -- leases (one holder hub-wide, e.g. of the scheduled jobs) -----------------------

    @abc.abstractmethod
    def take_lease(self, name: str, owner: str, now: float, ttl_s: float) -> bool:
        """Take lease `name` for `owner` until ``now + ttl_s``, or renew it: atomically, it
        is granted when nobody holds it, when its holder's time ran out by `now`, or when
        `owner` holds it already.

        :returns: whether `owner` holds it now (False: another owner holds it still).
        """

    @abc.abstractmethod
    def release_lease(self, name: str, owner: str) -> None:
        """Give up lease `name` if `owner` holds it (another's hold is left alone)."""

    @abc.abstractmethod
    def lease_holder(self, name: str, now: float) -> tuple[str, float] | None:
        """:returns: the owner of lease `name` and when its hold ends, if it is held at
        `now`; None when it is free or lapsed."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release every connection; the store is not used afterwards."""
