"""`pendamping-hub backup | restore`: an online backup is whole while laptops push, and a
restore checks the file before it replaces anything (server/jobs/backup.py, docs/jobs.md)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from client_sync import FieldDevice
from server.audit import verify
from server.cli import main
from server.cli.exit_codes import EXIT_FAILED, EXIT_SERVING
from server.jobs.backup import BackupFailed, make_backup, prune_backups
from server.serving import hold_serving_mark
from server.storage import HubStorage
from server.storage.sqlite import SQLiteStorage
from server.storage.sqlite_backup import check_file
from tests.conftest import beneficiary
from tests.support.transports import WsgiTransport


@pytest.fixture
def hub_cli(hub_app: Flask, capsys) -> Callable[..., tuple[int, str, str]]:
    """`pendamping-hub --data <the hub_app's folder> ARGS...`."""

    def run(*args: Any) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--data", hub_app.config["DATA_DIR"], *[str(a) for a in args]])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def siti(laptops) -> Iterator[FieldDevice]:
    dev = laptops.enroll("siti")
    yield dev
    dev.close()


def _data(hub_app: Flask) -> Path:
    return Path(hub_app.config["DATA_DIR"])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _beneficiaries(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT count(*) FROM records WHERE entity = 'beneficiary' AND deleted = 0"
        ).fetchone()[0]
    finally:
        conn.close()


def _nik(n: int) -> str:
    """A distinct valid NIK per number (the last four digits are its order, never 0000)."""
    return f"317101450845{n + 1:04d}"


def _synced(dev: FieldDevice, count: int) -> None:
    for n in range(count):
        dev.store.add("beneficiary", beneficiary(name=f"Ibu {n}", nik=_nik(n)))
    dev.sync()


# -- backup -----------------------------------------------------------------------------------


def test_a_backup_taken_while_a_laptop_pushes_is_whole_and_its_chain_verifies(
    hub_app: Flask, hub_storage: HubStorage, siti: FieldDevice, tmp_path: Path
):
    _synced(siti, 5)
    stop = threading.Event()
    pushed: list[int] = []
    failures: list[BaseException] = []

    def push() -> None:  # the laptop in a thread of its own, as a second program
        n = 100
        try:
            with FieldDevice.open(siti.home, lambda _url: WsgiTransport(hub_app)) as laptop:
                while not stop.is_set():
                    for _ in range(5):
                        laptop.store.add("beneficiary", beneficiary(name=f"Pak {n}", nik=_nik(n)))
                        n += 1
                    laptop.sync()
                    pushed.append(n)
        except BaseException as exc:  # reported below, in the test's own thread
            failures.append(exc)

    pusher = threading.Thread(target=push)
    pusher.start()
    try:
        backups = []
        while len(backups) < 4 or len(pushed) < 3:
            before = hub_storage.stats()["records"]["beneficiary"]
            result = make_backup(hub_storage, tmp_path / f"b{len(backups)}.sqlite3")
            after = hub_storage.stats()["records"]["beneficiary"]
            backups.append((result, before, after))
            assert len(backups) < 200 and not failures, failures
    finally:
        stop.set()
        pusher.join(timeout=60)
    assert not failures, failures
    for result, before, after in backups:
        check = check_file(result.path)  # checked again, from the file alone
        assert check.ok, check.problems
        assert before <= check.records["beneficiary"] <= after
        conn = sqlite3.connect(result.path)
        try:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            changes = conn.execute("SELECT count(*) FROM changes").fetchone()[0]
        finally:
            conn.close()
        assert changes >= check.records["beneficiary"]  # no record without its change
    assert {b[0].check.records["beneficiary"] for b in backups} != {5}, "no push during backups"


def test_the_backup_command_prints_its_path_and_the_record_count(
    hub_app: Flask, hub_cli, siti: FieldDevice
):
    _synced(siti, 3)
    code, out, err = hub_cli("backup")
    assert code == 0, err
    path = Path(out.splitlines()[0].split(": ", 1)[1])
    assert path.parent == _data(hub_app) / "backups"
    assert path.name.startswith("hub-") and path.suffix == ".sqlite3"
    assert "3 data (3 penerima manfaat, 0 kunjungan, 0 permohonan alat)" in out
    assert _beneficiaries(path) == 3
    assert [p.name for p in path.parent.iterdir() if p.is_file()] == [path.name]


def test_backup_out_never_overwrites_a_file(hub_cli, tmp_path: Path):
    taken = tmp_path / "taken.sqlite3"
    taken.write_bytes(b"keep")
    code, _, err = hub_cli("backup", "--out", taken)
    assert code == EXIT_FAILED and "sudah ada" in err
    assert taken.read_bytes() == b"keep"


def test_a_backup_of_a_hub_whose_chain_is_broken_fails_and_leaves_no_backup(
    hub_app: Flask, hub_cli, siti: FieldDevice, tmp_path: Path
):
    _synced(siti, 2)
    conn = sqlite3.connect(_data(hub_app) / "hub.sqlite3")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'someone-else' WHERE position = 1")
    conn.commit()
    conn.close()
    folder = tmp_path / "out"
    folder.mkdir()
    code, _, err = hub_cli("backup", "--out", folder)
    assert code == EXIT_FAILED
    assert "rantai audit rusak" in err and "entri 1 diubah" in err
    assert list(folder.iterdir()) == []  # not even the half-written file


def test_photos_are_copied_beside_the_backup_once_each(hub_app: Flask, tmp_path: Path):
    blobs = _data(hub_app) / "attachments" / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    for content in (b"foto rumah", b"foto serah terima"):
        digest = hashlib.sha256(content).hexdigest()
        (blobs / digest).write_bytes(content)
        (blobs / f"{digest}.json").write_text("{}")
    storage = hub_app.extensions["pendamping"].storage
    first = make_backup(storage, tmp_path / "b" / "one.sqlite3", _data(hub_app) / "attachments")
    second = make_backup(storage, tmp_path / "b" / "two.sqlite3", _data(hub_app) / "attachments")
    assert (first.photos_copied, first.photos_total) == (2, 2)
    assert (second.photos_copied, second.photos_total) == (0, 2)
    copied = sorted(p.name for p in (tmp_path / "b" / "attachments" / "blobs").iterdir())
    assert copied == sorted(p.name for p in blobs.iterdir())


# -- retention --------------------------------------------------------------------------------


def test_pruning_keeps_the_newest_and_touches_nothing_else(tmp_path: Path):
    names = [f"hub-202612{d:02d}-013000.sqlite3" for d in range(1, 8)]
    for name in [*names, "hub.sqlite3.before-restore-x", "mine.sqlite3", "notes.txt"]:
        (tmp_path / name).write_text("x")
    deleted = prune_backups(tmp_path, 3)
    assert [p.name for p in deleted] == names[:4]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*names[4:], "hub.sqlite3.before-restore-x", "mine.sqlite3", "notes.txt"])


def test_pruning_never_deletes_the_newest_backup(tmp_path: Path):
    for day in (1, 2):
        (tmp_path / f"hub-2026120{day}-013000.sqlite3").write_text("x")
    prune_backups(tmp_path, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["hub-20261202-013000.sqlite3"]


# -- restore ----------------------------------------------------------------------------------


@pytest.fixture
def a_backup(hub_app: Flask, hub_storage: HubStorage, siti: FieldDevice, tmp_path: Path) -> Path:
    """A backup of a hub holding 3 beneficiaries, which then gets 2 more."""
    _synced(siti, 3)
    path = make_backup(hub_storage, tmp_path / "kept" / "hub-backup.sqlite3").path
    _synced(siti, 2)
    return path


def test_a_restore_brings_the_backup_back_and_keeps_the_replaced_database(
    hub_app: Flask, hub_storage: HubStorage, hub_cli, a_backup: Path
):
    hub_storage.close()  # the hub is stopped for a restore
    data = _data(hub_app)
    old_digest = _digest(data / "hub.sqlite3")
    code, out, err = hub_cli("restore", a_backup)
    assert code == 0, err
    assert f"Hub dipulihkan dari {a_backup}" in out
    asides = list(data.glob("hub.sqlite3.before-restore-*"))
    assert len(asides) == 1 and f"disimpan sebagai {asides[0]}" in out
    assert _beneficiaries(asides[0]) == 5  # the replaced one, whole (its WAL folded in)
    assert _beneficiaries(data / "hub.sqlite3") == 3
    assert old_digest != _digest(data / "hub.sqlite3")
    restored = SQLiteStorage(data / "hub.sqlite3")
    try:
        entries = list(restored.iter_audit())
        assert not verify(entries)
        assert entries[-1].action == "restore" and entries[-1].actor.startswith("cli:")
    finally:
        restored.close()
    assert not list(data.glob("*.restoring-*"))


def _state(data: Path) -> dict[str, str]:
    """Every file of the data folder's database, by name, with its digest."""
    return {p.name: _digest(p) for p in sorted(data.glob("hub.sqlite3*"))}


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "tidak ada yang"),
        (lambda p: p.write_bytes(b"bukan basis data" * 100), "bukan basis data SQLite"),
    ],
    ids=["truncated", "not-sqlite"],
)
def test_a_damaged_file_is_refused_and_nothing_is_replaced(
    hub_app: Flask, hub_storage: HubStorage, hub_cli, a_backup: Path, spoil, said
):
    hub_storage.close()
    spoil(a_backup)
    before = _state(_data(hub_app))
    code, _, err = hub_cli("restore", a_backup)
    assert code == EXIT_FAILED
    assert "tidak ada yang diganti" in err and said in err
    assert _state(_data(hub_app)) == before
    assert not list(_data(hub_app).glob("*.restoring-*"))


