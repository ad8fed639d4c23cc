"""The hub's `received_at` that a zone pushes out of the calendar is "no time", not a
crash of the push whose batch the hub has already stored."""

from __future__ import annotations

import pytest

from client_sync.hub import hub_time


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"]
)
def test_a_time_outside_the_calendar_in_utc_is_no_time(value: str):
    got = hub_time(value)
    assert got is None or got.startswith("0001-01-01")


def test_a_good_time_is_kept():
    assert hub_time("2026-01-01T07:00:00+07:00") == "2026-01-01T00:00:00.000Z"
