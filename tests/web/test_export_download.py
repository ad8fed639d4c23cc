"""The download of Ekspor & bundle on the Flask test client: the same spreadsheet as
`pendamping-hub export`, within the user's wilayah, refused values back on the form,
CSRF, audit."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from server.storage import HubStorage
from tests.conftest import Laptops, beneficiary, visit
from tests.web.conftest import Web, csrf_of

pytestmark = pytest.mark.both_backends


@pytest.fixture
def two_districts(laptops: Laptops):
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    ours = siti.store.add("beneficiary", beneficiary())
    siti.store.add("visit", visit(ours, visited_at="2026-01-15T09:30:00+07:00"))
    siti.store.add("visit", visit(ours, visited_at="2026-02-02T09:30:00+07:00"))
    theirs = ani.store.add(
        "beneficiary", beneficiary(nik="3172014508450002", kelurahan="31.72.01.1001")
    )
    ani.store.add("visit", visit(theirs, visited_at="2026-01-16T09:30:00+07:00"))
    siti.sync()
    ani.sync()
    yield
    siti.close()
    ani.close()


@pytest.fixture
def logged_in(web: Web, add_web_user) -> Web:
    add_web_user()  # bu-kasi, supervisor of 31.71
    assert web.login().status_code == 303
    return web


def _download(web: Web, **fields: str):
    token = csrf_of(web.client.get("/web/ekspor"))
    form = {"kind": "visits", "format": "xlsx", "pendamping": "", "program": "", **fields}
    return web.client.post("/web/ekspor/unduh", data={"csrf_token": token, **form})


def test_a_months_visits_download_as_xlsx_with_the_nik_as_text(
    logged_in: Web, two_districts, hub_storage: HubStorage
):
    answer = _download(logged_in, month="2026-01")
    assert answer.status_code == 200
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in answer.headers["Content-Disposition"]
    assert "visits-2026-01" in answer.headers["Content-Disposition"]
    data = answer.get_data()
    answer.close()  # as the WSGI server does once it is sent
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 1  # January, 31.71 only: not February's, not 31.72's
    nik = rows[0][header.index("NIK")]
    assert nik.value == "3171014508450001" and nik.data_type == "s"
    [entry] = [e for e in hub_storage.iter_audit() if e.action == "web_export"]
    assert entry.actor == "bu-kasi" and '"rows":1' in entry.detail
    exports = Path(logged_in.client.application.config["DATA_DIR"]) / "exports-web"
    assert not list(exports.iterdir())  # sent, removed


def test_a_semicolon_csv_for_excel_in_indonesian(logged_in: Web, two_districts):
    answer = _download(logged_in, format="csv;", pendamping="siti")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.get_data().decode("utf-8-sig")
    answer.close()
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 3 and "3172014508450002" not in text  # siti's two visits


def test_another_wilayah_is_refused_on_the_form_and_nothing_is_sent(
    logged_in: Web, two_districts, hub_storage: HubStorage
):
    answer = _download(logged_in, wilayah="31.72.01")
    assert answer.status_code == 403 and answer.mimetype == "text/html"
    form = answer.get_data(as_text=True).split('id="unduh"')[1]
    assert "Wilayah 31.72.01 berada di luar wilayah Anda." in form
    assert 'value="31.72.01"' in form
    bad = _download(logged_in, month="2026-13")
    assert bad.status_code == 422 and "YYYY-MM" in bad.get_data(as_text=True)
    stranger = _download(logged_in, pendamping="ani")  # not offered: ani is of 31.72
    assert stranger.status_code == 422
    assert not [e for e in hub_storage.iter_audit() if e.action == "web_export"]


def test_the_download_needs_its_csrf_token(logged_in: Web, two_districts):
    answer = logged_in.client.post("/web/ekspor/unduh", data={"kind": "visits", "format": "xlsx"})
    assert answer.status_code == 400


def test_the_download_form_offers_only_the_pendamping_of_the_wilayah(logged_in: Web, two_districts):
    page = logged_in.page("/web/ekspor")
    assert '<option value="siti">siti</option>' in page
    assert 'value="ani"' not in page
