"""Kunjungan in the field app, through the Flask test client on an enrolled, encrypted
laptop: a new visit with its assessment as fields, its verification outcome, location and
photos; a refusal back on its form with the schema's words and nothing written; the list
(filters, month, paging); a visit returned by the office, corrected on its page and sent
back into review at the hub; drafts kept through a refusal."""

from __future__ import annotations

import io
import re

import pytest

from client_sync import FieldDevice
from client_sync.app.pages import PAGES, kunjungan
from client_sync.photos import list_photos
from client_sync.store.views import VISIT_SHOWS
from schemas.codes import PHOTO_KINDS, VERIFICATION_OUTCOMES, VISIT_PURPOSES
from server.storage import User
from server.timeutil import utc_iso
from tests.client_sync.app.conftest import BASE, csrf_of
from tests.conftest import beneficiary, visit

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(300)


def with_device(field, work):
    """Run `work(dev)` on the app's own unlocked device, on its store thread."""
    state = field.app.extensions["pendamping_app"]
    return state.store_thread.run(lambda: work(state.keeper.device))


@pytest.fixture
def person(field) -> str:
    field.unlock()
    return with_device(field, lambda dev: dev.store.add("beneficiary", beneficiary(name="Ibu Ani")))


def new_visit_form(field, person: str, **values) -> dict:
    page = field.get(f"/kunjungan/baru?penerima={person}")
    assert page.status_code == 200
    draft = re.search(r'name="draft_id" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    data = {
        "csrf_token": csrf_of(page),
        "draft_id": draft,
        "beneficiary_id": person,
        "purpose": "verifikasi",
        "visited_at": "2026-11-23T09:30",
        "verification_outcome": "layak",
        "findings": "Sehat.",
        "a_adl_barthel": "14",
        "a_mobilitas": "perlu alat bantu",
        "lain_nama_0": "catatan_gizi",
        "lain_nilai_0": "cukup",
        "lat": "-6.200001",
        "lon": "106.8",
        "foto_jenis": "rumah",
    }
    data.update(values)
    return data


def post(field, path: str, data: dict):
    return field.client.post(path, base_url=BASE, data=data, content_type="multipart/form-data")


def test_the_menu_has_kunjungan_third_and_every_code_a_label():
    assert [p.endpoint for p in PAGES][:3] == [
        "field.beranda",
        "field.beneficiaries",
        "field.kunjungan",
    ]
    assert set(kunjungan.PURPOSES) == set(VISIT_PURPOSES)
    assert set(kunjungan.OUTCOMES) == set(VERIFICATION_OUTCOMES)
    assert set(kunjungan.PHOTO_KIND_LABELS) == set(PHOTO_KINDS)
    assert set(kunjungan.SHOWS.values()) == set(VISIT_SHOWS)
    for item in kunjungan.ASSESSMENT_ITEMS:
        assert item.key in kunjungan.ITEM_LABELS
        assert set(item.choices) <= set(kunjungan.CHOICE_LABELS)


def test_a_visit_is_recorded_with_its_assessment_outcome_location_and_photos(field, person):
    page = field.get(f"/kunjungan/baru?penerima={person}")
    html = page.get_data(as_text=True)
    assert "Ibu Ani" in html and 'type="datetime-local"' in html
    assert 'name="a_adl_barthel"' in html and 'name="a_risiko_jatuh"' in html  # fields, no JSON box
    assert 'accept="image/*" capture' in html and 'data-draft-kind="visit"' in html
    data = new_visit_form(field, person)
    data["foto"] = [(io.BytesIO(JPEG), "rumah.jpg"), (io.BytesIO(JPEG + b"2"), "kamera-1.jpg")]
    saved = post(field, f"/kunjungan/baru?penerima={person}", data)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    vid = saved.headers["Location"].split("/kunjungan/")[1].split("?")[0]

    record = with_device(field, lambda dev: dev.store.get("visit", vid))
    assert record["purpose"] == "verifikasi" and record["verification_outcome"] == "layak"
    assert record["assessment"] == {
        "adl_barthel": 14,
        "mobilitas": "perlu alat bantu",
        "catatan_gizi": "cukup",
    }
    assert (record["lat"], record["lon"]) == (-6.200001, 106.8)
    assert record["visited_at"].startswith("2026-11-23T09:30:00")
    assert record["caseworker_id"] == "sari" and len(record["attachments"]) == 2
    photos = with_device(field, lambda dev: list_photos(dev.store))
    assert sorted(p["kind"] for p in photos) == ["rumah", "rumah"]
    assert with_device(field, lambda dev: dev.store.drafts.count()) == 0  # the draft became it

    shown = field.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Kunjungan tersimpan di laptop" in shown and "tersimpan di laptop" in shown
    assert "Perlu alat bantu".lower() in shown.lower() and shown.count("menunggu dikirim") >= 2
    # the same form sent again (the back button) shows the visit, no second one
    again = post(field, f"/kunjungan/baru?penerima={person}", {**data, "foto": []})
    assert again.status_code == 303 and vid in again.headers["Location"]


