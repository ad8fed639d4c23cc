"""The shell and the Pendamping & perangkat and Ekspor & bundle pages in a real headless
Chromium (Playwright) against the hub served by waitress, at the office's 1366×768: log
in, switch to English and back, add a pendamping, issue an enrolment code, revoke a laptop
through its confirm step, upload a USB bundle and read the report, download an XLSX and
read it back. A screenshot of every state is saved in the test's tmp dir (`--basetemp DIR`
keeps them)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
from flask import Flask

from client_sync import FieldDevice
from client_sync.bundle import export_bundle
from server.storage import HubStorage
from tests.conftest import Laptops, WsgiTransport, beneficiary
from tests.web.conftest import PASSWORD, fits_the_window


def test_an_office_day_on_the_devices_and_bundle_pages(
    page,
    live_hub: str,
    hub_app: Flask,
    hub_storage: HubStorage,
    laptops: Laptops,
    add_web_user,
    tmp_path: Path,
):
    shots = tmp_path / "screens"
    shots.mkdir()

    def shot(name: str) -> None:
        fits_the_window(page)
        page.screenshot(path=shots / f"{name}.png", full_page=True)

    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    budi = laptops.enroll("budi", wilayah=("31.71.02",))
    try:
        siti.store.add("beneficiary", beneficiary())
        siti.sync()
        budi.store.add(
            "beneficiary",
            beneficiary(kelurahan="31.71.02.1001", nik="3171024508450003", name="Ibu Tuti"),
        )
        bundle = export_bundle(budi.store, budi.home, tmp_path / "budi.zip").path
        add_web_user()

        page.goto(f"{live_hub}/web/login")
        shot("01-login")
        page.get_by_label("Nama pengguna").fill("bu-kasi")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.get_by_role("heading", name="Ringkasan", exact=True).wait_for()  # the start page
        page.get_by_role("link", name="Pendamping & perangkat", exact=True).click()
        page.get_by_role("heading", name="Pendamping & perangkat", exact=True).wait_for()
        siti_row = page.locator(f'tr[data-device="{siti.store.identity.device_id}"]')
        assert "1 diterapkan" in siti_row.inner_text()
        shot("02-devices-id")

        page.get_by_role("link", name="English").click()
        page.get_by_role("heading", name="Pendamping & laptops", exact=True).wait_for()
        nav = page.get_by_role("navigation").inner_text()
        assert "Exports & bundles" in nav and "Conflicts" in nav
        shot("03-devices-en")
        page.get_by_role("link", name="Exports & bundles").click()
        page.get_by_role("heading", name="Upload a USB bundle").wait_for()
        shot("04-bundle-en")
        page.get_by_role("link", name="Bahasa Indonesia").click()
        page.get_by_role("heading", name="Unggah bundle USB").wait_for()
        page.get_by_role("link", name="Pendamping & perangkat").click()

        form = page.locator("form#tambah")
        form.get_by_label("Nama pengguna").fill("rina")
        form.get_by_label("Wilayah").fill("31.72.01")  # not bu-kasi's
        form.get_by_role("button", name="Tambah pendamping").click()
        page.get_by_text("Wilayah 31.72.01 berada di luar wilayah Anda.").wait_for()
        shot("05-add-refused")
        form = page.locator("form#tambah")
        assert form.get_by_label("Nama pengguna").input_value() == "rina"
        form.get_by_label("Wilayah").fill("31.71.03")
        form.get_by_role("button", name="Tambah pendamping").click()
        page.get_by_text("Pendamping rina ditambahkan.").wait_for()
        assert hub_storage.get_user("rina").wilayah == ("31.71.03",)
        shot("06-added")

        page.get_by_role("button", name="Buat kode pendaftaran untuk rina").click()
        code = page.locator(".code-box .code").inner_text()
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
        shot("07-enrolment-code")
        rina = FieldDevice.enroll(  # the code as the pendamping types it on the laptop
            tmp_path / "laptop-rina",
            "http://hub.test",
            code.lower(),
            "laptop-rina",
            transport_factory=lambda _url: WsgiTransport(hub_app),
        )
        rina.close()
        [enrolled] = [d for d in hub_storage.list_devices() if d.user.name == "rina"]
        assert enrolled.name == "laptop-rina"

        siti_id = siti.store.identity.device_id
        page.goto(f"{live_hub}/web/perangkat")
        page.locator(f'tr[data-device="{siti_id}"]').get_by_role("link", name="Cabut…").click()
        page.get_by_role("heading", name="Cabut laptop laptop-siti?").wait_for()
        assert hub_storage.get_device(siti_id).revoked_at is None  # only asked so far
        shot("08-revoke-confirm")
        page.get_by_label("Alasan (mis. laptop hilang)").fill("laptop hilang di angkot")
        page.get_by_role("button", name="Ya, cabut laptop ini").click()
        page.get_by_text("Laptop laptop-siti (siti) dicabut.").wait_for()
        assert hub_storage.get_device(siti_id).revoked_at is not None
        shot("09-revoked")
        page.get_by_role("link", name="Kembali ke Pendamping & perangkat").click()
        assert "dicabut" in page.locator(f'tr[data-device="{siti_id}"]').inner_text()
        shot("10-devices-after")

        page.get_by_role("link", name="Ekspor & bundle").click()
        page.get_by_label("Berkas bundle (.zip)").set_input_files(str(bundle))
        page.get_by_role("button", name="Unggah dan terapkan").click()
        report = page.locator("section.report")
        report.wait_for()
        assert "Bundle dari laptop laptop-budi (budi)" in report.inner_text()
        assert "1 diterapkan, 0 digabung, 0 konflik, 0 ditolak." in report.inner_text()
        shot("11-bundle-report")
        actors = {
            e.actor for e in hub_storage.iter_audit() if e.action.startswith(("web_b", "bun"))
        }
        assert actors == {"bu-kasi"}

        form = page.locator("form#unduh")
        form.get_by_label("Data").select_option("beneficiaries")
        form.get_by_label("Format").select_option("xlsx")
        shot("12-export-form")
        with page.expect_download() as download:
            form.get_by_role("button", name="Unduh").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        sheet = openpyxl.load_workbook(saved).active
        header = [cell.value for cell in sheet[1]]
        rows = list(sheet.iter_rows(min_row=2))
        names = sorted(row[header.index("Nama")].value for row in rows)
        assert names == ["Ibu Sri Wahyuni", "Ibu Tuti"]  # siti's by sync, budi's by bundle
        niks = [row[header.index("NIK")] for row in rows]
        assert all(c.data_type == "s" and len(c.value) == 16 for c in niks)
    finally:
        siti.close()
        budi.close()
    assert sorted(p.name for p in shots.iterdir())[-1] == "12-export-form.png"
