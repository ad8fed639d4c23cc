"""Server time of the Verifikasi bulanan page on the issue's district: 20,000 beneficiaries,
100,000 visits (10,000 this month, a quarter of them verification visits), 5,000 requests,
200 laptops, seeded by bench/bench_office.py, plus `--outcomes` visits this month that
recorded an outcome (layak, tidak_layak, meninggal, pindah).

    python -m bench.bench_web_verification [--runs 40] [--outcomes 1000] [--json]

Through Flask's test client (no socket: the hub's own time), p50/p95 of `--runs` requests
each, as an admin (every wilayah) and as a supervisor of 31.71 (half), for KLJ this month:
the open list (page 1 with its counts), the print view (every row), the XLSX download; then
one close per user (timed once: it copies the list in its transaction), 500 visits recorded
after it, and the closed list with its amendments. Beside DESIGN.md §7's floor measured in
this run. The machine has 2 cores, shared with other work: compare against the floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.bench_office import CALENDAR, seed
from bench.common import design_floor
from server.app import create_app
from server.passwords import hash_password
from server.storage import RecordRow, User
from server.timeutil import utc_iso

PASSWORD = "kata-sandi-bench-01"
OUTCOMES = ("layak", "layak", "layak", "tidak_layak", "meninggal", "pindah")


def _add_visits(storage: Any, n: int, start: dt.datetime, end: dt.datetime, seed_: int) -> None:
    """`n` visits of random KLJ beneficiaries in [start, end), each with an outcome,
    through the storage's writer (the read model kept as a push keeps it)."""
    rng = random.Random(seed_)
    conn = storage._conn()
    people = conn.execute(
        "SELECT record_id, kelurahan, author FROM beneficiary_programs WHERE program = 'KLJ'"
    ).fetchall()
    with storage.write() as session:
        seq = session.last_seq()
        rows = []
        for _ in range(n):
            rid, kel, author = rng.choice(people)
            when = start + (end - start) * rng.random()
            seq += 1
            data = {
                "beneficiary_id": rid,
                "kelurahan": kel,
                "visited_at": when.astimezone(CALENDAR.zone).isoformat(timespec="seconds"),
                "purpose": rng.choice(("verifikasi", "monitoring")),
                "verification_outcome": rng.choice(OUTCOMES),
            }
            at = utc_iso(when)
            rows.append(
                RecordRow(
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "visit",
                    kel,
                    seq,
                    False,
                    data,
                    {k: f"{int(when.timestamp() * 1000):016d}:000000:d" for k in data},
                    at,
                    at,
                    author=author,
                )
            )
        session.save(rows, [], [])


def _login(app: Any, who: str) -> Any:
    client = app.test_client()
    page = client.get("/web/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/web/login", data={"csrf_token": token, "name": who, "password": PASSWORD})
    return client


def _token(client: Any, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def _times(call: Any, runs: int) -> dict[str, Any]:
    for _ in range(2):
        answer = call()  # warm: templates compiled, statements cached
        assert answer.status_code == 200, answer.status_code
    samples = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        answer = call()
        size = len(answer.get_data())
        samples.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, round(0.95 * len(samples)) - 1)], 1),
        "kib": round(size / 1024),
    }


def run(runs: int, outcomes: int, workdir: Path) -> dict[str, Any]:
    floor = design_floor(workdir)
    now = dt.datetime.now(dt.UTC)
    app = create_app({"DATA_DIR": workdir / "hub", "TESTING": True, "LOGIN_MAX_FAILURES": 0})
    storage = app.extensions["pendamping"].storage
    started = time.perf_counter()
    seed(storage, 100_000, 20_000, 5_000, 200, now)
    month = CALENDAR.this_month(now)
    _add_visits(storage, outcomes, month.start, now, 1)
    seeded = time.perf_counter() - started
    storage.add_user(User("kadis", "admin", (), hash_password(PASSWORD)), utc_iso())
    storage.add_user(User("bu-kasi", "supervisor", ("31.71",), hash_password(PASSWORD)), utc_iso())
    query = f"program=KLJ&month={month.label}"
    out: dict[str, Any] = {"floor_s": round(floor, 4), "seed_s": round(seeded, 1), "runs": runs}
    clients = {who: _login(app, who) for who in ("kadis", "bu-kasi")}
    for who, client in clients.items():
        out[who] = {
            "open list, page 1 + counts": _times(
                lambda c=client: c.get(f"/web/verifikasi?{query}"), runs
            ),
            "print view (every row)": _times(
                lambda c=client: c.get(f"/web/verifikasi/cetak?{query}"), max(5, runs // 4)
            ),
        }
        token = _token(client, f"/web/verifikasi?{query}")
        form = {"csrf_token": token, "program": "KLJ", "month": month.label, "wilayah": ""}
        out[who]["XLSX download"] = _times(
            lambda c=client, f=form: c.post("/web/verifikasi/unduh", data=f), max(5, runs // 4)
        )
    # close: the supervisor 31.71, the admin the rest (31.72); each timed once
    for who, wilayah in (("bu-kasi", ""), ("kadis", "31.72")):
        client = clients[who]
        token = _token(client, f"/web/verifikasi?{query}")
        start = time.perf_counter()
        answer = client.post(
            "/web/verifikasi/tutup",
            data={"csrf_token": token, "program": "KLJ", "month": month.label, "wilayah": wilayah},
        )
        out[who]["close (once)"] = {"ms": round((time.perf_counter() - start) * 1000, 1)}
        assert answer.status_code == 303, answer.status_code
    _add_visits(storage, 500, month.start, now, 2)  # after the close: amendments
    for who, client in clients.items():
        out[who]["closed list + amendments, page 1"] = _times(
            lambda c=client: c.get(f"/web/verifikasi?{query}"), runs
        )
    closes = storage.verification.closes("KLJ", month.label)
    out["frozen_rows"] = sum(sum(c.counts.values()) for c in closes)
    storage.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--outcomes", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.runs, args.outcomes, Path(tmp))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"floor {result['floor_s']} s; seeded in {result['seed_s']} s; {args.runs} runs")
    print(f"frozen rows after both closes: {result['frozen_rows']}")
    for who in ("kadis", "bu-kasi"):
        print(f"{'admin' if who == 'kadis' else 'supervisor 31.71'}:")
        for name, figures in result[who].items():
            print(f"  {name:<36} {figures}")


if __name__ == "__main__":
    main()
