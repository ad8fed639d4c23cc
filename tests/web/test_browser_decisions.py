"""Kunjungan and Permohonan ABF in a real headless Chromium (Playwright) against the hub
served by waitress, with a real laptop (client_sync's FieldDevice over HTTP to the same
socket), at the office's 1366×768: accept a visit and return another (a refused return
first), the laptop pulls the returned visit, corrects it and sends it, and the visit is
waiting on Kunjungan again; bulk accept through its confirm step; verify, approve and
deliver a request with a photo, then open the printable handover sheet on screen and as
printed. A screenshot of every state is saved in the test's tmp dir (`--basetemp DIR`
keeps them)."""

from __future__ import annotations

from pathlib import Path

from client_sync import FieldDevice
from client_sync.transport import HttpTransport
from server.storage import HubStorage
from tests.conftest import Laptops, beneficiary, visit
from tests.web.conftest import PASSWORD, fits_the_window
from tests.web.test_browser_office_pages import _png


def test_review_a_laptop_s_correction_and_an_abf_handover_with_its_sheet(
    page,
    live_hub: str,
    laptops: Laptops,
    add_user,
    add_web_user,
    hub_storage: HubStorage,
    tmp_path: Path,
):
    shots = tmp_path / "screens"
    shots.mkdir()

    def shot(name: str) -> None:
        fits_the_window(page)
        page.screenshot(path=shots / f"{name}.png", full_page=True)

    # siti's laptop talks HTTP to the served hub, as in the field
    siti = FieldDevice.enroll(
        tmp_path / "laptop-siti",
        live_hub,
        add_user("siti", "pendamping", ("31.71.01",)),
        "laptop-siti",
        transport_factory=HttpTransport,
    )
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    try:
        sri = siti.store.add("beneficiary", beneficiary(address="Jl. Melati 3, RT 002/RW 005"))
        first = siti.store.add(
            "visit",
            visit(sri, visited_at="2026-01-12T09:30:00+07:00", findings="Kondisi baik."),
        )
        second = siti.store.add(
            "visit",
            visit(
                sri,
                visited_at="2026-01-20T10:15:00+07:00",
                purpose="verifikasi",
                findings="Rumah layak huni, perlu kursi roda; foto rumah belum diambil.",
            ),
        )
        rid = siti.store.add(
            "device_request",
            {"beneficiary_id": sri, "device_type": "kursi_roda", "reason": "Lumpuh kaki kanan."},
        )
        siti.sync()
        darto = ani.store.add(
            "beneficiary",
            beneficiary(nik="3172014508450002", kelurahan="31.72.01.1001", name="Pak Darto"),
        )
        ani.store.add("visit", visit(darto))
        ani.sync()
        add_web_user()

        page.goto(f"{live_hub}/web/login")
        page.get_by_label("Nama pengguna").fill("bu-kasi")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.get_by_role("link", name="Kunjungan", exact=True).click()
        page.get_by_role("heading", name="Kunjungan", exact=True).wait_for()
        assert "Pak Darto" not in page.content()  # 31.72's visit is not bu-kasi's
        assert page.locator("tr[data-visit]").count() == 2
        shot("01-kunjungan")

        row = page.locator(f'tr[data-visit="{first}"]')
        row.get_by_role("button", name="Terima").click()
        page.get_by_text("Kunjungan diterima.").wait_for()
        assert "Diterima" in page.locator(f'tr[data-visit="{first}"] td.state').inner_text()
        shot("02-accepted")

        row = page.locator(f'tr[data-visit="{second}"]')
        row.get_by_role("button", name="Kembalikan").click()  # no reason typed
        page.get_by_text("Wajib diisi.").wait_for()
        assert hub_storage.get_record(second).data.get("review") is None
        shot("03-return-refused")
        row = page.locator(f'tr[data-visit="{second}"]')
        row.get_by_role("textbox").fill("Foto rumah belum ada; mohon dilengkapi.")
        row.get_by_role("button", name="Kembalikan").click()
        page.get_by_text("Kunjungan dikembalikan ke pendamping").wait_for()
        shot("04-returned")

        siti.sync()  # the laptop pulls the returned visit
        [returned] = siti.store.returned()
        assert returned["id"] == second
        assert returned["review"]["reason"] == "Foto rumah belum ada; mohon dilengkapi."
        siti.store.update("visit", second, {"findings": "Foto rumah sudah diambil."})
        siti.sync()
        assert siti.store.returned() == []

        page.goto(f"{live_hub}/web/kunjungan?review_state=menunggu")
        waiting = page.locator(f'tr[data-visit="{second}"]')
        assert "Menunggu tinjauan" in waiting.locator("td.state").inner_text()
        assert "Foto rumah sudah diambil." in waiting.inner_text()
        shot("05-corrected-waiting")
        waiting.locator("td.when a").click()
        page.get_by_role("heading", name="Kunjungan ke Ibu Sri Wahyuni").wait_for()
        shot("06-visit-page")

        page.goto(f"{live_hub}/web/kunjungan?review_state=menunggu")
        page.get_by_role("link", name="Terima semua yang menunggu…").click()
        page.get_by_text("1 kunjungan akan diterima.").wait_for()
        shot("07-bulk-confirm")
        page.get_by_role("button", name="Ya, terima 1 kunjungan").click()
        page.get_by_text("1 kunjungan diterima.").wait_for()
        assert hub_storage.get_record(second).data["review"]["state"] == "diterima"
        shot("08-bulk-done")

        page.get_by_role("link", name="Permohonan ABF").click()
        page.get_by_role("heading", name="Permohonan ABF", exact=True).wait_for()
        shot("09-permohonan")
        page.locator(f'tr[data-request="{rid}"] a').first.click()
        page.get_by_role("button", name="Verifikasi permohonan").click()
        page.get_by_text("Tersimpan: status sekarang Diverifikasi.").wait_for()
        page.get_by_role("button", name="Setujui").click()
        page.get_by_text("Tersimpan: status sekarang Disetujui.").wait_for()
        shot("10-approved")

        form = page.locator("form#deliver")
        form.get_by_label("Tanggal serah terima").fill("2026-01-27")
        form.get_by_label("Diterima oleh").fill("Ibu Sri Wahyuni")
        photo = tmp_path / "serah-terima.png"
        photo.write_bytes(_png())
        form.get_by_label("Foto serah terima (JPEG, PNG atau WebP)").set_input_files(str(photo))
        form.get_by_role("button", name="Simpan serah terima").click()
        page.get_by_text("Tersimpan: status sekarang Diserahkan.").wait_for()
        image = page.locator(".photos img").first
        image.wait_for()
        assert page.evaluate("i => i.complete && i.naturalWidth", image.element_handle()) == 160
        assert "bu-kasi" in page.locator("table.history").first.inner_text()
        shot("11-delivered")

        page.get_by_role("link", name="Berita acara serah terima (cetak)").click()
        page.get_by_role("heading", name="Berita acara serah terima alat bantu").wait_for()
        sheet = page.locator("article.sheet").inner_text()
        for text in (
            "Ibu Sri Wahyuni",
            "3171014508450001",
            "Kursi roda",
            "27-01-2026",
            "Yang menerima,",
            "Yang menyerahkan,",
            "Mengetahui, supervisor,",
        ):
            assert text in sheet, text
        shot("12-sheet-screen")
        page.emulate_media(media="print")
        assert not page.locator("header").is_visible()  # the menu is not printed
        assert page.locator(".sheet-photo img").is_visible()
        shot("13-sheet-print")
        page.emulate_media(media="screen")

        page.goto(f"{live_hub}/web/kunjungan?lang=en")
        page.get_by_role("heading", name="Visits", exact=True).wait_for()
        shot("14-kunjungan-en")
        page.goto(f"{live_hub}/web/permohonan/{rid}?lang=en")
        page.get_by_role("heading", name="Request: Wheelchair for Ibu Sri Wahyuni").wait_for()
        shot("15-request-en")
        page.goto(f"{live_hub}/web/kunjungan?lang=id")
    finally:
        siti.close()
        ani.close()
