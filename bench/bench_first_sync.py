"""A new laptop's first sync of a whole district into its encrypted store.

    python -m bench.bench_first_sync [--records 50000] [--runs 3] [--plain]
        [--pull-limit N] [--json]

Set-up (not measured): `pendamping-hub init`, one pendamping enrolled for wilayah 31.71.01,
and N visit-shaped records (~760 B of JSON each, kelurahan 31.71.01.1001) written straight
through the hub's own storage (`SQLiteStorage.write().save`, as a push's merge would store
them, one transaction) before the hub is served, so seeding 50,000 records takes seconds,
not the minute a push would. Then `pendamping-hub serve` (waitress, its own process) and a
fresh laptop enrolled over HTTP with an encrypted store (SQLCipher, a passphrase; `--plain`
for a plain store). The laptop's store is closed, and a child process opens it and runs its
first sync (`FieldDevice.sync`: push of an empty outbox, then the pull of every page).

Printed per run: the open (key derivation, migration check) and the sync round, records/s,
the laptop process's peak resident memory (/proc's VmHWM, else psutil, else `ru_maxrss`:
see :func:`bench.common.peak_rss_mib`) and its memory once loaded but before the sync, and
the floor measured in the same run: stdlib sqlite3 inserting the same N rows (id, JSON) in
one transaction, best of three. Kinto's and PouchDB's first-sync figures (DESIGN.md §7) are
printed beside.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    ServedHub,
    as_json,
    floor_seconds,
    new_id,
    peak_rss_mib,
    rss_mib,
    visit_fields,
)
from client_sync import FieldDevice
from client_sync.engine import DEFAULT_PULL_LIMIT
from schemas.hlc import Timestamp
from server.storage.base import RecordRow
from server.storage.sqlite import SQLiteStorage

__all__ = ["PEERS", "run", "seed_hub"]

KELURAHAN = "31.71.01.1001"
PASSPHRASE = "kunci rahasia pendamping"
#: DESIGN.md §7: a new laptop's first sync of 50,000 records, measured on this machine.
PEERS = "Kinto 2.6-4.7 s at 140 MiB; PouchDB 18-21 s"
_STAMP = "2026-11-23T08:00:00.000Z"


def seed_hub(data: Path, records: int) -> list[tuple[str, str]]:
    """Write `records` visits into the hub's storage in one transaction, seq 1..N, as its
    merge stores a record made in one edit. :returns: the (id, data JSON) rows, for the floor."""
    storage = SQLiteStorage(data / "hub.sqlite3")
    beneficiary = new_id()
    rows, batch = [], []
    for n in range(records):
        fields = {**visit_fields(beneficiary, n), "kelurahan": KELURAHAN}
        hlc = Timestamp(1_790_000_000_000 + n, 0, "seed").encode()
        record_id = new_id()
        batch.append(
            RecordRow(
                record_id,
                "visit",
                KELURAHAN,
                n + 1,
                False,
                fields,
                dict.fromkeys(fields, hlc),
                _STAMP,
                _STAMP,
            )
        )
        rows.append((record_id, as_json(fields)))
    try:
        with storage.write() as session:
            session.save(batch, (), ())
    finally:
        storage.close()
    return rows


def child(home: str, passphrase: str, limit: int) -> None:
    """Open the laptop, note its memory, run the first sync, print the figures as JSON."""
    start = time.perf_counter()
    device = FieldDevice.open(home, passphrase=passphrase)
    opened = time.perf_counter()
    before = rss_mib()
    result = device.sync(pull_limit=limit)
    done = time.perf_counter()
    held = device.store._conn.execute("SELECT count(*) FROM pulled").fetchone()[0]
    device.close()
    print(
        json.dumps(
            {
                "open_s": round(opened - start, 3),
                "sync_s": round(done - opened, 3),
                "rss_before_mib": round(before, 1),
                "peak_mib": round(peak_rss_mib(), 1),
                "pulled": result.pulled,
                "pages": result.pages,
                "held": held,
            }
        )
    )


def run(records: int, workdir: Path, passphrase: str, limit: int) -> dict:
    """One sitting: seed, serve, enrol, first sync in a child process; the floor beside."""
    hub = ServedHub(workdir / "hub")
    hub.cli("init")
    code = hub.enroll_code("budi")
    rows = seed_hub(hub.data, records)
    floor = floor_seconds(rows, workdir)
    del rows
    hub.start()
    try:
        home = workdir / "laptop"
        FieldDevice.enroll(home, hub.url, code, "laptop-baru", passphrase=passphrase).close()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.bench_first_sync",
                "--child",
                str(home),
                "--passphrase",
                passphrase,
                "--pull-limit",
                str(limit),
            ],
            capture_output=True,
            text=True,
        )
    finally:
        hub.stop()
    if done.returncode:
        raise RuntimeError(f"the laptop's first sync failed:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "records": records,
        "encrypted": bool(passphrase),
        "pull_limit": limit,
        "floor_s": round(floor, 4),
        **figures,
        "first_sync_s": round(figures["open_s"] + figures["sync_s"], 3),
        "rec_per_s": round(records / figures["sync_s"]),
        "sync_x_floor": round(figures["sync_s"] / floor, 1),
    }


def _line(f: dict) -> str:
    return (
        f"floor {f['floor_s']} s | open {f['open_s']} s | sync {f['sync_s']} s "
        f"({f['rec_per_s']:,} rec/s, {f['sync_x_floor']}x floor, {f['pages']} pages) | "
        f"peak {f['peak_mib']} MiB (loaded {f['rss_before_mib']} MiB) | held {f['held']:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--plain", action="store_true", help="a plain (unencrypted) store")
    parser.add_argument("--pull-limit", type=int, default=DEFAULT_PULL_LIMIT)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--passphrase", default=PASSPHRASE, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.passphrase, args.pull_limit)
        return
    passphrase = "" if args.plain else args.passphrase
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-first-sync-") as tmp:
            runs.append(run(args.records, Path(tmp), passphrase, args.pull_limit))
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    store = "encrypted (SQLCipher)" if passphrase else "plain"
    print(f"first sync of {args.records:,} records into a {store} store, {args.runs} runs:")
    for figures in runs:
        print("  " + _line(figures))
    print(
        f"median sync {statistics.median(r['sync_s'] for r in runs)} s, "
        f"peak {statistics.median(r['peak_mib'] for r in runs)} MiB; peers: {PEERS}"
    )


if __name__ == "__main__":
    main()
