"""The laptop's peak memory while it pushes a large queue (the outbox is streamed).

    python -m bench.bench_memory [--records 100000] [--json]

A laptop's outbox is filled with N visit-shaped changes (written straight into its SQLite
file in one transaction: this is set-up, not what is measured), then a child process opens
the laptop and syncs it to a hub served in its own process over loopback. The child reports
its peak resident memory (`ru_maxrss`, Linux) and, as the floor measured in the same run,
its resident memory once Python, the client and the store are loaded but before the sync.
The DESIGN.md §7 floor (stdlib sqlite3 inserting 10,000 rows) is printed beside the time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import as_json, design_floor, one_laptop, visit_fields
from client_sync import FieldDevice
from schemas.hlc import HybridClock
from schemas.ids import new_id


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(home: str) -> None:
    """Open the laptop, note the resident memory, sync, and print the figures as JSON."""
    device = FieldDevice.open(home)
    before = _rss_mib()
    start = time.perf_counter()
    result = device.sync()
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rss_before_mib": round(before, 1),
                "peak_mib": round(peak, 1),
                "pushed": result.pushed,
                "batches": result.batches,
                "seconds": round(elapsed, 2),
            }
        )
    )


def fill_outbox(device: FieldDevice, beneficiary_id: str, records: int) -> None:
    """Queue `records` visits as the store would, in one transaction (set-up only)."""
    identity = device.store.identity
    clock = HybridClock(identity.device_id)
    conn = device.store._conn
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO outbox (change_id, entity, record_id, base_seq, fields, hlc, author_id,"
        " created_at) VALUES (?, 'visit', ?, NULL, ?, ?, ?, '2026-11-23T00:00:00.000Z')",
        (
            (
                new_id(),
                new_id(),
                as_json({**visit_fields(beneficiary_id, n), "kelurahan": "31.71.01.1001"}),
                clock.now().encode(),
                identity.user,
            )
            for n in range(records)
        ),
    )
    conn.execute("COMMIT")


def run(records: int, workdir: Path) -> dict:
    floor = design_floor(workdir)
    with one_laptop(workdir) as (hub, device, bid, _codes):
        home = device.home
        device.sync()
        fill_outbox(device, bid, records)
        device.close()
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_memory", "--child", str(home)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        stats = json.loads(hub.cli("stats", "--json"))
    return {
        "records": records,
        "sqlite_floor_10k_s": round(floor, 4),
        **figures,
        "peak_over_floor_mib": round(figures["peak_mib"] - figures["rss_before_mib"], 1),
        "hub_visits": stats["records"]["visit"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        figures = run(args.records, Path(tmp))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"pushed {figures['pushed']:,} queued visits in {figures['seconds']} s "
        f"({figures['batches']} batches; sqlite3 floor 10,000 rows "
        f"{figures['sqlite_floor_10k_s']} s)"
    )
    print(
        f"laptop peak memory {figures['peak_mib']} MiB; floor (loaded, before the sync) "
        f"{figures['rss_before_mib']} MiB; the sync added {figures['peak_over_floor_mib']} MiB"
    )
    print(f"hub holds {figures['hub_visits']:,} visits")


if __name__ == "__main__":
    main()
