"""Pendamping & perangkat on the Flask test client: what it lists, and each action (add a
pendamping, change a wilayah, issue a code, revoke a laptop) done, refused, scoped and
audited; CSRF refused on each form."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask

from client_sync import FieldDevice
from server.enrolment import redeem_code
from server.storage import HubStorage
from tests.conftest import Laptops, beneficiary
from tests.web.conftest import Web, csrf_of


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _audit(storage: HubStorage, action: str) -> list:
    return [e for e in storage.iter_audit() if e.action == action]


@pytest.fixture
def siti(laptops: Laptops):
    laptop = laptops.enroll("siti", wilayah=("31.71.01",))
    yield laptop
    laptop.close()


@pytest.fixture
def ani(laptops: Laptops):
    laptop = laptops.enroll("ani", wilayah=("31.72.01",))
    yield laptop
    laptop.close()


@pytest.fixture
def logged_in(web: Web, add_web_user) -> Web:
    add_web_user()  # bu-kasi, supervisor of 31.71
    assert web.login().status_code == 303
    return web


def _post(web: Web, path: str, data: dict[str, str], token: bool = True):
    if token:
        data = {"csrf_token": csrf_of(web.client.get("/web/perangkat")), **data}
    return web.client.post(path, data=data)


# -- what it lists -----------------------------------------------------------------------


def test_the_page_lists_each_pendamping_with_laptop_last_push_and_reported_queue(
    logged_in: Web, siti: FieldDevice, ani: FieldDevice, laptops: Laptops
):
    laptops.add_user("rina", "pendamping", ("31.71.02",))  # no laptop yet
    siti.store.add("beneficiary", beneficiary())
    siti.sync()
    page = logged_in.page("/web/perangkat")
    assert 'data-user="siti"' in page and 'data-user="rina"' in page
    assert 'data-user="ani"' not in page and "laptop-ani" not in page  # 31.72: not seen
    row = re.search(r'data-device="[^"]+">(.*?)</tr>', page, re.S)
    assert row
    cells = _text(row.group(1))
    assert "laptop-siti" in cells and "1 diterapkan (lewat jaringan" in cells
    assert "0 perubahan belum terkirim" in cells
    assert "Belum ada laptop." in _text(page)  # rina's row
    home = logged_in.page("/web/perangkat")
    assert "<h1>Pendamping & perangkat</h1>" in home and 'data-user="rina"' in home


def test_the_menu_lists_only_the_pages_that_exist_in_the_offices_order(logged_in: Web):
    from server.web.pages import MENU, PAGES

    page = logged_in.page("/web/perangkat")
    nav = re.search(r"<nav[^>]*>(.*?)</nav>", page, re.S)
    assert nav
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))
    assert [html.unescape(label) for _, label in links] == [
        "Ringkasan",
        "Pendamping & perangkat",
        "Penerima manfaat",
        "Kunjungan",
        "Permohonan ABF",
        "Cakupan",
        "Verifikasi bulanan",
        "Ekspor & bundle",
        "Konflik",
    ]
    assert len(MENU) == len(PAGES) == len(links)
    for url, _ in links:
        assert logged_in.client.get(url).status_code == 200
    assert 'aria-current="page"' in nav.group(1).split("</a>")[1]  # this page's entry


# -- add a pendamping --------------------------------------------------------------------


def test_adding_a_pendamping_is_audited_with_the_supervisors_name(
    logged_in: Web, hub_storage: HubStorage
):
    answer = _post(logged_in, "/web/perangkat/tambah", {"name": "rina", "wilayah": "31.71.02"})
    assert answer.status_code == 303
    assert "Pendamping rina ditambahkan" in logged_in.page(answer.headers["Location"])
    user = hub_storage.get_user("rina")
    assert (user.role, user.wilayah, user.password_hash) == ("pendamping", ("31.71.02",), None)
    [entry] = _audit(hub_storage, "add_user")
    assert entry.actor == "bu-kasi"


@pytest.mark.parametrize(
    ("name", "wilayah", "status", "message"),
    [
        ("rina", "31.72.01", 403, "Wilayah 31.72.01 berada di luar wilayah Anda."),
        ("rina", "31.71.01, 31.72", 403, "Wilayah 31.72 berada di luar wilayah Anda."),
        ("rina", "31.7x", 422, "31.7x:"),
        ("Rina Besar", "31.71.01", 422, "Nama pengguna hanya huruf kecil"),
        ("rina", "", 422, "Isi kode wilayah"),
        ("bu-kasi", "31.71.01", 409, "Pengguna bu-kasi sudah ada."),
    ],
)
def test_a_refused_pendamping_comes_back_on_the_form_and_nothing_is_written(
    logged_in: Web, hub_storage: HubStorage, name, wilayah, status, message
):
    users_before = hub_storage.list_users()
    audit_before = len(list(hub_storage.iter_audit()))
    answer = _post(logged_in, "/web/perangkat/tambah", {"name": name, "wilayah": wilayah})
    page = answer.get_data(as_text=True)
    assert answer.status_code == status
    form = page[page.index('id="tambah"') :]
    assert message in form and 'class="field-error"' in form
    assert f'value="{name}"' in form  # the form comes back as sent
    assert hub_storage.list_users() == users_before
    assert len(list(hub_storage.iter_audit())) == audit_before


def test_an_admin_adds_a_pendamping_anywhere(web: Web, add_web_user, hub_storage: HubStorage):
    add_web_user("kadis", role="admin", wilayah=())
    web.login("kadis")
    answer = _post(web, "/web/perangkat/tambah", {"name": "wati", "wilayah": "31.72.01"})
    assert answer.status_code == 303
    assert hub_storage.get_user("wati").wilayah == ("31.72.01",)


# -- wilayah -----------------------------------------------------------------------------


def test_a_wilayah_change_waits_for_the_laptop_to_be_revoked_then_is_audited(
    logged_in: Web, siti: FieldDevice, hub_storage: HubStorage
):
    answer = _post(logged_in, "/web/perangkat/siti/wilayah", {"w-siti-wilayah": "31.71.02"})
    assert answer.status_code == 409
    assert "tidak dapat diubah selama laptopnya masih terdaftar" in answer.get_data(as_text=True)
    assert hub_storage.get_user("siti").wilayah == ("31.71.01",)
    assert _audit(hub_storage, "set_wilayah") == []

    device_id = siti.store.identity.device_id
    assert _post(logged_in, f"/web/perangkat/laptop/{device_id}/cabut", {}).status_code == 200
    answer = _post(logged_in, "/web/perangkat/siti/wilayah", {"w-siti-wilayah": "31.71.02"})
    assert answer.status_code == 303
    assert hub_storage.get_user("siti").wilayah == ("31.71.02",)
    [entry] = _audit(hub_storage, "set_wilayah")
    assert entry.actor == "bu-kasi" and '"from":["31.71.01"]' in entry.detail


def test_a_pendamping_of_another_wilayah_cannot_be_moved(
    logged_in: Web, ani: FieldDevice, laptops: Laptops, hub_storage: HubStorage
):
    laptops.add_user("rina", "pendamping", ("31.71.02",))
    theirs = _post(logged_in, "/web/perangkat/ani/wilayah", {"w-ani-wilayah": "31.71.02"})
    assert theirs.status_code == 404
    ours = _post(logged_in, "/web/perangkat/rina/wilayah", {"w-rina-wilayah": "31.72.01"})
    assert ours.status_code == 403  # into 31.72: refused, on the form
    assert "Wilayah 31.72.01 berada di luar wilayah Anda." in ours.get_data(as_text=True)
    assert hub_storage.get_user("ani").wilayah == ("31.72.01",)
    assert hub_storage.get_user("rina").wilayah == ("31.71.02",)


# -- enrolment codes ---------------------------------------------------------------------


def test_an_enrolment_code_is_shown_once_works_once_and_is_audited(
    logged_in: Web, laptops: Laptops, hub_storage: HubStorage
):
    laptops.add_user("rina", "pendamping", ("31.71.02",))
    answer = _post(logged_in, "/web/perangkat/rina/kode", {})
    assert answer.status_code == 200
    found = re.search(r'<p class="code">([0-9A-Z-]{14})</p>', answer.get_data(as_text=True))
    assert found
    entries = [e for e in _audit(hub_storage, "issue_enroll_code") if '"user":"rina"' in e.detail]
    assert entries[-1].actor == "bu-kasi" and found.group(1) not in entries[-1].detail
    assert found.group(1) not in logged_in.page("/web/perangkat")  # shown once
    device, _token = redeem_code(hub_storage, found.group(1), "laptop-rina")
    assert device.user.name == "rina"


def test_no_code_for_a_pendamping_of_another_wilayah(
    logged_in: Web, ani: FieldDevice, hub_storage: HubStorage
):
    before = len(_audit(hub_storage, "issue_enroll_code"))
    answer = _post(logged_in, "/web/perangkat/ani/kode", {})
    assert answer.status_code == 404
    assert len(_audit(hub_storage, "issue_enroll_code")) == before


# -- revoking ----------------------------------------------------------------------------


def test_revoking_asks_first_then_revokes_with_the_reason_and_the_supervisors_name(
    logged_in: Web, siti: FieldDevice, hub_storage: HubStorage
):
    device_id = siti.store.identity.device_id
    confirm = logged_in.client.get(f"/web/perangkat/laptop/{device_id}/cabut")
    assert confirm.status_code == 200 and "Ya, cabut laptop ini" in confirm.get_data(as_text=True)
    assert hub_storage.get_device(device_id).revoked_at is None  # a GET changes nothing
    answer = _post(logged_in, f"/web/perangkat/laptop/{device_id}/cabut", {"reason": "hilang"})
    assert answer.status_code == 200 and "dicabut" in answer.get_data(as_text=True)
    assert hub_storage.get_device(device_id).revoked_at is not None
    [entry] = _audit(hub_storage, "revoke_device")
    assert entry.actor == "bu-kasi" and '"reason":"hilang"' in entry.detail


def test_a_laptop_of_another_wilayah_cannot_be_revoked_or_even_shown(
    logged_in: Web, ani: FieldDevice, hub_storage: HubStorage
):
    device_id = ani.store.identity.device_id
    assert logged_in.client.get(f"/web/perangkat/laptop/{device_id}/cabut").status_code == 404
    answer = _post(logged_in, f"/web/perangkat/laptop/{device_id}/cabut", {"reason": "x"})
    assert answer.status_code == 404 and "laptop-ani" not in answer.get_data(as_text=True)
    assert hub_storage.get_device(device_id).revoked_at is None
    assert _audit(hub_storage, "revoke_device") == []


# -- CSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/web/perangkat/tambah", {"name": "rina", "wilayah": "31.71.02"}),
        ("/web/perangkat/siti/wilayah", {"w-siti-wilayah": "31.71.02"}),
        ("/web/perangkat/siti/kode", {}),
        ("/web/perangkat/laptop/{device}/cabut", {"reason": "x"}),
        ("/web/ekspor/bundle", {}),
    ],
)
def test_every_form_is_refused_without_its_csrf_token(
    logged_in: Web, siti: FieldDevice, hub_storage: HubStorage, path, data
):
    audit_before = len(list(hub_storage.iter_audit()))
    path = path.format(device=siti.store.identity.device_id)
    answer = _post(logged_in, path, data, token=False)
    assert answer.status_code == 400
    assert "Formulir ini kedaluwarsa atau tidak sah" in answer.get_data(as_text=True)
    answer = _post(logged_in, path, {**data, "csrf_token": "forged"}, token=False)
    assert answer.status_code == 400
    assert len(list(hub_storage.iter_audit())) == audit_before
    assert hub_storage.get_device(siti.store.identity.device_id).revoked_at is None
    assert [u.name for u in hub_storage.list_users()] == ["bu-kasi", "siti"]


def test_the_pages_need_a_login_before_any_action(web: Web, siti: FieldDevice, hub_app: Flask):
    for path in ("/web/perangkat", "/web/ekspor"):
        answer = web.client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"] == "/web/login"
