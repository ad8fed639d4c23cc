"""Many laptops syncing at once against `pendamping-hub serve` (issue 11's fleet figures).

    python -m bench.bench_fleet [--laptops 1,10,40,200] [--workers 1[,2]] [--records 500]
                                [--deadline 300] [--threads 4] [--plain] [--json]
                                [--storage sqlite|postgresql] [--laptop-nice N]

For each (workers, laptops) pair: a fresh hub in its own process; C laptops, each its own
process (the "spawn" start method, as on Windows), each with its own pendamping, wilayah and
kelurahan, so no laptop pulls another's records. Each enrols over HTTP and records one
beneficiary and N visits offline, then waits. All are released at one moment and run one
sync round (`FieldDevice.sync`: push, then pull). Printed: aggregate records/s (changes the
hub holds / release to the last round's end), a round's p50/p95/p99, failed rounds and their
errors, hub and laptop CPU, and the hub's own count of each laptop's changes (none lost,
none doubled), beside the floor measured in the same run (bench.common.design_floor). A
laptop reads back what it still holds, and closes its store, only once every round has
ended: that bookkeeping is the benchmark's, and at 200 laptops it took the cores from the
rounds still running.

The laptops share the hub's cores here, which they never do in the field; `--laptop-nice N`
lowers their priority for the round, so the figures say what the hub does when the laptops
cannot take its CPU. It is an analysis aid, labelled in the output, not the issue's figure.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import multiprocessing
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    ServedHub,
    descendants,
    design_floor,
    hub_counts,
    tree_cpu_seconds,
    visit_fields,
)
from bench.pg_server import counts as pg_counts
from bench.pg_server import durable_cluster, server_pid
from client_sync import FieldDevice
from tests.support.postgres import PgCluster

__all__ = ["main", "run"]

SPAWN = multiprocessing.get_context("spawn")
#: Laptops enrolling and recording at the same time before the release (the rest wait).
PREPARING_AT_ONCE = max(2, 2 * (os.cpu_count() or 1))
PASSPHRASE = "bench-fleet-passphrase"
#: How long the laptops have, once every round ended, to say what they still hold.
TALLY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class LaptopSpec:
    """What one laptop process needs; picklable, so it crosses to a spawned process."""

    index: int
    home: str
    hub_url: str
    code: str
    kelurahan: str
    records: int
    passphrase: str
    release_timeout: float
    nice: int = 0


def kelurahan_of(index: int) -> str:
    """Laptop `index`'s own kelurahan, which is also its pendamping's whole wilayah."""
    return f"31.75.{1 + index // 9000:02d}.{1000 + index % 9000:04d}"


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _ignore_ctrl_c() -> None:
    """In a helper process: Ctrl-C reaches every process of the console, but only the
    benchmark's own process acts on it (it ends the others), so one message, not 200."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _laptop(spec: LaptopSpec, messages: Any, go: Any, preparing: Any, finish: Any) -> None:
    """One laptop's process: prepare, say ready, wait for the release, sync once, report.

    What the round cost is reported as it ends ("ended"); what the laptop still holds is
    read, and the store closed, only once every round has ended (`finish`), so that this
    bookkeeping, which no pendamping waits for, does not take the cores from laptops still
    syncing ("done")."""
    _ignore_ctrl_c()
    try:
        with preparing:
            device = FieldDevice.enroll(
                Path(spec.home),
                spec.hub_url,
                spec.code,
                f"laptop-{spec.index}",
                passphrase=spec.passphrase,
            )
            bid = device.store.add(
                "beneficiary", {"name": "Ibu Sri", "sex": "P", "kelurahan": spec.kelurahan}
            )
            for n in range(spec.records):
                device.store.add("visit", visit_fields(bid, n))
            expected = [c for b in device.store.outbox_batches(1 << 40) for c in b.change_ids]
    except Exception as exc:
        messages.put(("prepare_failed", spec.index, _error_text(exc)))
        return
    device_id = device.store.identity.device_id
    messages.put(("ready", spec.index, {"device_id": device_id, "expected": expected}))
    if not go.wait(spec.release_timeout):
        device.close()
        return
    if spec.nice and hasattr(os, "nice"):  # see --laptop-nice
        os.nice(spec.nice)
    busy = _count_busy_answers()
    cpu_before, start = time.process_time(), time.perf_counter()
    ok, error, pushed, pulled = True, None, 0, 0
    try:
        result = device.sync()
        pushed, pulled = result.pushed, result.pulled
    except Exception as exc:
        ok, error = False, _error_text(exc)
    round_s, ended_at = time.perf_counter() - start, time.time()
    cpu_s = time.process_time() - cpu_before
    report = {
        "ok": ok,
        "error": error,
        "round_s": round_s,
        "ended_at": ended_at,
        "cpu_s": cpu_s,
        "pushed": pushed,
        "pulled": pulled,
        "busy_answers": busy["answers"],
        "busy_wait_s": busy["planned_s"],
    }
    messages.put(("ended", spec.index, report))
    finish.wait(spec.release_timeout)
    pending = [c for b in device.store.outbox_batches(1 << 40) for c in b.change_ids]
    rejected = [change["change_id"] for change in device.store.rejected()]
    device.close()
    messages.put(("done", spec.index, {"pending": pending, "rejected": rejected}))


