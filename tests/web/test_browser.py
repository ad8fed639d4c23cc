"""The office's pages in a real headless Chromium (Playwright) against the hub served by
waitress on a loopback socket: log in, spot the silent laptop, settle a conflict, log out.

The browser is Debian's `chromium` at /usr/bin/chromium (`python3 dev.py test` installs it
on a fresh Linux CI machine, as root), or PENDAMPING_CHROMIUM. Playwright's own browser
download is never used. Without a browser the test skips, except under CI on Linux, where
it fails: there it must run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from server.scope import EVERYWHERE
from server.storage import HubStorage
from tests.web.conftest import PASSWORD, make_silent

CHROMIUM = os.environ.get("PENDAMPING_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") and sys.platform.startswith("linux"):
        pytest.fail(f"{reason} (CI must run the browser tests: see dev.py)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(
            f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium) "
            "or set PENDAMPING_CHROMIUM"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=FLAGS, timeout=30_000
        )
        yield launched
        launched.close()


def test_a_supervisor_logs_in_spots_a_silent_laptop_settles_a_conflict_and_logs_out(
    browser, live_hub: str, hub_app: Flask, hub_storage: HubStorage, add_web_user, raise_conflict
):
    raised = raise_conflict()
    make_silent(hub_storage, raised.laptops[0], days=9)
    add_web_user()
    context = browser.new_context(locale="id-ID")
    context.set_default_timeout(5_000)
    page = context.new_page()
    try:
        page.goto(f"{live_hub}/web/login")
        page.get_by_label("Nama pengguna").fill("bu-kasi")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()

        page.get_by_role("heading", name="Laptop di wilayah 31.71").wait_for()
        silent_row = page.locator("tr.silent")
        assert silent_row.count() == 1
        assert "laptop-siti" in silent_row.inner_text()
        assert "laptop yang diam" in silent_row.inner_text()
        [cookie] = [c for c in context.cookies() if c["name"] == "session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        page.get_by_role("link", name="Konflik", exact=True).click()
        section = page.locator(f"#konflik-{raised.conflict_id}")
        assert "Jl. Melati 3" in section.inner_text()
        section.get_by_label("Pakai nilai yang kalah").check()
        section.get_by_role("button", name=f"Selesaikan #{raised.conflict_id}").click()
        page.get_by_text(f"Konflik #{raised.conflict_id} sudah diselesaikan.").wait_for()
        assert "Tidak ada konflik terbuka." in page.content()
        [settled] = hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE, open_only=False)
        assert (settled["resolved_by"], settled["resolution"]["choice"]) == (
            "bu-kasi",
            "take_lost",
        )

        page.get_by_role("button", name="Keluar").click()
        page.get_by_text("Anda sudah keluar.").wait_for()
        page.goto(f"{live_hub}/web/")
        assert page.url == f"{live_hub}/web/login"
    finally:
        context.close()