def test_a_refused_visit_comes_back_with_the_schemas_words_and_nothing_is_written(field, person):
    before = with_device(field, lambda dev: dev.store.pending_count())
    data = new_visit_form(field, person, lat="utara", a_adl_barthel="25", purpose="")
    data["foto"] = [(io.BytesIO(JPEG), "rumah.jpg")]
    refused = post(field, f"/kunjungan/baru?penerima={person}", data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Harus bilangan bulat 0–20." in html  # the form's own check comes first
    data.update(a_adl_barthel="12", foto=[(io.BytesIO(JPEG), "rumah.jpg")])
    refused = post(field, f"/kunjungan/baru?penerima={person}", data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert '<p id="lat-error" class="field-error">Harus berupa angka.</p>' in html
    assert '<p id="purpose-error" class="field-error">Wajib diisi.</p>' in html
    assert 'value="utara"' in html and "Sehat." in html  # what was typed stays
    assert "Pilih atau ambil fotonya lagi" in html
    bad_photo = new_visit_form(field, person)
    bad_photo["foto"] = [(io.BytesIO(b"%PDF-1.4"), "surat.pdf")]
    html = post(field, f"/kunjungan/baru?penerima={person}", bad_photo).get_data(as_text=True)
    assert "surat.pdf: Bukan foto JPEG, PNG atau WebP." in html
    after = with_device(field, lambda dev: (dev.store.pending_count(), list_photos(dev.store)))
    assert after == (before, [])
    drafts = with_device(field, lambda dev: dev.store.drafts.list("visit"))
    assert {d.fields.get("lat") for d in drafts} >= {"utara"}  # kept as typed
    assert field.get("/kunjungan/baru?penerima=tidak-ada").status_code == 404


def test_the_list_filters_pages_and_says_where_each_visit_is(field, person):
    def fill(dev):
        for day in range(1, 31):
            dev.store.add("visit", visit(person, visited_at=f"2026-10-{day:02d}T10:00:00+07:00"))
        dev.store.add("visit", visit(person, visited_at="2026-11-02T10:00:00+07:00"))

    with_device(field, fill)
    first = field.get("/kunjungan").get_data(as_text=True)
    assert first.count("Ibu Ani") == 25 and "Lebih lama" in first
    assert first.index("2026-11-02") < first.index("2026-10-30")
    nxt = re.search(r'href="(/kunjungan\?[^"]*setelah_id[^"]*)"', first).group(1)
    second = field.get(nxt.replace("&amp;", "&")).get_data(as_text=True)
    assert second.count("Ibu Ani") == 6 and "Lebih lama" not in second
    november = field.get("/kunjungan?bulan=2026-11").get_data(as_text=True)
    assert november.count("Ibu Ani") == 1
    assert (
        field.get("/kunjungan?tampil=menunggu&bulan=2026-10")
        .get_data(as_text=True)
        .count("tersimpan di laptop")
        == 25
    )
    assert "Tidak ada kunjungan yang dikembalikan" in field.get(
        "/kunjungan?tampil=dikembalikan"
    ).get_data(as_text=True)
    bad = field.get("/kunjungan?bulan=bulan-lalu")
    assert bad.status_code == 200 and "Bulan harus berbentuk YYYY-MM" in bad.get_data(as_text=True)


def test_a_returned_visit_is_corrected_on_its_page_and_goes_back_into_review(
    field, person, hub_app
):
    hub = hub_app.extensions["pendamping"]
    vid = with_device(field, lambda dev: dev.store.add("visit", visit(person, findings="Buram.")))
    with_device(field, lambda dev: FieldDevice.sync(dev))
    hub.storage.add_user(User("kasi", "supervisor", ("31.71",)), utc_iso())
    hub.reviews.send_back(hub.storage.get_user("kasi"), [vid], "Foto rumah belum ada.")
    with_device(field, lambda dev: FieldDevice.sync(dev))

    listed = field.get("/kunjungan?tampil=dikembalikan").get_data(as_text=True)
    assert "dikembalikan: Foto rumah belum ada." in listed
    page = field.get(f"/kunjungan/{vid}")
    html = page.get_data(as_text=True)
    assert "Dikembalikan kantor untuk diperbaiki" in html and "Foto rumah belum ada." in html
    assert "Simpan perbaikan" in html

    draft = re.search(r'name="draft_id" value="([^"]+)"', html).group(1)
    values = dict(re.findall(r'<input id="(\w+)" name="\1"[^>]*value="([^"]*)"', html))
    unchanged = post(
        field,
        f"/kunjungan/{vid}",
        {
            "csrf_token": csrf_of(page),
            "draft_id": draft,
            "purpose": "monitoring",
            "findings": "Buram.",
            "visited_at": values["visited_at"],
        },
    )
    assert unchanged.status_code == 400
    assert "Tidak ada isian yang diubah." in unchanged.get_data(as_text=True)

    fixed = post(
        field,
        f"/kunjungan/{vid}",
        {
            "csrf_token": csrf_of(page),
            "draft_id": draft,
            "purpose": "monitoring",
            "findings": "Foto rumah dilampirkan.",
            "visited_at": values["visited_at"],
            "foto_jenis": "rumah",
            "foto": [(io.BytesIO(JPEG), "rumah.jpg")],
        },
    )
    assert fixed.status_code == 303
    after = field.get(fixed.headers["Location"]).get_data(as_text=True)
    assert "kembali menunggu tinjauan kantor" in after
    record = with_device(field, lambda dev: dev.store.get("visit", vid))
    assert record["findings"] == "Foto rumah dilampirkan." and len(record["attachments"]) == 1
    assert record["visited_at"] == "2026-11-23T09:30:00+07:00"  # untouched: not sent

    with_device(field, lambda dev: FieldDevice.sync(dev))
    held = hub.storage.get_record(vid)
    assert held.data["review"] is None and held.data["findings"] == "Foto rumah dilampirkan."
    assert "Tidak ada kunjungan yang dikembalikan" in field.get(
        "/kunjungan?tampil=dikembalikan"
    ).get_data(as_text=True)
