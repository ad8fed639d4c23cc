"""Which value a review-queue entry leaves in force, open and after each resolution."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.conflict_outcome import Outcome, Side, outcome

BUDI, SITI = Side("0822", "budi"), Side("0811", "siti")


def conflict(choice: str | None = None, **resolution: Any) -> dict[str, Any]:
    return {
        "kept": {"value": BUDI.value, "author": BUDI.author},
        "lost": {"value": SITI.value, "author": SITI.author},
        "resolved_at": "2026-11-23T09:30:00Z" if choice else None,
        "resolved_by": "bu-kasi" if choice else None,
        "resolution": {"choice": choice, **resolution} if choice else None,
    }


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (conflict(), Outcome(BUDI, (SITI,))),
        (conflict("keep"), Outcome(BUDI, (SITI,), "bu-kasi")),
        (conflict("take_lost"), Outcome(SITI, (BUDI,), "bu-kasi")),
        (
            conflict("value", value="0833"),
            Outcome(Side("0833", "bu-kasi"), (BUDI, SITI), "bu-kasi"),
        ),
    ],
    ids=["open", "keep", "take_lost", "value"],
)
def test_the_value_in_force_follows_the_resolution(entry, expected):
    assert outcome(entry) == expected
