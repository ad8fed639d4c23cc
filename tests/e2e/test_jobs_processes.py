"""The hub's jobs and a restore against real `pendamping-hub serve` processes: one scheduler
per hub however many processes serve it, a new runner after the holder is killed, a failing
job that leaves the hub serving, and a restore refused while the hub serves."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from client_sync import FieldDevice
from server.storage import JobRun
from server.storage.sqlite import SQLiteStorage
from tests.conftest import beneficiary
from tests.support.served_hub import ServedHub

pytestmark = pytest.mark.e2e

EVERY_SECOND = "* * * * * *"


def _configure(data: Path, **settings: object) -> None:
    lines = [f"{name} = {value!r}" for name, value in settings.items()]
    (data / "hub.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _runs(data: Path, job_id: str) -> list[JobRun]:
    """The job's runs, oldest first, read as another program would."""
    storage = SQLiteStorage(data / "hub.sqlite3")
    try:
        return list(reversed(storage.jobs.runs(job_id, limit=1000)))
    finally:
        storage.close()


def _audited(data: Path, action: str) -> int:
    storage = SQLiteStorage(data / "hub.sqlite3")
    try:
        return sum(1 for entry in storage.iter_audit() if entry.action == action)
    finally:
        storage.close()


def _pid(run: JobRun) -> int:
    return int(run.owner.split(":")[1])


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "hub"
    ServedHub(data).cli("init")
    return data


@pytest.fixture
def hubs(folder: Path, tmp_path: Path) -> Iterator[list[ServedHub]]:
    made = [ServedHub(folder) for _ in range(2)]
    yield made
    for hub in made:
        hub.kill()


def test_two_hub_processes_run_each_occurrence_once_and_a_survivor_takes_over(
    folder: Path, hubs: list[ServedHub], tmp_path: Path
):
    _configure(folder, JOB_SILENT_LAPTOPS_AT=EVERY_SECOND, JOB_BACKUP_AT="", JOBS_LEASE_TTL_S=2)
    first, second = hubs
    first.start(jobs=True, log=tmp_path / "first.log")
    _wait_for(lambda: len(_runs(folder, "silent_laptops")) >= 2, 20, "the first runs")
    second.start(jobs=True, log=tmp_path / "second.log")
    started = len(_runs(folder, "silent_laptops"))
    _wait_for(lambda: len(_runs(folder, "silent_laptops")) >= started + 5, 30, "more runs")

    runs = _runs(folder, "silent_laptops")
    assert {_pid(run) for run in runs} == {first.process.pid}  # one runner while both live
    keys = [run.scheduled_for for run in runs]
    assert len(keys) == len(set(keys))
    assert all(run.outcome == "ok" for run in runs[:-1])
    # each run did its work once: one audited flagging per finished run, no more
    finished = [run for run in _runs(folder, "silent_laptops") if run.outcome == "ok"]
    assert _audited(folder, "silent_laptops") == len(finished)

    first.kill()  # as a crash would: its lease is never given up, it lapses
    killed_at = len(_runs(folder, "silent_laptops"))
    _wait_for(
        lambda: any(_pid(r) == second.process.pid for r in _runs(folder, "silent_laptops")),
        20,
        "the survivor to run the job",
    )
    _wait_for(lambda: len(_runs(folder, "silent_laptops")) >= killed_at + 3, 20, "its runs")
    after = _runs(folder, "silent_laptops")[killed_at:]
    assert {_pid(run) for run in after} == {second.process.pid}
    keys = [run.scheduled_for for run in _runs(folder, "silent_laptops")]
    assert len(keys) == len(set(keys))


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn: several workers need POSIX")
def test_the_workers_of_one_hub_share_one_runner(folder: Path, tmp_path: Path):
    _configure(folder, JOB_SILENT_LAPTOPS_AT=EVERY_SECOND, JOB_BACKUP_AT="", JOBS_LEASE_TTL_S=2)
    hub = ServedHub(folder)
    try:
        hub.start(workers=3, jobs=True, log=tmp_path / "hub.log")
        _wait_for(lambda: len(_runs(folder, "silent_laptops")) >= 5, 30, "five runs")
        runs = _runs(folder, "silent_laptops")
        assert len({run.owner for run in runs}) == 1
        keys = [run.scheduled_for for run in runs]
        assert len(keys) == len(set(keys))
    finally:
        hub.kill()


def test_a_failing_job_is_recorded_and_the_hub_keeps_serving(
    folder: Path, hubs: list[ServedHub], tmp_path: Path
):
    not_a_folder = tmp_path / "cadangan"
    not_a_folder.write_text("a file where the backups should go")
    _configure(
        folder,
        JOB_SILENT_LAPTOPS_AT="",
        JOB_BACKUP_AT="*/2 * * * * *",
        BACKUP_DIR=str(not_a_folder),
        JOBS_LEASE_TTL_S=2,
    )
    hub = hubs[0]
    hub.start(jobs=True, log=tmp_path / "hub.log")
    _wait_for(lambda: len(_runs(folder, "backup")) >= 2, 20, "two backup runs")
    failed = [run for run in _runs(folder, "backup") if run.outcome != "running"]
    assert failed and all(run.outcome == "failed" for run in failed)
    assert "cadangan gagal dibuat" in failed[0].message
    assert _audited(folder, "job_run") >= len(failed)

    assert requests.get(hub.url + "/api/v1/health", timeout=5).ok
    code = hub.enroll_code("siti")
    with FieldDevice.enroll(
        tmp_path / "laptop", hub.url, code, "laptop-siti", passphrase=""
    ) as dev:
        dev.store.add("beneficiary", beneficiary())
        assert dev.sync().pushed == 1
    listed = json.loads(hub.cli("jobs", "--json"))
    backup = next(row for row in listed["jobs"] if row["job"] == "backup")
    assert backup["last_run"]["outcome"] in ("failed", "running")
    assert hub.process is not None and hub.process.poll() is None


def _restore(data: Path, file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(data), "restore", str(file)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_restore_is_refused_while_the_hub_serves_and_works_once_it_stopped(
    folder: Path, hubs: list[ServedHub], tmp_path: Path
):
    hub = hubs[0]
    hub.start()
    backup = tmp_path / "hub-kantor.sqlite3"
    printed = hub.cli("backup", "--out", str(backup))  # online, while it serves
    assert f"Cadangan dibuat: {backup}" in printed
    done = _restore(folder, backup)
    assert done.returncode == 3, done.stderr
    assert "hub sedang berjalan" in done.stderr and "Tidak ada yang diganti" in done.stderr
    assert not list(folder.glob("hub.sqlite3.before-restore-*"))
    assert requests.get(hub.url + "/api/v1/health", timeout=5).ok

    hub.stop()
    done = _restore(folder, backup)
    assert done.returncode == 0, done.stderr
    assert "Hub dipulihkan dari" in done.stdout
    assert len(list(folder.glob("hub.sqlite3.before-restore-*"))) == 1
    hub.start()  # and the hub serves the restored database
    assert requests.get(hub.url + "/api/v1/health", timeout=5).ok


def test_a_hub_does_not_start_while_a_restore_holds_the_folder(folder: Path, tmp_path: Path):
    from server.serving import restore_guard

    hub = ServedHub(folder)
    with restore_guard(folder), pytest.raises(RuntimeError, match="pemulihan"):
        hub.start(log=tmp_path / "hub.log")
    hub.start()
    hub.kill()
