"""Penerima manfaat and drafts in a real browser over a real socket: `pendamping app` as its
own process (waitress on 127.0.0.1), Debian's Chromium through Playwright. Search as one
types, the NIK checked as typed (count, the schema's message, the reading, a NIK already
on the laptop, "Isi dari NIK"), a half-typed form kept as a draft while the app process is
killed (Popen.kill) and found after a new start, then saved; a bad NIK refused on save
with the field's message. A screenshot of every state under the test's tmp dir
(``screens/``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sync.photos import attach
from tests.client_sync.app.test_penerima import PNG
from tests.conftest import KELURAHAN, Laptops, beneficiary, visit
from tests.support.served_hub import free_port
from tests.web.conftest import VIEWPORT, fits_the_window

PASSPHRASE = "kata-sandi-lapangan"
SRI_NIK = "3171014508450001"
ROOT = Path(__file__).resolve().parents[2]
_APP = (sys.executable, "-u", "-m", "client_sync.cli", "app", "--no-browser")


class AppProcess:
    """`pendamping app --no-browser` on a home, as its own process; `url` is its secret URL."""

    def __init__(self, home: Path, log: Path) -> None:
        self.home = home
        self.log = log
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> str:
        port = free_port()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*_APP, "--port", str(port)],
                cwd=ROOT,  # this tree's code, as the tests run it
                env={**os.environ, "PENDAMPING_HOME": str(self.home)},
                stdout=subprocess.PIPE,
                stderr=out,
            )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline().decode()
            if not line:
                break
            if line.startswith("Buka di peramban: "):
                self.url = line.split(": ", 1)[1].strip()
                return self.url
        raise AssertionError(f"the app did not start: {self.log.read_text(errors='replace')}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None


@pytest.fixture
def app_process(laptops: Laptops, tmp_path: Path) -> Iterator[AppProcess]:
    laptop = laptops.enroll("sari", passphrase=PASSPHRASE)
    sri = laptop.store.add("beneficiary", beneficiary(programs=["KLJ", "KAJ"]))
    laptop.store.add("visit", visit(sri, visited_at="2026-10-01T09:00:00+07:00"))
    laptop.store.add("visit", visit(sri, verification_outcome="layak"))
    asked = laptop.store.add(
        "device_request", {"beneficiary_id": sri, "device_type": "kursi_roda", "reason": "Lumpuh."}
    )
    laptop.store.update("device_request", asked, {"status": "diverifikasi"})
    photo = tmp_path / "rumah.png"
    photo.write_bytes(PNG)
    attach(laptop.store, "beneficiary", sri, photo, "rumah")
    laptop.store.add("beneficiary", beneficiary(name="Siti Nur'aini", nik=None))
    laptop.close()
    made = AppProcess(laptop.home, tmp_path / "app.log")
    yield made
    made.kill()


def test_search_nik_check_and_a_draft_that_survives_a_killed_app(
    browser, app_process: AppProcess, tmp_path: Path
):
    shots = tmp_path / "screens"
    context = browser.new_context(locale="id-ID", viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=shots / f"{name}.png", full_page=True)

    def enter(url: str) -> str:
        page.goto(url)
        base = url.split("/masuk")[0]
        page.fill("#passphrase", PASSPHRASE)
        page.press("#passphrase", "Enter")
        page.wait_for_url(f"{base}/")
        return base

    base = enter(app_process.start())
    page.click("nav >> text=Penerima manfaat")
    page.wait_for_url(f"{base}/penerima")
    shot("10-penerima-empty")

    # search as one types: the hits change without leaving the page
    page.locator("#q").press_sequentially("sit", delay=60)
    page.wait_for_selector('#hits[data-q="sit"]')
    hits = page.locator("#hits").inner_text()
    assert "Siti Nur'aini" in hits and "Ibu Sri Wahyuni" not in hits
    assert page.url.endswith("/penerima?q=sit")  # the address keeps the search
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("3171014", delay=60)
    page.wait_for_selector('#hits[data-q="3171014"]')
    hits = page.locator("#hits").inner_text()
    assert "Ibu Sri Wahyuni" in hits and "KLJ, KAJ" in hits and "tersimpan di laptop" in hits
    fits_the_window(page)
    shot("11-penerima-search-as-typed")

    # Sri's page: visits newest first, the request with its status history, the photo
    page.click("#hits >> text=Ibu Sri Wahyuni")
    page.wait_for_selector("h1:has-text('Ibu Sri Wahyuni')")
    visits = page.locator("table.visits").inner_text()
    assert visits.index("2026-11-23") < visits.index("2026-10-01") and "layak" in visits
    assert "diverifikasi" in page.locator(".status-history").inner_text()
    assert page.locator("ul.photos img").evaluate("img => img.complete && img.naturalWidth") == 64
    assert page.get_attribute("text=Catat kunjungan", "href").startswith(
        "/kunjungan/baru?penerima="
    )
    fits_the_window(page)
    shot("12-beneficiary-with-visits-requests-photo")
    page.go_back()

    # register: the NIK checked as typed
    page.click("text=Daftarkan penerima manfaat baru")
    page.wait_for_url(f"{base}/penerima/baru")
    page.fill("#name", "Bapak Joko Susilo")
    page.locator("#nik").press_sequentially("317101", delay=30)
    page.wait_for_selector("#nik-count")
    assert page.locator("#nik-count").inner_text() == "6 dari 16 digit"
    page.locator("#nik").press_sequentially("999999000", delay=20)  # 15 digits, then a 16th
    page.locator("#nik").press_sequentially("1", delay=20)
    page.wait_for_selector("#nik-error")
    assert page.locator("#nik-error").inner_text() == (
        "Tanggal lahir pada NIK (digit 7-12, DDMMYY) tidak valid."
    )
    assert page.get_attribute("#nik", "aria-invalid") == "true"
    shot("13-nik-bad-as-typed")
    page.fill("#nik", "")
    page.locator("#nik").press_sequentially(SRI_NIK, delay=20)
    page.wait_for_selector("#nik-holders")
    assert "Ibu Sri Wahyuni" in page.locator("#nik-holders").inner_text()
    assert "DKI Jakarta" in page.locator("#nik-reading").inner_text()
    shot("14-nik-already-on-laptop")
    page.fill("#nik", "")
    page.locator("#nik").press_sequentially("3171011203500002", delay=20)
    page.wait_for_selector("#nik-reading:has-text('1950-03-12')")
    assert page.locator("#nik-holders").count() == 0
    page.click("#nik-fill")  # fills the empty birth date and sex from the NIK
    assert page.input_value("#birth_date") == "1950-03-12"
    assert page.is_checked("input[name=sex][value=L]")
    page.fill("#kelurahan", KELURAHAN)
    page.fill("#address", "Jl. Melati 3")
    page.wait_for_selector("form[data-draft-saved]")  # the form as it is now is kept
    assert page.locator("[data-draft-status]").inner_text().startswith("Draf tersimpan di laptop")
    assert "draft=" in page.url
    fits_the_window(page)
    shot("15-form-half-typed-draft-saved")

    # the app dies mid-form; a new start finds the draft
    app_process.kill()
    base = enter(app_process.start())
    page.goto(f"{base}/draf")
    assert "Bapak Joko Susilo" in page.locator("table.drafts").inner_text()
    shot("16-drafts-after-a-killed-app")
    page.click("table.drafts >> text=Lanjutkan")
    page.wait_for_selector("#name")
    assert page.input_value("#name") == "Bapak Joko Susilo"
    assert page.input_value("#nik") == "3171011203500002"
    assert page.input_value("#birth_date") == "1950-03-12"
    assert page.input_value("#address") == "Jl. Melati 3"
    assert page.input_value("#kelurahan") == KELURAHAN
    assert page.is_checked("input[name=sex][value=L]")
    assert "Melanjutkan draf dari" in page.locator("[data-draft-status]").inner_text()
    shot("17-draft-resumed")

    # a bad NIK is refused on save, with the field's message; the typed values stay
    page.fill("#nik", "31710112035000")
    page.evaluate("document.getElementById('nik').blur()")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#form-errors")
    assert page.locator("#nik-error").inner_text() == "NIK harus 16 digit angka."
    assert page.input_value("#name") == "Bapak Joko Susilo"
    fits_the_window(page)
    shot("18-bad-nik-refused-on-save")
    page.fill("#nik", "3171011203500002")
    page.check("input[name=programs][value=KLJ]")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#saved")
    assert page.locator("h1").inner_text() == "Bapak Joko Susilo"
    assert "KLJ" in page.locator("#programs").inner_text()
    assert "tersimpan di laptop" in page.locator(".where").inner_text()
    fits_the_window(page)
    shot("19-beneficiary-saved")
    page.goto(f"{base}/draf")
    assert "Tidak ada draf." in page.locator("main").inner_text()
    page.click("a[hreflang=en]")
    assert page.locator("h1").inner_text() == "Drafts"
    context.close()
