"""The audit chain: every write on the hub appends one entry in its own transaction, and
`pendamping-hub audit verify` names an entry changed, removed or reordered in the file."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from client_sync import FieldDevice
from client_sync.bundle import export_bundle
from schemas.hlc import wall_ms
from server.audit import GENESIS, AuditEntry, chain_hash, cli_actor, verify
from server.cli import main
from server.scope import EVERYWHERE
from server.storage import DeviceReport, HubStorage, User
from server.storage.sqlite import _SQLiteWrite
from server.sync import SyncService
from server.writer import BatchWriter
from tests.conftest import beneficiary, visit

NIK = "3171014508450001"
NAME = "Ibu Sri Wahyuni"


# -- helpers ---------------------------------------------------------------------------------


def entries(storage: HubStorage) -> list[AuditEntry]:
    return list(storage.iter_audit())


def actions(storage: HubStorage) -> list[tuple[str, str | None, str]]:
    return [(e.actor, e.device_id, e.action) for e in storage.iter_audit()]


def details(storage: HubStorage) -> list[dict[str, Any]]:
    return [json.loads(e.detail) for e in storage.iter_audit()]


def table_text(hub_app: Flask) -> str:
    """Every cell of the audit table, as the file holds it."""
    with sqlite3.connect(Path(hub_app.config["DATA_DIR"]) / "hub.sqlite3") as conn:
        return repr(conn.execute("SELECT * FROM audit").fetchall())


def tamper(hub_app: Flask, *statements: str) -> None:
    """Edit the hub file with sqlite3 as someone holding it would: triggers dropped first."""
    conn = sqlite3.connect(Path(hub_app.config["DATA_DIR"]) / "hub.sqlite3")
    with conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        for sql in statements:
            conn.execute(sql)
    conn.close()


def person() -> dict[str, Any]:
    """A beneficiary without a NIK, so that many of them raise no duplicate."""
    return {k: v for k, v in beneficiary().items() if k != "nik"}


def change(dev: FieldDevice, fields: dict[str, Any], entity: str = "beneficiary") -> dict:
    """A change as a laptop queues it, for pushing through the service directly."""
    device_id = dev.store.identity.device_id
    return {
        "change_id": str(uuid.uuid4()),
        "entity": entity,
        "record_id": str(uuid.uuid4()),
        "base_seq": None,
        "fields": fields,
        "hlc": f"{wall_ms():016d}:000000:{device_id}",
        "device_id": device_id,
        "author_id": dev.store.identity.user,
    }


@pytest.fixture
def sync(hub_app: Flask) -> SyncService:
    return hub_app.extensions["pendamping"].sync


@pytest.fixture
def siti(laptops) -> Iterator[FieldDevice]:
    dev = laptops.enroll("siti")
    yield dev
    dev.close()


@pytest.fixture
def hub_cli(hub_app: Flask, capsys) -> Callable[..., tuple[int, str, str]]:
    """`pendamping-hub --data <the hub_app's folder> ARGS...`."""

    def run(*args: Any) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--data", hub_app.config["DATA_DIR"], *[str(a) for a in args]])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


# -- each write appends one entry ------------------------------------------------------------


def test_a_user_added_at_the_office_is_recorded_as_the_os_user(hub_cli, hub_storage):
    code, _, err = hub_cli("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01")
    assert code == 0, err
    assert actions(hub_storage) == [(cli_actor(), None, "add_user")]
    assert details(hub_storage) == [{"user": "ani", "role": "pendamping", "wilayah": ["31.71.01"]}]


def test_a_refused_user_add_appends_nothing(hub_cli, hub_storage):
    hub_cli("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01")
    code, _, _ = hub_cli("user", "add", "ani", "--role", "admin")
    assert code != 0
    assert len(entries(hub_storage)) == 1


def test_an_issued_code_is_recorded_without_the_code(hub_cli, hub_storage, hub_app):
    hub_cli("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01")
    code, out, _ = hub_cli("enroll-code", "ani")
    issued = out.strip().rsplit(" ", 1)[-1]
    assert code == 0
    assert actions(hub_storage)[-1] == (cli_actor(), None, "issue_enroll_code")
    assert details(hub_storage)[-1]["user"] == "ani"
    raw = issued.replace("-", "")
    text = table_text(hub_app)
    assert issued not in text and raw not in text
    assert hashlib.sha256(raw.encode()).hexdigest() not in text


def test_an_enrolled_laptop_is_recorded_as_its_user_from_its_device(siti, hub_storage):
    assert actions(hub_storage)[-1] == ("siti", siti.store.identity.device_id, "enrol_device")


def test_a_refused_enrolment_appends_nothing(hub_app, hub_storage):
    before = entries(hub_storage)
    answer = hub_app.test_client().post(
        "/api/v1/enroll", json={"code": "AAAA-BBBB-CCCC", "device_name": "Laptop"}
    )
    assert answer.status_code == 403
    assert entries(hub_storage) == before


def test_a_push_appends_one_entry_with_counts_the_seq_range_and_a_digest(
    siti, sync, hub_storage, hub_app
):
    device = hub_storage.get_device(siti.store.identity.device_id)
    good = change(siti, beneficiary())
    bad = change(siti, beneficiary(nik="3171010101800001", programs=["ZZZ"]))
    before = len(entries(hub_storage))

    outcome = sync.push(device, [good, bad, {"change_id": "rusak"}])

    assert len(entries(hub_storage)) == before + 1
    last = entries(hub_storage)[-1]
    assert (last.actor, last.device_id, last.action) == ("siti", device.device_id, "push")
    assert json.loads(last.detail) == {
        "changes": 3,
        "statuses": {"applied": 1, "rejected": 2},
        "duplicates": 0,
        "seq": [1, 1],
        "receipts_sha256": hashlib.sha256(
            json.dumps(outcome.receipts, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest(),
    }


def test_a_resent_push_is_recorded_as_duplicates_that_wrote_no_seq(siti, sync, hub_storage):
    device = hub_storage.get_device(siti.store.identity.device_id)
    batch = [change(siti, beneficiary())]
    sync.push(device, batch)
    sync.push(device, batch)
    first, again = details(hub_storage)[-2:]
    assert (first["statuses"], first["seq"]) == ({"applied": 1}, [1, 1])
    assert (again["statuses"], again["duplicates"], again["seq"]) == ({}, 1, None)
    assert first["receipts_sha256"] == again["receipts_sha256"]  # the very same receipts


def test_a_sync_from_a_laptop_appends_its_push_and_its_report(siti, hub_storage):
    siti.store.add("visit", visit(siti.store.add("beneficiary", beneficiary())))
    before = len(entries(hub_storage))
    siti.sync()
    device_id = siti.store.identity.device_id
    assert actions(hub_storage)[before:] == [
        ("siti", device_id, "push"),
        ("siti", device_id, "device_report"),  # the queue went from 2 to 0
    ]
    report = details(hub_storage)[-1]
    assert isinstance(report["client_version"], str) and report["queue_size"] == 0


def test_a_pull_with_nothing_new_to_report_writes_and_appends_nothing(siti, sync, hub_storage):
    device = hub_storage.get_device(siti.store.identity.device_id)
    sync.note_pull(device, DeviceReport("0.2.0", 5))
    before = entries(hub_storage)
    sync.note_pull(hub_storage.get_device(device.device_id), DeviceReport("0.2.0", 5))
    assert entries(hub_storage) == before
    assert before[-1].action == "device_report"


def test_a_pulls_report_never_queues_behind_a_busy_writer(siti, sync, hub_storage):
    """The note of a pull's report waits at most REPORT_WAIT_S for the writer, then is left
    for a later pull: a read must not stand in line behind the morning's pushes."""
    device = hub_storage.get_device(siti.store.identity.device_id)
    before = entries(hub_storage)
    holding, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        with hub_storage.write():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        sync.note_pull(device, DeviceReport("0.2.0", 7))
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert waited < 2.0  # the writer was held for up to 10 s
    assert entries(hub_storage) == before  # nothing half-written
    sync.note_pull(hub_storage.get_device(device.device_id), DeviceReport("0.2.0", 7))
    assert details(hub_storage)[-1] == {"client_version": "0.2.0", "queue_size": 7}


