"""The hub's own hybrid logical clock, kept in the database, and the clamp on laptops' clocks.

A laptop whose clock says 2031 would win every last-writer-wins contest for five years. The
hub lets a laptop's HLC stand when it is at most `max_skew_ms` ahead of the hub's wall
clock; beyond that it replaces the physical part with a fresh reading of its own clock
(keeping the laptop's node), so the change sorts as made now. The hub's clock only moves
forward, so a laptop's successive clamped changes keep their order.
"""

from __future__ import annotations

from collections.abc import Callable

from schemas.hlc import HybridClock, Timestamp, wall_ms
from server.storage import WriteSession

__all__ = ["HubClock"]

_KEY = "hlc"


class HubClock:
    """The hub's HLC for one write transaction; :meth:`save` keeps it for the next."""

    def __init__(
        self, session: WriteSession, max_skew_ms: int, wall: Callable[[], int] = wall_ms
    ) -> None:
        last = session.get_meta(_KEY)
        self._session = session
        self._wall = wall
        self._max_skew_ms = max_skew_ms
        self.clock = HybridClock("hub", Timestamp.parse(last) if last else None, wall)

    def admit(self, hlc: str) -> str:
        """The HLC a laptop's change is merged with: its own, or clamped to now."""
        stamp = Timestamp.parse(hlc)
        if stamp.ms > self._wall() + self._max_skew_ms:
            fresh = self.clock.now()
            return Timestamp(fresh.ms, fresh.counter, stamp.node).encode()
        self.clock.observe(stamp)
        return hlc

    def now(self) -> str:
        """A fresh HLC for a change the hub itself makes (a resolution)."""
        return self.clock.now().encode()

    def save(self) -> None:
        self._session.set_meta(_KEY, self.clock.last.encode())
