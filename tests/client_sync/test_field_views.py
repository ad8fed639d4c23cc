"""The field app's reads: search as one types, who is due, Beranda's lists, a beneficiary's
page and where each record is, on a real store file with records pulled and typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from client_sync.errors import RecordNotFound
from client_sync.store import NewAttachment
from schemas.review import RETURNED
from tests.client_sync.field_store_support import (
    DAY_MS,
    NOW_MS,
    Clock,
    Hub,
    open_store,
    person,
    visit_of,
)

OUTSIDE = "31.71.02.1003"


@pytest.fixture
def store(tmp_path: Path):
    made = open_store(tmp_path / "s.db")
    yield made
    made.close()


def names(hits) -> list[str]:
    return [h.name for h in hits]


def test_search_matches_the_start_of_any_word_without_case_or_accents(store):
    hub = Hub()
    store.apply_pull(
        [
            hub.record("beneficiary", person("Siti Nur'aini")),
            hub.record("beneficiary", person("NURHAYATI")),
            hub.record("beneficiary", person("Ani Nûrlela")),
            hub.record("beneficiary", person("Bambang Sunur")),
        ],
        hub.seq,
    )
    store.add("beneficiary", person("nuraini kecil"))
    assert names(store.views.search("nur")) == [
        "Ani Nûrlela",
        "nuraini kecil",
        "NURHAYATI",
        "Siti Nur'aini",
    ]
    assert names(store.views.search("NURAINI")) == ["nuraini kecil", "Siti Nur'aini"]
    assert names(store.views.search("sit nur")) == ["Siti Nur'aini"]
    assert names(store.views.search("nur sit")) == ["Siti Nur'aini"]
    assert names(store.views.search("sunur")) == ["Bambang Sunur"]
    assert names(store.views.search("nur", limit=2)) == ["Ani Nûrlela", "nuraini kecil"]
    assert store.views.search("  ") == [] and store.views.search("%_") == []


def test_search_by_nik_prefix_and_only_within_the_wilayah(store):
    hub = Hub()
    store.apply_pull(
        [
            hub.record("beneficiary", person("Ani", "3171014508450001")),
            hub.record("beneficiary", person("Ati", "3171014508450002")),
            hub.record("beneficiary", person("Asing", "3171024508450003", kelurahan=OUTSIDE)),
        ],
        hub.seq,
    )
    assert names(store.views.search("31710145")) == ["Ani", "Ati"]
    assert names(store.views.search("3171 0145 0845 0002")) == ["Ati"]
    assert names(store.views.search("317102")) == []
    assert names(store.views.search("as")) == []


def test_a_nik_already_on_the_laptop_is_found_but_not_the_record_being_edited(store):
    ani = store.add("beneficiary", person("Ani", "3171014508450001"))
    assert names(store.views.nik_holders("3171014508450001")) == ["Ani"]
    assert store.views.nik_holders("3171014508450001", exclude=ani) == []
    assert store.views.nik_holders("3171014508450009") == []
    store.delete("beneficiary", ani)
    assert store.views.nik_holders("3171014508450001") == []


def test_who_is_due_follows_the_office_s_rule(tmp_path: Path):
    clock = Clock()
    store = open_store(tmp_path / "s.db", clock)
    hub = Hub()
    people = {
        name: hub.record("beneficiary", person(name, programs=programs))
        for name, programs in [
            ("Never Visited", ["KLJ"]),
            ("Visited 31 Days Ago", ["KLJ", "KAJ"]),
            ("Visited 29 Days Ago", ["KLJ"]),
            ("Returned Visit Yesterday", ["KLJ"]),
            ("Deleted Visit Yesterday", ["KPDJ"]),
            ("No Programme", []),
        ]
    }
    pid = {name: r["id"] for name, r in people.items()}
    visits = [
        hub.record("visit", visit_of(pid["Visited 31 Days Ago"], NOW_MS - 31 * DAY_MS)),
        hub.record("visit", visit_of(pid["Visited 29 Days Ago"], NOW_MS - 29 * DAY_MS)),
        hub.record(
            "visit",
            visit_of(
                pid["Returned Visit Yesterday"],
                NOW_MS - DAY_MS,
                review={"state": RETURNED, "reason": "x", "by": "k", "at": "2026-11-30"},
            ),
        ),
        hub.record(
            "visit", visit_of(pid["Deleted Visit Yesterday"], NOW_MS - DAY_MS), deleted=True
        ),
    ]
    outside = hub.record("beneficiary", person("Elsewhere", kelurahan=OUTSIDE))
    store.apply_pull([*people.values(), *visits, outside], hub.seq)

    assert [d.name for d in store.views.due("KLJ")] == ["Never Visited", "Visited 31 Days Ago"]
    assert store.views.due_counts() == {"KLJ": 2, "KPDJ": 1, "KAJ": 1}
    due = store.views.due("KLJ")
    assert due[0].last_visit is None and due[1].last_visit is not None
    # paging by the last row's key
    first = store.views.due("KLJ", limit=1)
    assert [d.name for d in store.views.due("KLJ", after=first[-1].key)] == ["Visited 31 Days Ago"]

    # a visit recorded now takes them off the list at once
    store.add("visit", visit_of(pid["Never Visited"], NOW_MS - 60_000))
    assert [d.name for d in store.views.due("KLJ")] == ["Visited 31 Days Ago"]
    # two days later the 29-day visit is 31 days old
    clock.ms += 2 * DAY_MS
    assert [d.name for d in store.views.due("KLJ")] == [
        "Visited 29 Days Ago",
        "Visited 31 Days Ago",
    ]


def test_home_lists_what_waits_what_came_back_and_the_last_sync(store):
    hub = Hub()
    ani = hub.record("beneficiary", person("Ani"))
    back = hub.record(
        "visit",
        visit_of(
            ani["id"],
            NOW_MS - DAY_MS,
            review={"state": RETURNED, "reason": "Foto buram.", "by": "kasi", "at": "2026-11-30"},
        ),
    )
    store.apply_pull(
        [ani, back],
        hub.seq,
        conflicts=[{"conflict_id": 7, "record_id": ani["id"], "created_at": "2026-11-29"}],
    )
    budi = store.add("beneficiary", person("Budi"))
    store.add("visit", visit_of(budi, NOW_MS - 1000))
    store.note_sync(False, "Hub tidak dapat dihubungi.")

    home = store.views.home()
    assert [(r.beneficiary_name, r.reason) for r in home.returned] == [("Ani", "Foto buram.")]
    assert home.returned_count == 1
    assert [(w.entity, w.label) for w in home.waiting] == [
        ("beneficiary", "Budi"),
        ("visit", "Budi"),
    ]
    assert home.waiting_count == 2
    assert [c["conflict_id"] for c in home.conflicts] == [7]
    assert home.last_sync["last_sync_outcome"] == "failed"
    assert home.last_sync["last_sync_message"] == "Hub tidak dapat dihubungi."
    assert home.due == {"KLJ": 0}  # both visited within 30 days, one not yet sent
    assert [r["id"] for r in store.returned()] == [back["id"]]

    # an edit of the returned visit takes it off the list: it waits to be sent instead
    store.update("visit", back["id"], {"findings": "Foto diganti."})
    home = store.views.home()
    assert home.returned == [] and home.waiting_count == 3
    assert store.views.where(back["id"]).state == "tersimpan"


def test_each_record_says_where_it_is(store):
    hub = Hub()
    synced = hub.record("beneficiary", person("Di Hub"))
    disputed = hub.record("beneficiary", person("Konflik"))
    returned = hub.record(
        "visit",
        visit_of(synced["id"], NOW_MS, review={"state": RETURNED, "reason": "Kurang."}),
    )
    store.apply_pull(
        [synced, disputed, returned],
        hub.seq,
        conflicts=[{"conflict_id": 1, "record_id": disputed["id"]}],
    )
    waiting = store.add("beneficiary", person("Menunggu"))
    sent = store.add("beneficiary", person("Terkirim"))
    refused = store.add("beneficiary", person("Ditolak"))
    rows = store._db.conn.execute(
        "SELECT change_id, record_id FROM outbox WHERE record_id IN (?, ?)", (sent, refused)
    ).fetchall()
    by_record = {r: c for c, r in rows}
    store.confirm(
        [
            {"change_id": by_record[sent], "status": "applied", "seq": 50},
            {
                "change_id": by_record[refused],
                "status": "rejected",
                "seq": None,
                "errors": {"kelurahan": ["31.71.01.1001 di luar wilayah Anda."]},
            },
        ]
    )
    places = store.views.where_many(
        [synced["id"], disputed["id"], returned["id"], waiting, sent, refused, "nope"]
    )
    assert {k: p.state for k, p in places.items()} == {
        synced["id"]: "terkirim",
        disputed["id"]: "konflik",
        returned["id"]: "dikembalikan",
        waiting: "tersimpan",
        sent: "terkirim",
        refused: "ditolak",
    }
    assert places[synced["id"]].received_at is None  # only ever pulled
    assert places[sent].received_at == "2026-12-01T00:00:00.000Z"
    assert places[returned["id"]].reason == "Kurang."
    assert places[refused].errors == {"kelurahan": ["31.71.01.1001 di luar wilayah Anda."]}
    assert places[waiting].label == "tersimpan di laptop"
    assert store.views.where("nope") is None


def test_a_beneficiary_s_page_has_visits_requests_photos_and_history(store, tmp_path: Path):
    hub = Hub()
    ani = hub.record("beneficiary", person("Ani"))
    request = hub.record(
        "device_request",
        {
            "beneficiary_id": ani["id"],
            "kelurahan": ani["data"]["kelurahan"],
            "device_type": "kursi_roda",
            "status": "diverifikasi",
            "status_history": [
                {"from": None, "to": "diajukan", "by": "budi", "at": "2026-10-01T00:00:00Z"},
                {
                    "from": "diajukan",
                    "to": "diverifikasi",
                    "by": "kasi",
                    "at": "2026-10-02T00:00:00Z",
                },
            ],
        },
    )
    old = hub.record("visit", visit_of(ani["id"], NOW_MS - 40 * DAY_MS))
    other = hub.record("beneficiary", person("Lain"))
    store.apply_pull(
        [ani, request, old, other, hub.record("visit", visit_of(other["id"], NOW_MS))], hub.seq
    )
    new = store.add("visit", visit_of(ani["id"], NOW_MS - DAY_MS))
    store.update("device_request", request["id"], {"status": "dibatalkan"})
    store.update("beneficiary", ani["id"], {"phone": "0812 3456 7890"})
    sha = "ab" * 32
    store.attach_photo(
        NewAttachment(
            sha, "visit", new, "rumah", "image/jpeg", 1234, f"attachments/{sha}", "2026-12-01"
        )
    )

    page = store.views.beneficiary(ani["id"])
    assert page.record["phone"] == "0812 3456 7890"
    assert [v["id"] for v in page.visits] == [new, old["id"]]  # newest first
    assert [r["id"] for r in page.requests] == [request["id"]]
    assert [(m["to"], m.get("laptop", False)) for m in page.requests[0]["history"]] == [
        ("diajukan", False),
        ("diverifikasi", False),
        ("dibatalkan", True),
    ]
    assert [(p["sha256"], p["state"], p["record_id"]) for p in page.photos] == [
        (sha, "pending", new)
    ]
    assert [e["kind"] for e in page.history] == ["hub", "laptop"]
    assert page.place.state == "tersimpan"
    assert page.places[old["id"]].state == "terkirim" and page.places[new].state == "tersimpan"
    with pytest.raises(RecordNotFound):
        store.views.beneficiary(new)


def test_a_visit_deleted_or_redated_on_the_laptop_counts_as_the_laptop_shows_it(store):
    hub = Hub()
    ani, budi = hub.record("beneficiary", person("Ani")), hub.record("beneficiary", person("Budi"))
    ani_visit = hub.record("visit", visit_of(ani["id"], NOW_MS - DAY_MS))
    budi_visit = hub.record("visit", visit_of(budi["id"], NOW_MS - DAY_MS))
    store.apply_pull([ani, budi, ani_visit, budi_visit], hub.seq)
    assert store.views.due("KLJ") == []

    store.delete("visit", ani_visit["id"])
    store.update("visit", budi_visit["id"], {"visited_at": "2026-09-01T09:00:00+07:00"})
    assert [d.name for d in store.views.due("KLJ")] == ["Ani", "Budi"]
    assert store.views.due_counts() == {"KLJ": 2}
    assert store.views.due("KLJ")[1].last_visit == "2026-09-01T02:00:00Z"
