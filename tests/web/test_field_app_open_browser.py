"""`pendamping app` opens the browser at a page in the laptop's home, not at the secret URL
(which would stand on the browser's command line for every local user to read): in Debian's
Chromium that page leads into the app, the session cookie (SameSite=Strict) set and sent,
although the navigation began at a file:// page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sync.app.serve import Served
from tests.web.conftest import VIEWPORT, field_app_served


@pytest.fixture
def served_new(tmp_path: Path) -> Iterator[Served]:
    home = tmp_path / "laptop-baru"
    home.mkdir()
    with field_app_served(home) as served:
        yield served


def test_the_opener_page_leads_into_the_app(browser, served_new: Served, tmp_path: Path):
    opener = served_new.opener()
    assert opener.startswith("file:") and served_new.state.start_secret not in opener
    context = browser.new_context(locale="id-ID", viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(opener)
    page.wait_for_url(re.compile(rf"http://127\.0\.0\.1:{served_new.port}/daftar"))
    page.wait_for_load_state()
    assert "Daftarkan laptop ini" in page.content()  # the enrolment page: past the guard
    assert "kunci=" not in page.url
    page.screenshot(path=tmp_path / "opener-into-app.png", full_page=True)
    context.close()
