"""Ringkasan, Penerima manfaat and Cakupan in a real headless Chromium (Playwright) against
the hub served by waitress, at the office's 1366×768: log in and read the Ringkasan, search
by NIK and by name, open a beneficiary, view a photo a laptop sent, and find an unvisited
KLJ beneficiary on Cakupan. A screenshot of every state is saved in the test's tmp dir
(`--basetemp DIR` keeps them)."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from pathlib import Path

from client_sync.photos import attach
from tests.conftest import Laptops, beneficiary, visit
from tests.web.conftest import PASSWORD, fits_the_window


def _png(width: int = 160, height: int = 120) -> bytes:
    """A real PNG (stripes of the hub's green and yellow) that a browser draws."""
    rows = b"".join(
        b"\x00"
        + b"".join(
            (b"\x0b\x5d\x4b" if (x // 20 + y // 20) % 2 else b"\xff\xd7\x6a") for x in range(width)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_ringkasan_search_a_beneficiary_a_photo_and_an_unvisited_klj_name(
    page, live_hub: str, laptops: Laptops, add_web_user, tmp_path: Path
):
    shots = tmp_path / "screens"
    shots.mkdir()

    def shot(name: str) -> None:
        fits_the_window(page)
        page.screenshot(path=shots / f"{name}.png", full_page=True)

    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).isoformat(timespec="seconds")
    sri = siti.store.add("beneficiary", beneficiary(phone="0812-1111-2222"))
    house = tmp_path / "rumah.png"
    house.write_bytes(_png())
    sha = attach(siti.store, "beneficiary", sri, house, "rumah")
    siti.store.add("visit", visit(sri, visited_at=now, purpose="verifikasi"))
    siti.store.add("device_request", {"beneficiary_id": sri, "device_type": "kursi_roda"})
    siti.store.add(
        "beneficiary",
        beneficiary(name="Bapak Karta Wiguna", nik="3171010101500003", programs=["KLJ", "PKH"]),
    )
    siti.sync()
    siti.store.update("beneficiary", sri, {"phone": "0812-3333-4444"})
    siti.sync()
    ani.store.add(
        "beneficiary",
        beneficiary(name="Bapak Karta Lain", nik="3172010101500004", kelurahan="31.72.01.1001"),
    )
    ani.sync()
    add_web_user()

    page.goto(f"{live_hub}/web/login")
    page.get_by_label("Nama pengguna").fill("bu-kasi")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("heading", name="Ringkasan", exact=True).wait_for()
    assert page.locator("#syncs-today .num").inner_text() == "1"  # siti, not ani (31.72)
    assert page.locator("#visits-waiting .num").inner_text() == "1"
    assert page.locator('tr[data-status="diajukan"] .num').inner_text() == "1"
    shot("ringkasan")

    page.get_by_role("link", name="Penerima manfaat", exact=True).click()
    search = page.get_by_label("NIK atau nama")
    search.fill("317101450845")
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name="Ibu Sri Wahyuni").wait_for()
    shot("penerima-nik")
    search = page.get_by_label("NIK atau nama")
    search.fill("karta")
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name="Bapak Karta Wiguna").wait_for()
    assert "Bapak Karta Lain" not in page.locator("main").inner_text()  # 31.72
    shot("penerima-nama")

    search = page.get_by_label("NIK atau nama")
    search.fill("wahyuni")
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name="Ibu Sri Wahyuni").click()
    page.get_by_role("heading", name="Ibu Sri Wahyuni", exact=True).wait_for()
    main = page.locator("main").inner_text()
    assert "0812-3333-4444" in main and "kursi roda" in main and "verifikasi" in main
    image = page.get_by_role("img", name="Foto: Penerima manfaat")
    image.wait_for()
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 160
    shot("penerima-halaman")

    image.click()  # the photo on its own, as the browser shows an image
    page.wait_for_url(f"**/foto/{sha}")
    shot("penerima-foto")

    page.go_back()
    page.get_by_role("link", name="Cakupan", exact=True).click()
    page.get_by_role(
        "heading", name="Penerima manfaat KLJ yang belum dikunjungi dalam 30 hari terakhir"
    ).wait_for()
    assert page.locator("#unvisited-total").inner_text() == "1"
    found = page.get_by_role("link", name="Bapak Karta Wiguna")
    found.wait_for()
    assert "Ibu Sri Wahyuni" not in page.locator("table.unvisited").inner_text()  # visited
    shot("cakupan-kelurahan")
    page.get_by_role("link", name="pendamping", exact=True).click()
    page.locator('tbody[data-group="siti"]').wait_for()
    shot("cakupan-pendamping")
    page.get_by_role("link", name="Bapak Karta Wiguna").click()
    page.get_by_role("heading", name="Bapak Karta Wiguna", exact=True).wait_for()
    assert "Belum ada kunjungan." in page.locator("main").inner_text()
    shot("cakupan-ke-penerima")
