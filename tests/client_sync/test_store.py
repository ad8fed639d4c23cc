"""The laptop store on real SQLite files, against the in-process hub where a sync is involved.

Covers what a pendamping must be able to rely on: a pulled page never rolls a record back, a
confirmed change stays visible until its record is pulled back, entry refuses what the hub
would refuse (out-of-wilayah kelurahan, a visit in another kelurahan than its beneficiary,
values JSON cannot carry), a refused record stays visible and can be corrected, and a fresh
store file opens for everyone who opens it at the same moment.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from client_sync import FieldDevice
from client_sync.engine import SyncResult, pull_all, push_outbox
from client_sync.errors import InvalidRecord
from client_sync.hub import HubClient
from client_sync.migrations import apply_migrations
from client_sync.store import FieldStore
from schemas.migrations import available_migrations
from tests.conftest import KELURAHAN, OTHER_KELURAHAN, beneficiary, visit
from tests.support.transports import WsgiTransport

BASE_MS = 1_732_345_678_901


def hub_client(laptops, device: FieldDevice) -> HubClient:
    """The laptop's own way to the in-process hub, for driving push and pull step by step."""
    return HubClient(WsgiTransport(laptops.app), device.store.identity.token)


def pulled_record(record_id: str, seq: int, **data: Any) -> dict[str, Any]:
    """A record as a pull page carries it."""
    return {
        "entity": "beneficiary",
        "id": record_id,
        "seq": seq,
        "deleted": False,
        "hlc": f"{BASE_MS + seq:016d}:000000:hub-test",
        "data": beneficiary(**data),
    }


def device_request(beneficiary_id: str, **overrides: Any) -> dict[str, Any]:
    data = {"beneficiary_id": beneficiary_id, "device_type": "kursi_roda", "reason": "Stroke."}
    data.update(overrides)
    return data


LINKED = {"visit": visit, "device_request": device_request}


def nest(levels: int) -> dict[str, Any]:
    """`levels` objects inside one another: nest(1) == {"n": 1}."""
    value: Any = 1
    for _ in range(levels):
        value = {"n": value}
    return value


# -- pulling --------------------------------------------------------------------------------


def test_an_older_pulled_copy_never_overwrites_a_newer_one(laptops):
    store = laptops.enroll("ani").store
    record_id = "6f1c1e38-7d5e-4a53-9d59-0c1f8f0e2a11"
    store.apply_pull([pulled_record(record_id, 5, name="Versi Lima")], 5)

    store.apply_pull([pulled_record(record_id, 3, name="Versi Tiga")], 3)

    assert store.get("beneficiary", record_id)["name"] == "Versi Lima"
    assert store.pull_cursor == 5


def test_a_newer_pulled_copy_replaces_an_older_one(laptops):
    store = laptops.enroll("ani").store
    record_id = "6f1c1e38-7d5e-4a53-9d59-0c1f8f0e2a11"
    store.apply_pull([pulled_record(record_id, 3, name="Versi Tiga")], 3)

    store.apply_pull([pulled_record(record_id, 5, name="Versi Lima")], 5)

    assert store.get("beneficiary", record_id)["name"] == "Versi Lima"


def test_a_confirmed_change_stays_visible_until_its_record_is_pulled_back(laptops, hub_storage):
    ani, budi = laptops.enroll("ani"), laptops.enroll("budi")
    record_id = budi.store.add("beneficiary", beneficiary())
    budi.sync()
    ani.sync()
    budi.store.update("beneficiary", record_id, {"address": "Jl. Melati 1"})
    budi.sync()
    # Ani's edit is concurrent with Budi's: merged, so the hub echoes it (not quiet).
    ani.store.update("beneficiary", record_id, {"name": "Ibu Sri W."})
    hub = hub_client(laptops, ani)
    push_outbox(ani.store, hub, SyncResult())
    acked_seq = hub_storage.stats()["last_seq"]
    assert ani.store.status()["awaiting_pull"] == 1

    # Budi adds two others, then edits it: its hub seq moves past Ani's.
    for n in range(2):
        budi.store.add("beneficiary", beneficiary(name=f"Pengisi {n}", nik=None))
    budi.store.update("beneficiary", record_id, {"phone": "0812-3456-7890"})
    assert budi.sync().pushed == 3

    page = hub.pull(ani.store.pull_cursor, 1)
    assert page["next"] > acked_seq
    assert page["more"] is True
    assert record_id not in [r["id"] for r in page["records"]]
    ani.store.apply_pull(page["records"], page["next"])

    assert record_id in [r["id"] for r in ani.store.list("beneficiary")]
    assert ani.store.get("beneficiary", record_id)["name"] == "Ibu Sri W."

    pull_all(ani.store, hub, SyncResult())

    assert ani.store.status()["awaiting_pull"] == 0
    seen = ani.store.get("beneficiary", record_id)
    assert (seen["name"], seen["phone"], seen["sync"]) == ("Ibu Sri W.", "0812-3456-7890", "synced")


