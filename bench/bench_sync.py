"""Push and pull throughput over loopback HTTP against `pendamping-hub serve`.

    python -m bench.bench_sync [--records 10000] [--batch-bytes 524288] [--encrypted] [--json]

Laptop A records N visit-shaped records (~760 B of JSON each) offline, then pushes them to
a hub served by waitress in its own process; laptop B, another pendamping in the same
wilayah, pulls them all: into a store encrypted with SQLCipher with `--encrypted`, else a
plain one unless `PENDAMPING_PASSPHRASE` is set. Printed: records/s for each, and each time
as a multiple of the floor (stdlib sqlite3 inserting the same N rows in one transaction,
measured in this run), and the CPU time of the hub process and of the laptop (this process)
in each.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.common import as_json, floor_seconds, new_id, timed, two_laptops, visit_fields
from client_sync.engine import DEFAULT_BATCH_BYTES, pull_all, push_outbox


def run(
    records: int,
    workdir: Path,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    passphrase: str | None = None,
) -> dict:
    with two_laptops(workdir, passphrase) as (hub, laptop_a, laptop_b, bid):
        start = time.perf_counter()
        for n in range(records):
            laptop_a.store.add("visit", visit_fields(bid, n))
        record_s = time.perf_counter() - start
        sample = laptop_a.store.list("visit")[0]
        record_bytes = len(as_json({k: v for k, v in sample.items() if k != "sync"}))

        floor = floor_seconds(
            [(new_id(), as_json(visit_fields(bid, n))) for n in range(records)], workdir
        )

        cpu = time.process_time()  # this process is the laptop
        push = timed(laptop_a, partial(push_outbox, batch_bytes=batch_bytes), hub)
        push_client_cpu = time.process_time() - cpu
        cpu = time.process_time()
        pull = timed(laptop_b, pull_all, hub)
        pull_client_cpu = time.process_time() - cpu
    return {
        "records": records,
        "batch_bytes": batch_bytes,
        "pull_store_encrypted": laptop_b.store.encrypted,
        "record_bytes_json": record_bytes,
        "floor_s": round(floor, 4),
        "record_offline_s": round(record_s, 3),
        "push_s": round(push[0], 3),
        "push_rec_per_s": round(records / push[0]),
        "push_x_floor": round(push[0] / floor, 1),
        "pull_s": round(pull[0], 3),
        "pull_rec_per_s": round(pull[1].pulled / pull[0]),
        "pull_x_floor": round(pull[0] / floor, 1),
        "push_hub_cpu_s": round(push[2], 3),
        "pull_hub_cpu_s": round(pull[2], 3),
        "push_laptop_cpu_s": round(push_client_cpu, 3),
        "pull_laptop_cpu_s": round(pull_client_cpu, 3),
        "push_batches": push[1].batches,
        "pull_pages": pull[1].pages,
        "pulled": pull[1].pulled,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch-bytes", type=int, default=DEFAULT_BATCH_BYTES)
    parser.add_argument("--encrypted", action="store_true", help="pull into an encrypted store")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    passphrase = "kunci rahasia pendamping" if args.encrypted else None
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        figures = run(args.records, Path(tmp), args.batch_bytes, passphrase)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"floor (sqlite3, {args.records} rows, one transaction): {figures['floor_s']} s")
    print(
        f"push: {figures['push_rec_per_s']} rec/s ({figures['push_s']} s, "
        f"{figures['push_x_floor']}x floor, {figures['push_batches']} batches, "
        f"hub CPU {figures['push_hub_cpu_s']} s, laptop CPU {figures['push_laptop_cpu_s']} s)"
    )
    print(
        f"pull: {figures['pull_rec_per_s']} rec/s ({figures['pull_s']} s, "
        f"{figures['pull_x_floor']}x floor, {figures['pull_pages']} pages, "
        f"{'encrypted' if figures['pull_store_encrypted'] else 'plain'} store, "
        f"hub CPU {figures['pull_hub_cpu_s']} s, laptop CPU {figures['pull_laptop_cpu_s']} s)"
    )
    print(
        f"record offline: {figures['record_offline_s']} s; record JSON "
        f"{figures['record_bytes_json']} B"
    )


if __name__ == "__main__":
    main()
