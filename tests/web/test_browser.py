"""The office's pages in a real headless Chromium (Playwright) against the hub served by
waitress on a loopback socket: log in, spot the silent laptop, settle a conflict, log out.
(The `browser` fixture, and where the browser comes from: tests/web/conftest.py.)
"""

from __future__ import annotations

from flask import Flask

from server.scope import EVERYWHERE
from server.storage import HubStorage
from tests.web.conftest import PASSWORD, make_silent


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
        page.get_by_role("heading", name="Ringkasan", exact=True).wait_for()  # the start page
        page.get_by_role("link", name="Pendamping & perangkat", exact=True).click()

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