# -- what entry refuses ---------------------------------------------------------------------


def test_a_kelurahan_outside_the_wilayah_is_refused_at_entry_and_nothing_is_queued(laptops):
    store = laptops.enroll("ani", wilayah=("31.71.01",)).store

    with pytest.raises(InvalidRecord) as refused:
        store.add("beneficiary", beneficiary(kelurahan=OTHER_KELURAHAN))

    assert list(refused.value.errors) == ["kelurahan"]
    assert OTHER_KELURAHAN in refused.value.errors["kelurahan"][0]
    assert store.pending_count() == 0
    assert store.list("beneficiary") == []


def test_moving_a_record_out_of_the_wilayah_is_refused_at_entry(laptops):
    store = laptops.enroll("ani", wilayah=("31.71.01",)).store
    record_id = store.add("beneficiary", beneficiary())

    with pytest.raises(InvalidRecord) as refused:
        store.update("beneficiary", record_id, {"kelurahan": OTHER_KELURAHAN})

    assert list(refused.value.errors) == ["kelurahan"]
    assert store.pending_count() == 1
    assert store.get("beneficiary", record_id)["kelurahan"] == KELURAHAN


def test_a_pendamping_without_a_wilayah_may_record_nowhere(laptops):
    store = laptops.enroll("lina", wilayah=()).store
    with pytest.raises(InvalidRecord) as refused:
        store.add("beneficiary", beneficiary())
    assert list(refused.value.errors) == ["kelurahan"]
    assert store.pending_count() == 0


def test_an_admin_laptop_may_record_anywhere_and_the_hub_agrees(laptops, hub_storage):
    admin = laptops.enroll("kantor", role="admin", wilayah=())
    admin.store.add("beneficiary", beneficiary())
    admin.store.add("beneficiary", beneficiary(kelurahan=OTHER_KELURAHAN, nik=None))

    result = admin.sync()

    assert (result.pushed, result.rejected) == (2, 0)
    assert hub_storage.stats()["records"]["beneficiary"] == 2


@pytest.mark.parametrize("entity", ["visit", "device_request"])
def test_a_linked_record_in_another_kelurahan_than_its_beneficiary_is_refused(laptops, entity):
    # The whole kota is in scope, so only the beneficiary's kelurahan can refuse it.
    store = laptops.enroll("ani", wilayah=("31.71",)).store
    owner = store.add("beneficiary", beneficiary())

    with pytest.raises(InvalidRecord) as refused:
        store.add(entity, LINKED[entity](owner, kelurahan=OTHER_KELURAHAN))

    assert list(refused.value.errors) == ["kelurahan"]
    assert store.pending_count() == 1
    assert store.list(entity) == []


@pytest.mark.parametrize("entity", ["visit", "device_request"])
def test_a_linked_record_without_a_kelurahan_takes_its_beneficiarys(laptops, entity):
    store = laptops.enroll("ani", wilayah=("31.71",)).store
    owner = store.add("beneficiary", beneficiary(kelurahan=OTHER_KELURAHAN))

    record_id = store.add(entity, LINKED[entity](owner))

    assert store.get(entity, record_id)["kelurahan"] == OTHER_KELURAHAN


def test_moving_a_visit_away_from_its_beneficiarys_kelurahan_is_refused_at_entry(laptops):
    store = laptops.enroll("ani", wilayah=("31.71",)).store
    owner = store.add("beneficiary", beneficiary())
    record_id = store.add("visit", visit(owner))

    with pytest.raises(InvalidRecord) as refused:
        store.update("visit", record_id, {"kelurahan": OTHER_KELURAHAN})

    assert list(refused.value.errors) == ["kelurahan"]
    assert store.pending_count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("assessment", {"skor": 10**20}),
        ("assessment", {"skor": 2**63}),
        ("assessment", {"skor": -(2**63) - 1}),
        ("assessment", {"skor": float("nan")}),
        ("assessment", {"skor": float("inf")}),
        ("assessment", nest(7)),
        ("assessment", {"daftar": [[[[[[["terlalu dalam"]]]]]]]}),
        ("assessment", {"\ud800": "kunci rusak"}),
        ("assessment", {"catatan": "a\udfffb"}),
        ("findings", "Kondisi \ud800 baik"),
        ("follow_up", "\udc80"),
    ],
    ids=[
        "an integer of 10**20",
        "an integer of 2**63",
        "an integer below -2**63",
        "a NaN",
        "an infinity",
        "an object seven levels deep",
        "a list seven levels deep",
        "a lone surrogate in a key",
        "a lone surrogate in a nested text",
        "a lone surrogate in findings",
        "a lone surrogate in follow_up",
    ],
)
def test_a_value_json_cannot_carry_is_refused_at_entry_naming_the_field(laptops, field, value):
    store = laptops.enroll("ani").store
    owner = store.add("beneficiary", beneficiary())

    with pytest.raises(InvalidRecord) as refused:
        store.add("visit", visit(owner, **{field: value}))

    assert list(refused.value.errors) == [field]
    assert store.pending_count() == 1
    assert store.list("visit") == []


