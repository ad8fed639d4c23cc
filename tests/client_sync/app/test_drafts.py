"""Drafts in the field app: a form kept as it is typed (JSON with the CSRF header), a form
page opened on ``?draft=ID`` filled from it without JS, the list of drafts (resume,
discard), and the save that turns the draft into the record, or keeps it when refused."""

from __future__ import annotations

import re

from tests.client_sync.app.conftest import BASE, Field, csrf_of
from tests.conftest import KELURAHAN

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_DRAFT_ID = re.compile(r'name="draft_id" value="([^"]+)"')


def _token(field: Field) -> str:
    found = _META.search(field.get("/penerima/baru").get_data(as_text=True))
    assert found
    return found.group(1)


def _save(field: Field, body: dict, token: str | None = None):
    headers = {"X-CSRFToken": token if token is not None else _token(field)}
    return field.client.post("/draf/simpan", base_url=BASE, json=body, headers=headers)


def test_a_form_typed_half_is_kept_as_a_draft_and_updated_in_place(field: Field):
    field.unlock()
    page = field.get("/penerima/baru").get_data(as_text=True)
    assert 'data-draft-kind="beneficiary"' in page
    draft_id = _DRAFT_ID.search(page).group(1)
    first = _save(field, {"draft_id": draft_id, "kind": "beneficiary", "fields": {"name": "Ib"}})
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["draft_id"] == draft_id
    again = _save(
        field,
        {"draft_id": draft_id, "kind": "beneficiary", "fields": {"name": "Ibu Ani", "nik": "317"}},
    )
    assert again.status_code == 200
    kept = field.app.extensions["pendamping_app"].store_thread.run(
        lambda: field.app.extensions["pendamping_app"].keeper.device.store.drafts.list()
    )
    assert [(d.draft_id, d.kind, d.fields) for d in kept] == [
        (draft_id, "beneficiary", {"name": "Ibu Ani", "nik": "317"})
    ]


def test_a_draft_save_without_the_csrf_header_is_refused(field: Field):
    field.unlock()
    refused = field.client.post(
        "/draf/simpan", base_url=BASE, json={"draft_id": "x", "kind": "beneficiary", "fields": {}}
    )
    assert refused.status_code == 400
    assert "Formulir tidak berlaku" in refused.get_data(as_text=True)


def test_a_bad_draft_is_refused_naming_the_field(field: Field):
    field.unlock()
    token = _token(field)
    assert _save(field, {"draft_id": "d1", "kind": "kapal", "fields": {}}, token).status_code == 400
    bad = _save(field, {"draft_id": "", "kind": "visit", "fields": {}}, token)
    assert bad.status_code == 400 and "draft_id" in bad.get_json()["errors"]
    not_object = _save(field, {"draft_id": "d1", "kind": "visit", "fields": [1]}, token)
    assert not_object.get_json()["errors"]["fields"] == ["Harus berupa objek."]
    unknown = _save(
        field, {"draft_id": "d1", "kind": "beneficiary", "record_id": "nope", "fields": {}}, token
    )
    assert unknown.status_code == 400 and "record_id" in unknown.get_json()["errors"]


def test_a_form_opened_on_its_draft_is_filled_without_js(field: Field):
    field.unlock()
    fields = {"name": "Bapak Joko", "nik": "3171011203500002", "categories": ["lansia"]}
    _save(field, {"draft_id": "draf-1", "kind": "beneficiary", "fields": fields})
    page = field.get("/penerima/baru?draft=draf-1").get_data(as_text=True)
    assert 'value="Bapak Joko"' in page
    assert 'value="3171011203500002"' in page
    assert 'name="categories" value="lansia" checked' in page
    assert 'name="draft_id" value="draf-1"' in page
    assert "Melanjutkan draf dari" in page
    # a draft of another kind does not fill this form
    _save(field, {"draft_id": "draf-v", "kind": "visit", "fields": {"findings": "x"}})
    other = field.get("/penerima/baru?draft=draf-v").get_data(as_text=True)
    assert 'name="draft_id" value="draf-v"' not in other


def test_the_drafts_page_lists_resumes_and_discards(field: Field):
    field.unlock()
    _save(field, {"draft_id": "draf-1", "kind": "beneficiary", "fields": {"name": "Ibu Tuti"}})
    _save(field, {"draft_id": "draf-2", "kind": "visit", "fields": {"findings": "sakit"}})
    page = field.get("/draf").get_data(as_text=True)
    assert "Ibu Tuti" in page
    assert "/penerima/baru?draft=draf-1" in page
    assert "/kunjungan/baru?draft=draf-2" in page
    # the new-beneficiary form offers its kind's kept drafts
    offered = field.get("/penerima/baru").get_data(as_text=True)
    assert "Draf yang belum selesai" in offered and "?draft=draf-1" in offered
    gone = field.post("/draf/draf-1/buang", {}, page="/draf")
    assert gone.status_code == 303
    after = field.get(gone.headers["Location"]).get_data(as_text=True)
    assert "Draf dibuang." in after
    assert "Ibu Tuti" not in after and "draft=draf-2" in after


def test_saving_the_form_turns_the_draft_into_the_record(field: Field):
    field.unlock()
    _save(field, {"draft_id": "draf-1", "kind": "beneficiary", "fields": {"name": "Ibu Ani"}})
    token = csrf_of(field.get("/penerima/baru?draft=draf-1"))
    saved = field.client.post(
        "/penerima/baru",
        base_url=BASE,
        data={
            "csrf_token": token,
            "draft_id": "draf-1",
            "name": "Ibu Ani",
            "sex": "P",
            "kelurahan": KELURAHAN,
            "programs": ["KLJ"],
        },
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert "disimpan=1" in saved.headers["Location"]
    assert "Ibu Ani" in field.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Tidak ada draf." in field.get("/draf").get_data(as_text=True)
    # a late autosave of the same form does not bring the draft back
    late = _save(field, {"draft_id": "draf-1", "kind": "beneficiary", "fields": {"name": "I"}})
    assert late.status_code == 409
    assert "Tidak ada draf." in field.get("/draf").get_data(as_text=True)


def test_a_refused_save_keeps_the_draft_and_shows_the_fields_message(field: Field):
    field.unlock()
    token = csrf_of(field.get("/penerima/baru"))
    refused = field.client.post(
        "/penerima/baru",
        base_url=BASE,
        data={"csrf_token": token, "draft_id": "draf-9", "name": "Ibu Ani", "nik": "12345"},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="nik-error">NIK harus 16 digit angka.' in page
    assert 'value="Ibu Ani"' in page  # what was typed stays on the form
    drafts = field.get("/draf").get_data(as_text=True)
    assert "Ibu Ani" in drafts and "draft=draf-9" in drafts
