"""Hybrid logical clocks (Kulkarni et al., 2014), encoded as strings that sort correctly.

A laptop's wall clock is often wrong. An HLC timestamp is `(physical ms, counter, node)`: it
never goes backwards on one node, and after a node has seen a remote timestamp every later
local one is greater. The encoded form `0001732345678901:000000:<node>` compares like the
tuple, so SQLite and Python can order timestamps without parsing them.

The clock itself holds no I/O: the caller persists :attr:`HybridClock.last` and injects the
wall clock, so tests drive time by hand.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import NamedTuple

from schemas.protocol import DEVICE_ID_MAX

__all__ = [
    "HLC_PATTERN",
    "MAX_MS",
    "HybridClock",
    "Timestamp",
    "is_hlc",
    "iso_from_ms",
    "wall_ms",
]

#: The node is the device id, so it has the same length limit.
HLC_PATTERN = re.compile(rf"([0-9]{{16}}):([0-9]{{6}}):([A-Za-z0-9-]{{1,{DEVICE_ID_MAX}}})")
_MAX_COUNTER = 999_999
#: 9999-12-31T23:59:59.999Z: the last instant a date can be written for.
MAX_MS = 253_402_300_799_999


def is_hlc(text: object) -> bool:
    """True for an encoded timestamp whose time can be written as a date."""
    return (
        isinstance(text, str)
        and HLC_PATTERN.fullmatch(text) is not None
        and int(text[:16]) <= MAX_MS
    )


def iso_from_ms(ms: int) -> str:
    """Milliseconds since the epoch as `2026-11-23T02:30:00.123Z`: UTC, sortable as text.

    The one format of every instant hub and laptop write (created_at, updated_at, ...).
    """
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def wall_ms() -> int:
    """The machine's wall clock in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


class Timestamp(NamedTuple):
    """One HLC reading."""

    ms: int
    counter: int
    node: str

    def encode(self) -> str:
        return f"{self.ms:016d}:{self.counter:06d}:{self.node}"

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """Read an encoded timestamp; raises ValueError on anything else."""
        match = HLC_PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"not an HLC timestamp: {text!r}")
        return cls(int(match[1]), int(match[2]), match[3])


class HybridClock:
    """A hybrid logical clock for one node.

    :param node: the node's id (a device id, or ``hub``).
    :param last: the last timestamp this node issued or saw, as persisted.
    :param wall: the wall clock in ms; injected so tests control time.
    """

    def __init__(
        self, node: str, last: Timestamp | None = None, wall: Callable[[], int] = wall_ms
    ) -> None:
        self.node = node
        self.last = last or Timestamp(0, 0, node)
        self._wall = wall

    def now(self) -> Timestamp:
        """A fresh timestamp for a local event, greater than every earlier one."""
        physical = self._wall()
        if physical > self.last.ms:
            self.last = Timestamp(physical, 0, self.node)
        else:
            self.last = self._bump(self.last.ms, self.last.counter)
        return self.last

    def observe(self, remote: Timestamp) -> Timestamp:
        """Take in a timestamp from another node so later local events sort after it."""
        physical = self._wall()
        top = max(physical, self.last.ms, remote.ms)
        if top == self.last.ms and top == remote.ms:
            counter = max(self.last.counter, remote.counter)
        elif top == self.last.ms:
            counter = self.last.counter
        elif top == remote.ms:
            counter = remote.counter
        else:
            self.last = Timestamp(top, 0, self.node)
            return self.last
        self.last = self._bump(top, counter)
        return self.last

    def _bump(self, ms: int, counter: int) -> Timestamp:
        if counter >= _MAX_COUNTER:  # a million events in one ms: borrow the next ms
            return Timestamp(ms + 1, 0, self.node)
        return Timestamp(ms, counter + 1, self.node)
