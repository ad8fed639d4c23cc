"""The office's writes: a bulk review, and what a reviewed visit costs the next push.

    python -m bench.bench_office_writes [--visits 2000] [--json]

A served hub (`pendamping-hub serve`, its own process) and siti's laptop with N visits,
pushed. The office then accepts half of them in calls of 500 (the bulk limit), through
:class:`server.office.review.ReviewService` on the same data folder from this process, as
`pendamping-hub review accept` does. Siti edits every visit once (one field); the edits of
the unreviewed half are pushed first, then those of the reviewed half, each of which the hub
follows with a change clearing the review (docs/office.md). Printed: each step's time and
records/s, the hub's CPU time for each push, and the floor (stdlib sqlite3 inserting the same
number of rows in one transaction) measured in this run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.common import as_json, floor_seconds, new_id, one_laptop, timed, visit_fields
from client_sync.engine import DEFAULT_BATCH_BYTES, push_outbox
from server.app import create_app
from server.office.writes import MAX_BATCH
from server.storage import User
from server.timeutil import utc_iso


def run(visits: int, workdir: Path) -> dict:
    half = visits // 2
    with one_laptop(workdir) as (hub, laptop, bid, _codes):
        ids = [laptop.store.add("visit", visit_fields(bid, n)) for n in range(visits)]
        timed(laptop, partial(push_outbox, batch_bytes=DEFAULT_BATCH_BYTES), hub)
        floor = floor_seconds(
            [(new_id(), as_json(visit_fields(bid, n))) for n in range(half)], workdir
        )

        app = create_app({"DATA_DIR": hub.data})
        state = app.extensions["pendamping"]
        state.storage.add_user(User("kasi", "supervisor", ("31.71",)), utc_iso())
        kasi = state.storage.get_user("kasi")
        reviewed = ids[half:]
        start = time.perf_counter()
        for at in range(0, len(reviewed), MAX_BATCH):
            state.reviews.accept(kasi, reviewed[at : at + MAX_BATCH], via="bench")
        review_s = time.perf_counter() - start
        state.storage.close()
        laptop.sync()  # pull the reviews, so the edits are made on top of them

        results = {}
        for label, chosen in (("unreviewed", ids[:half]), ("reviewed", reviewed)):
            for n, vid in enumerate(chosen):
                laptop.store.update("visit", vid, {"follow_up": f"Diperbaiki {n}."})
            push = timed(laptop, partial(push_outbox, batch_bytes=DEFAULT_BATCH_BYTES), hub)
            results[label] = push
    return {
        "visits": visits,
        "floor_s": round(floor, 4),
        "floor_rows": half,
        "review_s": round(review_s, 3),
        "review_calls": -(-len(reviewed) // MAX_BATCH),
        "review_rec_per_s": round(len(reviewed) / review_s),
        **{
            f"edit_{label}_{key}": value
            for label, (elapsed, _result, hub_cpu) in results.items()
            for key, value in (
                ("s", round(elapsed, 3)),
                ("rec_per_s", round(half / elapsed)),
                ("x_floor", round(elapsed / floor, 1)),
                ("hub_cpu_s", round(hub_cpu, 2)),
            )
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = run(args.visits, Path(tmp))
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"floor (sqlite3, {out['floor_rows']} rows, one transaction): {out['floor_s']} s")
    print(
        f"office accepts {out['visits'] // 2} visits in {out['review_calls']} calls: "
        f"{out['review_s']} s ({out['review_rec_per_s']} rec/s)"
    )
    for label in ("unreviewed", "reviewed"):
        print(
            f"push of {out['visits'] // 2} edits of {label} visits: "
            f"{out[f'edit_{label}_rec_per_s']} rec/s ({out[f'edit_{label}_s']} s, "
            f"{out[f'edit_{label}_x_floor']}x floor, hub CPU {out[f'edit_{label}_hub_cpu_s']} s)"
        )


if __name__ == "__main__":
    main()
