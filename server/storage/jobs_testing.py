"""The contract of :class:`~server.storage.jobs.JobStore`, run by every backend through
:class:`server.storage.testing.StorageContract` (``storage.jobs``)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from server.audit import AuditEvent, verify
from server.storage.base import BackupUnsupported, Device, HubStorage, StorageError, User

__all__ = ["JobStoreContract"]

T0 = "2026-12-01T00:00:00.000Z"
T1 = "2026-12-01T00:00:05.000Z"
T2 = "2026-12-02T00:00:00.000Z"


def _event(action: str = "job_run") -> AuditEvent:
    return AuditEvent(T1, "hub", action, {"job": "backup"})


def _enrol(storage: HubStorage, name: str) -> Device:
    storage.add_user(User(f"user-{name}", "pendamping", ("31.71.01",)), T0)
    storage.add_enroll_code(f"code-{name}", f"user-{name}", T0, "2099-01-01T00:00:00.000Z")
    return storage.redeem_enroll_code(f"code-{name}", T0, f"dev-{name}", name, f"tok-{name}")


class JobStoreContract:
    """Needs the fixture ``storage`` (a :class:`HubStorage`)."""

    def test_an_occurrence_is_claimed_once(self, storage: HubStorage):
        assert storage.jobs.claim_run("backup", T0, "a", T0)
        assert not storage.jobs.claim_run("backup", T0, "b", T0)
        assert not storage.jobs.claim_run("backup", T0, "a", T0)
        assert storage.jobs.claim_run("backup", T2, "b", T2)  # the next occurrence
        assert storage.jobs.claim_run("silent_laptops", T0, "b", T0)  # another job

    def test_of_many_threads_claiming_one_occurrence_exactly_one_wins(self, storage: HubStorage):
        results: list[bool] = []
        lock = threading.Lock()

        def claim(owner: str) -> None:
            won = storage.jobs.claim_run("backup", T0, owner, T0)
            with lock:
                results.append(won)

        threads = [threading.Thread(target=claim, args=(f"o{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] * 7 + [True]

    def test_a_finished_run_keeps_its_outcome_and_appends_its_entry(self, storage: HubStorage):
        storage.jobs.claim_run("backup", T0, "a", T0)
        assert storage.jobs.running()[0].outcome == "running"
        assert storage.jobs.finish_run("backup", T0, "failed", "disk penuh", T1, _event())
        run = storage.jobs.last_runs()["backup"]
        assert (run.owner, run.outcome, run.message, run.finished_at) == (
            "a",
            "failed",
            "disk penuh",
            T1,
        )
        assert storage.jobs.running() == []
        entries = list(storage.iter_audit())
        assert [e.action for e in entries] == ["job_run"] and not verify(entries)

    def test_finishing_twice_or_an_unknown_run_writes_nothing(self, storage: HubStorage):
        storage.jobs.claim_run("backup", T0, "a", T0)
        assert storage.jobs.finish_run("backup", T0, "interrupted", "", T1, _event())
        assert not storage.jobs.finish_run("backup", T0, "ok", "late", T1, _event())
        assert not storage.jobs.finish_run("backup", T2, "ok", "", T1, _event())
        assert storage.jobs.last_runs()["backup"].outcome == "interrupted"
        assert len(list(storage.iter_audit())) == 1

    def test_the_last_run_of_each_job_is_its_latest_occurrence(self, storage: HubStorage):
        for when in (T0, T2):
            storage.jobs.claim_run("backup", when, "a", when)
        storage.jobs.claim_run("silent_laptops", T0, "a", T0)
        last = storage.jobs.last_runs()
        assert (last["backup"].scheduled_for, last["silent_laptops"].scheduled_for) == (T2, T0)
        assert [r.scheduled_for for r in storage.jobs.runs("backup")] == [T2, T0]
        assert [r.scheduled_for for r in storage.jobs.runs("backup", limit=1)] == [T2]

    def test_silent_flags_keep_their_first_time_and_clear_when_gone(self, storage: HubStorage):
        a, b, c = (_enrol(storage, n) for n in "abc")
        assert storage.jobs.set_silent_devices([a.device_id, b.device_id], T0, _event("s")) == (
            2,
            0,
        )
        assert storage.jobs.set_silent_devices([b.device_id, c.device_id], T2, _event("s")) == (
            1,
            1,
        )
        flagged = {s.device_id: s for s in storage.jobs.silent_devices()}
        assert set(flagged) == {b.device_id, c.device_id}
        assert (flagged[b.device_id].flagged_at, flagged[c.device_id].flagged_at) == (T0, T2)
        assert flagged[b.device_id].user_name == "user-b"
        assert flagged[b.device_id].device_name == "b"
        last = list(storage.iter_audit())[-1]
        assert last.action == "s"
        assert '"cleared":1' in last.detail and '"flagged":1' in last.detail
        assert '"silent":2' in last.detail

    @staticmethod
    def _needs_file_backups(storage: HubStorage) -> None:
        if not storage.jobs.file_backups:
            pytest.skip("this backend's database is backed up by its server's own tools")

    def test_a_backup_is_one_consistent_file_of_the_whole_database(
        self, storage: HubStorage, tmp_path: Path
    ):
        self._needs_file_backups(storage)
        _enrol(storage, "a")
        storage.jobs.claim_run("backup", T0, "a", T0)
        target = tmp_path / "copy.sqlite3"
        storage.jobs.backup_into(target)
        assert not Path(f"{target}-wal").exists()
        conn = sqlite3.connect(target)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            assert conn.execute("SELECT count(*) FROM devices").fetchone()[0] == 1
            assert conn.execute("SELECT count(*) FROM job_runs").fetchone()[0] == 1
        finally:
            conn.close()

    def test_a_backup_never_overwrites_a_file(self, storage: HubStorage, tmp_path: Path):
        self._needs_file_backups(storage)
        target = tmp_path / "taken.sqlite3"
        target.write_bytes(b"keep me")
        with pytest.raises(StorageError):
            storage.jobs.backup_into(target)
        assert target.read_bytes() == b"keep me"

    def test_a_backend_without_file_backups_says_so_and_writes_nothing(
        self, storage: HubStorage, tmp_path: Path
    ):
        if storage.jobs.file_backups:
            pytest.skip("this backend makes file backups (the tests above)")
        folder = tmp_path / "backups"
        folder.mkdir()
        with pytest.raises(BackupUnsupported):
            storage.jobs.backup_into(folder / "copy.sqlite3")
        assert list(folder.iterdir()) == []
