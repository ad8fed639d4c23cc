"""The one scope rule both sides ask: an admin sees everything; a wilayah covers the
kelurahan below it on segment boundaries; no wilayah covers nothing."""

from __future__ import annotations

from schemas.codes import ROLES
from schemas.scope import sees_everything, within


def test_only_an_admin_sees_everything() -> None:
    assert [role for role in ROLES if sees_everything(role)] == ["admin"]


def test_a_wilayah_covers_the_kelurahan_below_it_on_segment_boundaries() -> None:
    assert within(("31.71",), "31.71.01.1001")
    assert within(("32", "31.71.01"), "31.71.01.1001")
    assert not within(("31.7",), "31.71.01.1001")
    assert not within(("31.72",), "31.71.01.1001")


def test_none_is_everywhere_and_no_wilayah_is_nowhere() -> None:
    assert within(None, "31.71.01.1001")
    assert not within((), "31.71.01.1001")
