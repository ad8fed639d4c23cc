"""Permohonan ABF in the field app, through Flask's test client on an enrolled, encrypted
laptop: filing a request from its form (the assessment as fields, a refused value back on
the form with its message and the draft kept), the list by status, a request's page with
its status history and the pendamping's moves (a cancel asks first; a move the lifecycle or
the role refuses comes back in their own words), all with the hub unreachable."""

from __future__ import annotations

import re
from typing import Any

import pytest

from client_sync.abf import ASSESSMENT, form_fields, moves
from client_sync.cli import EXIT_INVALID
from client_sync.cli import main as cli_main
from tests.client_sync.app.conftest import Field
from tests.conftest import beneficiary


def on_store(field: Field, fn) -> Any:
    """`fn(store)` on the app's store thread (the store is the app's, unlocked)."""
    state = field.app.extensions["pendamping_app"]
    return state.store_thread.run(lambda: fn(state.keeper.device.store))


@pytest.fixture
def person(field: Field) -> str:
    assert field.unlock().status_code == 303
    return on_store(field, lambda s: s.add("beneficiary", beneficiary(name="Ibu Ratna Sari")))


def text(response) -> str:
    return response.get_data(as_text=True)


GOOD = {
    "device_type": "kursi_roda",
    "reason": "Tidak dapat berjalan jauh sejak stroke.",
    "assessment.mobilitas": "tidak dapat berjalan",
    "assessment.adl_barthel": "9",
    "assessment.berat_badan_kg": "52,5",
    "assessment.catatan": "Rumah di gang sempit.\nPerlu kursi roda lipat.",
}


def file_request(field: Field, person: str, **over) -> Any:
    page = f"/abf/baru?penerima={person}"
    return field.post("/abf/baru", {"beneficiary_id": person, **GOOD, **over}, page=page)


def test_the_form_asks_the_device_the_reason_and_the_assessment_as_fields(field, person):
    page = field.get(f"/abf/baru?penerima={person}")
    assert page.status_code == 200
    html = text(page)
    assert "Ajukan ABF untuk Ibu Ratna Sari" in html
    assert '<option value="kursi_roda_adaptif">Kursi roda adaptif</option>' in html
    for question in ASSESSMENT:
        assert f'name="{question.name}"' in html
    assert 'data-draft-kind="request"' in html and 'name="draft_id"' in html


def test_a_filed_request_is_kept_on_the_laptop_with_its_assessment(field, person):
    saved = file_request(field, person)
    assert saved.status_code == 303
    record_id = saved.headers["Location"].split("/abf/")[1].split("?")[0]
    record = on_store(field, lambda s: s.get("device_request", record_id))
    assert record["status"] == "diajukan" and record["device_type"] == "kursi_roda"
    assert record["assessment"] == {
        "mobilitas": "tidak dapat berjalan",
        "adl_barthel": 9,
        "berat_badan_kg": 52.5,
        "catatan": "Rumah di gang sempit.\nPerlu kursi roda lipat.",
    }
    assert on_store(field, lambda s: s.drafts.count()) == 0  # the draft became the record
    shown = text(field.get(saved.headers["Location"]))
    assert "Permohonan tersimpan di laptop" in shown
    assert "tersimpan di laptop" in shown and "Skor ADL (indeks Barthel)" in shown
    # the very fields `pendamping request add` would build from the same answers
    assert form_fields(person, {**GOOD}) == {
        "beneficiary_id": person,
        "device_type": "kursi_roda",
        "reason": GOOD["reason"],
        "assessment": record["assessment"],
    }


def test_a_refused_value_comes_back_under_its_field_with_what_was_typed_and_the_draft(
    field, person
):
    refused = file_request(field, person, device_type="", **{"assessment.adl_barthel": "25"})
    assert refused.status_code == 400
    html = text(refused)
    assert 'id="assessment-adl_barthel-error" class="field-error">Harus angka 0–20.' in html
    assert 'id="device_type-error" class="field-error">Wajib diisi.' in html
    assert 'value="25"' in html and "Tidak dapat berjalan jauh sejak stroke." in html
    assert on_store(field, lambda s: s.pending_count()) == 1  # only the beneficiary
    [draft] = on_store(field, lambda s: s.drafts.list("device_request"))
    assert draft.fields["assessment.adl_barthel"] == "25"
    # the kept draft opens again, and saves once corrected
    again = field.get(f"/abf/baru?draft={draft.draft_id}")
    assert "Melanjutkan draf" in text(again) and 'value="25"' in text(again)
    assert "Ibu Ratna Sari" in text(field.get("/abf"))  # listed among the drafts
    fixed = field.post(
        "/abf/baru",
        {"draft_id": draft.draft_id, "beneficiary_id": person, **GOOD},
        page=f"/abf/baru?draft={draft.draft_id}",
    )
    assert fixed.status_code == 303
    assert on_store(field, lambda s: (s.drafts.count(), s.pending_count())) == (0, 2)


def test_a_form_sent_twice_makes_one_request(field, person):
    page = field.get(f"/abf/baru?penerima={person}")
    draft_id = re.search(r'name="draft_id" value="([^"]+)"', text(page)).group(1)
    data = {"draft_id": draft_id, "beneficiary_id": person, **GOOD}
    first = field.post("/abf/baru", data, page=f"/abf/baru?penerima={person}")
    second = field.post("/abf/baru", data, page=f"/abf/baru?penerima={person}")
    assert first.headers["Location"].split("?")[0] == second.headers["Location"]
    assert on_store(field, lambda s: len(s.list("device_request"))) == 1


