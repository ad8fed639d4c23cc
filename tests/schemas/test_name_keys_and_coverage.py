"""The laptop's name keys (search as one types) and the coverage rule both sides share."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.coverage import coverage_since, instant_text, is_recent_visit, utc_instant
from schemas.name_keys import fold, name_key, name_words, prefix_end


def test_names_fold_case_accents_and_apostrophes_into_words():
    assert name_words("Siti Nur'aini") == ["siti", "nuraini"]
    assert name_words("  ÉLISABETH  van-der  Nûr ") == ["elisabeth", "van", "der", "nur"]
    assert name_words("Ani ani ANI") == ["ani"]
    assert name_key("Siti  NUR'AINI") == "siti nuraini"
    assert fold("Straße") == "strasse"


@given(st.text(min_size=1, max_size=8))
def test_every_string_starting_with_a_prefix_sorts_inside_its_range(text):
    prefix = text[: max(1, len(text) // 2)]
    if ord(prefix[-1]) == 0x10FFFF:
        return
    assert prefix <= text < prefix_end(prefix)


def test_a_visit_counts_from_the_window_s_first_second():
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    since = coverage_since(now)
    assert instant_text(since) == "2026-11-01T12:00:00Z"
    assert utc_instant("2026-11-01T19:00:00+07:00") == "2026-11-01T12:00:00Z"
    mine = {"beneficiary_id": "b1", "visited_at": "2026-11-01T19:00:00+07:00"}
    assert is_recent_visit(mine, "b1", since)
    assert not is_recent_visit({**mine, "visited_at": "2026-11-01T18:59:59+07:00"}, "b1", since)
    assert not is_recent_visit(mine, "b2", since)
    assert not is_recent_visit({**mine, "visited_at": "kemarin"}, "b1", since)


def _converted(value: str) -> str | None:
    """utc_instant by conversion alone, without its fast path for whole-hour offsets."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant_text(moment)


@settings(max_examples=500)
@given(
    st.datetimes(min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.sampled_from(
        ["Z", "+07:00", "+08:00", "+09:00", "+00:00", "+14:00", "-05:00", "+05:30", ""]
    ),
    st.sampled_from(["seconds", "milliseconds", "microseconds", "minutes"]),
)
def test_a_visit_time_reads_as_the_same_utc_instant_by_its_fast_path(moment, zone, spec):
    value = moment.isoformat(timespec=spec) + zone
    assert utc_instant(value) == _converted(value)


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01T03:00:00+07:00",
        "2026-03-01T06:59:59+07:00",
        "2026-02-30T09:00:00+07:00",
        "2026-11-23T24:00:00+07:00",
        "20261123T093000+07:00",
        "0999-11-23T09:30:00+07:00",
        "2026-11-23T09:30:00,5+07:00",
        "2026-11-23T09:30:00.1234567+07:00",
        "x",
    ],
)
def test_instants_around_the_fast_paths_edges_read_as_converted(value):
    assert utc_instant(value) == _converted(value)
