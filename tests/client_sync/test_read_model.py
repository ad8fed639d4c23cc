"""The read model stays in step with the records in the same transaction as every write.

After each kind of write (an add, an edit, a delete, a pulled page, an older copy, a
tombstone, an exit, a quiet receipt folded, an acked one, a refused one, a correction of a
refused record) the rows kept incrementally must equal the rows a rebuild from scratch
computes; and a write that fails leaves neither the records nor the read model changed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from client_sync.errors import InvalidRecord
from client_sync.store import read_model
from schemas.review import RETURNED
from tests.client_sync.field_store_support import (
    DAY_MS,
    NOW_MS,
    Hub,
    open_store,
    person,
    read_model_rows,
    visit_of,
)


def assert_in_step(store) -> None:
    """The kept rows are the rows a full rebuild gives (confirmed times are kept by both),
    and the live rows are exactly the records `list` shows."""
    kept = read_model_rows(store)
    for entity in ("beneficiary", "visit", "device_request"):
        live = store._db.conn.execute(
            "SELECT id FROM local_records WHERE entity = ? AND live = 1", (entity,)
        ).fetchall()
        assert sorted(r[0] for r in live) == sorted(r["id"] for r in store.list(entity))
    with store._db.atomic():
        read_model.rebuild(store._db)
    assert read_model_rows(store) == kept


def pending_receipts(store, status="applied", quiet=False, seq_from=1000, errors=None):
    rows = store._db.conn.execute(
        "SELECT change_id FROM outbox WHERE state = 'pending' ORDER BY position"
    ).fetchall()
    receipts = []
    for n, (change_id,) in enumerate(rows):
        receipt = {"change_id": change_id, "status": status, "seq": seq_from + n}
        if quiet:
            receipt["quiet"] = True
        if errors:
            receipt = {"change_id": change_id, "status": "rejected", "seq": None, "errors": errors}
        receipts.append(receipt)
    return receipts


def test_every_kind_of_write_keeps_the_read_model_as_a_rebuild_computes_it(tmp_path: Path):
    store = open_store(tmp_path / "s.db")
    hub = Hub()
    ani = hub.record("beneficiary", person("Ani Suryani", "3171014508450001"))
    old_visit = hub.record("visit", visit_of(ani["id"], NOW_MS - 40 * DAY_MS))
    store.apply_pull([ani, old_visit], hub.seq)
    assert_in_step(store)

    mine = store.add("beneficiary", person("Siti Nur'aini", "3171015203500002"))
    assert_in_step(store)
    store.update("beneficiary", ani["id"], {"name": "Ani Suryani Putri", "programs": ["KPDJ"]})
    assert_in_step(store)
    visit_id = store.add("visit", visit_of(mine, NOW_MS - DAY_MS))
    assert_in_step(store)

    # receipts: one quiet (folded at once), one acked, one refused
    receipts = pending_receipts(store)
    receipts[0]["quiet"] = True
    receipts[2] = {
        "change_id": receipts[2]["change_id"],
        "status": "rejected",
        "seq": None,
        "errors": {"visited_at": ["Terlalu jauh di masa depan."]},
    }
    store.confirm(receipts)
    assert_in_step(store)
    assert store.views.where(visit_id).state == "ditolak"

    # the refused visit is corrected and queued again whole
    store.update("visit", visit_id, {"findings": "Diperbaiki."})
    assert_in_step(store)

    # the hub sends the edited Ani back, an older copy of her, and a returned visit
    back = hub.record(
        "beneficiary",
        {**ani["data"], "name": "Ani Suryani Putri", "programs": ["KPDJ"]},
        record_id=ani["id"],
    )
    stale = {**ani, "seq": 1}
    returned = hub.record(
        "visit",
        {
            **old_visit["data"],
            "review": {
                "state": RETURNED,
                "reason": "Foto kurang jelas.",
                "by": "kasi",
                "at": "2026-11-30T00:00:00Z",
            },
        },
        record_id=old_visit["id"],
    )
    store.apply_pull([back, stale, returned], hub.seq)
    assert_in_step(store)
    assert store.views.where(old_visit["id"]).reason == "Foto kurang jelas."

    # a tombstone, a delete from the laptop, and an exit
    gone = hub.record("visit", old_visit["data"], record_id=old_visit["id"], deleted=True)
    store.apply_pull([gone], hub.seq)
    assert_in_step(store)
    store.delete("beneficiary", mine)
    assert_in_step(store)
    hub.seq += 1
    store.apply_pull(
        [], hub.seq, exits=[{"id": ani["id"], "entity": "beneficiary", "seq": hub.seq}]
    )
    assert_in_step(store)


def test_a_store_made_before_the_read_model_is_filled_when_it_opens(tmp_path: Path):
    store = open_store(tmp_path / "s.db")
    hub = Hub()
    ani = hub.record("beneficiary", person("Ani Suryani", "3171014508450001"))
    store.apply_pull([ani], hub.seq)
    store.add("beneficiary", person("Budi Santoso", sex="L"))
    expected = read_model_rows(store)
    for table in ("local_overlay", "local_words", "local_programs"):
        store._db.conn.execute(f"DELETE FROM {table}")
    store._db.conn.execute("UPDATE pulled SET name = NULL, nik = NULL, kelurahan = NULL")
    store._db.conn.execute("DELETE FROM meta WHERE key = 'read_model'")
    store.close()

    reopened = open_store(tmp_path / "s.db")
    assert read_model_rows(reopened) == expected
    assert [h.name for h in reopened.views.search("bud")] == ["Budi Santoso"]


def test_a_refused_entry_leaves_records_and_read_model_unchanged(tmp_path: Path):
    store = open_store(tmp_path / "s.db")
    store.add("beneficiary", person("Ani"))
    before = read_model_rows(store), store.list("beneficiary")
    with pytest.raises(InvalidRecord):
        store.add("beneficiary", person("Bad", nik="123"))
    assert (read_model_rows(store), store.list("beneficiary")) == before


def test_a_failure_inside_a_pull_rolls_the_read_model_back_with_it(tmp_path: Path, monkeypatch):
    store = open_store(tmp_path / "s.db")
    hub = Hub()
    store.apply_pull([hub.record("beneficiary", person("Ani"))], hub.seq)
    before = read_model_rows(store), store.pull_cursor

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(read_model, "refresh", broken)
    with pytest.raises(sqlite3.OperationalError):
        store.apply_pull([hub.record("beneficiary", person("Budi"))], hub.seq)
    assert (read_model_rows(store), store.pull_cursor) == before
    assert [r["name"] for r in store.list("beneficiary")] == ["Ani"]


def test_a_confirmed_change_notes_when_the_receipt_arrived(tmp_path: Path):
    store = open_store(tmp_path / "s.db")
    record_id = store.add("beneficiary", person("Ani"))
    assert store.views.where(record_id).state == "tersimpan"
    store.confirm(pending_receipts(store))
    place = store.views.where(record_id)
    assert (place.state, place.received_at) == ("terkirim", "2026-12-01T00:00:00.000Z")


def _index_sql(store, name: str) -> str | None:
    row = store._db.conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
    ).fetchone()
    return None if row is None else " ".join(row[0].replace("IF NOT EXISTS ", "").split())


class _Pages:
    """A hub's pull answers for `pull_all`: `records` in pages of `size`, failing at
    `fail_at` (a page number) when given."""

    def __init__(self, records, size: int = 2, fail_at: int | None = None) -> None:
        self.records, self.size, self.fail_at, self.asked = records, size, fail_at, 0

    def pull(self, cursor: int, limit: int) -> dict:
        self.asked += 1
        if self.asked == self.fail_at:
            raise ConnectionError("link dropped")
        page = [r for r in self.records if r["seq"] > cursor][: self.size]
        last = page[-1]["seq"] if page else cursor
        more = any(r["seq"] > last for r in self.records)
        return {"records": page, "next": last, "more": more}


def _district(hub: Hub) -> list[dict]:
    ani = hub.record("beneficiary", person("Ani Suryani", "3171014508450001"))
    budi = hub.record("beneficiary", person("Budi Santoso", "3171010101800003", sex="L"))
    zero = hub.record("beneficiary", person("0", programs=["PKH"]))  # text "0" stays text
    returned = visit_of(ani["id"], NOW_MS - 3 * DAY_MS)
    returned["review"] = {"state": RETURNED, "reason": "Ulangi.", "by": "k", "at": "x"}
    return [
        ani,
        budi,
        zero,
        hub.record("visit", visit_of(ani["id"], NOW_MS - DAY_MS)),
        hub.record("visit", returned),
        hub.record("visit", visit_of(budi["id"], NOW_MS - 40 * DAY_MS)),
        hub.record("beneficiary", person("Budi Baru"), record_id=budi["id"]),
    ]


def test_a_first_sync_fills_in_bulk_and_ends_as_a_rebuild_computes_it(tmp_path: Path):
    from client_sync.engine import SyncResult, pull_all

    fresh = open_store(tmp_path / "fresh.db")
    migrated = {n: _index_sql(fresh, n) for n in ("pulled_owned", "pulled_visits", "pulled_niks")}
    store = open_store(tmp_path / "s.db")
    store.add("beneficiary", person("Siti Nur'aini", "3171015203500002"))  # pending, shown
    hub = Hub()
    pages = _Pages(_district(hub))
    seen: list[tuple] = []
    real = store.apply_pull

    def watched(*args, **kwargs):  # what a page finds while the first sync runs
        indexes = (_index_sql(store, "pulled_owned"), _index_sql(store, "pulled_visits"))
        seen.append((store._db.meta("read_model"), *indexes))
        real(*args, **kwargs)

    store.apply_pull = watched
    pull_all(store, pages, SyncResult())
    assert seen and all(s == (read_model.BULK, None, None) for s in seen)
    assert store._db.meta("read_model") == read_model.VERSION
    assert {n: _index_sql(store, n) for n in migrated} == migrated
    assert [h.name for h in store.views.search("bu")] == ["Budi Baru"]
    assert [h.name for h in store.views.search("siti")] == ["Siti Nur'aini"]
    assert store._db.conn.execute("SELECT name FROM pulled WHERE name = '0'").fetchall()
    assert_in_step(store)

    # the next round pulls page by page, keeping everything as it goes
    more = [hub.record("beneficiary", person("Dewi Lestari"))]
    pull_all(store, _Pages(more), SyncResult())
    assert [h.name for h in store.views.search("dew")] == ["Dewi Lestari"]
    assert_in_step(store)


def test_a_first_sync_cut_short_still_builds_the_read_model(tmp_path: Path):
    from client_sync.engine import SyncResult, pull_all

    store = open_store(tmp_path / "s.db")
    pages = _Pages(_district(Hub()), fail_at=3)
    with pytest.raises(ConnectionError):
        pull_all(store, pages, SyncResult())
    assert store.pull_cursor == 4
    assert store._db.meta("read_model") == read_model.VERSION
    assert _index_sql(store, "pulled_owned") is not None
    assert_in_step(store)


def test_a_first_sync_that_dies_is_rebuilt_when_the_store_opens(tmp_path: Path):
    store = open_store(tmp_path / "s.db")
    records = _district(Hub())
    assert read_model.begin_bulk(store._db)
    store.apply_pull(records[:4], 4)  # then the process dies: no end_bulk
    assert store._db.conn.execute("SELECT count(*) FROM local_words").fetchone() == (0,)
    store.close()

    reopened = open_store(tmp_path / "s.db")
    assert reopened._db.meta("read_model") == read_model.VERSION
    assert _index_sql(reopened, "pulled_owned") is not None
    assert [h.name for h in reopened.views.search("ani")] == ["Ani Suryani"]
    assert_in_step(reopened)
    assert not read_model.begin_bulk(reopened._db)  # the cursor moved: page by page now
