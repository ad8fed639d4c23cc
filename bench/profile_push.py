"""Where a push's time goes, in-process: SyncService.push of N visits in batches of 500.

    python -m bench.profile_push [--records 10000] [--cprofile]

A profiling aid (issue 11), not a benchmark: the hub's services on a fresh SQLite file, the
changes as a laptop sends them (parsed from JSON), pushed with compact receipts. Printed:
the wall time of each phase, found by timing the methods that make it up, and the time
between BEGIN IMMEDIATE and COMMIT (what a push holds the hub's one writer for). With
`--cprofile`, cProfile's top functions instead (its overhead inflates Python-heavy parts).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

import server.storage.sqlite as sqlite_storage
import server.sync as sync
import server.writer as writer
from bench.common import connections_made_by, new_id, visit_fields
from schemas.hlc import wall_ms
from server.app import create_app
from server.enrolment import issue_code, redeem_code
from server.state import hub_state
from server.storage import User
from server.timeutil import utc_iso

#: phase -> (module or class, attribute); each is timed where it is called from
PHASES: dict[str, tuple[Any, str]] = {
    "envelope (load_change)": (sync, "load_change"),
    "fields against the schema, outside the write (preload_fields)": (sync, "preload_fields"),
    "admission inside the write (admit)": (sync, "admit"),
    "merge and new rows (BatchWriter.apply)": (writer.BatchWriter, "apply"),
    "change log rows (BatchWriter.log)": (writer.BatchWriter, "log"),
    "SQL: seen change ids": (sqlite_storage._SQLiteWrite, "receipts_for"),
    "SQL: current records": (sqlite_storage._SQLiteWrite, "records_for"),
    "SQL: rows written (save)": (sqlite_storage._SQLiteWrite, "save"),
}


def changes(device_id: str, count: int) -> list[dict[str, Any]]:
    ms = wall_ms()
    bid = new_id()
    out = [
        {
            "change_id": new_id(),
            "entity": "beneficiary",
            "record_id": bid,
            "base_seq": None,
            "fields": {"name": "Ibu Sri", "sex": "P", "kelurahan": "31.71.01.1001"},
            "hlc": f"{ms:016d}:000000:{device_id}",
            "device_id": device_id,
            "author_id": "siti",
        }
    ]
    for n in range(count):
        out.append(
            {
                "change_id": new_id(),
                "entity": "visit",
                "record_id": new_id(),
                "base_seq": None,
                "fields": {**visit_fields(bid, n), "kelurahan": "31.71.01.1001"},
                "hlc": f"{ms:016d}:{n + 1:06d}:{device_id}",
                "device_id": device_id,
                "author_id": "siti",
            }
        )
    return orjson.loads(orjson.dumps(out))  # as the push view receives them


def _timed(owner: Any, name: str, label: str, spent: Counter[str]) -> Callable[[], None]:
    original = getattr(owner, name, None)
    if original is None:  # an older tree without this step (to profile before and after)
        return lambda: None

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    setattr(owner, name, timed)
    return lambda: setattr(owner, name, original)


class _Connection(sqlite3.Connection):
    """Times BEGIN IMMEDIATE .. COMMIT, and COMMIT itself."""

    spent: Counter[str] = Counter()
    began = 0.0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        start = time.perf_counter()
        try:
            return super().execute(sql, *args)
        finally:
            now = time.perf_counter()
            if sql == "BEGIN IMMEDIATE":
                _Connection.began = start
            elif sql == "COMMIT":
                _Connection.spent["the durable commit (COMMIT, synchronous=FULL)"] += now - start
                _Connection.spent["IN THE WRITE TRANSACTION"] += now - _Connection.began


@contextmanager
def _instrumented(spent: Counter[str]) -> Iterator[None]:
    undo = [_timed(owner, name, label, spent) for label, (owner, name) in PHASES.items()]
    _Connection.spent = spent
    try:
        with connections_made_by(_Connection):
            yield
    finally:
        for step in undo:
            step()


def run(records: int, workdir: Path, profile: bool) -> str:
    spent: Counter[str] = Counter()
    with _instrumented(spent) if not profile else _nothing():
        app = create_app({"DATA_DIR": workdir / "hub"})
        state = hub_state(app)
        state.storage.add_user(User("siti", "pendamping", ("31.71.01",)), utc_iso())
        device, _token = redeem_code(state.storage, issue_code(state.storage, "siti", 1), "l")
        batches = changes(device.device_id, records)
        profiler = cProfile.Profile() if profile else None
        start, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for at in range(0, len(batches), 500):
            state.sync.push(device, batches[at : at + 500], quiet=True)
        if profiler:
            profiler.disable()
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
        state.storage.close()
    lines = [f"push of {len(batches)} changes in-process: {total:.3f} s wall, {cpu:.3f} s CPU"]
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
        return "\n".join(lines) + "\n" + text.getvalue()
    for label, seconds in spent.most_common():
        lines.append(f"{seconds:7.3f} s {100 * seconds / total:5.1f} %  {label}")
    return "\n".join(lines)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-push-") as tmp:
        print(run(args.records, Path(tmp), args.cprofile))


if __name__ == "__main__":
    main()