def test_a_lone_surrogate_in_an_edit_is_refused_naming_the_field(laptops):
    store = laptops.enroll("ani").store
    record_id = store.add("beneficiary", beneficiary())
    with pytest.raises(InvalidRecord) as refused:
        store.update("beneficiary", record_id, {"address": "Jl. \ud800"})
    assert list(refused.value.errors) == ["address"]
    assert store.pending_count() == 1


def test_values_at_the_limits_are_kept_and_reach_another_laptop_whole(laptops):
    ani, budi = laptops.enroll("ani"), laptops.enroll("budi")
    owner = ani.store.add("beneficiary", beneficiary())
    assessment = {"dalam": nest(5), "besar": 2**63 - 1, "kecil": -(2**63), "teks": "kursi 🦽"}
    record_id = ani.store.add("visit", visit(owner, assessment=assessment))

    assert ani.sync().rejected == 0
    budi.sync()

    assert budi.store.get("visit", record_id)["assessment"] == assessment


# -- a record the hub refused ---------------------------------------------------------------


def test_a_refused_record_stays_visible_and_an_edit_sends_it_again_whole(laptops, hub_storage):
    laptops.app.extensions["pendamping"].sync.programs = frozenset({"KPDJ"})
    ani = laptops.enroll("ani")
    record_id = ani.store.add("beneficiary", beneficiary(programs=["KLJ"]))

    assert ani.sync().rejected == 1
    assert ani.store.get("beneficiary", record_id)["sync"] == "rejected"
    assert [r["id"] for r in ani.store.list("beneficiary")] == [record_id]
    assert ani.store.status()["rejected"] == 1

    ani.store.update("beneficiary", record_id, {"programs": ["KPDJ"]})
    assert ani.store.get("beneficiary", record_id)["sync"] == "pending"
    result = ani.sync()

    assert (result.pushed, result.rejected) == (1, 0)
    assert hub_storage.stats()["records"]["beneficiary"] == 1
    assert ani.store.get("beneficiary", record_id)["sync"] == "synced"
    assert ani.store.status()["rejected"] == 0
    assert ani.store.rejected() == []

    budi = laptops.enroll("budi")
    budi.sync()
    seen = budi.store.get("beneficiary", record_id)
    expected = beneficiary(programs=["KPDJ"])
    assert {k: seen.get(k) for k in expected} == expected


def test_a_refused_edit_of_a_hub_record_does_not_pretend_to_be_its_value(laptops):
    laptops.app.extensions["pendamping"].sync.programs = frozenset({"KLJ"})
    ani = laptops.enroll("ani")
    record_id = ani.store.add("beneficiary", beneficiary())
    ani.sync()

    ani.store.update("beneficiary", record_id, {"programs": ["PKH"]})
    assert ani.sync().rejected == 1

    seen = ani.store.get("beneficiary", record_id)
    assert (seen["programs"], seen["sync"]) == (["KLJ"], "synced")
    assert ani.store.status()["rejected"] == 1


# -- opening a store ------------------------------------------------------------------------


@pytest.mark.parametrize("openers", [2, 4, 8])
def test_a_new_store_file_opened_by_several_at_once_opens_for_all(tmp_path: Path, openers):
    for attempt in range(20):
        path = tmp_path / f"try-{attempt}" / "store.sqlite3"
        start = threading.Barrier(openers)
        failures: list[BaseException] = []

        def open_store(
            path: Path = path, start: threading.Barrier = start, failures: list = failures
        ) -> None:
            start.wait(timeout=30)
            try:
                FieldStore(path).close()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(openers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert failures == [], f"attempt {attempt}: {failures!r}"
        with sqlite3.connect(path) as conn:
            (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
            done = conn.execute("SELECT number FROM schema_migrations ORDER BY number").fetchall()
        conn.close()
        assert mode == "wal"
        assert [n for (n,) in done] == [
            n for n, _, _ in available_migrations("client_sync.migrations")
        ]


def test_opening_an_existing_store_applies_no_migration_again(tmp_path: Path):
    path = tmp_path / "store.sqlite3"
    FieldStore(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert apply_migrations(conn) == []
    finally:
        conn.close()