def test_a_push_that_fails_half_way_appends_nothing(siti, sync, hub_storage, monkeypatch):
    device = hub_storage.get_device(siti.store.identity.device_id)
    before = entries(hub_storage)

    def broken(self):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(BatchWriter, "save", broken)
    with pytest.raises(RuntimeError):
        sync.push(device, [change(siti, beneficiary())])
    assert entries(hub_storage) == before


def test_a_push_whose_audit_entry_fails_is_not_written_either(siti, sync, hub_storage, monkeypatch):
    device = hub_storage.get_device(siti.store.identity.device_id)

    def broken(self, entry):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(_SQLiteWrite, "append_audit", broken)
    with pytest.raises(Exception, match="disk I/O error"):
        sync.push(device, [change(siti, beneficiary())])
    assert hub_storage.stats()["changes"] == 0


def test_a_request_with_a_bad_token_appends_nothing(hub_app, hub_storage, siti):
    before = entries(hub_storage)
    answer = hub_app.test_client().post(
        "/api/v1/sync/push",
        json={"protocol": 1, "schema_version": 1, "changes": []},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert answer.status_code == 401
    assert entries(hub_storage) == before


def two_sided_conflict(laptops) -> tuple[FieldDevice, FieldDevice, str]:
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    for dev in (siti, budi, siti, budi):
        dev.sync()
    siti.store.update("beneficiary", bid, {"phone": "0811-1111-1111"})
    budi.store.update("beneficiary", bid, {"phone": "0822-2222-2222"})
    for dev in (siti, budi, siti, budi):
        dev.sync()
    return siti, budi, bid


def test_a_resolution_by_a_supervisor_is_recorded_as_her_from_her_device(
    laptops, hub_app, hub_storage
):
    siti, _budi, _bid = two_sided_conflict(laptops)
    kasi = laptops.enroll("kasi", role="supervisor")
    [queued] = hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE)
    client = hub_app.test_client()

    refused = client.post(
        f"/api/v1/conflicts/{queued['conflict_id']}/resolve",
        json={"choice": "keep"},
        headers={"Authorization": f"Bearer {siti.store.identity.token}"},
    )
    assert refused.status_code == 403
    before = len(entries(hub_storage))
    done = client.post(
        f"/api/v1/conflicts/{queued['conflict_id']}/resolve",
        json={"choice": "value", "value": "0833-3333-3333"},
        headers={"Authorization": f"Bearer {kasi.store.identity.token}"},
    )

    assert done.status_code == 200
    assert len(entries(hub_storage)) == before + 1
    last = entries(hub_storage)[-1]
    assert (last.actor, last.device_id, last.action) == (
        "kasi",
        kasi.store.identity.device_id,
        "resolve_conflict",
    )
    detail = json.loads(last.detail)
    assert (detail["conflict_id"], detail["choice"], detail["field"]) == (
        queued["conflict_id"],
        "value",
        "phone",
    )
    assert "0833" not in last.detail and "0811" not in last.detail  # never the values


