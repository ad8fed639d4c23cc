"""The hub's jobs in one process: the lease, the claims, the outcomes, and each job's work
(server/jobs/). Two runners on two storages of one data folder stand for two processes here;
tests/e2e/test_jobs_processes.py runs real ones."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server.audit import verify
from server.cli import main
from server.jobs import Job, JobRunner, ScheduleError, hub_jobs
from server.jobs.monthly import MONTHLY_KINDS, export_month, monthly_exporter, previous_month
from server.jobs.schedule import hub_timezone, latest_occurrence, parse_schedule
from server.jobs.tasks import JobContext, monthly_export, silent_device_ids, silent_laptops
from server.storage import Device, HubStorage, User
from server.storage.sqlite import SQLiteStorage
from tests.conftest import beneficiary, visit

WIB = hub_timezone(7)
NOW = 1_800_000_000.0
AT_TWO = datetime(2026, 12, 7, 2, 0, tzinfo=WIB)


class Clock:
    """Wall-clock seconds moved by hand (the lease's clock)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "hub"


@pytest.fixture
def storages(folder: Path) -> Iterator[list[SQLiteStorage]]:
    """Two storages on one hub database: the two processes of a hub."""
    folder.mkdir()
    made = [SQLiteStorage(folder / "hub.sqlite3") for _ in range(2)]
    made[0].migrate()
    yield made
    for storage in made:
        storage.close()


def _job(func: Callable[[JobContext], str], job_id: str = "backup") -> Job:
    return Job(
        job_id, "Cadangan malam", "JOB_BACKUP_AT", func, parse_schedule("X", "0 2 * * *", WIB)
    )


def _runner(storage: HubStorage, jobs: list[Job], clock: Clock, name: str) -> JobRunner:
    config = {"WEB_SILENT_DAYS": 7, "BACKUP_KEEP": 3}
    # no catch-up unless a test asks: whatever the real time, nothing runs by itself
    return JobRunner(
        storage, jobs, config, Path("."), WIB, owner=name, lease_ttl_s=30, catch_up_s=0, wall=clock
    )


def _runs(storage: HubStorage) -> list[tuple[str, str, str]]:
    return [(r.scheduled_for, r.owner, r.outcome) for r in storage.jobs.runs("backup")]


# -- the lease and the claims -----------------------------------------------------------------


def test_only_the_lease_holder_runs_an_occurrence_and_only_once(storages, clock):
    done: list[str] = []
    job = _job(lambda ctx: done.append(ctx.occurrence.isoformat()) or "selesai")
    a, b = (_runner(s, [job], clock, n) for s, n in zip(storages, "ab", strict=True))
    assert a.heartbeat() and not b.heartbeat()
    assert b.run(job, AT_TWO) is None  # not the holder
    run = a.run(job, AT_TWO)
    assert run is not None and (run.outcome, run.message, run.owner) == ("ok", "selesai", "a")
    assert a.run(job, AT_TWO) is None  # claimed already: never twice
    assert done == [AT_TWO.isoformat()]
    assert _runs(storages[0]) == [("2026-12-06T19:00:00.000Z", "a", "ok")]


def test_a_holder_that_stalled_past_its_lease_cannot_run_what_its_successor_claimed(
    storages, clock
):
    done: list[str] = []
    job = _job(lambda ctx: done.append("x") or "selesai")
    a, b = (_runner(s, [job], clock, n) for s, n in zip(storages, "ab", strict=True))
    a.heartbeat()
    clock.now += 31  # a stalls: its lease lapses and b takes it
    assert b.heartbeat()
    b.run(job, AT_TWO)
    assert a.run(job, AT_TWO) is None  # a wakes up: not the holder
    assert storages[0].jobs.claim_run("backup", "2026-12-06T19:00:00.000Z", "a", "t") is False
    assert done == ["x"]


def test_a_successor_marks_the_dead_holders_run_interrupted_and_catches_up(storages, clock):
    job = _job(lambda ctx: "selesai")
    a, b = (_runner(s, [job], clock, n) for s, n in zip(storages, "ab", strict=True))
    b.catch_up_s = 10 * 365 * 86400.0  # whatever today is, the last 02:00 is within it
    a.heartbeat()
    storages[0].jobs.claim_run("backup", "2026-01-01T19:00:00.000Z", "a", "t")  # a dies mid-run
    assert not b.heartbeat()
    clock.now += 30
    assert b.heartbeat()  # takes over: interrupts a's run, runs the latest missed 02:00
    runs = storages[1].jobs.runs("backup")
    assert runs[-1].outcome == "interrupted" and "proses a berhenti" in runs[-1].message
    latest = latest_occurrence(job.trigger, datetime.now(WIB), b.catch_up_s)
    assert (runs[0].scheduled_for, runs[0].owner, runs[0].outcome)[1:] == ("b", "ok")
    assert latest is not None and runs[0].scheduled_for.startswith(
        latest.astimezone(hub_timezone(0)).strftime("%Y-%m-%dT%H")
    )
    assert not verify(list(storages[1].iter_audit()))


def test_a_missed_occurrence_is_caught_up_only_within_the_window(storages, clock):
    past = datetime.now(WIB) - timedelta(hours=2)
    line = f"{past.minute} {past.hour} * * *"  # fired two hours ago, nobody ran it
    job = Job("backup", "t", "X", lambda ctx: "x", parse_schedule("X", line, WIB))
    narrow = _runner(storages[0], [job], clock, "a")
    narrow.catch_up_s = 3600.0
    assert narrow.heartbeat()
    assert storages[0].jobs.runs("backup") == []
    narrow.stop()
    wide = _runner(storages[1], [job], clock, "b")
    wide.catch_up_s = 3 * 3600.0
    assert wide.heartbeat()
    assert [(r.owner, r.outcome) for r in storages[1].jobs.runs("backup")] == [("b", "ok")]


def test_a_failing_job_is_recorded_and_audited_and_raises_nothing(storages, clock):
    def broken(ctx: JobContext) -> str:
        raise OSError("disk penuh")

    job = _job(broken)
    runner = _runner(storages[0], [job], clock, "a")
    runner.heartbeat()
    run = runner.run(job, AT_TWO)
    assert run is not None and run.outcome == "failed"
    assert run.message == "OSError: disk penuh"
    entry = list(storages[0].iter_audit())[-1]
    assert (entry.actor, entry.action) == ("hub", "job_run")
    assert json.loads(entry.detail)["outcome"] == "failed"
    assert runner.run(_job(lambda ctx: "ok"), AT_TWO + timedelta(days=1)).outcome == "ok"


def test_a_stopped_runner_gives_its_lease_up_at_once(storages, clock):
    a, b = (_runner(s, [], clock, n) for s, n in zip(storages, "ab", strict=True))
    a.heartbeat()
    a.stop()
    assert b.heartbeat()


# -- the jobs ---------------------------------------------------------------------------------


def _device(device_id: str, **times: Any) -> Device:
    fields = {"last_seen_at": None, "last_sync_at": None, "revoked_at": None, **times}
    return Device(
        device_id, User("u", "pendamping", ()), device_id, "2026-01-01T00:00:00Z", **fields
    )


def test_silent_laptops_are_never_synced_or_unheard_of_for_longer_than_the_days():
    now = datetime.fromisoformat("2026-12-10T00:00:00+00:00")
    devices = [
        _device("never"),
        _device("old", last_sync_at="2026-12-01T00:00:00Z", last_seen_at="2026-12-02T00:00:00Z"),
        _device("seen", last_sync_at="2026-12-01T00:00:00Z", last_seen_at="2026-12-09T00:00:00Z"),
        _device("fresh", last_sync_at="2026-12-09T00:00:00Z"),
        _device("revoked", revoked_at="2026-12-05T00:00:00Z"),
    ]
    assert silent_device_ids(devices, now, 7) == ["never", "old"]


def test_the_silent_job_flags_where_the_office_reads_them_and_audits(
    hub_app: Flask, hub_storage: HubStorage, laptops
):
    laptops.enroll("siti").close()  # enrolled, never synced
    synced = laptops.enroll("budi")
    synced.store.add("beneficiary", beneficiary())
    synced.sync()
    synced.close()
    ctx = JobContext(hub_storage, hub_app.config, Path("."), AT_TWO, WIB)
    message = silent_laptops(ctx)
    assert message.startswith("1 laptop diam lebih dari 7 hari (1 baru, 0 aktif lagi)")
    flagged = hub_storage.jobs.silent_devices()
    assert [(s.user_name, s.device_name) for s in flagged] == [("siti", "laptop-siti")]
    entry = list(hub_storage.iter_audit())[-1]
    assert (entry.actor, entry.action) == ("hub", "silent_laptops")


def _csv_exporter(calls: list[tuple[str, str]]) -> Callable[[str, str, str, Path], int]:
    def export(kind: str, month: str, fmt: str, out: Path) -> int:
        calls.append((kind, month))
        with open(out, "w", newline="", encoding="utf-8-sig") as handle:
            csv.writer(handle).writerows([["bulan"], [month], [month]])
        return 2

    return export


def test_the_monthly_export_writes_last_months_files_whole(tmp_path: Path):
    calls: list[tuple[str, str]] = []
    written = export_month(_csv_exporter(calls), tmp_path, previous_month(AT_TWO.date()), "csv")
    assert calls == [(kind, "2026-11") for kind in MONTHLY_KINDS]
    assert [(p.relative_to(tmp_path).as_posix(), n) for p, n in written] == [
        (f"2026-11/{kind}-2026-11.csv", 2) for kind in MONTHLY_KINDS
    ]
    assert sorted(p.name for p in (tmp_path / "2026-11").iterdir()) == sorted(
        f"{kind}-2026-11.csv" for kind in MONTHLY_KINDS
    )
    assert previous_month(datetime(2027, 1, 1).date()) == "2026-12"


def test_a_failed_monthly_export_leaves_no_half_file(tmp_path: Path):
    def export(kind: str, month: str, fmt: str, out: Path) -> int:
        out.write_text("setengah")
        raise RuntimeError("kolom tidak ada")

    with pytest.raises(RuntimeError):
        export_month(export, tmp_path, "2026-11", "xlsx")
    assert list((tmp_path / "2026-11").iterdir()) == []


def test_the_monthly_job_runs_the_exporter_it_is_given(hub_app: Flask, hub_storage, tmp_path):
    calls: list[tuple[str, str]] = []
    config = {**hub_app.config, "EXPORT_DIR": str(tmp_path / "ekspor"), "EXPORT_FORMAT": "csv"}
    ctx = JobContext(hub_storage, config, tmp_path, AT_TWO, WIB)
    message = monthly_export(_csv_exporter(calls))(ctx)
    assert message.startswith("ekspor 2026-11: visits-2026-11.csv (2 baris)")
    assert (tmp_path / "ekspor" / "2026-11" / "requests-2026-11.csv").exists()


def test_every_job_of_the_hub_is_active(hub_app: Flask):
    jobs = {job.job_id: job for job in hub_jobs(hub_app)}
    assert jobs["monthly_export"].skipped is None and jobs["monthly_export"].active
    assert jobs["backup"].active and jobs["silent_laptops"].active


def test_the_monthly_job_writes_the_office_exports_of_the_whole_hub(
    hub_app: Flask, laptops, tmp_path: Path
):
    siti = laptops.enroll("siti")
    budi = laptops.enroll("budi", wilayah=("31.72.01",))
    person = siti.store.add("beneficiary", beneficiary())
    siti.store.add("visit", visit(person))
    siti.store.add("visit", visit(person, visited_at="2026-10-30T09:30:00+07:00"))
    other = budi.store.add("beneficiary", beneficiary(kelurahan="31.72.01.1001", nik=None))
    budi.store.add("visit", visit(other, visited_at="2026-11-02T08:00:00+07:00"))
    siti.sync()
    budi.sync()
    exporter = monthly_exporter(hub_app)
    assert exporter is not None
    written = export_month(exporter, tmp_path, "2026-11", "csv")
    rows = {path.name: n for path, n in written}
    assert rows["visits-2026-11.csv"] == 2  # both wilayah, November only
    text = (tmp_path / "2026-11" / "visits-2026-11.csv").read_text(encoding="utf-8-sig")
    assert "31.71.01.1001" in text and "31.72.01.1001" in text


# -- schedules --------------------------------------------------------------------------------


def test_a_schedule_line_that_is_not_crontab_names_its_setting():
    with pytest.raises(ScheduleError, match="JOB_BACKUP_AT"):
        parse_schedule("JOB_BACKUP_AT", "tiap malam", WIB)
    with pytest.raises(ScheduleError, match="JOB_BACKUP_AT"):
        parse_schedule("JOB_BACKUP_AT", "99 1 * * *", WIB)
    assert parse_schedule("JOB_BACKUP_AT", "", WIB) is None
    assert parse_schedule("JOB_BACKUP_AT", "off", WIB) is None


def test_the_default_times_are_wib():
    trigger = parse_schedule("X", "30 1 * * *", WIB)
    fire = trigger.get_next_fire_time(None, datetime(2026, 12, 7, 0, 0, tzinfo=WIB))
    assert fire.isoformat() == "2026-12-07T01:30:00+07:00"


def test_the_occurrence_of_a_late_firing_is_its_nominal_time():
    trigger = parse_schedule("X", "*/2 * * * * *", WIB)
    late = datetime(2026, 12, 7, 2, 0, 3, 400_000, tzinfo=WIB)
    assert latest_occurrence(trigger, late, 60) == datetime(2026, 12, 7, 2, 0, 2, tzinfo=WIB)
    daily = parse_schedule("X", "0 2 * * *", WIB)
    assert latest_occurrence(daily, late, 60) == AT_TWO
    assert latest_occurrence(daily, late + timedelta(minutes=5), 60) is None
    assert latest_occurrence(daily, late + timedelta(hours=5), 6 * 3600) == AT_TWO


# -- the commands -----------------------------------------------------------------------------


def test_jobs_lists_each_job_with_its_next_run_and_last_outcome(
    hub_app: Flask, hub_storage: HubStorage, clock, capsys
):
    job = _job(lambda ctx: "3 data, 1 foto baru")
    runner = _runner(hub_storage, [job], clock, "kantor:1:aa")
    runner._wall = __import__("time").time  # the command reads the lease at the real time
    runner.heartbeat()
    runner.run(job, AT_TWO)
    capsys.readouterr()
    assert main(["--data", hub_app.config["DATA_DIR"], "jobs"]) == 0
    out = capsys.readouterr().out
    assert "backup (Cadangan malam), jadwal '30 1 * * *': berikutnya " in out
    assert "terakhir 2026-12-06T19:00:00.000Z: berhasil — 3 data, 1 foto baru" in out
    assert "monthly_export (Ekspor bulanan), jadwal '0 3 1 * *': berikutnya " in out
    assert "Dijalankan oleh proses kantor:1:aa." in out
    assert main(["--data", hub_app.config["DATA_DIR"], "jobs", "--json"]) == 0
    listed = {row["job"]: row for row in json.loads(capsys.readouterr().out)["jobs"]}
    assert listed["backup"]["last_run"]["outcome"] == "ok"
    assert listed["silent_laptops"]["last_run"] is None


def test_a_bad_schedule_stops_serve_before_it_serves(tmp_path: Path, capsys):
    data = tmp_path / "hub"
    data.mkdir()
    (data / "hub.cfg").write_text('JOB_BACKUP_AT = "tiap malam"\n')
    assert main(["--data", str(data), "serve", "--port", "1"]) == 1
    assert "JOB_BACKUP_AT" in capsys.readouterr().err