def _machine_ticks() -> tuple[int, int] | None:
    """(busy, all) CPU ticks of the whole machine so far, from /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


def _count_busy_answers() -> dict[str, Any]:
    """In a laptop's process: count the hub's busy answers (429, 503) and the pauses the
    transport planned after them, by wrapping :meth:`SyncRetry._busy` (its one place)."""
    from client_sync.transport import SyncRetry

    tally: dict[str, Any] = {"answers": 0, "planned_s": 0.0}
    counted = SyncRetry._busy

    def busy(self: SyncRetry, *args: Any, **kwargs: Any) -> SyncRetry:
        follow = counted(self, *args, **kwargs)  # raises when it gives the answer back
        tally["answers"] += 1
        tally["planned_s"] += follow.planned or 0.0
        return follow

    SyncRetry._busy = busy  # type: ignore[method-assign]
    return tally


def _enrolment_codes(data: str, count: int) -> list[str]:
    """In a process of its own: init the hub's folder, add `count` pendamping (each with
    their own wilayah) and return an enrolment code for each, through `pendamping-hub`'s
    commands in one process (two subprocesses per laptop would take minutes at 200)."""
    from server.cli import cli  # only in this helper process: the laptops need none of it

    shared: dict[str, Any] = {}  # the commands reuse the app built by the first one

    def call(*args: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            cli.main(["--data", data, *args], "pendamping-hub", standalone_mode=False, obj=shared)
        return out.getvalue()

    call("init")
    codes = []
    for index in range(count):
        name = f"pendamping-{index:03d}"
        call("user", "add", name, "--role", "pendamping", "--wilayah", kelurahan_of(index))
        codes.append(call("enroll-code", name).split()[-1])
    return codes


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of them at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _hub_counts(data: Path) -> tuple[dict[str, list[str]], dict[tuple[str, str], int]]:
    """Read-only, while the hub still runs (WAL: readers are never blocked): each device's
    change ids in the change log, and the number of records per (kelurahan, entity)."""
    uri = (data / "hub.sqlite3").resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        return hub_counts(conn)
    finally:
        conn.close()


def _stop_hub(hub: ServedHub) -> None:
    """Stop the hub politely, then make sure neither it nor any worker of it lives on."""
    if hub.process is None:
        return
    workers = descendants(hub.process.pid)
    try:
        hub.stop()
    except subprocess.TimeoutExpired:
        hub.kill()
    for pid in workers:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


def _end(processes: list[Any]) -> None:
    """Join the laptop processes; terminate any still running after a short grace."""
    grace = time.monotonic() + 10
    for proc in processes:
        proc.join(max(0.0, grace - time.monotonic()))
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(5)


def run(
    laptops: int,
    workers: int,
    workdir: Path,
    records: int = 500,
    deadline: float = 300.0,
    prepare_timeout: float = 1800.0,
    threads: int = 4,
    passphrase: str = PASSPHRASE,
    profile: Path | None = None,
    postgres: PgCluster | None = None,
    laptop_nice: int = 0,
) -> dict[str, Any]:
    """One fleet round of `laptops` against a fresh hub with `workers` processes; with
    `profile`, py-spy samples the hub's processes over the round into that file; with
    `postgres`, the hub stores into a fresh database of that cluster (and the figures
    count the database server's CPU beside the hub's)."""
    figures: dict[str, Any] = {"workers": workers, "laptops": laptops, "records": records}
    if laptop_nice:
        figures["laptop_nice"] = laptop_nice
    data = workdir / "hub"
    storage_url = postgres.create_database("fleet") if postgres else None
    figures["storage"] = "postgresql" if postgres else "sqlite"
    hub = ServedHub(data, settings={"STORAGE_URL": storage_url} if storage_url else {})
    with ProcessPoolExecutor(1, mp_context=SPAWN, initializer=_ignore_ctrl_c) as pool:
        codes = pool.submit(_enrolment_codes, str(data), laptops).result()
    log = workdir / "hub.log"
    try:
        hub.start(threads=threads, workers=workers, log=log)
    except RuntimeError as exc:
        with_option = f" with --workers {workers}" if workers > 1 else ""
        figures["error"] = f"the hub refused to start{with_option}: {exc}"
        return figures
    messages, go, preparing = SPAWN.Queue(), SPAWN.Event(), SPAWN.Semaphore(PREPARING_AT_ONCE)
    finish = SPAWN.Event()
    processes: list[Any] = []
    preparing_since = time.monotonic()
    try:
        for index, code in enumerate(codes):
            spec = LaptopSpec(
                index,
                str(workdir / f"laptop-{index:03d}"),
                hub.url,
                code,
                kelurahan_of(index),
                records,
                passphrase,
                prepare_timeout,
                laptop_nice,
            )
            proc = SPAWN.Process(target=_laptop, args=(spec, messages, go, preparing, finish))
            proc.start()
            processes.append(proc)
        ready, failed = _await(messages, processes, "ready", time.monotonic() + prepare_timeout)
        if failed or len(ready) < laptops:
            errors = Counter(failed.values())
            missing = laptops - len(ready) - len(failed)
            if missing:
                errors["no word from the laptop before the preparation timeout"] += missing
            figures["error"] = f"{laptops - len(ready)} laptops did not get ready: {dict(errors)}"
            return figures
        figures["prepare_s"] = round(time.monotonic() - preparing_since, 1)
        assert hub.process is not None
        hub_pid = hub.process.pid
        hub_cpu_before = tree_cpu_seconds(hub_pid)
        db_cpu_before = tree_cpu_seconds(server_pid(postgres)) if postgres else None
        spy = _start_spy(hub_pid, profile) if profile is not None else None
        machine_before = _machine_ticks()
        released_at = time.time()
        go.set()
        done, died = _await(messages, processes, "ended", time.monotonic() + deadline)
        waited = min(deadline, time.time() - released_at)
        if spy is not None:
            _stop_spy(spy)
        machine_after = _machine_ticks()
        hub_cpu_after = tree_cpu_seconds(hub_pid)
        db_cpu_after = tree_cpu_seconds(server_pid(postgres)) if postgres else None
        finish.set()
        tallies, _ = _await(
            messages, processes, "done", time.monotonic() + TALLY_TIMEOUT_S, among=set(done)
        )
        for index, report in done.items():  # a laptop that never said: nothing claimed
            report.update(tallies.get(index, {"pending": None, "rejected": None}))
        by_device, on_hub = pg_counts(storage_url) if storage_url else _hub_counts(data)
        figures.update(
            _summarise(records, ready, done, died, released_at, waited, by_device, on_hub)
        )
        if hub_cpu_before is not None and hub_cpu_after is not None:
            figures["hub_cpu_s"] = round(hub_cpu_after - hub_cpu_before, 2)
        else:
            figures["hub_cpu_s"] = None
        figures["hub_processes"] = 1 + len(descendants(hub_pid))
        if machine_before is not None and machine_after is not None:
            busy = machine_after[0] - machine_before[0]
            total = machine_after[1] - machine_before[1]
            figures["machine_busy"] = round(busy / total, 2) if total else None
        if db_cpu_before is not None and db_cpu_after is not None:
            figures["db_cpu_s"] = round(db_cpu_after - db_cpu_before, 2)
    finally:
        go.set()  # a laptop still waiting would otherwise wait out its timeout
        _end(processes)
        _stop_hub(hub)
        messages.close()
    return figures


def _start_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy over the hub and its workers, busy and idle threads, until stopped."""
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--idle",
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # attached before the release
    return spy


