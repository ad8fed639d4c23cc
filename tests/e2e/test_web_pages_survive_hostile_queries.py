"""Hostile query values on the web pages are refused, never a crash."""

# ruff: noqa: F811  (fixtures imported from other test modules are parameters here)

from __future__ import annotations

import pytest

from tests.web.conftest import add_web_user, web  # noqa: F401  (fixtures)

# -- hostile input on the pages ------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "selesai=%C2%B2",  # '²'.isdigit() is True but int('²') raises
        "selesai=" + "9" * 5000,  # over Python's int-string limit
        "after=99999999999999999999999",  # overflows SQLite's INTEGER
    ],
)
def test_conflicts_page_survives_hostile_query_values(web, add_web_user, query):
    add_web_user()
    assert web.login().status_code == 303
    assert web.client.get(f"/web/conflicts?{query}").status_code < 500