def test_a_flipped_page_is_refused(hub_app: Flask, hub_storage: HubStorage, hub_cli, a_backup):
    hub_storage.close()
    raw = bytearray(a_backup.read_bytes())
    page = 4096
    conn = sqlite3.connect(a_backup)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'records'").fetchone()
    conn.close()
    start = (root - 1) * page
    raw[start : start + 16] = b"\xff" * 16  # a b-tree page header gone bad
    a_backup.write_bytes(bytes(raw))
    before = _state(_data(hub_app))
    code, _, err = hub_cli("restore", a_backup)
    assert code == EXIT_FAILED and "tidak ada yang diganti" in err
    assert _state(_data(hub_app)) == before


def test_a_foreign_database_is_refused(hub_app: Flask, hub_storage, hub_cli, tmp_path: Path):
    hub_storage.close()
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE pelanggan (nama TEXT)")
    conn.commit()
    conn.close()
    before = _state(_data(hub_app))
    code, _, err = hub_cli("restore", other)
    assert code == EXIT_FAILED and "bukan basis data hub" in err
    assert _state(_data(hub_app)) == before


def test_a_database_of_a_newer_hub_is_refused(hub_app: Flask, hub_storage, hub_cli, a_backup):
    hub_storage.close()
    conn = sqlite3.connect(a_backup)
    conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future', 'x')")
    conn.commit()
    conn.close()
    before = _state(_data(hub_app))
    code, _, err = hub_cli("restore", a_backup)
    assert code == EXIT_FAILED and "9999 9999_future" in err
    assert _state(_data(hub_app)) == before


