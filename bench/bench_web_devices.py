"""Server time of the Pendamping & perangkat page with the issue's fleet: 200 pendamping,
each with a laptop that pushed `--pushes` batches (audit entries), plus 100,000 other audit
entries, as an admin (every laptop) and as a supervisor of one kota (half of them).

    python -m bench.bench_web_devices [--laptops 200] [--pushes 20] [--runs 50] [--json]

Rendered in-process through Flask's test client (no socket: the figure is the hub's own
time), p50 and p95 of `--runs` renders each, beside DESIGN.md §7's floor measured in this
run. The laptops' last pushes are read through migration 0009's partial index, one seek
per laptop; without it each would scan the audit chain.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import design_floor
from server.app import create_app
from server.audit import AuditEvent
from server.enrolment import issue_code, redeem_code
from server.passwords import hash_password
from server.storage import HubStorage, User
from server.timeutil import utc_iso

PASSWORD = "kata-sandi-bench-01"


def _fill(storage: HubStorage, laptops: int, pushes: int, noise: int) -> None:
    storage.add_user(User("kadis", "admin", (), hash_password(PASSWORD)), utc_iso())
    storage.add_user(User("bu-kasi", "supervisor", ("31.71",), hash_password(PASSWORD)), utc_iso())
    device_ids = []
    for n in range(laptops):
        kota = "31.71" if n % 2 == 0 else "31.72"
        name = f"p{n:03d}"
        storage.add_user(User(name, "pendamping", (f"{kota}.{n % 9 + 1:02d}",)), utc_iso())
        device, _ = redeem_code(storage, issue_code(storage, name, 24), f"laptop-{name}")
        device_ids.append(device.device_id)
    detail = {"changes": 500, "statuses": {"applied": 500}, "duplicates": 0}
    with storage.write() as session:
        for _ in range(pushes):
            for device_id in device_ids:
                session.audit(AuditEvent(utc_iso(), "x", "push", detail, device_id))
        for n in range(noise):
            session.audit(AuditEvent(utc_iso(), "x", "web_login", {"n": n}))


def _times(client, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get("/web/perangkat")
        samples.append(time.perf_counter() - start)
        assert answer.status_code == 200
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)]


def run(laptops: int, pushes: int, runs: int, workdir: Path) -> dict[str, float]:
    floor = design_floor(workdir)
    app = create_app({"DATA_DIR": workdir / "hub", "TESTING": True, "LOGIN_MAX_FAILURES": 0})
    storage = app.extensions["pendamping"].storage
    _fill(storage, laptops, pushes, 100_000)
    figures: dict[str, float] = {"floor_s": floor}
    for who in ("kadis", "bu-kasi"):
        client = app.test_client()
        page = client.get("/web/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/web/login", data={"csrf_token": token, "name": who, "password": PASSWORD})
        _times(client, 3)  # warm: templates compiled, catalogue loaded
        p50, p95 = _times(client, runs)
        figures[f"{who}_p50_ms"] = round(p50 * 1000, 1)
        figures[f"{who}_p95_ms"] = round(p95 * 1000, 1)
    storage.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laptops", type=int, default=200)
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args.laptops, args.pushes, args.runs, Path(tmp))
    if args.json:
        print(json.dumps(figures))
        return
    print(f"floor (sqlite3, 10000 rows, one transaction): {figures['floor_s']:.3f} s")
    for who, label in (("kadis", "admin, every laptop"), ("bu-kasi", "supervisor of 31.71")):
        p95 = figures[f"{who}_p95_ms"]
        print(
            f"/web/perangkat as {label}: p50 {figures[f'{who}_p50_ms']} ms, p95 {p95} ms"
            f" ({p95 / 1000 / figures['floor_s']:.1f}x floor), {args.laptops} laptops,"
            f" {args.pushes} pushes each"
        )


if __name__ == "__main__":
    main()
