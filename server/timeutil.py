"""The hub's clock in its one format for instants (see :func:`schemas.hlc.iso_from_ms`)."""

from __future__ import annotations

import datetime as dt

from schemas.hlc import iso_from_ms

__all__ = ["iso_from_ms", "utc_iso"]


def utc_iso(moment: dt.datetime | None = None) -> str:
    """A UTC instant (now by default) as `2026-11-23T09:30:00.123Z`."""
    moment = moment or dt.datetime.now(dt.UTC)
    return iso_from_ms(round(moment.timestamp() * 1000))
