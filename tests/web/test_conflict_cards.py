"""A conflict card says whom it is about (issue 15, item 1): the beneficiary's name, for a
visit also the visited person and the date, the kelurahan, the field's Indonesian label and
the laptops by name; a duplicate NIK puts both records side by side, differences marked.
On the Flask test client; tests/web/test_browser_pages.py shows the same in Chromium."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask

from client_sync import FieldDevice
from schemas.hlc import wall_ms
from schemas.labels import FIELD_LABELS
from schemas.records import RECORD_SCHEMAS
from server.scope import EVERYWHERE
from tests.conftest import Laptops, beneficiary, visit
from tests.web.conftest import Web


def card(page: str, conflict_id: int) -> str:
    """The card of one conflict as a person reads it: tags dropped, entities decoded,
    white space squeezed."""
    found = re.search(
        rf'<section class="conflict" id="konflik-{conflict_id}">(.*?)</section>', page, re.S
    )
    assert found, f"no card for conflict #{conflict_id}"
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())
    return re.sub(r" ([,.])", r"\1", text)


def rows(page: str, conflict_id: int) -> dict[str, tuple[str, str, bool]]:
    """The side-by-side table of a duplicate-NIK card: label -> (earlier, newer, marked)."""
    section = re.search(
        rf'<section class="conflict" id="konflik-{conflict_id}">(.*?)</section>', page, re.S
    )
    assert section
    table = re.search(r'<table class="compare">(.*?)</table>', section.group(1), re.S)
    assert table, "no side-by-side table"
    found = {}
    for attrs, body in re.findall(r"<tr([^>]*)>(.*?)</tr>", table.group(1), re.S):
        cells = [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)
        ]
        if cells[0]:
            label = cells[0].replace("(berbeda)", "").strip()
            found[label] = (cells[1], cells[2], 'class="differs"' in attrs)
    return found


def open_conflicts(hub_app: Flask) -> list[dict]:
    return hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE)


@pytest.fixture
def pair(laptops: Laptops):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    yield siti, budi
    siti.close()
    budi.close()


def later(laptop: FieldDevice) -> None:
    """The laptop's next edits are stamped a minute ahead: they win."""
    laptop.store._wall = lambda: wall_ms() + 60_000


def test_every_record_field_has_an_indonesian_label():
    fields = {name for schema in RECORD_SCHEMAS.values() for name in schema.fields}
    assert fields <= set(FIELD_LABELS), sorted(fields - set(FIELD_LABELS))
    assert all(label.strip() for label in FIELD_LABELS.values())


def test_a_field_conflict_names_the_beneficiary_the_field_and_the_laptops(
    web: Web, add_web_user, raise_conflict, hub_app: Flask
):
    raised = raise_conflict(field="phone", values=("0811-1111-1111", "0822-2222-2222"))
    add_web_user()
    web.login()
    shown = card(web.page("/web/conflicts"), raised.conflict_id)

    assert "Ibu Sri Wahyuni, kelurahan 31.71.01.1001, isian nomor telepon" in shown
    assert "isian phone" not in shown
    assert "Tersimpan 0822-2222-2222 budi (laptop-budi)" in shown
    assert "Kalah 0811-1111-1111 siti (laptop-siti)" in shown
    for laptop in raised.laptops:  # the laptops by name, not by their ids
        assert laptop.store.identity.device_id not in shown


def test_a_visit_conflict_names_the_visited_person_and_the_visit_date(
    web: Web, add_web_user, pair, hub_app: Flask
):
    siti, budi = pair
    bid = siti.store.add("beneficiary", beneficiary(name="Pak Darmo"))
    vid = siti.store.add("visit", visit(bid, visited_at="2026-11-23T09:30:00+07:00"))
    for laptop in (siti, budi, siti, budi):
        laptop.sync()
    siti.store.update("visit", vid, {"findings": "Atap bocor."})
    later(budi)
    budi.store.update("visit", vid, {"findings": "Atap sudah diperbaiki."})
    for laptop in (siti, budi):
        laptop.sync()
    [conflict] = open_conflicts(hub_app)
    add_web_user()
    web.login()
    shown = card(web.page("/web/conflicts"), conflict["conflict_id"])

    assert "kunjungan · nilai bertabrakan" in shown
    assert "Kunjungan ke Pak Darmo, 23-11-2026, kelurahan 31.71.01.1001, isian temuan" in shown


def test_a_duplicate_nik_shows_both_people_side_by_side_with_the_differences_marked(
    web: Web, add_web_user, pair, hub_app: Flask
):
    siti, budi = pair
    first = siti.store.add("beneficiary", beneficiary(address="Jl. Melati 3"))
    siti.sync()
    second = budi.store.add(
        "beneficiary",
        beneficiary(name="Sri W.", birth_date="1945-08-15", address="Jl. Melati 3"),
    )
    budi.sync()
    [conflict] = open_conflicts(hub_app)
    add_web_user()
    web.login()
    page = web.page("/web/conflicts")
    shown = card(page, conflict["conflict_id"])
    table = rows(page, conflict["conflict_id"])

    assert shown.startswith(f"#{conflict['conflict_id']} · penerima manfaat · NIK ganda")
    assert table["Nama"] == ("Ibu Sri Wahyuni", "Sri W.", True)
    assert table["NIK"] == ("3171014508450001", "3171014508450001", False)
    assert table["Jenis kelamin"] == ("perempuan", "perempuan", False)
    assert table["Tanggal lahir"] == ("05-08-1945", "15-08-1945", True)
    assert table["Kelurahan"] == ("31.71.01.1001", "31.71.01.1001", False)
    assert table["Alamat"] == ("Jl. Melati 3", "Jl. Melati 3", False)
    assert table["Didaftarkan oleh"][:2] == ("siti (laptop-siti)", "budi (laptop-budi)")
    assert all(at.endswith("WIB") for at in table["Didaftarkan pada"][:2])
    # the merge asks which person stays by name, not by record id
    assert "Ibu Sri Wahyuni — data yang lebih dulu ada" in shown
    assert "Sri W. — data baru" in shown
    assert f'value="{first}" checked' in page and f'value="{second}" checked' not in page


def test_a_duplicate_from_outside_the_wilayah_shows_only_its_kelurahan(
    web: Web, add_web_user, laptops: Laptops, hub_app: Flask
):
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    siti = laptops.enroll("siti")
    ani.store.add(
        "beneficiary", beneficiary(name="Bu Rahayu", kelurahan="31.72.01.1001", address="Gg. 9")
    )
    ani.sync()
    siti.store.add("beneficiary", beneficiary(name="Bu Sri"))
    siti.sync()
    [conflict] = open_conflicts(hub_app)
    add_web_user()  # a supervisor of 31.71
    web.login()
    page = web.page("/web/conflicts")
    table = rows(page, conflict["conflict_id"])

    assert table["Nama"][:2] == ("(di luar wilayah Anda)", "Bu Sri")
    assert table["Kelurahan"][:2] == ("31.72.01.1001", "31.71.01.1001")
    assert "Bu Rahayu" not in page and "Gg. 9" not in page


def test_names_and_values_on_a_card_are_escaped(web: Web, add_web_user, pair, hub_app: Flask):
    siti, budi = pair
    siti.store.add("beneficiary", beneficiary(name="<script>alert(1)</script>"))
    siti.sync()
    budi.store.add("beneficiary", beneficiary(name='Sri" onmouseover="x', address="<b>Jl</b>"))
    budi.sync()
    add_web_user()
    web.login()
    page = web.page("/web/conflicts")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'onmouseover="x' not in page and "<b>Jl" not in page