def test_a_resolution_at_the_terminal_is_recorded_as_the_os_user(laptops, hub_cli, hub_storage):
    two_sided_conflict(laptops)
    code, out, _ = hub_cli("conflicts", "list", "--json")
    [queued] = json.loads(out)
    code, _, err = hub_cli("conflicts", "resolve", queued["conflict_id"], "--choice", "keep")
    assert code == 0, err
    assert actions(hub_storage)[-1] == (cli_actor(), None, "resolve_conflict")
    assert details(hub_storage)[-1]["by"] == "kantor"


def test_a_bundle_import_is_recorded_with_its_digest_and_signer(
    siti, hub_cli, hub_storage, tmp_path
):
    siti.store.add("visit", visit(siti.store.add("beneficiary", beneficiary())))
    path = export_bundle(siti.store, siti.home, tmp_path / "siti.zip").path
    code, _, err = hub_cli("import-bundle", path)
    assert code == 0, err
    device_id = siti.store.identity.device_id
    assert actions(hub_storage)[-1] == (cli_actor(), device_id, "bundle_import")
    detail = details(hub_storage)[-1]
    assert detail["bundle_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (detail["signer"], detail["changes"], detail["seq"]) == (device_id, 2, [1, 2])


def test_concurrent_pushes_get_gap_free_positions(laptops, sync, hub_storage):
    devs = [laptops.enroll(f"p{n}") for n in range(4)]
    before = len(entries(hub_storage))
    errors: list[BaseException] = []

    # the laptops' stores belong to this thread: their batches are made here
    batches = [[[change(dev, person()) for _ in range(3)] for _ in range(5)] for dev in devs]

    def pushes(device_id: str, batches: list[list[dict]]) -> None:
        try:
            device = hub_storage.get_device(device_id)
            for batch in batches:
                sync.push(device, batch)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=pushes, args=(dev.store.identity.device_id, made))
        for dev, made in zip(devs, batches, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    chain = entries(hub_storage)
    assert [e.position for e in chain] == list(range(1, before + 21))
    assert verify(chain) == []


# -- no NIK and no name ------------------------------------------------------------------------


def test_no_nik_or_name_reaches_the_audit_log_or_the_logs(laptops, hub_app, caplog):
    caplog.set_level(logging.DEBUG)
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    siti.store.add("beneficiary", beneficiary())
    budi.store.add("beneficiary", beneficiary(name="Bapak Harun Saputra"))  # the same NIK
    siti.sync()
    budi.sync()
    [duplicate] = hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE)
    hub_app.extensions["pendamping"].conflicts.resolve(
        duplicate["conflict_id"], "bu-kasi", EVERYWHERE, "distinct"
    )

    text = table_text(hub_app)
    assert "push" in text and "resolve_conflict" in text
    for secret in (NIK, NAME, "Sri Wahyuni", "Harun"):
        assert secret not in text
        assert secret not in caplog.text


# -- verify ------------------------------------------------------------------------------------