def _stop_spy(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()


def _await(
    messages: Any, processes: list[Any], kind: str, until: float, among: set[int] | None = None
) -> tuple[dict[int, Any], dict[int, str]]:
    """Collect `kind` messages from the laptops (all, or those `among`) until each has
    answered (or failed, or died) or `until` (monotonic) passes.
    :returns: ({index: payload}, {index: error})."""
    answered: dict[int, Any] = {}
    failed: dict[int, str] = {}
    waiting = set(range(len(processes))) if among is None else among
    while len(answered) + len(failed) < len(waiting) and time.monotonic() < until:
        try:
            what, index, payload = messages.get(timeout=0.5)
        except queue.Empty:
            for index, proc in enumerate(processes):
                if (
                    index in waiting
                    and proc.exitcode not in (None, 0)
                    and index not in answered | failed
                ):
                    failed[index] = f"the laptop process died (exit code {proc.exitcode})"
            continue
        if what == kind:
            answered[index] = payload
        elif what == "prepare_failed":
            failed[index] = payload
    return answered, failed


def _summarise(
    records: int,
    ready: dict[int, dict[str, Any]],
    done: dict[int, dict[str, Any]],
    died: dict[int, str],
    released_at: float,
    waited: float,
    by_device: dict[str, list[str]],
    on_hub: dict[tuple[str, str], int],
) -> dict[str, Any]:
    """The figures of one fleet round, and the hub's count of every laptop's changes.

    `released_at`: the release by `time.time()`, comparable across processes (unlike
    `perf_counter`); `waited`: seconds from the release until every laptop had answered
    (or died), or the deadline. A round cut off by the deadline, or whose process died,
    counts as failed and as `waited` seconds long; its laptop cannot say what it still
    holds, so it is left out of `lost` (not of `doubled`).
    """
    laptops = len(ready)
    rounds = [report["round_s"] for report in done.values()]
    rounds += [waited] * (laptops - len(done))
    errors = Counter(report["error"] for report in done.values() if not report["ok"])
    errors.update(died.values())
    cut_off = laptops - len(done) - len(died)
    if cut_off:
        errors[f"no end to the round within the --deadline ({waited:.0f} s)"] += cut_off
    wall = (
        max(report["ended_at"] for report in done.values()) - released_at
        if len(done) == laptops
        else waited
    )
    held = lost = foreign = still_queued = rejected = 0
    for index, laptop in ready.items():
        on = by_device.get(laptop["device_id"], [])
        expected = set(laptop["expected"])
        held += len(on)
        foreign += len(set(on) - expected) + (len(on) - len(set(on)))
        report = done.get(index)
        if report is None or report["pending"] is None:  # it could not say what it holds
            continue
        # Confirmed by the hub, as far as the laptop knows: neither queued nor refused.
        confirmed = expected - set(report["pending"]) - set(report["rejected"])
        lost += len(confirmed - set(on))
        still_queued += len(report["pending"])
        rejected += len(report["rejected"])
    extra_records = sum(
        max(0, on_hub.get((kelurahan_of(i), entity), 0) - want)
        for i in ready
        for entity, want in (("beneficiary", 1), ("visit", records))
    )
    return {
        "wall_s": round(wall, 3),
        "changes_on_hub": held,
        "aggregate_rec_per_s": round(held / wall) if wall > 0 else None,
        "round_p50_s": _rounded(percentile(rounds, 0.50)),
        "round_p95_s": _rounded(percentile(rounds, 0.95)),
        "round_p99_s": _rounded(percentile(rounds, 0.99)),
        "round_max_s": _rounded(max(rounds, default=None)),
        "rounds_failed": sum(errors.values()),
        "errors": dict(errors),
        "clients_cpu_s": round(sum(report["cpu_s"] for report in done.values()), 2),
        "busy_answers": sum(report.get("busy_answers", 0) for report in done.values()),
        "busy_wait_s": round(sum(report.get("busy_wait_s", 0.0) for report in done.values()), 1),
        "lost": lost,
        "doubled": foreign + extra_records,
        "still_queued_on_laptops": still_queued,
        "rejected_by_hub": rejected,
        "pulled": sum(report["pulled"] for report in done.values()),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _print(floor_s: float, fig: dict[str, Any]) -> None:
    """One (workers, laptops) run in a few lines, its rate beside the floor's."""
    floor_rate = 10_000 / floor_s
    head = (
        f"{fig.get('storage', 'sqlite')}, workers {fig['workers']},"
        f" {fig['laptops']} laptops x {fig['records']} visits"
        + (f", laptops at nice {fig['laptop_nice']}" if fig.get("laptop_nice") else "")
    )
    if "error" in fig:
        print(f"{head}: NOT RUN: {fig['error']}")
        return
    rate = fig["aggregate_rec_per_s"]
    beside = f"floor {floor_rate:,.0f} rec/s, {floor_rate / rate:.1f}x slower" if rate else ""
    hub_cpu = "n/a" if fig["hub_cpu_s"] is None else f"{fig['hub_cpu_s']} s"
    print(f"{head} (spawned, enrolled and recorded in {fig['prepare_s']} s before the release):")
    print(
        f"  aggregate {rate:,} rec/s ({beside}): {fig['changes_on_hub']} changes held by the"
        f" hub, {fig['wall_s']} s from release to the last round's end"
    )
    print(
        f"  round p50 {fig['round_p50_s']} s, p95 {fig['round_p95_s']} s, p99"
        f" {fig['round_p99_s']} s, max {fig['round_max_s']} s;"
        f" failed {fig['rounds_failed']} of {fig['laptops']}"
    )
    for error, count in fig["errors"].items():
        print(f"    {count} x {error}")
    if fig.get("busy_answers"):
        print(
            f"  busy answers (429/503) to the laptops: {fig['busy_answers']}, after which they"
            f" planned to wait {fig['busy_wait_s']} s in all"
        )
    if fig.get("machine_busy") is not None:
        print(f"  the machine's cores were busy {fig['machine_busy']:.0%} of the round")
    print(
        f"  CPU: hub {hub_cpu} ({fig['hub_processes']} processes)"
        + (f", PostgreSQL {fig['db_cpu_s']} s" if "db_cpu_s" in fig else "")
        + f", laptops {fig['clients_cpu_s']}"
        f" s in all; lost {fig['lost']}, doubled {fig['doubled']}; still queued on the"
        f" laptops whose round ended {fig['still_queued_on_laptops']}, refused by the hub"
        f" {fig['rejected_by_hub']}"
    )


def _profile_path(folder: Path | None, workers: int, laptops: int) -> Path | None:
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"hub-w{workers}-c{laptops}.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laptops", type=_counts, default=[1, 10, 40, 200])
    parser.add_argument("--workers", type=_counts, default=[1])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for a round")
    parser.add_argument("--prepare-timeout", type=float, default=1800.0)
    parser.add_argument("--threads", type=int, default=4, help="the hub's --threads")
    parser.add_argument("--plain", action="store_true", help="laptop stores without SQLCipher")
    parser.add_argument(
        "--laptop-nice",
        type=int,
        default=0,
        help="run each laptop's round at this niceness (POSIX): a model of laptops on machines"
        " of their own, which cannot take the hub's CPU; not the issue's figure",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--storage",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="the hub's backend; postgresql: a throw-away durable cluster (bench/pg_server.py)",
    )
    parser.add_argument(
        "--profile-hub", type=Path, help="folder for a py-spy profile of the hub per round"
    )
    args = parser.parse_args()
    runs = []
    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(durable_cluster()) if args.storage == "postgresql" else None
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fleet-"))
        floor_s = design_floor(Path(tmp))
        if not args.json:
            print(
                f"floor (sqlite3, 10000 rows, one transaction): {floor_s:.4f} s"
                f" = {10_000 / floor_s:,.0f} rec/s; laptop stores"
                + (" plain" if args.plain else " encrypted (SQLCipher)")
            )
        for workers in args.workers:
            for laptops in args.laptops:
                workdir = Path(tmp) / f"w{workers}-c{laptops}"
                workdir.mkdir()
                figures = run(
                    laptops,
                    workers,
                    workdir,
                    args.records,
                    args.deadline,
                    args.prepare_timeout,
                    args.threads,
                    "" if args.plain else PASSPHRASE,
                    _profile_path(args.profile_hub, workers, laptops),
                    postgres,
                    args.laptop_nice,
                )
                runs.append(figures)
                if not args.json:
                    _print(floor_s, figures)
                    sys.stdout.flush()
    if args.json:
        print(
            json.dumps(
                {"floor_s": round(floor_s, 4), "encrypted": not args.plain, "runs": runs},
                indent=2,
            )
        )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the hub and the laptops were ended on the way out
        print("interrupted; the hub and the laptops are stopped", file=sys.stderr)
        sys.exit(130)
