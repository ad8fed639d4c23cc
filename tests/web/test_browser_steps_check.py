"""A browser test's locator must do something: a bare ``page.get_by_role(...)`` on a line
of its own neither waits nor checks, so the test passes whatever the page shows and races
the next step (session 21: a screenshot taken while "Tutup bulan…" was still loading read
a document that was not there yet). This reads every test's source and names such lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
#: Playwright's methods that only build a locator (they act on nothing by themselves)
BUILDERS = frozenset({"locator", "nth", "first", "last", "filter", "frame_locator"})


def _bare_locators(source: str) -> list[int]:
    """Lines holding an expression statement that only builds a locator."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and (
                func.attr.startswith("get_by_") or func.attr in BUILDERS
            ):
                lines.append(node.lineno)
    return lines


def test_a_bare_locator_is_found() -> None:
    source = (
        "def test_x(page):\n"
        "    page.get_by_role('heading', name='A')\n"
        "    page.get_by_role('heading', name='B').wait_for()\n"
        "    page.locator('form').nth(0)\n"
        "    expect(page.get_by_text('C')).to_be_visible()\n"
    )
    assert _bare_locators(source) == [2, 4]


def test_no_test_builds_a_locator_and_leaves_it() -> None:
    found = [
        f"{path.relative_to(TESTS.parent)}:{line}"
        for path in sorted(TESTS.rglob("test_*.py"))
        for line in _bare_locators(path.read_text(encoding="utf-8"))
    ]
    assert found == [], f"a locator that neither waits nor checks: {found}"