@pytest.fixture
def five(siti, sync, hub_storage) -> list[AuditEntry]:
    """Five entries: the code, the enrolment and three pushes."""
    device = hub_storage.get_device(siti.store.identity.device_id)
    for _ in range(3):
        sync.push(device, [change(siti, person())])
    chain = entries(hub_storage)
    assert [e.position for e in chain] == [1, 2, 3, 4, 5]
    return chain


def test_an_intact_chain_verifies(five, hub_cli):
    assert five[0].prev_hash == GENESIS
    code, out, _ = hub_cli("audit", "verify")
    assert code == 0
    assert out.splitlines()[0] == "Rantai audit utuh: 5 entri."
    assert five[-1].hash in out  # the head, for the office to write down


def test_the_hub_itself_cannot_change_or_remove_an_entry(five, hub_app):
    conn = sqlite3.connect(Path(hub_app.config["DATA_DIR"]) / "hub.sqlite3")
    with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        conn.execute("UPDATE audit SET actor = 'x' WHERE position = 3")
    with pytest.raises(sqlite3.IntegrityError, match="cannot be removed"):
        conn.execute("DELETE FROM audit WHERE position = 3")
    conn.close()


def test_a_changed_detail_is_found_and_named(five, hub_app, hub_cli, hub_storage):
    tamper(hub_app, """UPDATE audit SET detail = '{"changes":0}' WHERE position = 3""")
    assert [(p.position, p.kind) for p in verify(entries(hub_storage))] == [(3, "changed")]
    code, out, err = hub_cli("audit", "verify")
    assert code == 1
    assert out.splitlines() == ["Posisi 3: entri 3 diubah: isinya tidak cocok dengan hash-nya."]
    assert "rusak" in err


def test_a_deleted_middle_entry_is_found_and_named(five, hub_app, hub_storage):
    tamper(hub_app, "DELETE FROM audit WHERE position = 3")
    assert [(p.position, p.kind) for p in verify(entries(hub_storage))] == [(3, "removed")]


def test_two_swapped_entries_are_found_and_named(five, hub_app, hub_cli, hub_storage):
    columns = "at, actor, device_id, action, detail, prev_hash, hash"
    tamper(
        hub_app,
        f"CREATE TEMP TABLE keep AS SELECT position, {columns} FROM audit",
        *(
            f"UPDATE audit SET ({columns}) = (SELECT {columns} FROM keep WHERE position = {b})"
            f" WHERE position = {a}"
            for a, b in ((2, 4), (4, 2))
        ),
    )
    problems = verify(entries(hub_storage))
    assert [(p.position, p.kind) for p in problems] == [(2, "reordered"), (4, "reordered")]
    code, out, _ = hub_cli("audit", "verify", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["intact"] is False
    assert [p["position"] for p in report["problems"]] == [2, 4]
    assert "semula di posisi 4" in report["problems"][0]["message"]


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(five, hub_app, hub_storage):
    entry = five[2]  # a forger gives position 3 new content and its correct hash
    forged = chain_hash(3, entry.at, "someone", None, entry.action, "{}", entry.prev_hash)
    tamper(
        hub_app,
        f"UPDATE audit SET actor = 'someone', device_id = NULL, detail = '{{}}',"
        f" hash = '{forged}' WHERE position = 3",
    )
    problems = verify(entries(hub_storage))
    assert [(p.position, p.kind) for p in problems] == [(4, "broken_link")]
    assert "entri 3 ditulis ulang" in problems[0].message


def test_a_removed_last_entry_is_not_seen_but_moves_the_head(five, hub_app, hub_cli, hub_storage):
    """The documented limit: a truncated tail leaves a valid chain. Only the head the office
    wrote down (or any later entry's existence elsewhere) shows it."""
    tamper(hub_app, "DELETE FROM audit WHERE position = 5")
    assert verify(entries(hub_storage)) == []
    code, out, _ = hub_cli("audit", "verify", "--json")
    assert code == 0
    assert json.loads(out)["head"] == {"position": 4, "hash": five[3].hash}


# -- audit list --------------------------------------------------------------------------------


def test_audit_list_shows_the_newest_entries_oldest_first(five, hub_cli):
    code, out, _ = hub_cli("audit", "list", "--limit", "2")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["#4", "#5"]
    assert " siti " in lines[0] and " push " in lines[0]


def test_audit_list_as_json_decodes_the_detail(five, hub_cli):
    _, out, _ = hub_cli("audit", "list", "--json")
    listed = json.loads(out)
    assert [e["position"] for e in listed] == [1, 2, 3, 4, 5]
    assert listed[2]["detail"]["statuses"] == {"applied": 1}
    assert listed[4]["hash"] == five[4].hash


def test_audit_list_of_an_empty_log_says_so(hub_cli, hub_storage):
    hub_storage.add_user(User("ani", "admin", ()), "2026-11-23T00:00:00.000Z")
    code, out, _ = hub_cli("audit", "list")
    assert (code, out.strip()) == (0, "Log audit masih kosong.")
