"""Kunjungan in a real browser over real sockets: `pendamping app`'s server (waitress on
127.0.0.1) on a laptop enrolled against `pendamping-hub serve`, Debian's Chromium with a
fake camera (``--use-fake-device-for-media-stream``) and a granted location. A visit is
recorded with the location from navigator.geolocation, a photo chosen as a file and one
taken with the camera (camera.js adds the JPEG to the form's file input); a refused value
comes back under its field; the visit's page shows both photos; the list says where it
is; a correction typed on the visit's page is kept as a draft across a reload. Screenshots
of every state under the test's tmp dir (``screens/``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.app.serve import Served
from client_sync.photos import list_photos
from tests.conftest import beneficiary
from tests.support.served_hub import ServedHub
from tests.web.conftest import (
    CHROMIUM,
    FLAGS,
    VIEWPORT,
    _unavailable,
    field_app_served,
    fits_the_window,
)

PASSPHRASE = "kata-sandi-lapangan"
WHERE = {"latitude": -6.175392, "longitude": 106.827153, "accuracy": 12}
#: a small real JPEG (1x1), as a camera folder holds them
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b"
    "0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e3334"
    "32ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708"
    "090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114"
    "328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999a"
    "a2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8"
    "e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


@pytest.fixture(scope="module")
def camera_browser() -> Iterator[object]:
    """Headless Chromium with a fake camera that needs no permission prompt."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no browser at {CHROMIUM}")
    flags = [*FLAGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=flags, timeout=30_000
        )
        yield launched
        launched.close()


@pytest.fixture
def served(hub_process: ServedHub, tmp_path: Path, monkeypatch) -> Iterator[tuple[Served, str]]:
    """A laptop enrolled against the served hub with one beneficiary, and its app."""
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "2")
    hub_process.start()
    home = tmp_path / "laptop"
    with FieldDevice.enroll(
        home, hub_process.url, hub_process.enroll_code("sari"), "laptop-sari", passphrase=PASSPHRASE
    ) as dev:
        person = dev.store.add("beneficiary", beneficiary(name="Ibu Ani Suryani"))
    with field_app_served(home) as app:
        yield app, person


def until(page, script: str, timeout_s: float = 15) -> None:
    """Wait until `script` (an expression) is true in the page. Playwright's own
    wait_for_function evaluates strings with eval, which the app's CSP rightly refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {script}"
        time.sleep(0.1)


def test_a_visit_with_location_a_file_and_a_camera_photo(camera_browser, served, tmp_path: Path):
    app, person = served
    shots = tmp_path / "screens"
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(JPEG)
    context = camera_browser.new_context(
        locale="id-ID", viewport=VIEWPORT, geolocation=WHERE, permissions=["geolocation"]
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    def shot(name: str) -> None:
        page.screenshot(path=shots / f"{name}.png", full_page=True)

    base = f"http://127.0.0.1:{app.port}"
    page.goto(app.url)
    page.fill("#passphrase", PASSPHRASE)
    page.press("#passphrase", "Enter")
    page.wait_for_url(f"{base}/")
    assert [a.inner_text() for a in page.locator("header nav a").all()][2] == "Kunjungan"

    page.goto(f"{base}/kunjungan/baru?penerima={person}")
    assert page.locator("h1").inner_text() == "Catat kunjungan: Ibu Ani Suryani"
    assert page.input_value("#visited_at")  # now, local
    fits_the_window(page)
    shot("kunjungan-01-new")

    page.click("[data-location-take]")
    until(page, "document.querySelector('#lat').value !== ''")
    assert (page.input_value("#lat"), page.input_value("#lon")) == ("-6.175392", "106.827153")
    assert "ketelitian ± 12 m" in page.locator("[data-location-status]").inner_text()

    page.select_option("#purpose", "verifikasi")
    page.check("input[name=verification_outcome][value=layak]")
    page.fill("#findings", "Tinggal bersama anaknya; rumah layak.")
    page.fill("#a_adl_barthel", "14")
    page.select_option("#a_mobilitas", "perlu alat bantu")
    page.fill("#lat", "utara")  # refused by the schema, under its field
    page.set_input_files("#foto", str(photo))
    page.click("button.primary")
    page.wait_for_selector("#lat-error")
    assert page.locator("#lat-error").inner_text() == "Harus berupa angka."
    assert page.input_value("#findings") == "Tinggal bersama anaknya; rumah layak."
    assert "Pilih atau ambil fotonya lagi" in page.locator("#foto-error").inner_text()
    shot("kunjungan-02-refused")

    page.click("[data-location-take]")
    until(page, "document.querySelector('#lat').value === '-6.175392'")
    page.set_input_files("#foto", str(photo))
    page.click("[data-camera-open]")
    until(page, "document.querySelector('[data-camera-video]').videoWidth > 0")
    shot("kunjungan-03-camera")
    page.click("[data-camera-snap]")
    until(page, "document.querySelector('#foto').files.length === 2")
    assert "kamera-" in page.locator("[data-camera-status]").inner_text()
    assert page.locator("[data-camera-thumbs] img").count() == 1
    shot("kunjungan-04-photo-taken")
    page.click("[data-camera-close]")
    page.click("button.primary")
    page.wait_for_selector("p.notice")
    assert "Kunjungan tersimpan di laptop" in page.locator("p.notice").inner_text()
    assert page.locator(".photo-list li").count() == 2
    until(
        page,
        "Array.from(document.querySelectorAll('img.thumb'))"
        ".every(i => i.complete && i.naturalWidth > 0)",
    )
    vid = page.url.split("/kunjungan/")[1].split("?")[0]
    fits_the_window(page)
    shot("kunjungan-05-saved")

    state = app.state
    dev = lambda: state.keeper.device  # noqa: E731
    record = state.store_thread.run(lambda: dev().store.get("visit", vid))
    assert (record["lat"], record["lon"]) == (-6.175392, 106.827153)
    assert record["verification_outcome"] == "layak"
    assert record["assessment"] == {"adl_barthel": 14, "mobilitas": "perlu alat bantu"}
    kept = state.store_thread.run(lambda: list_photos(dev().store))
    assert len(kept) == 2 and {p["media_type"] for p in kept} == {"image/jpeg"}
    assert len(record["attachments"]) == 2

    page.goto(f"{base}/kunjungan")
    row = page.locator("table.list tbody tr").first
    assert "Ibu Ani Suryani" in row.inner_text() and "tersimpan di laptop" in row.inner_text()
    fits_the_window(page)
    shot("kunjungan-06-list")

    # a correction typed on the visit's page is kept as a draft, across a reload
    page.goto(f"{base}/kunjungan/{vid}")
    page.fill("#follow_up", "Ajukan kursi roda.")
    until(
        page, "document.querySelector('[data-draft-status]').textContent.includes('Draf tersimpan')"
    )
    page.reload()
    assert page.input_value("#follow_up") == "Ajukan kursi roda."
    shot("kunjungan-07-draft-kept")

    page.goto(f"{base}/kunjungan?lang=en")
    assert page.locator("h1").inner_text() == "Visits"
    assert "Waiting to be sent" in page.locator("form.filters").inner_text()
    shot("kunjungan-08-english")
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    context.close()
