"""The laptop's name keys (search as one types) and the coverage rule both sides share."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
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
