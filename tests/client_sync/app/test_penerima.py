"""Penerima manfaat in the field app (test client): search by NIK or name (the page without
JS and the hits alone), registering with the NIK checked (JSON while typing, and again on
save), editing (only changed fields travel), and a beneficiary's page with visits, ABF
requests, photos (served from the sealed copy) and history."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client_sync.photos import attach
from tests.client_sync.app.conftest import BASE, Field, csrf_of
from tests.conftest import KELURAHAN, beneficiary, visit


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour (the sniffer and the browser both take it as a photo)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png(64, 48, (11, 93, 75))
SRI_NIK = "3171014508450001"  # beneficiary(): a woman born 05-08-45


def in_store(field: Field, work: Callable[[Any], Any]) -> Any:
    """Run `work(store)` on the app's own store thread (the app holds the store open)."""
    state = field.app.extensions["pendamping_app"]
    return state.store_thread.run(lambda: work(state.keeper.device.store))


def post_form(field: Field, path: str, data: dict) -> Any:
    token = csrf_of(field.get(path))
    return field.client.post(path, base_url=BASE, data={"csrf_token": token, **data})


def _new(**overrides: Any) -> dict:
    form = {
        "name": "Bapak Joko Susilo",
        "nik": "3171011203500002",
        "sex": "L",
        "birth_date": "1950-03-12",
        "kelurahan": KELURAHAN,
        "programs": ["KLJ", "PKH"],
        "categories": ["lansia"],
        "address": "Jl. Melati 3\nRT 01/RW 02",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def test_search_finds_by_nik_prefix_and_by_name_with_kelurahan_programmes_and_place(
    field: Field,
):
    field.unlock()
    in_store(field, lambda s: s.add("beneficiary", beneficiary(programs=["KLJ", "KAJ"])))
    in_store(field, lambda s: s.add("beneficiary", beneficiary(name="Siti Nur'aini", nik=None)))
    by_nik = field.get("/penerima?q=317101 45").get_data(as_text=True)
    assert "Ibu Sri Wahyuni" in by_nik and "Siti" not in by_nik
    assert KELURAHAN in by_nik and "KLJ, KAJ" in by_nik
    assert "tersimpan di laptop" in by_nik  # not synced yet: where it is
    by_name = field.get("/penerima/cari?q=sit nur")
    html = by_name.get_data(as_text=True)
    assert by_name.status_code == 200 and "<html" not in html  # the hits alone
    assert "Siti Nur&#39;aini" in html and "Sri" not in html
    none = field.get("/penerima/cari?q=zzz").get_data(as_text=True)
    assert "Tidak ada penerima manfaat yang cocok" in none
    empty = field.get("/penerima").get_data(as_text=True)
    assert "Ketik awal NIK atau sebagian nama" in empty
    assert 'aria-current="page"' in empty and ">Penerima manfaat</a>" in empty


def test_the_menu_puts_penerima_manfaat_second(field: Field):
    field.unlock()
    nav = field.get("/").get_data(as_text=True).split('<nav aria-label="Menu">')[1]
    labels = re.findall(r">([^<>]+)</a>", nav.split("</nav>")[0])
    assert labels[:2] == ["Beranda", "Penerima manfaat"]


def test_registering_a_beneficiary_saves_it_and_shows_their_page(field: Field):
    field.unlock()
    saved = post_form(field, "/penerima/baru", _new(programs_other="bpnt"))
    assert saved.status_code == 303, saved.get_data(as_text=True)
    record_id = saved.headers["Location"].split("/penerima/")[1].split("?")[0]
    record = in_store(field, lambda s: s.get("beneficiary", record_id))
    assert record["name"] == "Bapak Joko Susilo" and record["nik"] == "3171011203500002"
    assert record["programs"] == ["KLJ", "PKH", "BPNT"]
    assert record["address"] == "Jl. Melati 3\nRT 01/RW 02"
    page = field.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Tersimpan di laptop; dikirim pada sinkron berikutnya." in page
    assert f'href="/kunjungan/baru?penerima={record_id}"' in page
    assert f'href="/abf/baru?penerima={record_id}"' in page


def test_a_refused_registration_names_each_field_with_the_schemas_message(field: Field):
    field.unlock()
    refused = post_form(
        field, "/penerima/baru", _new(sex=None, nik="3171017502501234", kelurahan="31.71")
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="sex-error">Wajib diisi.' in page
    assert 'id="kelurahan-error">Kode kelurahan harus berbentuk 31.71.01.1001.' in page
    assert 'id="nik-error">Tanggal lahir pada NIK (digit 7-12, DDMMYY) tidak valid.' in page
    assert 'value="Bapak Joko Susilo"' in page and "Jl. Melati 3" in page
    assert in_store(field, lambda s: s.views.search("joko")) == []  # nothing written


def test_a_nik_warning_and_a_refused_field_are_shown_together(field: Field):
    field.unlock()
    # the NIK says a woman born 25-02-50; the form says a man born 1950-03-12, no name
    both = post_form(field, "/penerima/baru", _new(name="", nik="3171016502501234"))
    page = both.get_data(as_text=True)
    assert both.status_code == 400
    assert 'id="name-error">Wajib diisi.' in page
    assert 'id="nik-confirm-needed"' in page and "tidak cocok dengan NIK" in page


def test_a_kelurahan_outside_the_wilayah_is_refused_on_the_form(field: Field):
    field.unlock()
    refused = post_form(field, "/penerima/baru", _new(kelurahan="32.73.01.1001"))
    assert refused.status_code == 400
    assert 'id="kelurahan-error">' in refused.get_data(as_text=True)


def test_the_nik_is_read_while_typed(field: Field):
    field.unlock()
    bad = field.get("/penerima/nik.json?nik=1234").get_json()
    assert bad["ok"] is False and bad["error"] == "NIK harus 16 digit angka."
    assert 'id="nik-error"' in bad["html"]
    province = field.get("/penerima/nik.json?nik=9971014508450001").get_json()
    assert province["error"] == "Kode provinsi NIK '99' tidak dikenal."
    read = field.get("/penerima/nik.json?nik=3171014508450001").get_json()
    assert read["ok"] is True
    assert read["reading"]["province_name"] == "DKI Jakarta"
    assert read["reading"]["birth_date"] == "1945-08-05" and read["reading"]["sex"] == "P"
    assert read["offer"] == {"birth_date": "1945-08-05", "sex": "P"}
    assert "DKI Jakarta" in read["html"] and 'id="nik-fill"' in read["html"]
    crossed = field.get(
        "/penerima/nik.json?nik=3171014508450001&birth_date=1945-08-06&sex=L"
    ).get_json()
    assert crossed["offer"] == {}
    assert crossed["warnings"]["birth_date"][0].startswith("Tanggal lahir 1945-08-06 tidak cocok")
    assert crossed["warnings"]["sex"] == ["NIK ini milik seorang perempuan (jenis kelamin P)."]


def test_a_nik_already_on_this_laptop_is_pointed_out_and_needs_a_confirmation(field: Field):
    field.unlock()
    sri = in_store(field, lambda s: s.add("beneficiary", beneficiary()))
    typed = field.get(f"/penerima/nik.json?nik={SRI_NIK}").get_json()
    assert typed["holders"] == [{"id": sri, "name": "Ibu Sri Wahyuni", "kelurahan": KELURAHAN}]
    assert f'href="/penerima/{sri}"' in typed["html"]
    own = field.get(f"/penerima/nik.json?nik={SRI_NIK}&exclude={sri}").get_json()
    assert own["holders"] == []
    form = _new(name="Sri W.", nik=SRI_NIK, sex="P", birth_date="1945-08-05")
    asked = post_form(field, "/penerima/baru", form)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="nik-confirm-needed"' in page
    assert "NIK ini sudah tercatat di laptop ini" in page and 'name="confirm_nik"' in page
    assert len(in_store(field, lambda s: s.views.nik_holders(SRI_NIK))) == 1
    draft_id = re.search(r'name="draft_id" value="([^"]+)"', page).group(1)
    confirmed = post_form(
        field, "/penerima/baru", {**form, "confirm_nik": "1", "draft_id": draft_id}
    )
    assert confirmed.status_code == 303
    assert len(in_store(field, lambda s: s.views.nik_holders(SRI_NIK))) == 2
    assert in_store(field, lambda s: s.drafts.list()) == []


def test_editing_sends_only_the_changed_fields_and_an_emptied_box_clears(field: Field):
    field.unlock()
    sri = in_store(field, lambda s: s.add("beneficiary", beneficiary(phone="0812 3456 789")))
    form_page = field.get(f"/penerima/{sri}/ubah").get_data(as_text=True)
    assert 'value="Ibu Sri Wahyuni"' in form_page and 'value="0812 3456 789"' in form_page
    values = {
        "name": "Ibu Sri Wahyuni",
        "nik": SRI_NIK,
        "sex": "P",
        "birth_date": "1945-08-05",
        "kelurahan": KELURAHAN,
        "categories": ["lansia"],
        "programs": ["KLJ", "KPDJ"],
        "phone": "",
    }
    saved = post_form(field, f"/penerima/{sri}/ubah", values)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    history = in_store(field, lambda s: s.views.history(sri))
    assert history[-1]["fields"] == {"programs": ["KLJ", "KPDJ"], "phone": None}
    same = post_form(field, f"/penerima/{sri}/ubah", {**values, "programs": ["KLJ", "KPDJ"]})
    assert "sama=1" in same.headers["Location"]
    assert "Tidak ada yang berubah." in field.get(same.headers["Location"]).get_data(as_text=True)
    assert field.get("/penerima/tidak-ada/ubah").status_code == 404


def test_a_form_sent_twice_makes_one_record(field: Field):
    field.unlock()
    path = "/penerima/baru"
    page = field.get(path).get_data(as_text=True)
    draft_id = re.search(r'name="draft_id" value="([^"]+)"', page).group(1)
    first = post_form(field, path, {**_new(), "draft_id": draft_id})
    again = post_form(field, path, {**_new(), "draft_id": draft_id})
    assert first.headers["Location"] == again.headers["Location"]
    assert len(in_store(field, lambda s: s.views.search("joko"))) == 1


def test_a_beneficiarys_page_shows_visits_requests_photos_and_history(field: Field, tmp_path: Path):
    field.unlock()
    sri = in_store(field, lambda s: s.add("beneficiary", beneficiary()))
    in_store(field, lambda s: s.add("visit", visit(sri, visited_at="2026-10-01T09:00:00+07:00")))
    in_store(field, lambda s: s.add("visit", visit(sri, findings="Kaki bengkak.")))
    request_id = in_store(
        field,
        lambda s: s.add(
            "device_request", {"beneficiary_id": sri, "device_type": "kursi_roda", "reason": "x"}
        ),
    )
    in_store(field, lambda s: s.update("device_request", request_id, {"status": "dibatalkan"}))
    photo = tmp_path / "rumah.png"
    photo.write_bytes(PNG)
    sha = in_store(field, lambda s: attach(s, "beneficiary", sri, photo, "rumah"))
    page = field.get(f"/penerima/{sri}").get_data(as_text=True)
    assert "Ibu Sri Wahyuni" in page and SRI_NIK in page and "Lansia" in page
    assert page.index("2026-11-23 09:30") < page.index("2026-10-01 09:00")  # newest first
    assert "Kaki bengkak." in page
    # codes read as words, and each visit links to its own page
    assert "Kursi roda" in page and "<strong>Dibatalkan</strong>" in page
    assert "kursi_roda" not in page
    assert page.count('href="/kunjungan/') >= 2
    assert f'src="/foto/{sha}"' in page
    assert "diubah di laptop" in page and "menunggu dikirim" in page
    assert page.count("tersimpan di laptop") >= 4  # the person, two visits, the request
    shown = field.get(f"/foto/{sha}")
    assert shown.status_code == 200 and shown.data == PNG
    assert shown.mimetype == "image/png"
    assert shown.headers["Cache-Control"] == "no-store"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    kept = (field.home / "attachments" / sha).read_bytes()
    assert PNG not in kept  # the laptop keeps it sealed; the view unseals it
    assert field.get("/foto/" + "0" * 64).status_code == 404
    assert field.get("/foto/..%2Fstore.db").status_code == 404
    assert field.get("/penerima/tidak-ada").status_code == 404


def test_the_pages_speak_english_through_the_switch(field: Field):
    field.unlock()
    page = field.get("/penerima/baru?lang=en").get_data(as_text=True)
    assert "Register a beneficiary" in page and "Full name" in page
    assert "Beneficiaries" in field.get("/penerima?lang=en").get_data(as_text=True)
