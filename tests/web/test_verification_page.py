"""Verifikasi bulanan on the Flask test client: the list with its counts, the confirm step
and the close (audited, once), amendments after it, the XLSX download, the print view,
refused values back on the form, scope, CSRF, and both languages with no data."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from server.storage import HubStorage
from tests.conftest import Laptops, beneficiary, visit
from tests.web.conftest import Web, csrf_of

JAN = "2026-01-15T09:30:00+07:00"
LIST = "/web/verifikasi?program=KLJ&month=2026-01"


@pytest.fixture
def two_districts(laptops: Laptops):
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    sri = siti.store.add("beneficiary", beneficiary(name="Ibu Sri Wahyuni"))
    siti.store.add("visit", visit(sri, visited_at=JAN, verification_outcome="pindah"))
    joko = siti.store.add("beneficiary", beneficiary(name="Pak Joko", nik=None))
    theirs = ani.store.add(
        "beneficiary",
        beneficiary(name="Ibu Ani Tujuhdua", nik="3172014508450002", kelurahan="31.72.01.1001"),
    )
    ani.store.add("visit", visit(theirs, visited_at=JAN, purpose="verifikasi"))
    siti.sync()
    ani.sync()
    yield {"siti": siti, "joko": joko}
    siti.close()
    ani.close()


@pytest.fixture
def logged_in(web: Web, add_web_user) -> Web:
    add_web_user()  # bu-kasi, supervisor of 31.71
    assert web.login().status_code == 303
    return web


def _post(web: Web, path: str, **fields: str):
    token = csrf_of(web.client.get(LIST))
    form = {"program": "KLJ", "month": "2026-01", "wilayah": "", **fields}
    return web.client.post(path, data={"csrf_token": token, **form})


def test_the_list_shows_states_and_counts_of_the_users_wilayah_only(logged_in: Web, two_districts):
    page = logged_in.page(LIST)
    assert "Ibu Sri Wahyuni" in page and "Pak Joko" in page and "3171014508450001" in page
    assert "Ibu Ani Tujuhdua" not in page and "3172014508450002" not in page
    assert "Pindah" in page and "Belum diverifikasi" in page
    assert "Terbuka" in page and "Tutup bulan…" in page


def test_closing_after_the_confirm_step_freezes_and_a_second_close_is_refused(
    logged_in: Web, two_districts, hub_storage: HubStorage
):
    confirm = logged_in.page("/web/verifikasi/tutup?program=KLJ&month=2026-01")
    assert "Ya, tutup bulan ini" in confirm and "tidak dapat dibatalkan" in confirm
    assert not hub_storage.verification.closes("KLJ", "2026-01")  # a GET closes nothing
    answer = _post(logged_in, "/web/verifikasi/tutup")
    assert answer.status_code == 303
    page = logged_in.page(answer.headers["Location"])
    assert "Bulan ini ditutup; daftarnya dibekukan." in page
    assert "ditutup oleh bu-kasi" in page and "Tutup bulan…" not in page
    [close] = hub_storage.verification.closes("KLJ", "2026-01")
    assert close.wilayah == ("31.71",)
    [entry] = [e for e in hub_storage.iter_audit() if e.action == "verification_close"]
    assert entry.actor == "bu-kasi" and json.loads(entry.detail)["via"] == "web"

    again = _post(logged_in, "/web/verifikasi/tutup")
    assert again.status_code == 409
    assert "tidak dapat ditutup dua kali" in again.get_data(as_text=True)
    assert len(hub_storage.verification.closes("KLJ", "2026-01")) == 1

    # a visit recorded later for January shows beside the frozen row
    siti = two_districts["siti"]
    siti.store.add("visit", visit(two_districts["joko"], visited_at=JAN, purpose="verifikasi"))
    siti.sync()
    page = logged_in.page(LIST)
    assert "Berubah setelah ditutup" in page and "kini Terverifikasi" in page


def test_the_xlsx_download_is_the_months_list_with_the_nik_as_text(
    logged_in: Web, two_districts, hub_storage: HubStorage
):
    answer = _post(logged_in, "/web/verifikasi/unduh")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    assert "verifikasi-KLJ-2026-01" in answer.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.get_data())).active
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 2  # 31.71's two; never 31.72's
    nik = next(r for r in rows if r[header.index("NIK")].value)[header.index("NIK")]
    assert nik.value == "3171014508450001" and nik.data_type == "s"
    [entry] = [e for e in hub_storage.iter_audit() if e.action == "web_export"]
    assert entry.actor == "bu-kasi" and json.loads(entry.detail)["kind"] == "verification"


def test_the_print_view_names_the_list_and_has_signature_lines(logged_in: Web, two_districts):
    _post(logged_in, "/web/verifikasi/tutup")
    page = logged_in.page("/web/verifikasi/cetak?program=KLJ&month=2026-01")
    for text in ("KLJ", "2026-01", "31.71", "Ditutup oleh bu-kasi", "Mengetahui", "Ibu Sri"):
        assert text in page
    assert "verification.css" in page


@pytest.mark.parametrize(
    ("query", "field_text", "status"),
    [
        ("program=XYZ&month=2026-01", "Pilih salah satu", 422),
        ("program=KLJ&month=2026-13", "Bulan harus berbentuk YYYY-MM", 422),
        ("program=KLJ&month=2026-01&wilayah=31.72", "berada di luar wilayah Anda", 403),
        ("program=KLJ&month=2026-01&wilayah=31.7x", "wilayah", 422),
    ],
)
def test_a_refused_value_comes_back_on_the_form(
    logged_in: Web, two_districts, query: str, field_text: str, status: int
):
    answer = logged_in.client.get(f"/web/verifikasi?{query}")
    assert answer.status_code == status
    text = answer.get_data(as_text=True)
    assert field_text in text and 'class="field-error"' in text
    assert "Ibu Ani Tujuhdua" not in text


def test_a_supervisor_cannot_close_another_wilayah_nor_a_future_month(
    logged_in: Web, two_districts, hub_storage: HubStorage
):
    outside = _post(logged_in, "/web/verifikasi/tutup", wilayah="31.72")
    assert outside.status_code == 403
    future = _post(logged_in, "/web/verifikasi/tutup", month="2099-01")
    assert future.status_code == 422 and "belum tiba" in future.get_data(as_text=True)
    assert hub_storage.verification.closes("KLJ", "2026-01") == []
    assert hub_storage.verification.closes("KLJ", "2099-01") == []


def test_every_form_wants_its_csrf_token(logged_in: Web, two_districts, hub_storage):
    for path in ("/web/verifikasi/tutup", "/web/verifikasi/unduh"):
        answer = logged_in.client.post(path, data={"program": "KLJ", "month": "2026-01"})
        assert answer.status_code == 400
    assert hub_storage.verification.closes("KLJ", "2026-01") == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_page_renders_with_no_data_in_both_languages(logged_in: Web, lang: str):
    page = logged_in.page(f"/web/verifikasi?lang={lang}")
    assert ("Monthly verification" if lang == "en" else "Verifikasi bulanan") in page
    assert "Traceback" not in page


def test_not_logged_in_goes_to_the_login(web: Web):
    assert web.client.get("/web/verifikasi").status_code == 303


def test_the_language_switch_keeps_the_lists_programme_and_month(logged_in: Web, two_districts):
    page = logged_in.page(LIST + "&wilayah=31.71.01")
    assert (
        'href="/web/verifikasi?program=KLJ&amp;month=2026-01&amp;wilayah=31.71.01&amp;lang=en"'
        in page
    )
