"""The field app in a real browser over real sockets: `pendamping app`'s server (waitress on
127.0.0.1, a free port) on a laptop enrolled against `pendamping-hub serve`, Debian's
Chromium through Playwright. Through the secret URL, unlock (a wrong passphrase first),
Beranda, Sinkron with the hub up and then down, English, keyboard, Kunci. A screenshot of
every state is saved under the test's tmp dir (``screens/``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.app.serve import Served
from tests.conftest import beneficiary
from tests.support.served_hub import ServedHub
from tests.web.conftest import VIEWPORT, field_app_served, fits_the_window

PASSPHRASE = "kata-sandi-lapangan"


@pytest.fixture
def served_app(hub_process: ServedHub, tmp_path: Path, monkeypatch) -> Iterator[Served]:
    """A laptop enrolled against the served hub with one change waiting, and its app."""
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")  # the CLI's settings, read by the app too
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "2")
    hub_process.start()
    home = tmp_path / "laptop"
    with FieldDevice.enroll(
        home, hub_process.url, hub_process.enroll_code("sari"), "laptop-sari", passphrase=PASSPHRASE
    ) as dev:
        dev.store.add("beneficiary", beneficiary())
    with field_app_served(home) as served:
        yield served


def test_a_day_starts_unlocks_and_syncs_in_the_browser(
    browser, served_app: Served, hub_process: ServedHub, tmp_path: Path
):
    shots = tmp_path / "screens"
    context = browser.new_context(locale="id-ID", viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=shots / f"{name}.png", full_page=True)

    base = f"http://127.0.0.1:{served_app.port}"
    page.goto(f"{base}/")
    assert "Akses ditolak" in page.content()  # no secret, no cookie
    shot("00-refused")

    page.goto(served_app.url)
    assert "kunci=" not in page.url and page.url.startswith(f"{base}/buka")
    shot("01-unlock")
    page.fill("#passphrase", "bukan-kata-sandinya")
    page.click("button[type=submit]")
    assert page.locator("#passphrase-error").inner_text() == "Kata sandi penyimpanan salah."
    shot("02-wrong-passphrase")
    page.fill("#passphrase", PASSPHRASE)
    page.press("#passphrase", "Enter")
    page.wait_for_url(f"{base}/")
    assert page.locator("h1").inner_text() == "Beranda"
    assert "sari · wilayah 31.71.01" in page.locator("header").inner_text()
    assert "Menunggu dikirim: 1 perubahan, 0 foto" in page.locator(".strip").inner_text()
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    fits_the_window(page)
    shot("03-beranda")

    page.keyboard.press("Tab")  # the first stop is the skip link, and it shows
    assert page.evaluate("document.activeElement.textContent") == "Langsung ke isi"
    assert page.locator("a.skip").bounding_box()["x"] >= 0
    shot("04-skip-link-focused")

    page.click("button.sync")
    page.wait_for_selector("#round-outcome")
    outcome = page.locator("#round-outcome").inner_text()
    assert "Sinkron selesai: 1 terkirim, 0 diterima, 0 konflik, 0 ditolak" in outcome
    assert "Menunggu dikirim: 0 perubahan" in page.locator(".strip").inner_text()
    fits_the_window(page)
    shot("05-sync-done")

    hub_process.stop()
    page.click("text=Sinkron sekarang")
    page.wait_for_selector("#round-outcome.message")
    failed = page.locator("#round-outcome").inner_text()
    assert failed.startswith("Sinkron gagal: Hub tidak dapat dihubungi")
    assert "Semua data tetap tersimpan di laptop" in failed
    shot("06-sync-hub-down")

    page.click("a[hreflang=en]")
    assert page.locator("h1").inner_text() == "Sync"
    assert "Last sync:" in page.locator(".strip").inner_text()
    fits_the_window(page)
    shot("07-sync-english")

    page.click("text=Lock")
    page.wait_for_url(f"{base}/buka")
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/buka")
    shot("08-locked-again")
    context.close()
