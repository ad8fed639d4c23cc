"""The hub's one way of writing instants: UTC, milliseconds, `Z`, so that text sorts as time."""

from __future__ import annotations

import datetime as dt

__all__ = ["iso_from_ms", "utc_iso"]


def utc_iso(moment: dt.datetime | None = None) -> str:
    """A UTC instant (now by default) as `2026-11-23T09:30:00.123Z`."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def iso_from_ms(ms: int) -> str:
    """Milliseconds since the epoch (an HLC's physical part) in the same form."""
    return utc_iso(dt.datetime.fromtimestamp(ms / 1000, dt.UTC))
