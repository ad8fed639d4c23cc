"""Verifikasi bulanan in a real headless Chromium against the hub served by waitress, at
1366×768: pick a programme and month, read the states, close the month through its
confirm step, see a later visit as an amendment beside the frozen row, download the
month's XLSX and read it back (its NIK a text cell), and the printable list on screen and
as printed. A screenshot of every state is saved in the test's tmp dir."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from server.storage import HubStorage
from tests.conftest import Laptops, beneficiary, visit
from tests.web.conftest import PASSWORD, fits_the_window

JAN = "2026-01-15T09:30:00+07:00"


def test_a_supervisor_closes_a_month_and_downloads_its_list(
    page, live_hub: str, hub_storage: HubStorage, laptops: Laptops, add_web_user, tmp_path: Path
):
    shots = tmp_path / "screens"
    shots.mkdir()

    def shot(name: str, full: bool = True) -> None:
        fits_the_window(page)
        page.screenshot(path=shots / f"{name}.png", full_page=full)

    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    try:
        sri = siti.store.add("beneficiary", beneficiary(name="Ibu Sri Wahyuni"))
        siti.store.add("visit", visit(sri, visited_at=JAN, purpose="verifikasi"))
        budi = siti.store.add("beneficiary", beneficiary(name="Pak Budi Santoso", nik=None))
        siti.store.add("visit", visit(budi, visited_at=JAN, verification_outcome="meninggal"))
        joko = siti.store.add("beneficiary", beneficiary(name="Pak Joko Hartono", nik=None))
        theirs = ani.store.add(
            "beneficiary",
            beneficiary(name="Ibu Ani Tujuhdua", nik="3172014508450002", kelurahan="31.72.01.1001"),
        )
        ani.store.add("visit", visit(theirs, visited_at=JAN, purpose="verifikasi"))
        siti.sync()
        ani.sync()
        add_web_user()

        page.goto(f"{live_hub}/web/login")
        page.get_by_label("Nama pengguna").fill("bu-kasi")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.get_by_role("link", name="Verifikasi bulanan").click()
        page.get_by_role("heading", name="Verifikasi bulanan", exact=True).wait_for()
        form = page.locator("form#pilih")
        form.get_by_label("Program").select_option("KLJ")
        form.get_by_label("Bulan").fill("2026-01")
        form.get_by_role("button", name="Tampilkan").click()
        table = page.locator("table.verification")
        table.wait_for()
        text = table.inner_text()
        assert "Ibu Sri Wahyuni" in text and "Meninggal" in text and "Belum diverifikasi" in text
        assert "Ibu Ani Tujuhdua" not in page.content()  # 31.72: not bu-kasi's
        shot("01-verifikasi-open")

        page.get_by_role("link", name="Tutup bulan…").click()
        page.get_by_role(
            "heading", name="Tutup bulan 2026-01 program KLJ untuk wilayah 31.71?"
        ).wait_for()
        assert hub_storage.verification.closes("KLJ", "2026-01") == []  # only asked
        shot("02-verifikasi-confirm")
        page.get_by_role("button", name="Ya, tutup bulan ini").click()
        page.get_by_text("Bulan ini ditutup; daftarnya dibekukan.").wait_for()
        assert "ditutup oleh bu-kasi" in page.locator("section.month-head").inner_text()
        assert page.get_by_role("link", name="Tutup bulan…").count() == 0
        [close] = hub_storage.verification.closes("KLJ", "2026-01")
        assert close.closed_by == "bu-kasi"
        shot("03-verifikasi-closed")

        # a visit to Joko recorded later for January: an amendment, the frozen row stays
        siti.store.add("visit", visit(joko, visited_at=JAN, verification_outcome="layak"))
        siti.sync()
        page.reload()
        joko_row = page.locator("table.verification tr", has_text="Pak Joko Hartono")
        assert "Belum diverifikasi" in joko_row.inner_text()
        assert "Berubah setelah ditutup: kini Terverifikasi" in joko_row.inner_text()
        shot("04-verifikasi-amendment")

        with page.expect_download() as download:
            page.get_by_role("button", name="Unduh XLSX").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name.startswith("verifikasi-KLJ-2026-01")
        sheet = openpyxl.load_workbook(saved).active
        header = [cell.value for cell in sheet[1]]
        rows = {r[header.index("Nama")].value: r for r in sheet.iter_rows(min_row=2)}
        assert set(rows) == {"Ibu Sri Wahyuni", "Pak Budi Santoso", "Pak Joko Hartono"}
        nik = rows["Ibu Sri Wahyuni"][header.index("NIK")]
        assert nik.value == "3171014508450001" and nik.data_type == "s"
        assert rows["Pak Budi Santoso"][header.index("Status")].value == "Meninggal"
        joko_cells = rows["Pak Joko Hartono"]
        assert joko_cells[header.index("Status terkini")].value == "Terverifikasi"

        page.get_by_role("link", name="Tampilan cetak").click()
        page.get_by_role("heading", name="Daftar verifikasi bulanan penerima manfaat").wait_for()
        head = page.locator("section.print-head").inner_text()
        assert "KLJ" in head and "2026-01" in head and "31.71" in head
        assert "Ditutup oleh bu-kasi" in head
        shot("05-verifikasi-print-screen")
        page.emulate_media(media="print")
        assert page.locator("header").is_hidden()  # the menu is not printed
        assert page.locator("div.signatures").is_visible()
        shot("06-verifikasi-print-media")
        page.emulate_media(media="screen")

        page.get_by_role("link", name="English").click()
        page.get_by_role("heading", name="Beneficiaries' monthly verification list").wait_for()
        page.get_by_role("link", name="Back to the list").click()
        page.get_by_role("heading", name="Monthly verification", exact=True).wait_for()
        # the switch kept the list's programme and month
        assert "KLJ · month 2026-01" in page.locator("section.month-head").inner_text()
        assert "Closed by" not in page.content() and "closed by bu-kasi" in page.content()
        shot("07-verifikasi-en")
    finally:
        siti.close()
        ani.close()
    assert len(list(shots.iterdir())) == 7
