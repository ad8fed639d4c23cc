"""A visit recorded and corrected through client_sync.visits (what `pendamping visit` and
the field app's Kunjungan pages share), the form's text <-> fields of client_sync.visit_form,
and the Kunjungan list's query (store.views.visits), on real store files."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from client_sync.errors import InvalidRecord
from client_sync.photos import ATTACHMENTS_DIR, InvalidPhoto, list_photos
from client_sync.store.views import _VISITS
from client_sync.visit_form import changed_fields, form_of, local_input, month_bounds, read_form
from client_sync.visits import NewPhoto, correct_visit, record_visit
from schemas.review import RETURNED
from tests.client_sync.field_store_support import (
    DAY_MS,
    NOW_MS,
    Hub,
    open_store,
    person,
    visit_of,
)

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@pytest.fixture
def store(tmp_path: Path):
    made = open_store(tmp_path / "s.db")
    yield made
    made.close()


def kept_files(store) -> list[str]:
    folder = store.home / ATTACHMENTS_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_visit_and_its_photos_are_written_together(store):
    ani = store.add("beneficiary", person("Ani"))
    vid = record_visit(
        store,
        ani,
        {"purpose": "asesmen", "assessment": {"adl_barthel": 14}},
        [NewPhoto(io.BytesIO(JPEG), "rumah", "a.jpg"), NewPhoto(io.BytesIO(PNG), "lainnya")],
    )
    saved = store.get("visit", vid)
    assert saved["visited_at"]  # now, local, with its offset
    assert dt.datetime.fromisoformat(saved["visited_at"]).tzinfo is not None
    assert saved["caseworker_id"] == "budi" and saved["kelurahan"] == "31.71.01.1001"
    assert len(saved["attachments"]) == 2
    assert {p["kind"] for p in list_photos(store)} == {"rumah", "lainnya"}
    assert len(kept_files(store)) == 2


def test_a_bad_photo_or_a_refused_field_writes_nothing(store):
    ani = store.add("beneficiary", person("Ani"))
    before = store.pending_count()
    with pytest.raises(InvalidPhoto) as bad:
        record_visit(
            store,
            ani,
            {"purpose": "asesmen"},
            [
                NewPhoto(io.BytesIO(JPEG), "rumah", "a.jpg"),
                NewPhoto(io.BytesIO(b"%PDF"), "rumah", "b.pdf"),
            ],
        )
    assert bad.value.errors == {"file": ["b.pdf: Bukan foto JPEG, PNG atau WebP."]}
    with pytest.raises(InvalidRecord) as refused:
        record_visit(store, ani, {"purpose": "jalan-jalan"}, [NewPhoto(io.BytesIO(JPEG), "rumah")])
    assert list(refused.value.errors) == ["purpose"]
    assert store.pending_count() == before and list_photos(store) == []
    assert kept_files(store) == []  # the copies kept before the refusal are gone


def test_correcting_a_returned_visit_says_so_and_sends_only_what_changed(store):
    hub = Hub()
    ani = hub.record("beneficiary", person("Ani"))
    back = hub.record(
        "visit",
        visit_of(
            ani["id"],
            NOW_MS - DAY_MS,
            caseworker_id="budi",
            findings="Buram.",
            review={"state": RETURNED, "reason": "Foto buram.", "by": "kasi", "at": "2026-11-30"},
        ),
    )
    store.apply_pull([ani, back], hub.seq)
    with pytest.raises(InvalidRecord) as nothing:
        correct_visit(store, back["id"], {})
    assert nothing.value.errors == {"fields": ["Tidak ada isian yang diubah."]}
    assert correct_visit(
        store, back["id"], {"findings": "Jelas."}, [NewPhoto(io.BytesIO(JPEG), "rumah")]
    )
    [change] = [w for w in store.views.waiting() if w.record_id == back["id"]][:1]
    assert change.entity == "visit"
    assert store.views.where(back["id"]).state == "tersimpan"
    assert correct_visit(store, back["id"], {"findings": "Lagi."}) is False  # menunggu now


def test_the_form_reads_back_what_it_shows_and_only_changes_travel():
    current = {
        "purpose": "asesmen",
        "visited_at": "2026-11-23T09:30:17+08:00",
        "findings": "Baik.",
        "lat": -6.2,
        "lon": 106.8,
        "assessment": {"adl_barthel": 12, "mobilitas": "terbatas", "adl_mandiri": False},
        "verification_outcome": "layak",
    }
    shown = form_of(current)
    assert shown.values["a_adl_barthel"] == "12" and shown.values["a_mobilitas"] == "terbatas"
    assert shown.extra == [("adl_mandiri", "false")]
    submitted = {**shown.values, "lain_nama_0": "adl_mandiri", "lain_nilai_0": "false"}
    fields, again = read_form(submitted, current)
    assert again.errors == {}
    assert changed_fields(current, fields) == {}
    # a time shown to the minute and left alone keeps its seconds and its offset
    assert fields["visited_at"] == current["visited_at"]
    assert fields["assessment"]["adl_mandiri"] is False
    submitted.update(a_adl_barthel="25", lat="utara", findings="  Baru.\r\nDua.  ", visited_at="")
    fields, again = read_form(submitted, current)
    assert again.errors == {"a_adl_barthel": ["Harus bilangan bulat 0–20."]}
    assert fields["lat"] == "utara"  # left for the schema to name
    assert fields["findings"] == "Baru.\nDua." and fields["visited_at"] is None
    fields, again = read_form(
        {
            "lain_nilai_0": "x",
            "lain_nama_1": "mobilitas",
            "lain_nilai_1": "y",
            "a_mobilitas": "mandiri",
        }
    )
    assert again.errors == {
        "lain_nama_0": ["Isi nama butirnya."],
        "lain_nama_1": ["Nama butir ini sudah dipakai."],
    }


def test_a_local_time_becomes_an_instant_with_the_laptops_offset():
    fields, _ = read_form({"visited_at": "2026-11-23T09:30"})
    moment = dt.datetime.fromisoformat(fields["visited_at"])
    assert moment.tzinfo is not None
    assert local_input(fields["visited_at"]) == "2026-11-23T09:30"
    assert month_bounds("2026-12")[1] == dt.datetime(2027, 1, 1).astimezone()
    assert month_bounds("2026-13") is None and month_bounds("9999-12") is None


def test_the_visit_list_is_newest_first_paged_and_filtered(store):
    hub = Hub()
    ani = hub.record("beneficiary", person("Ani"))
    pulled = [
        hub.record("visit", visit_of(ani["id"], NOW_MS - n * DAY_MS, caseworker_id="budi"))
        for n in range(1, 8)
    ]
    back = hub.record(
        "visit",
        visit_of(ani["id"], NOW_MS - 40 * DAY_MS, review={"state": RETURNED, "reason": "x"}),
    )
    done = hub.record(
        "visit", visit_of(ani["id"], NOW_MS - 41 * DAY_MS, review={"state": "diterima"})
    )
    store.apply_pull([ani, *pulled, back, done], hub.seq)
    mine = store.add("visit", visit_of(ani["id"], NOW_MS - 3 * DAY_MS - 1))
    order = [
        *[v["id"] for v in pulled[:3]],
        mine,
        *[v["id"] for v in pulled[3:]],
        back["id"],
        done["id"],
    ]

    seen, after = [], None
    while True:
        page = store.views.visits(limit=4, after=after)
        seen += [row.record["id"] for row in page]
        if len(page) < 4:
            break
        after = page[-1].key
    assert seen == order
    assert {row.beneficiary_name for row in store.views.visits()} == {"Ani"}
    assert [r.record["id"] for r in store.views.visits("returned")] == [back["id"]]
    assert [r.record["id"] for r in store.views.visits("waiting")] == [mine]
    day = dt.datetime.fromtimestamp((NOW_MS - 40 * DAY_MS) / 1000, dt.UTC)
    month = (day.replace(day=1, hour=0, minute=0, second=0), day.replace(day=28))
    assert back["id"] in [r.record["id"] for r in store.views.visits("all", month)]
    assert store.views.visits("waiting", month) == []
    with pytest.raises(ValueError):
        store.views.visits("semua")


def test_the_visit_list_asks_an_index(store):
    """Each arm of the list's query walks an index in order: no sort of every visit."""
    for show in ("all", "returned", "waiting"):
        sql = _VISITS[show].format(cond=" AND (visited_utc, id) < (?, ?)")
        params = ["2026", "z", 5] * sql.count("LIMIT ?")
        plan = [row[-1] for row in store._db.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
        pulled = [step for step in plan if "pulled" in step]
        assert all("SCAN pulled" not in step for step in pulled), plan
        if show == "all":
            assert any("pulled_visits" in step for step in pulled), plan
