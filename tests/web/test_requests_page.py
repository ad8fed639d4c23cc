"""Permohonan ABF on the Flask test client: requests by status with their age, a request's
history, the supervisor's moves (verify, approve, reject with a reason, deliver with the
date, the receiving person and a photo), refusals on the form with nothing written, a
laptop's concurrent move met as a conflict, the handover sheet, scope and CSRF."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from server.storage import HubStorage
from tests.conftest import Laptops, beneficiary
from tests.web.conftest import Web, csrf_of

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


@pytest.fixture
def district(laptops: Laptops):
    """siti (31.71.01) filed a wheelchair for Ibu Sri; ani (31.72.01) one for Pak Darto."""
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    ours = siti.store.add("beneficiary", beneficiary(address="Jl. Melati 3"))
    mine = siti.store.add(
        "device_request",
        {"beneficiary_id": ours, "device_type": "kursi_roda", "reason": "Lumpuh kaki kanan."},
    )
    theirs = ani.store.add(
        "beneficiary",
        beneficiary(nik="3172014508450002", kelurahan="31.72.01.1001", name="Pak Darto"),
    )
    other = ani.store.add("device_request", {"beneficiary_id": theirs, "device_type": "kruk"})
    siti.sync()
    ani.sync()
    yield {"siti": siti, "ani": ani, "mine": mine, "other": other}
    siti.close()
    ani.close()


@pytest.fixture
def logged_in(web: Web, add_web_user) -> Web:
    add_web_user()  # bu-kasi, supervisor of 31.71
    assert web.login().status_code == 303
    return web


def written(storage: HubStorage) -> tuple[int, int]:
    return storage.stats()["changes"], len(list(storage.iter_audit()))


def move(web: Web, storage: HubStorage, rid: str, verb: str, seen: int | None = None, **fields):
    token = csrf_of(web.client.get("/web/permohonan"))
    seq = storage.get_record(rid).seq if seen is None else seen
    data = {"csrf_token": token, "seen": str(seq), **fields}
    return web.client.post(f"/web/permohonan/{rid}/{verb}", data=data)


def deliver(web: Web, storage: HubStorage, rid: str, photo: bytes = JPEG, **fields):
    form = {"handover_date": "2026-01-05", "received_by": "Ibu Sri", **fields}
    return move(web, storage, rid, "deliver", photo=(io.BytesIO(photo), "serah.jpg"), **form)


def status(storage: HubStorage, rid: str) -> str:
    return storage.get_record(rid).data["status"]


def test_the_empty_page_renders_in_both_languages(logged_in: Web):
    assert "Belum ada permohonan di wilayah Anda." in logged_in.page("/web/permohonan?lang=id")
    assert "No requests in your wilayah yet." in logged_in.page("/web/permohonan?lang=en")


def test_the_list_shows_the_wilayah_s_requests_by_status_with_their_age(logged_in: Web, district):
    text = logged_in.page("/web/permohonan")
    assert re.findall(r'data-request="([^"]+)"', text) == [district["mine"]]
    assert "Ibu Sri Wahyuni" in text and "Kursi roda" in text and "0 hari" in text
    assert "Pak Darto" not in text and "Kruk" not in text
    counts = text.split('class="status-counts"')[1].split("</table>")[0]
    assert "Diajukan" in counts and ">1<" in counts
    assert 'data-request="' not in logged_in.page("/web/permohonan?status=disetujui")
    answer = logged_in.client.get("/web/permohonan?status=hilang")
    assert answer.status_code == 422 and "Pilih salah satu" in answer.get_data(as_text=True)
    answer = logged_in.client.get("/web/permohonan?wilayah=31.72")
    assert answer.status_code == 403
    assert "Wilayah 31.72 berada di luar wilayah Anda." in answer.get_data(as_text=True)


def test_the_office_walks_a_request_to_its_handover_and_prints_the_sheet(
    logged_in: Web, district, hub_storage: HubStorage
):
    rid = district["mine"]
    page = logged_in.page(f"/web/permohonan/{rid}")
    assert 'id="verify"' in page and 'id="reject"' in page and 'id="approve"' not in page
    for verb, now in (("verify", "diverifikasi"), ("approve", "disetujui")):
        answer = move(logged_in, hub_storage, rid, verb)
        assert answer.status_code == 303, answer.get_data(as_text=True)
        assert status(hub_storage, rid) == now
    answer = deliver(logged_in, hub_storage, rid)
    assert answer.status_code == 303
    assert "Tersimpan: status sekarang Diserahkan." in logged_in.page(answer.location)
    data = hub_storage.get_record(rid).data
    assert (data["status"], data["handover_date"], data["received_by"]) == (
        "diserahkan",
        "2026-01-05",
        "Ibu Sri",
    )
    [sha] = data["attachments"]
    page = logged_in.page(f"/web/permohonan/{rid}")
    history = page.split("Riwayat status")[1]
    assert history.count("bu-kasi") >= 3 and "kantor (hub)" in history
    photo = logged_in.client.get(f"/web/permohonan/{rid}/foto/{sha}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data == JPEG
    photo.close()
    sheet = logged_in.page(f"/web/permohonan/{rid}/berita-acara")
    for text in (
        "Berita acara serah terima alat bantu",
        "Ibu Sri Wahyuni",
        "3171014508450001",
        "Kursi roda",
        "05-01-2026",
        "Jl. Melati 3",
        f"/foto/{sha}",
        "Yang menerima,",
        "Yang menyerahkan,",
        "Pendamping,",
        "Mengetahui, supervisor,",
    ):
        assert text in sheet, text
    actions = [
        e.action
        for e in hub_storage.iter_audit()
        if e.actor == "bu-kasi" and e.action != "web_login"
    ]
    assert actions == [
        "request_transition",
        "request_transition",
        "office_photo",
        "request_transition",
    ]


def test_the_sheet_waits_for_the_handover(logged_in: Web, district):
    answer = logged_in.client.get(f"/web/permohonan/{district['mine']}/berita-acara")
    assert answer.status_code == 409 and "hanya ada untuk permohonan yang sudah diserahkan" in (
        answer.get_data(as_text=True)
    )


def test_rejecting_needs_a_reason_on_the_form_and_writes_nothing_without(
    logged_in: Web, district, hub_storage: HubStorage
):
    rid = district["mine"]
    before = written(hub_storage)
    answer = move(logged_in, hub_storage, rid, "reject", reason=" ")
    assert answer.status_code == 422
    form = answer.get_data(as_text=True).split('id="reject"')[1].split("</form>")[0]
    assert "Wajib diisi." in form
    assert written(hub_storage) == before and status(hub_storage, rid) == "diajukan"
    answer = move(logged_in, hub_storage, rid, "reject", reason="Sudah menerima tahun lalu.")
    assert answer.status_code == 303
    data = hub_storage.get_record(rid).data
    assert (data["status"], data["reject_reason"]) == ("ditolak", "Sudah menerima tahun lalu.")


def test_a_move_the_lifecycle_forbids_comes_back_with_its_message(
    logged_in: Web, district, hub_storage: HubStorage
):
    rid = district["mine"]
    before = written(hub_storage)
    answer = move(logged_in, hub_storage, rid, "approve")  # diajukan → disetujui: not allowed
    assert answer.status_code == 409
    assert "diajukan → disetujui tidak diizinkan" in answer.get_data(as_text=True)
    assert written(hub_storage) == before and status(hub_storage, rid) == "diajukan"


def test_a_handover_with_bad_fields_comes_back_named_and_keeps_no_photo(
    logged_in: Web, district, hub_storage: HubStorage
):
    rid = district["mine"]
    move(logged_in, hub_storage, rid, "verify")
    move(logged_in, hub_storage, rid, "approve")
    before = written(hub_storage)
    blobs = Path(logged_in.client.application.config["DATA_DIR"]) / "attachments" / "blobs"
    held = sorted(blobs.rglob("*")) if blobs.exists() else []
    cases = [
        ({"received_by": ""}, JPEG, "Wajib diisi."),
        ({"handover_date": "05/01/2026"}, JPEG, "Tanggal harus berbentuk YYYY-MM-DD."),
        ({"handover_date": "2999-01-01"}, JPEG, "tidak boleh di masa depan"),
        ({}, b"%PDF-1.4 not a photo", "Berkas bukan foto JPEG, PNG atau WebP."),
    ]
    for fields, photo, message in cases:
        answer = deliver(logged_in, hub_storage, rid, photo, **fields)
        assert answer.status_code == 422, (fields, answer.status_code)
        form = answer.get_data(as_text=True).split('id="deliver"')[1].split("</form>")[0]
        assert message in form, (fields, form)
    answer = move(
        logged_in, hub_storage, rid, "deliver", handover_date="2026-01-05", received_by="Ibu Sri"
    )  # no file at all
    assert answer.status_code == 422 and "Pilih foto serah terima." in answer.get_data(as_text=True)
    assert written(hub_storage) == before and status(hub_storage, rid) == "disetujui"
    assert (sorted(blobs.rglob("*")) if blobs.exists() else []) == held


def test_a_photo_over_the_limit_is_refused_on_the_form(
    logged_in: Web, district, hub_storage: HubStorage, hub_app
):
    rid = district["mine"]
    move(logged_in, hub_storage, rid, "verify")
    move(logged_in, hub_storage, rid, "approve")
    hub_app.config["ATTACHMENT_MAX_BYTES"] = 2048  # a small limit: the test client spools
    answer = deliver(logged_in, hub_storage, rid, JPEG + b"\0" * 2048)  # bigger bodies
    assert answer.status_code == 422
    assert "Foto paling besar 2 KiB." in answer.get_data(as_text=True)
    assert status(hub_storage, rid) == "disetujui"


def test_a_laptop_s_move_made_meanwhile_meets_the_office_s_as_a_conflict(
    logged_in: Web, district, hub_storage: HubStorage
):
    rid = district["mine"]
    move(logged_in, hub_storage, rid, "verify")
    shown = hub_storage.get_record(rid).seq  # the page shows the verified request
    siti = district["siti"]
    siti.sync()
    siti.store.update("device_request", rid, {"status": "dibatalkan"})
    siti.sync()  # the family declined; the laptop's cancellation lands first
    answer = move(logged_in, hub_storage, rid, "approve", seen=shown)
    assert answer.status_code == 303 and "hasil=conflict" in answer.location
    text = logged_in.page(answer.location)
    assert "bertabrakan dengan perubahan dari laptop" in text and "/web/conflicts" in text
    assert status(hub_storage, rid) == "dibatalkan"  # never silently overwritten


def test_another_wilayah_s_request_is_not_found_to_see_move_or_print(
    logged_in: Web, district, hub_storage: HubStorage
):
    other = district["other"]
    for path in (f"/web/permohonan/{other}", f"/web/permohonan/{other}/berita-acara"):
        answer = logged_in.client.get(path)
        assert answer.status_code == 404 and "Pak Darto" not in answer.get_data(as_text=True)
    before = written(hub_storage)
    for verb, fields in (("verify", {}), ("reject", {"reason": "x"})):
        assert move(logged_in, hub_storage, other, verb, **fields).status_code == 404
    assert deliver(logged_in, hub_storage, other).status_code == 404
    assert written(hub_storage) == before and status(hub_storage, other) == "diajukan"


def test_a_photo_is_served_only_through_a_request_that_names_it(
    logged_in: Web, district, hub_storage: HubStorage, web: Web, add_web_user
):
    rid = district["mine"]
    move(logged_in, hub_storage, rid, "verify")
    move(logged_in, hub_storage, rid, "approve")
    deliver(logged_in, hub_storage, rid)
    [sha] = hub_storage.get_record(rid).data["attachments"]
    other = district["other"]
    assert logged_in.client.get(f"/web/permohonan/{other}/foto/{sha}").status_code == 404
    assert logged_in.client.get(f"/web/kunjungan/{rid}/foto/{sha}").status_code == 404
    assert logged_in.client.get(f"/web/permohonan/{rid}/foto/{'0' * 64}").status_code == 404
    add_web_user("pak-kasi", wilayah=("31.72",))
    outsider = Web(logged_in.client.application.test_client())
    outsider.login("pak-kasi")
    assert outsider.client.get(f"/web/permohonan/{rid}/foto/{sha}").status_code == 404


def test_moves_without_their_csrf_token_are_refused_and_write_nothing(
    logged_in: Web, district, hub_storage: HubStorage
):
    rid = district["mine"]
    before = written(hub_storage)
    seq = str(hub_storage.get_record(rid).seq)
    for verb in ("verify", "reject", "deliver"):
        answer = logged_in.client.post(
            f"/web/permohonan/{rid}/{verb}", data={"seen": seq, "reason": "x"}
        )
        assert answer.status_code == 400, verb
    assert written(hub_storage) == before


def test_an_unknown_move_is_not_found(logged_in: Web, district, hub_storage: HubStorage):
    answer = move(logged_in, hub_storage, district["mine"], "cancel")
    assert answer.status_code == 404
