"""Push throughput when 10% of the changes conflict, beside the conflict-free push.

    python -m bench.bench_conflicts [--records 10000] [--conflict-share 0.1] [--json]

Laptop A records N visits and syncs; laptop B pulls them. Rounds 1 and 2 (conflict-free,
round 2 timed): A edits `findings` on every visit on top of what it pulled and pushes. Then
B edits `findings` on a share of them and pushes, while A, without pulling, edits `findings`
on every visit again: A's round-3 push meets B's concurrent edits on that share, and each
becomes a conflict with both values queued. Rounds 2 and 3 push N updates of records with the
same history; the issue asks that round 3 stays within 1.5x of round 2. The floor is printed
beside them (DESIGN.md §7).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import as_json, floor_seconds, new_id, timed, two_laptops, visit_fields
from client_sync.engine import push_outbox


def run(records: int, share: float, workdir: Path) -> dict:
    with two_laptops(workdir) as (hub, siti, budi, bid):
        ids = [siti.store.add("visit", visit_fields(bid, n)) for n in range(records)]
        siti.sync()
        budi.sync()
        floor = floor_seconds(
            [(new_id(), as_json(visit_fields(bid, n))) for n in range(records)], workdir
        )

        for round_ in (1, 2):  # round 1 warms up: from then on every visit has two edits
            for vid in ids:
                siti.store.update("visit", vid, {"findings": f"Putaran {round_} untuk {vid}."})
            clean = timed(siti, push_outbox, hub)
            siti.sync()  # pull the round back, so the next edits sit on top of it
        budi.sync()

        contested = ids[: int(records * share)]
        for vid in contested:
            budi.store.update("visit", vid, {"findings": f"Catatan Budi untuk {vid}."})
        budi.sync()
        for vid in ids:
            siti.store.update("visit", vid, {"findings": f"Putaran 3 untuk {vid}."})
        contested_push = timed(siti, push_outbox, hub)
        queue = json.loads(hub.cli("stats", "--json"))["open_conflicts"]
    return {
        "records": records,
        "conflict_share": share,
        "floor_s": round(floor, 4),
        "clean_push_s": round(clean[0], 3),
        "clean_rec_per_s": round(records / clean[0]),
        "clean_x_floor": round(clean[0] / floor, 1),
        "clean_hub_cpu_s": round(clean[2], 3),
        "conflict_push_s": round(contested_push[0], 3),
        "conflict_rec_per_s": round(records / contested_push[0]),
        "conflict_x_floor": round(contested_push[0] / floor, 1),
        "conflict_hub_cpu_s": round(contested_push[2], 3),
        "slowdown": round(contested_push[0] / clean[0], 2),
        "receipts_conflict": contested_push[1].conflict_changes,
        "queued_conflicts": queue,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--conflict-share", type=float, default=0.1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-conflicts-") as tmp:
        started = time.perf_counter()
        figures = run(args.records, args.conflict_share, Path(tmp))
        figures["bench_wall_s"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"floor (sqlite3, {args.records} rows, one transaction): {figures['floor_s']} s")
    print(
        f"push, no conflicts: {figures['clean_rec_per_s']} rec/s ({figures['clean_push_s']} s,"
        f" {figures['clean_x_floor']}x floor, hub CPU {figures['clean_hub_cpu_s']} s)"
    )
    print(
        f"push, {args.conflict_share:.0%} conflicting: {figures['conflict_rec_per_s']} rec/s "
        f"({figures['conflict_push_s']} s, {figures['conflict_x_floor']}x floor, "
        f"hub CPU {figures['conflict_hub_cpu_s']} s)"
    )
    print(
        f"slowdown {figures['slowdown']}x; {figures['receipts_conflict']} conflict receipts, "
        f"{figures['queued_conflicts']} queued"
    )


if __name__ == "__main__":
    main()
