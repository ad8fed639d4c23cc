"""Beranda and Permohonan ABF in a real browser over real sockets: `pendamping app`'s
server (waitress on 127.0.0.1) on a laptop enrolled against `pendamping-hub serve`,
Debian's Chromium through Playwright. Beranda's lists and their links, filing a request
(a refused number back under its field with what was typed), verifying it, cancelling it
(asked first), all with the hub down; then a sync shows the hub's time of receipt, and a
conflict with another laptop's change on Beranda and Konflik in the CLI's words. A
screenshot of every state is saved under the test's tmp dir (``screens/``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.app.serve import Served
from tests.conftest import beneficiary
from tests.support.served_hub import ServedHub
from tests.web.conftest import VIEWPORT, field_app_served, fits_the_window

PASSPHRASE = "kata-sandi-lapangan"
PEOPLE = [
    ("Ani Lestari", ["KLJ"]),
    ("Bambang Wijaya", ["KLJ", "KAJ"]),
    ("Cici Paramita", ["KAJ"]),
    ("Dedi Kurnia", ["KPDJ"]),
]


@pytest.fixture
def served_app(hub_process: ServedHub, tmp_path: Path, monkeypatch) -> Iterator[Served]:
    """A laptop enrolled against the served hub, four beneficiaries synced, and its app."""
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "2")
    hub_process.start()
    home = tmp_path / "laptop"
    with FieldDevice.enroll(
        home, hub_process.url, hub_process.enroll_code("sari"), "laptop-sari", passphrase=PASSPHRASE
    ) as dev:
        ids = [
            dev.store.add("beneficiary", beneficiary(name=name, nik=None, programs=programs))
            for name, programs in PEOPLE
        ]
        dev.sync()
        # another laptop of the wilayah changes Ani's phone first: sari's change will meet it
        with FieldDevice.enroll(
            tmp_path / "budi", hub_process.url, hub_process.enroll_code("budi"), "laptop-budi"
        ) as budi:
            budi.sync()
            budi.store.update("beneficiary", ids[0], {"phone": "0811-1111-1111"})
            budi.sync()
        dev.store.update("beneficiary", ids[0], {"phone": "0822-2222-2222"})
    with field_app_served(home) as served:
        yield served


def test_beranda_and_an_abf_request_filed_verified_and_cancelled_in_the_browser(
    browser, served_app: Served, hub_process: ServedHub, tmp_path: Path
):
    shots = tmp_path / "screens"
    context = browser.new_context(locale="id-ID", viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=shots / f"{name}.png", full_page=True)

    base = f"http://127.0.0.1:{served_app.port}"
    page.goto(served_app.url)
    page.fill("#passphrase", PASSPHRASE)
    page.press("#passphrase", "Enter")
    page.wait_for_url(f"{base}/")

    # Beranda: who is due, by programme, each name a link to the person's page
    assert page.locator("h1").inner_text() == "Beranda"
    counts = page.locator("ul.due-counts").inner_text()
    assert "KLJ: 2 orang" in counts and "KAJ: 2 orang" in counts and "KPDJ: 1 orang" in counts
    klj = page.locator('ul.names[data-program="KLJ"] a')
    assert klj.all_inner_texts() == ["Ani Lestari", "Bambang Wijaya"]
    ani_url = klj.first.get_attribute("href")
    assert re.fullmatch(r"/penerima/[0-9a-f-]{36}", ani_url or "")
    assert "Ani Lestari" in page.locator("#waiting").inner_text()  # her phone, not sent
    assert "berhasil" in page.locator("#last-sync").inner_text()
    fits_the_window(page)
    shot("01-beranda")

    # the hub goes away; the rest of the day works on the laptop alone
    hub_process.stop()
    ani = ani_url.rsplit("/", 1)[1]
    page.goto(f"{base}/abf/baru?penerima={ani}")
    assert page.locator("h1").inner_text() == "Ajukan ABF untuk Ani Lestari"
    page.select_option("#device_type", "kursi_roda")
    page.fill("#reason", "Tidak dapat berjalan jauh sejak stroke.")
    page.select_option('select[name="assessment.mobilitas"]', "tidak dapat berjalan")
    page.fill('input[name="assessment.adl_barthel"]', "25")
    page.fill('input[name="assessment.berat_badan_kg"]', "52,5")
    page.wait_for_selector("form[data-draft-saved]")  # kept in the store as it is typed
    assert "draft=" in page.url
    fits_the_window(page)
    shot("02-abf-form")
    page.click("#save-request")
    assert page.locator("#assessment-adl_barthel-error").inner_text() == "Harus angka 0–20."
    assert page.input_value('input[name="assessment.adl_barthel"]') == "25"
    assert page.input_value("#reason") == "Tidak dapat berjalan jauh sejak stroke."
    fits_the_window(page)
    shot("03-abf-form-refused")

    page.fill('input[name="assessment.adl_barthel"]', "9")
    page.click("#save-request")
    page.wait_for_url(re.compile(r".*/abf/[0-9a-f-]{36}\?baru=1$"))
    assert "Permohonan tersimpan di laptop" in page.locator("#done").inner_text()
    assert page.locator(".facts .place").inner_text() == "tersimpan di laptop"
    assert "Skor ADL (indeks Barthel)\t9" in page.locator("#assessment").inner_text()
    fits_the_window(page)
    shot("04-abf-filed")

    page.click('button[data-move="diverifikasi"]')
    page.wait_for_url(re.compile(r".*pindah=diverifikasi$"))
    assert page.locator(".facts .status").inner_text() == "Diverifikasi"
    history = page.locator("#status-history tbody tr").all_inner_texts()
    assert [row.split("\t")[1] for row in history] == ["Diajukan", "Diverifikasi"]
    assert page.locator("button[data-move]").all_inner_texts() == ["Batalkan permohonan"]
    shot("05-abf-verified")

    page.click('button[data-move="dibatalkan"]')
    assert page.locator("h1").inner_text() == "Batalkan permohonan?"
    fits_the_window(page)
    shot("06-abf-cancel-asked")
    page.click("text=Tidak, kembali")
    assert page.locator(".facts .status").inner_text() == "Diverifikasi"
    page.click('button[data-move="dibatalkan"]')
    page.click("#confirm-move")
    page.wait_for_url(re.compile(r".*pindah=dibatalkan$"))
    assert page.locator(".facts .status").inner_text() == "Dibatalkan"
    assert page.locator("button[data-move]").count() == 0
    shot("07-abf-cancelled")

    page.click("nav >> text=Permohonan ABF")
    assert "Dibatalkan 1" in page.locator("nav.tabs").inner_text()
    assert "Ani Lestari" in page.locator("table.list").inner_text()
    fits_the_window(page)
    shot("08-abf-list")

    page.click("nav >> text=Beranda")
    waiting = page.locator("#waiting").inner_text()
    assert "Ani Lestari" in waiting and "tersimpan di laptop" in waiting
    shot("09-beranda-waiting")

    # the hub is back: a sync sends the request, and it says when the hub received it
    hub_process.start()
    page.click("button.sync")
    page.wait_for_selector("#round-outcome")
    outcome = page.locator("#round-outcome").inner_text()
    assert "Sinkron selesai: 4 terkirim" in outcome and "1 konflik" in outcome
    page.click("nav >> text=Permohonan ABF")
    page.click("table.list >> text=Kursi roda")
    place = page.locator(".facts .place").inner_text()
    assert re.fullmatch(r"terkirim · \d{4}-\d\d-\d\d \d\d:\d\d", place), place
    shot("10-abf-sent-with-the-hub-time")

    page.click("nav >> text=Beranda")
    conflicts = page.locator("#conflicts").inner_text()
    assert "nomor telepon: berlaku" in conflicts
    assert "0811-1111-1111" in conflicts and "0822-2222-2222" in conflicts
    fits_the_window(page)
    shot("11-beranda-conflict")
    page.click("#conflicts >> text=Semua konflik terbuka (1)")
    assert page.locator("h1").inner_text() == "Konflik"
    row = page.locator("table.conflicts tbody tr").inner_text()
    assert row.startswith("1\tisian\tAni Lestari") and row.endswith("terbuka")
    fits_the_window(page)
    shot("12-konflik")
    page.click("a[hreflang=en]")
    assert page.locator("h1").inner_text() == "Conflicts"  # the hub's words stay the CLI's
    page.click("nav >> text=ABF requests")
    assert "Cancelled 1" in page.locator("nav.tabs").inner_text()
    assert page.locator("main h2").first.inner_text() == "Cancelled: 1 request"
    fits_the_window(page)
    shot("13-abf-list-english")
    context.close()
