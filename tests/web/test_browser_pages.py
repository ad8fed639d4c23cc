"""What a supervisor sees of issue 15's fixes, in a real headless Chromium against the hub
served by waitress: the hub's address leads to the pages, a laptop that never synced is
silent, conflict cards name people and fields, a duplicate NIK is read side by side, a
refused value comes back as typed, and the logout message is a notice. Each step leaves a
screenshot in the test's tmp dir (`--basetemp` keeps them where you want them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from server.scope import EVERYWHERE
from tests.conftest import Laptops, beneficiary
from tests.web.conftest import PASSWORD

#: Chromium's computed colours of the page's two message styles (web.css)
NOTICE_GREEN = "rgb(227, 245, 233)"
ERROR_RED = "rgb(251, 227, 227)"


@pytest.fixture
def page(browser, live_hub: str):
    context = browser.new_context(locale="id-ID", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(5_000)
    opened = context.new_page()
    yield opened
    context.close()


def log_in(page, live_hub: str) -> None:
    """Open the hub's bare address, as a person would, and log in."""
    page.goto(f"{live_hub}/")
    assert page.url == f"{live_hub}/web/login"
    page.get_by_label("Nama pengguna").fill("bu-kasi")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("heading", name="Ringkasan", exact=True).wait_for()  # the start page
    page.get_by_role("link", name="Pendamping & perangkat", exact=True).click()
    page.get_by_role("heading", name="Laptop di wilayah 31.71").wait_for()


def test_the_laptops_page_marks_a_laptop_that_never_synced_and_logout_is_a_notice(
    page, live_hub: str, laptops: Laptops, add_web_user, tmp_path: Path
):
    used = laptops.enroll("siti")
    used.sync()
    laptops.enroll("budi")  # handed out, never synced
    add_web_user()
    log_in(page, live_hub)
    page.screenshot(path=tmp_path / "laptops.png", full_page=True)

    silent = page.locator("tr.silent")
    assert silent.count() == 1
    assert "laptop-budi" in silent.inner_text()
    assert "belum pernah sinkron" in silent.inner_text()
    assert "1 laptop yang diam" in page.locator("main").inner_text()

    page.get_by_role("button", name="Keluar").click()
    notice = page.get_by_role("status")
    notice.wait_for()
    page.screenshot(path=tmp_path / "logged-out.png", full_page=True)
    assert notice.inner_text() == "Anda sudah keluar."
    assert notice.evaluate("e => getComputedStyle(e).backgroundColor") == NOTICE_GREEN
    assert page.get_by_role("alert").count() == 0


def test_a_supervisor_reads_the_cards_by_name_and_a_refused_value_stays_as_typed(
    page,
    live_hub: str,
    hub_app: Flask,
    add_web_user,
    raise_conflict,
    tmp_path: Path,
):
    raised = raise_conflict(field="phone", values=("0811-1111-1111", "0822-2222-2222"))
    budi = raised.laptops[1]
    budi.store.add("beneficiary", beneficiary(name="Sri Wahyuni", birth_date="1945-08-15"))
    budi.sync()
    service = hub_app.extensions["pendamping"].conflicts
    [duplicate] = [c for c in service.list(EVERYWHERE) if c["kind"] == "duplicate_person"]
    add_web_user()
    log_in(page, live_hub)
    page.get_by_role("link", name="Konflik", exact=True).click()
    page.get_by_role("heading", name="Konflik terbuka di wilayah 31.71").wait_for()
    page.screenshot(path=tmp_path / "conflicts.png", full_page=True)

    field_card = page.locator(f"#konflik-{raised.conflict_id}")
    assert "Ibu Sri Wahyuni, kelurahan 31.71.01.1001, isian nomor telepon" in (
        field_card.locator(".subject").inner_text()
    )
    assert "budi (laptop-budi)" in field_card.inner_text()

    dup_card = page.locator(f"#konflik-{duplicate['conflict_id']}")
    differing = dup_card.locator("tr.differs th")
    assert [t.split(" (")[0] for t in differing.all_inner_texts()] == ["Nama", "Tanggal lahir"]
    name_row = dup_card.locator("tr", has_text="Nama").first.inner_text()
    assert "Ibu Sri Wahyuni" in name_row and "Sri Wahyuni" in name_row
    assert dup_card.get_by_label("Ibu Sri Wahyuni — data yang lebih dulu ada").is_checked()

    field_card.get_by_label("Isi nilai lain").check()
    field_card.get_by_label("Nilai baru").fill("telp kantor")
    field_card.get_by_role("button", name=f"Selesaikan #{raised.conflict_id}").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    field_card.scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "refused-value.png", full_page=True)
    assert "Nomor telepon tidak valid." in alert.inner_text()
    assert alert.evaluate("e => getComputedStyle(e).backgroundColor") == ERROR_RED
    assert field_card.get_by_label("Isi nilai lain").is_checked()
    assert field_card.get_by_label("Nilai baru").input_value() == "telp kantor"
    assert len(service.list(EVERYWHERE)) == 2  # nothing settled

    dup_card.get_by_label("Gabungkan: orang yang sama").check()
    dup_card.get_by_role("button", name=f"Selesaikan #{duplicate['conflict_id']}").click()
    page.get_by_text(f"Konflik #{duplicate['conflict_id']} sudah diselesaikan.").wait_for()
    [settled] = [c for c in service.list(EVERYWHERE, open_only=False) if c["resolved_at"]]
    assert settled["resolution"]["survivor"] == duplicate["other_record_id"]