def test_a_form_for_nobody_or_a_stranger_is_a_plain_page(field, person):
    assert field.get("/abf/baru").status_code == 400
    missing = field.get("/abf/baru?penerima=00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and "Pilih penerima manfaat dulu" in text(missing)
    assert field.get("/abf/00000000-0000-4000-8000-000000000000").status_code == 404


def filed(field: Field, person: str) -> str:
    return file_request(field, person).headers["Location"].split("/abf/")[1].split("?")[0]


def test_the_list_shows_each_status_with_names_ages_and_places(field, person):
    first, second = filed(field, person), filed(field, person)
    on_store(field, lambda s: s.update("device_request", second, {"status": "diverifikasi"}))
    page = text(field.get("/abf"))
    assert re.search(r"Diajukan <span class=\"count\">1</span>", page)
    assert re.search(r"Diverifikasi <span class=\"count\">1</span>", page)
    assert "Diajukan: 1 permohonan" in page and f"/abf/{first}" in page
    assert "Ibu Ratna Sari" in page and "hari ini" in page
    assert "place-tersimpan" in page
    verified = text(field.get("/abf?status=diverifikasi"))
    assert f"/abf/{second}" in verified and f"/abf/{first}" not in verified


def test_a_pendamping_may_verify_and_cancel_and_nothing_else(field, person):
    record_id = filed(field, person)
    page = text(field.get(f"/abf/{record_id}"))
    offered = re.findall(r'data-move="([a-z]+)"', page)
    assert offered == moves("pendamping", "diajukan") == ["diverifikasi", "dibatalkan"]
    moved = field.post(
        f"/abf/{record_id}/status",
        {"status": "diverifikasi", "seen": "diajukan"},
        page=f"/abf/{record_id}",
    )
    assert moved.status_code == 303
    shown = text(field.get(moved.headers["Location"]))
    assert "Status diubah menjadi Diverifikasi" in shown
    history = shown.split('id="status-history"')[1].split("</table>")[0]
    assert history.count("tersimpan di laptop, menunggu dikirim") == 2  # filed, verified
    assert re.findall(r'data-move="([a-z]+)"', shown) == ["dibatalkan"]


def test_cancelling_asks_first_and_then_cannot_be_undone(field, person):
    record_id = filed(field, person)
    asked = field.post(
        f"/abf/{record_id}/status",
        {"status": "dibatalkan", "seen": "diajukan"},
        page=f"/abf/{record_id}",
    )
    assert asked.status_code == 200 and "tidak dapat diubah lagi" in text(asked)
    assert on_store(field, lambda s: s.get("device_request", record_id)["status"]) == "diajukan"
    done = field.post(
        f"/abf/{record_id}/status",
        {"status": "dibatalkan", "seen": "diajukan", "yakin": "1"},
        page=f"/abf/{record_id}",
    )
    assert done.status_code == 303
    assert on_store(field, lambda s: s.get("device_request", record_id)["status"]) == "dibatalkan"
    page = text(field.get(f"/abf/{record_id}"))
    assert "data-move=" not in page and "Tidak ada perubahan status" in page


def test_refused_moves_come_back_in_the_lifecycles_and_the_roles_own_words(field, person):
    record_id = filed(field, person)
    late = field.post(
        f"/abf/{record_id}/status",
        {"status": "diverifikasi", "seen": "diverifikasi"},  # a page older than the record
        page=f"/abf/{record_id}",
    )
    assert late.status_code == 400
    assert "Status permohonan sudah berubah menjadi diajukan" in text(late)
    office = field.post(
        f"/abf/{record_id}/status", {"status": "disetujui"}, page=f"/abf/{record_id}"
    )
    assert office.status_code == 400
    assert "Peran pendamping tidak boleh mengubah status menjadi disetujui." in text(office)
    on_store(field, lambda s: s.update("device_request", record_id, {"status": "dibatalkan"}))
    illegal = field.post(
        f"/abf/{record_id}/status",
        {"status": "diverifikasi", "seen": "dibatalkan", "yakin": "1"},
        page=f"/abf/{record_id}",
    )
    assert illegal.status_code == 400
    assert "Perubahan status dibatalkan → diverifikasi tidak diizinkan." in text(illegal)
    assert on_store(field, lambda s: s.get("device_request", record_id)["status"]) == "dibatalkan"


def test_the_cli_makes_the_same_call_and_says_the_same_words(laptops, capsys):
    """`pendamping request status` is :func:`client_sync.abf.move_request` too."""
    sari = laptops.enroll("sari")
    owner = sari.store.add("beneficiary", beneficiary())
    record_id = sari.store.add("device_request", {"beneficiary_id": owner, "device_type": "kruk"})
    home = sari.home
    sari.close()
    code = cli_main(["--home", str(home), "request", "status", record_id, "disetujui"])
    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert "status: Peran pendamping tidak boleh mengubah status menjadi disetujui." in err
    assert cli_main(["--home", str(home), "request", "status", record_id, "diverifikasi"]) == 0
