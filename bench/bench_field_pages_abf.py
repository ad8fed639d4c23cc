"""The field app's Beranda, Permohonan ABF and Konflik pages with a district's worth of
records (issue 13: every page's server time <= 150 ms at p95).

    python -m bench.bench_field_pages_abf [--beneficiaries 20000] [--visits 50000]
        [--requests 2000] [--calls 100] [--json]

Set-up: :func:`bench.bench_field_store.seed_field_store` (an encrypted laptop store filled
through the real pull path), plus `--requests` ABF requests pulled from the hub in every
status and 20 filed on the laptop and not yet sent; then the app (`create_app`) on that
home, unlocked, and each page fetched `--calls` times through Flask's test client after one
warm-up (the app's own time on its store thread: no socket, no browser). p50 and p95 beside
the floor measured in the same run (bench.common.design_floor).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_field_store import PASSPHRASE, _percentiles, seed_field_store
from bench.common import design_floor
from client_sync.app import create_app
from client_sync.device import STORE_FILE
from client_sync.store import FieldStore
from schemas.codes import DEVICE_STATUSES, DEVICE_TYPES
from schemas.hlc import iso_from_ms
from schemas.ids import new_id

__all__ = ["run"]

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
SECRET = "bench-secret-0123456789abcdef"


def _add_requests(path: Path, owners: list[str], n: int, now_ms: int, seed: int = 5) -> str:
    """`n` requests pulled from the hub and 20 filed on the laptop; returns one's id."""
    rng = random.Random(seed)
    store = FieldStore(path, passphrase=PASSPHRASE)
    seq = store.pull_cursor
    page: list[dict[str, Any]] = []
    first = ""
    for k in range(n):
        seq += 1
        at = now_ms - rng.randint(1, 200) * 86_400_000
        status = DEVICE_STATUSES[k % len(DEVICE_STATUSES)]
        record_id = new_id()
        first = first or record_id
        owner = rng.choice(owners)
        person = store.get("beneficiary", owner)
        stamp = iso_from_ms(at)
        page.append(
            {
                "entity": "device_request",
                "id": record_id,
                "seq": seq,
                "deleted": False,
                "hlc": f"{at:016d}:000000:hub",
                "data": {
                    "created_at": stamp,
                    "updated_at": stamp,
                    "beneficiary_id": owner,
                    "kelurahan": person["kelurahan"],
                    "device_type": DEVICE_TYPES[k % len(DEVICE_TYPES)],
                    "reason": "Sulit berjalan.",
                    "assessment": {"mobilitas": "terbatas", "adl_barthel": 11},
                    "status": status,
                    "status_history": [{"from": None, "to": status, "by": "siti", "at": stamp}],
                },
            }
        )
        if len(page) == 1000:
            store.apply_pull(page, seq)
            page = []
    if page:
        store.apply_pull(page, seq)
    for _ in range(20):
        store.add("device_request", {"beneficiary_id": rng.choice(owners), "device_type": "kruk"})
    store.close()
    return first


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    floor = design_floor(workdir)
    home = workdir / "home"
    home.mkdir()
    seeded = seed_field_store(home / STORE_FILE, args.beneficiaries, args.visits)
    one = _add_requests(home / STORE_FILE, seeded.beneficiary_ids, args.requests, seeded.now_ms)
    app = create_app(home, port=PORT, start_secret=SECRET, test_config={"TESTING": True})
    client = app.test_client()
    client.get(f"/masuk?kunci={SECRET}", base_url=BASE)
    unlock = client.get("/buka", base_url=BASE).get_data(as_text=True)
    token = unlock.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    answer = client.post(
        "/buka", base_url=BASE, data={"csrf_token": token, "passphrase": PASSPHRASE}
    )
    assert answer.status_code == 303, answer.status_code
    person = seeded.beneficiary_ids[0]
    pages = {
        "Beranda /": "/",
        "perlu dikunjungi, KLJ page 1": "/perlu-dikunjungi?program=KLJ",
        "Permohonan ABF (default status)": "/abf",
        "Permohonan ABF ?status=diverifikasi": "/abf?status=diverifikasi",
        "a request's page": f"/abf/{one}",
        "ABF form": f"/abf/baru?penerima={person}",
        "Konflik": "/konflik",
    }
    timings: dict[str, Any] = {}
    for name, path in pages.items():
        first = client.get(path, base_url=BASE)  # warm-up
        assert first.status_code == 200, (path, first.status_code)
        samples = []
        for _ in range(args.calls):
            start = time.perf_counter()
            response = client.get(path, base_url=BASE)
            samples.append(time.perf_counter() - start)
            assert response.status_code == 200
        timings[name] = {**_percentiles(samples), "kib": round(len(first.data) / 1024, 1)}
    state = app.extensions["pendamping_app"]
    state.store_thread.run(state.keeper.lock)
    state.store_thread.shutdown()
    return {
        "beneficiaries": args.beneficiaries,
        "visits": args.visits,
        "requests": args.requests,
        "floor_s": round(floor, 4),
        "timings": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=20_000)
    parser.add_argument("--visits", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-field-pages-") as tmp:
        out = run(args, Path(tmp))
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"{out['beneficiaries']:,} beneficiaries, {out['visits']:,} visits,"
        f" {out['requests']:,} ABF requests (+20 unsent), encrypted store;"
        f" floor (stdlib sqlite3, 10,000 visits in one transaction): {out['floor_s']} s"
    )
    print(f"{'page':38} {'p50 ms':>8} {'p95 ms':>8} {'calls':>6} {'KiB':>6}")
    for name, t in out["timings"].items():
        print(f"{name:38} {t['p50_ms']:8.2f} {t['p95_ms']:8.2f} {t['calls']:6d} {t['kib']:6}")


if __name__ == "__main__":
    main()