def test_a_backup_whose_chain_was_tampered_with_is_refused(
    hub_app: Flask, hub_storage, hub_cli, a_backup
):
    hub_storage.close()
    conn = sqlite3.connect(a_backup)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE position = 2")
    conn.commit()
    conn.close()
    before = _state(_data(hub_app))
    code, _, err = hub_cli("restore", a_backup)
    assert code == EXIT_FAILED and "rantai audit rusak" in err and "entri 2 hilang" in err
    assert _state(_data(hub_app)) == before


def test_a_missing_file_is_refused(hub_app: Flask, hub_storage, hub_cli, tmp_path: Path):
    hub_storage.close()
    code, _, err = hub_cli("restore", tmp_path / "nowhere.sqlite3")
    assert code == EXIT_FAILED and "tidak ada" in err


def test_a_restore_is_refused_while_a_hub_process_serves_the_folder(
    hub_app: Flask, hub_storage, hub_cli, a_backup: Path
):
    hub_storage.close()
    mark = hold_serving_mark(_data(hub_app))  # what `serve` holds
    try:
        before = _state(_data(hub_app))
        code, _, err = hub_cli("restore", a_backup)
        assert code == EXIT_SERVING
        assert "hub sedang berjalan" in err and "Tidak ada yang diganti" in err
        assert _state(_data(hub_app)) == before
    finally:
        mark.release()
    code, _, err = hub_cli("restore", a_backup)
    assert code == 0, err


def test_a_mark_left_by_a_dead_hub_does_not_block_a_restore(
    hub_app: Flask, hub_storage, hub_cli, a_backup: Path
):
    hub_storage.close()
    stale = _data(hub_app) / "serving" / "laptop-kantor-4242-abcd.lock"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("laptop-kantor-4242\n")  # nobody holds its lock
    code, _, err = hub_cli("restore", a_backup)
    assert code == 0, err
    assert not stale.exists()


def test_photos_beside_a_backup_come_back_and_a_spoilt_one_is_refused(
    hub_app: Flask, hub_storage, hub_cli, a_backup: Path
):
    hub_storage.close()
    beside = a_backup.parent / "attachments" / "blobs"
    beside.mkdir(parents=True)
    good, bad = b"foto rumah", b"foto lain"
    (beside / hashlib.sha256(good).hexdigest()).write_bytes(good)
    code, out, err = hub_cli("restore", a_backup)
    assert code == 0, err
    assert "Foto: 1 dikembalikan" in out
    hub_blobs = _data(hub_app) / "attachments" / "blobs"
    assert (hub_blobs / hashlib.sha256(good).hexdigest()).read_bytes() == good
    (beside / hashlib.sha256(bad).hexdigest()).write_bytes(b"tertukar")
    code, out, err = hub_cli("restore", a_backup)
    assert code == 0, err
    assert "rusak" in err
    assert not (hub_blobs / hashlib.sha256(bad).hexdigest()).exists()


def test_backup_failed_is_what_a_storage_failure_becomes(hub_storage, tmp_path: Path):
    hub_storage.close()
    broken = SQLiteStorage(tmp_path / "missing-folder" / "hub.sqlite3")
    with pytest.raises(BackupFailed):
        make_backup(broken, tmp_path / "b.sqlite3")
    assert not (tmp_path / "b.sqlite3").exists()


def test_a_backup_restores_onto_a_new_machines_empty_folder(a_backup: Path, tmp_path: Path, capsys):
    fresh = tmp_path / "komputer-baru"
    capsys.readouterr()
    assert main(["--data", str(fresh), "restore", str(a_backup)]) == 0
    out = capsys.readouterr().out
    assert "Hub dipulihkan" in out and "sebelumnya" not in out
    assert _beneficiaries(fresh / "hub.sqlite3") == 3
    assert list(fresh.glob("hub.sqlite3.before-restore-*")) == []
