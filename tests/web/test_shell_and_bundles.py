"""The shell on the Flask test client: every page renders with empty data in both
languages, the language switch, the catalogue's completeness, the error page; and the
bundle upload of Ekspor & bundle: the CLI's import and report, scoped, size-limited and
audited."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from client_sync import FieldDevice
from client_sync.bundle import export_bundle
from server.storage import HubStorage
from server.web import catalogue
from server.web.i18n import TRANSLATIONS
from tests.conftest import Laptops, beneficiary
from tests.web.conftest import Web, csrf_of

#: every page a logged-in user opens with a GET, and a line each shows on an empty hub
EMPTY_PAGES = {
    "/web/": ("Laptop yang diam", "Silent laptops"),
    "/web/ringkasan": ("Belum ada penerima manfaat di wilayah ini.", "Visits this month"),
    "/web/penerima": ("Ketik NIK atau nama untuk mencari.", "Type a NIK or a name to search."),
    "/web/cakupan": ("Kelompokkan menurut:", "Group by:"),
    "/web/perangkat": ("Tambah pendamping", "No pendamping or laptop in this wilayah yet."),
    "/web/ekspor": ("Unggah bundle USB", "Upload a USB bundle"),
    "/web/conflicts": ("Tidak ada konflik terbuka.", "No open conflicts."),
}


@pytest.fixture
def logged_in(web: Web, add_web_user) -> Web:
    add_web_user()
    assert web.login().status_code == 303
    return web


@pytest.mark.parametrize("path", sorted(EMPTY_PAGES))
def test_every_page_renders_with_empty_data_in_both_languages(logged_in: Web, path: str):
    indonesian, english = EMPTY_PAGES[path]
    assert indonesian in logged_in.page(path)
    in_english = logged_in.page(f"{path}?lang=en")
    assert english in in_english and '<html lang="en">' in in_english
    assert indonesian not in in_english
    assert indonesian in logged_in.page(f"{path}?lang=id")


def test_the_login_and_error_pages_render_in_both_languages(web: Web):
    assert "Nama pengguna" in web.page("/web/login")
    assert "User name" in web.page("/web/login?lang=en")
    refused = web.client.post("/web/login", data={"name": "x", "password": "y"})
    assert refused.status_code == 400 and "This form has expired" in refused.get_data(as_text=True)


def test_the_chosen_language_stays_through_a_login_and_back(web: Web, add_web_user):
    add_web_user()
    answer = web.client.get("/web/login?lang=en")
    assert "lang=en" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]
    web.login()  # the session is cleared at login; the language is not in it
    page = web.page("/web/perangkat")
    assert "Pendamping & laptops" in page and "Bahasa Indonesia</a>" in page
    assert "Tambah pendamping" in web.page("/web/perangkat?lang=id")
    assert "Tambah pendamping" in web.page("/web/perangkat")


def test_an_unknown_language_falls_back_to_indonesian(logged_in: Web):
    assert "Tambah pendamping" in logged_in.page("/web/perangkat?lang=xx")


def test_every_string_of_the_pages_has_its_english_and_nothing_stale():
    template = catalogue.extract()
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        english = read_po(po, locale="en")
    wanted = {m.id for m in template if m.id}
    held = {m.id: m for m in english if m.id}
    assert wanted - set(held) == set(), "run python -m server.web.catalogue and translate"
    assert set(held) - wanted == set(), "stale entries: run python -m server.web.catalogue"
    untranslated = [
        m.id
        for m in held.values()
        if m.fuzzy or not all(m.string if m.pluralizable else [m.string])
    ]
    assert untranslated == []


def test_a_bug_in_a_page_is_a_page_in_the_users_language_without_a_trace(
    logged_in: Web, monkeypatch
):
    import server.web.pages.devices as devices

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(devices, "read_roster", broken)
    for lang, words in (("id", "Terjadi kesalahan di hub"), ("en", "Something went wrong")):
        answer = logged_in.client.get(f"/web/perangkat?lang={lang}")
        body = answer.get_data(as_text=True)
        assert answer.status_code == 500 and answer.mimetype == "text/html"
        assert words in body and "secret internals" not in body and "Traceback" not in body


# -- bundle upload ---------------------------------------------------------------------


@pytest.fixture
def siti(laptops: Laptops):
    laptop = laptops.enroll("siti", wilayah=("31.71.01",))
    yield laptop
    laptop.close()


def _bundle(laptop: FieldDevice, tmp_path: Path, **fields) -> bytes:
    laptop.store.add("beneficiary", beneficiary(**fields))
    return export_bundle(laptop.store, laptop.home, tmp_path / "b.zip").path.read_bytes()


def _upload(web: Web, data: bytes, name: str = "siti.zip", **extra):
    """POST the form as a browser does; the body is built here, in memory (the test
    client would spool a large one to a temporary file it never closes)."""
    token = csrf_of(web.client.get("/web/ekspor"))
    form = {"csrf_token": token, "bundle": FileStorage(io.BytesIO(data), name), **extra}
    boundary, body = encode_multipart(form)
    return web.client.post(
        "/web/ekspor/bundle",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_an_uploaded_bundle_is_imported_reported_and_audited(
    logged_in: Web, siti: FieldDevice, hub_storage: HubStorage, hub_app: Flask, tmp_path: Path
):
    data = _bundle(siti, tmp_path)
    answer = _upload(logged_in, data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Bundle dari laptop laptop-siti (siti)" in page and "1 perubahan, 0 foto" in page
    assert "1 diterapkan, 0 digabung, 0 konflik, 0 ditolak." in page
    [upload] = [e for e in hub_storage.iter_audit() if e.action == "web_bundle_upload"]
    [applied] = [e for e in hub_storage.iter_audit() if e.action == "bundle_import"]
    assert upload.actor == applied.actor == "bu-kasi"
    again = _upload(logged_in, data).get_data(as_text=True)
    assert "Semua perubahan sudah pernah diterima; tidak ada yang berubah." in again
    assert not list((Path(hub_app.config["DATA_DIR"]) / "uploads").iterdir())  # removed


def test_a_file_that_is_no_bundle_is_refused_with_the_reason_and_nothing_written(
    logged_in: Web, hub_storage: HubStorage
):
    before = len(list(hub_storage.iter_audit()))
    answer = _upload(logged_in, b"not a zip at all", "foto.zip")
    assert answer.status_code == 422
    body = answer.get_data(as_text=True)
    assert "foto.zip: Bundle ditolak, tidak ada yang disimpan:" in body and "bukan zip" in body
    assert len(list(hub_storage.iter_audit())) == before
    missing = logged_in.client.post(
        "/web/ekspor/bundle", data={"csrf_token": csrf_of(logged_in.client.get("/web/ekspor"))}
    )
    assert missing.status_code == 422 and "Pilih berkas bundle." in missing.get_data(as_text=True)


def test_a_bundle_of_another_wilayah_is_refused(
    logged_in: Web, laptops: Laptops, hub_storage: HubStorage, tmp_path: Path
):
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    try:
        data = _bundle(ani, tmp_path, kelurahan="31.72.01.1001", nik="3172014508450002")
    finally:
        ani.close()
    answer = _upload(logged_in, data)
    assert answer.status_code == 403
    assert "di luar wilayah Anda" in answer.get_data(as_text=True)
    assert hub_storage.stats()["changes"] == 0
    assert not [e for e in hub_storage.iter_audit() if e.action in ("bundle_import", "push")]


def test_a_bundle_over_the_size_limit_is_refused_before_it_is_read(
    logged_in: Web, hub_app: Flask, hub_storage: HubStorage
):
    hub_app.config["WEB_BUNDLE_MAX_BYTES"] = 1024 * 1024
    before = len(list(hub_storage.iter_audit()))
    answer = _upload(logged_in, b"x" * (2 * 1024 * 1024))
    assert answer.status_code == 413
    assert "Berkas lebih besar dari 1 MiB." in answer.get_data(as_text=True)
    assert len(list(hub_storage.iter_audit())) == before


def test_the_switch_on_the_answer_to_a_form_leads_to_its_page(logged_in: Web):
    token = csrf_of(logged_in.client.get("/web/perangkat"))
    answer = logged_in.client.post(
        "/web/perangkat/tambah", data={"csrf_token": token, "name": "", "wilayah": ""}
    )
    assert answer.status_code == 422
    assert 'href="/web/perangkat?lang=en"' in answer.get_data(as_text=True)
