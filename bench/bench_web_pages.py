"""Server time of the office's pages on the issue's district: 100,000 visits, 20,000
beneficiaries, 5,000 ABF requests, 200 laptops (bench.bench_office.seed), each page rendered
through Flask's test client as a supervisor of 31.71 and as an admin.

    python -m bench.bench_web_pages [--visits 100000] [--beneficiaries 20000]
                                    [--requests 5000] [--laptops 200] [--runs 50]
                                    [--page NAME ...] [--json]

One function per page in :data:`PAGES` (its name, and the addresses it times from the
seeded facts); a page helper adds theirs there. Rendered in-process (no socket: the figure
is the hub's own time: the view, its queries and the template), p50 and p95 of `--runs`
renders each after 3 warm ones, beside DESIGN.md §7's floor measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_office import seed
from bench.common import design_floor
from server.app import create_app
from server.office import OfficeQueries
from server.passwords import hash_password
from server.scope import Scope

PASSWORD = "kata-sandi-bench-01"
#: who views the pages: the seeded supervisor of 31.71 and the admin
VIEWERS = (("spv7171", Scope(("31.71",))), ("admin", Scope(None)))

Facts = dict[str, Any]
#: a page: (facts, the viewer's scope, the office's queries) -> {label: address}
PageAddresses = Callable[[Facts, Scope, OfficeQueries], dict[str, str]]


def ringkasan(facts: Facts, scope: Scope, queries: OfficeQueries) -> dict[str, str]:
    return {"Ringkasan (/web/, the start page)": "/web/"}


def penerima_manfaat(facts: Facts, scope: Scope, queries: OfficeQueries) -> dict[str, str]:
    """Searches, and the page of the beneficiary with the most visits of the first found."""
    found = queries.search(scope, "siti", 50)
    busiest = max(found, key=lambda b: len(queries.storage.office.beneficiary_records(b.id)))
    return {
        "Penerima manfaat: search 'siti'": "/web/penerima?q=siti",
        "Penerima manfaat: search with no match": "/web/penerima?q=wahyuni+lub",
        "Penerima manfaat: NIK prefix": f"/web/penerima?q={facts['nik_prefix']}",
        "Penerima manfaat: a beneficiary's page": f"/web/penerima/{busiest.id}",
    }


def cakupan(facts: Facts, scope: Scope, queries: OfficeQueries) -> dict[str, str]:
    second = queries.coverage(scope, "KLJ", 200).page.next_key
    return {
        "Cakupan: KLJ by kelurahan, page 1": "/web/cakupan?program=KLJ",
        "Cakupan: KLJ by kelurahan, page 2": f"/web/cakupan?program=KLJ&after={second}",
        "Cakupan: KLJ by pendamping, page 1": "/web/cakupan?program=KLJ&by=pendamping",
        "Cakupan: PKH by kelurahan, page 1": "/web/cakupan?program=PKH",
    }


#: every page this bench times, by name (`--page`)
PAGES: dict[str, PageAddresses] = {
    "ringkasan": ringkasan,
    "penerima": penerima_manfaat,
    "cakupan": cakupan,
}


def _times(client, path: str, runs: int) -> tuple[float, float, int]:
    for _ in range(3):  # warm: templates compiled, catalogue loaded, pages cached
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
    size = len(answer.data)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path)
        samples.append(time.perf_counter() - start)
        assert answer.status_code == 200
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)], size


def _login(app, name: str):
    client = app.test_client()
    page = client.get("/web/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    answer = client.post(
        "/web/login", data={"csrf_token": token, "name": name, "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.status_code
    return client


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    floor = design_floor(workdir)
    app = create_app({"DATA_DIR": workdir / "hub", "TESTING": True, "LOGIN_MAX_FAILURES": 0})
    storage = app.extensions["pendamping"].storage
    start = time.perf_counter()
    facts = seed(
        storage,  # type: ignore[arg-type]  # the app's storage is the SQLite one
        args.visits,
        args.beneficiaries,
        args.requests,
        args.laptops,
        dt.datetime.now(dt.UTC),
    )
    seeded = time.perf_counter() - start
    for name, _scope in VIEWERS:
        storage.set_password_hash(name, hash_password(PASSWORD))
    queries = OfficeQueries.from_config(storage, app.config)
    pages: dict[str, dict[str, dict[str, Any]]] = {}
    for name, scope in VIEWERS:
        client = _login(app, name)
        timed: dict[str, dict[str, Any]] = {}
        for page in args.page or list(PAGES):
            for label, path in PAGES[page](facts, scope, queries).items():
                p50, p95, size = _times(client, path, args.runs)
                timed[label] = {
                    "p50_ms": round(p50 * 1000, 1),
                    "p95_ms": round(p95 * 1000, 1),
                    "kib": round(size / 1024, 1),
                }
        pages[name] = timed
    storage.close()
    return {"floor_s": floor, "seed_s": round(seeded, 1), "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--beneficiaries", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--laptops", type=int, default=200)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--page", action="append", choices=sorted(PAGES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args, Path(tmp))
    if args.json:
        print(json.dumps(figures))
        return
    floor = figures["floor_s"]
    print(f"floor (sqlite3, 10000 rows, one transaction): {floor:.3f} s")
    print(
        f"seeded {args.visits} visits, {args.beneficiaries} beneficiaries, {args.requests}"
        f" requests, {args.laptops} laptops in {figures['seed_s']} s"
    )
    for who, timed in figures["pages"].items():
        print(f"\nas {who}:")
        for label, f in timed.items():
            print(
                f"  {label:<42} p50 {f['p50_ms']:6.1f} ms  p95 {f['p95_ms']:6.1f} ms"
                f" ({f['p95_ms'] / 1000 / floor:4.2f}x floor)  {f['kib']:7.1f} KiB"
            )


if __name__ == "__main__":
    main()
