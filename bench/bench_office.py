"""The district office's queries and exports on a full district hub.

    python -m bench.bench_office [--visits 100000] [--beneficiaries 20000] [--requests 5000]
                                 [--laptops 200] [--repeat 30] [--json]

Seeds one hub (a real SQLite file, migrated to head) with the issue's district: 200
pendamping with a laptop each over 100 kelurahan of two kota (31.71, 31.72), 20,000
beneficiaries enrolled in one or two programmes, 100,000 visits over twelve months (10,000
of them in the current month), 5,000 ABF requests across the lifecycle, one change-log
row per record and 60 open conflicts. Records go in through the storage's own writer
(`WriteSession.save`, 5,000 a transaction), so the read model is filled exactly as a push
fills it; the merge and the HTTP layer are left out to seed in seconds.

Then it times every query a page makes (p50/p95 over `--repeat` calls, as a supervisor of
31.71 and as an admin), a month's XLSX export (10,000 visits) and an export of all the
visits, each in a spawned child process whose peak RSS is measured, beside the floor
(bench.common.design_floor) measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import design_floor, peak_rss_mib, rss_mib
from schemas.ids import new_id
from server.office import OfficeCalendar, OfficeQueries, Page, export_file, summary
from server.office.queries import BeneficiaryPage, CoverageReport
from server.scope import Scope
from server.storage import ChangeRow, ConflictRow, RecordRow, User
from server.storage.sqlite import SQLiteStorage

KOTA = ("31.71", "31.72")
FIRST = ("Siti", "Sri", "Nur", "Dewi", "Ahmad", "Budi", "Agus", "Rina", "Wati", "Joko", "Eko")
FIRST += ("Yanti", "Ratna", "Hadi", "Slamet", "Endang", "Rudi", "Lestari", "Tuti", "Bambang")
LAST = ("Wahyuni", "Rahayu", "Susanti", "Hidayat", "Santoso", "Pratama", "Saputra", "Lubis")
LAST += ("Siregar", "Nasution", "Kusuma", "Wijaya", "Setiawan", "Hartono", "Purnomo", "Utami")
STATUSES = ("diajukan", "diverifikasi", "disetujui", "diserahkan", "ditolak", "dibatalkan")
PROGRAMS = ("KLJ", "KPDJ", "KAJ", "PKH", "BPNT")
CALENDAR = OfficeCalendar(7)


def _iso(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _kelurahan() -> list[str]:
    return [
        f"{kota}.{kec:02d}.{1000 + kel}"
        for kota in KOTA
        for kec in range(1, 6)
        for kel in range(1, 11)
    ]


def seed(
    storage: SQLiteStorage,
    n_visits: int,
    n_benef: int,
    n_requests: int,
    n_laptops: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """Fill `storage`; :returns: what the timings need (names, ids, a NIK)."""
    rng = random.Random(12)
    kelurahan = _kelurahan()
    at = _iso(now - dt.timedelta(days=400))
    pendamping: dict[str, list[str]] = {k: [] for k in kelurahan}
    for n in range(n_laptops):
        kel = kelurahan[n % len(kelurahan)]
        name = f"pendamping{n:03d}"
        storage.add_user(User(name, "pendamping", (kel,)), at)
        pendamping[kel].append(name)
        storage.add_enroll_code(f"code{n}", name, at, _iso(now + dt.timedelta(days=1)))
        storage.redeem_enroll_code(f"code{n}", at, f"device-{n:03d}", f"laptop {n}", f"tok{n}")
    everyone = [name for names in pendamping.values() for name in names]
    storage.add_user(User("spv7171", "supervisor", ("31.71",)), at)
    storage.add_user(User("admin", "admin", ()), at)
    with storage.write() as session:
        for n in range(n_laptops):
            # most synced in the last days, some silent for weeks, a few never
            if n % 20 == 19:
                continue
            ago = dt.timedelta(hours=rng.random() * (24 * 30 if n % 10 == 0 else 30))
            session.touch_device(f"device-{n:03d}", _iso(now - ago), True)

    seq = 0
    records: list[RecordRow] = []
    changes: list[ChangeRow] = []

    def add(
        entity: str, kel: str, author: str, data: dict[str, Any], created: dt.datetime, hlc_ms: int
    ) -> str:
        nonlocal seq
        seq += 1
        rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        hlc = f"{hlc_ms:016d}:000000:device-x"
        created_iso = _iso(created)
        data = {**data, "kelurahan": kel, "created_at": created_iso, "updated_at": created_iso}
        records.append(
            RecordRow(
                rid,
                entity,
                kel,
                seq,
                False,
                data,
                {k: hlc for k in data},
                created_iso,
                created_iso,
                author=author,
            )
        )
        changes.append(
            ChangeRow(
                new_id(),
                "device-000",
                author,
                entity,
                rid,
                hlc,
                json.dumps(data),
                created_iso,
                json.dumps({"status": "applied", "seq": seq}),
            )
        )
        if len(records) >= 5000:
            flush()
        return rid

    def flush() -> None:
        with storage.write() as session:
            session.save(records, changes, [])
        records.clear()
        changes.clear()

    year_ago = now - dt.timedelta(days=365)
    beneficiaries: list[tuple[str, str, str]] = []
    niks = []
    for n in range(n_benef):
        kel = rng.choice(kelurahan)
        author = rng.choice(pendamping[kel] or everyone)
        day = rng.randint(1, 28)
        nik = (
            f"{kel[:2]}{kel[3:5]}{kel[6:8]}{day + 40 * (n % 2):02d}{rng.randint(1, 12):02d}"
            f"{rng.randint(40, 99):02d}{n % 9999 + 1:04d}"
        )
        niks.append(nik)
        programs = rng.sample(PROGRAMS[:3], 1) + ([rng.choice(PROGRAMS[3:])] if n % 3 == 0 else [])
        created = year_ago + dt.timedelta(seconds=rng.random() * 365 * 86400)
        rid = add(
            "beneficiary",
            kel,
            author,
            {
                "nik": nik,
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "sex": "LP"[n % 2],
                "birth_date": f"19{rng.randint(40, 99)}-{rng.randint(1, 12):02d}-{day:02d}",
                "address": f"Jl. Melati No. {n % 200}, RT {n % 12:03d}/RW {n % 9:03d}",
                "categories": ["lansia"],
                "programs": programs,
            },
            created,
            int(created.timestamp() * 1000),
        )
        beneficiaries.append((rid, kel, author))

    month = CALENDAR.this_month(now)
    in_month = min(10_000, n_visits)
    for n in range(n_visits):
        rid, kel, author = rng.choice(beneficiaries)
        if n < in_month:
            when = month.start + (now - month.start) * rng.random()
        else:
            when = year_ago + (month.start - year_ago) * rng.random()
        review = rng.random()
        data: dict[str, Any] = {
            "beneficiary_id": rid,
            "visited_at": when.astimezone(CALENDAR.zone).isoformat(timespec="seconds"),
            "purpose": ("verifikasi", "monitoring", "asesmen", "penyaluran")[n % 4],
            "findings": f"Kunjungan ke-{n}. Kondisi rumah layak, akses jalan sempit dan berbatu,"
            " kesehatan umum baik, rutin kontrol ke puskesmas setiap bulan.",
            "assessment": {"adl_barthel": 12 + n % 8, "mobilitas": "perlu alat bantu"},
            "follow_up": "Kunjungi lagi bulan depan untuk verifikasi.",
            "lat": -6.2 + (n % 100) / 10000,
            "lon": 106.8 + (n % 100) / 10000,
        }
        if review < 0.35:
            data["review"] = {"state": "diterima", "by": "spv7171", "at": _iso(when)}
        elif review < 0.40:
            data["review"] = {
                "state": "dikembalikan",
                "reason": "Foto rumah kurang jelas.",
                "by": "spv7171",
                "at": _iso(when),
            }
        add("visit", kel, author, data, when, int(when.timestamp() * 1000))

    for _ in range(n_requests):
        rid, kel, author = rng.choice(beneficiaries)
        created = year_ago + dt.timedelta(seconds=rng.random() * 365 * 86400)
        status = STATUSES[min(int(rng.random() * 7), 5)]
        history = [{"from": None, "to": "diajukan", "by": author, "at": _iso(created)}]
        if status != "diajukan":
            history.append(
                {
                    "from": "diajukan",
                    "to": status,
                    "by": "spv7171",
                    "at": _iso(created + dt.timedelta(days=rng.randint(1, 30))),
                }
            )
        add(
            "device_request",
            kel,
            author,
            {
                "beneficiary_id": rid,
                "device_type": "kursi_roda",
                "reason": "Lumpuh kaki kanan.",
                "status": status,
                "status_history": history,
            },
            created,
            int(created.timestamp() * 1000),
        )
    flush()

    with storage.write() as session:
        conflicts = [
            ConflictRow(
                b[0],
                "beneficiary",
                "phone",
                "field",
                "0812",
                None,
                "0813",
                None,
                None,
                "device-001",
                "pendamping001",
                _iso(now),
                kelurahan=b[1],
                seq=seq,
            )
            for b in beneficiaries[:60]
        ]
        session.save([], [], conflicts)
    return {
        "pendamping": beneficiaries[0][2],
        "kelurahan": "31.71.01.1001",
        "beneficiary": beneficiaries[7][0],
        "nik_prefix": next(nik for nik in niks if nik.startswith("3171"))[:8],
    }


def _size(result: Any) -> str:
    """What a call found, printed beside its time so that a fast empty answer shows."""
    if isinstance(result, Page):
        return (
            f"{len(result.items)} of {result.total}"
            if result.total is not None
            else str(len(result.items))
        )
    if isinstance(result, CoverageReport):
        return f"{len(result.page.items)} of {result.counts.total}"
    if isinstance(result, BeneficiaryPage):
        return f"{len(result.visits)} visits, {len(result.history)} changes"
    if isinstance(result, list):
        return str(len(result))
    return "-"


def _time(call: Callable[[], Any], repeat: int) -> dict[str, Any]:
    for _ in range(2):
        found = call()  # warm the page cache and the statement cache
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
        "found": _size(found),
    }


def time_queries(
    storage: SQLiteStorage, now: dt.datetime, facts: dict[str, Any], repeat: int
) -> dict[str, dict[str, dict[str, Any]]]:
    q = OfficeQueries(storage, CALENDAR, PROGRAMS, now=lambda: now)
    month = CALENDAR.this_month(now)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for who, scope in (("supervisor 31.71", Scope(("31.71",))), ("admin", Scope(None))):
        this_month = q.record_filter(scope, month=month.label)
        second = q.visits(scope, this_month).next_key
        cover_next = q.coverage(scope, "KLJ").page.next_key
        calls: dict[str, Callable[[], Any]] = {
            "Ringkasan (summary)": lambda scope=scope: summary(q, scope),
            "Kunjungan: this month, page 1 + count": lambda scope=scope, f=this_month: q.visits(
                scope, f
            ),
            "Kunjungan: this month, page 2": lambda scope=scope, f=this_month, k=second: q.visits(
                scope, f, after=k
            ),
            "Kunjungan: all time, page 1 + count": lambda scope=scope: q.visits(
                scope, q.record_filter(scope)
            ),
            "Kunjungan: one pendamping, all time": lambda scope=scope: q.visits(
                scope, q.record_filter(scope, pendamping=facts["pendamping"])
            ),
            "Kunjungan: one kelurahan, this month": lambda scope=scope: q.visits(
                scope, q.record_filter(scope, month=month.label, wilayah=facts["kelurahan"])
            ),
            "Kunjungan: menunggu + verifikasi": lambda scope=scope: q.visits(
                scope, q.record_filter(scope, review_state="menunggu", purpose="verifikasi")
            ),
            "Kunjungan: dikembalikan, this month": lambda scope=scope: q.visits(
                scope, q.record_filter(scope, month=month.label, review_state="dikembalikan")
            ),
            "Penerima manfaat: name search 'siti'": lambda scope=scope: q.search(scope, "siti"),
            "Penerima manfaat: no match (whole index)": lambda scope=scope: q.search(
                scope, "wahyuni lub"
            ),
            "Penerima manfaat: NIK prefix": lambda scope=scope: q.search(
                scope, facts["nik_prefix"]
            ),
            "Penerima manfaat: one beneficiary's page": lambda: q.beneficiary(
                Scope(None), facts["beneficiary"]
            ),
            "Permohonan ABF: by status": lambda scope=scope: q.requests_by_status(scope),
            "Permohonan ABF: diajukan, page 1": lambda scope=scope: q.requests(
                scope, q.record_filter(scope, status="diajukan")
            ),
            "Cakupan: KLJ counts + page 1": lambda scope=scope: q.coverage(scope, "KLJ"),
            "Cakupan: KLJ page 2": lambda scope=scope, k=cover_next: q.coverage(
                scope, "KLJ", after=k
            ),
        }
        results[who] = {name: _time(call, repeat) for name, call in calls.items()}
    return results


def _export_child(path: str, month: str | None, out: str, queue: Any) -> None:
    """In a spawned process: one visits XLSX export; its time, rows and peak RSS."""
    storage = SQLiteStorage(path)
    q = OfficeQueries(storage, CALENDAR, PROGRAMS)
    before = rss_mib()
    start = time.perf_counter()
    rows = export_file(
        q, Scope(None), "visits", q.record_filter(Scope(None), month=month), "xlsx", Path(out)
    )
    seconds = time.perf_counter() - start
    queue.put(
        {
            "rows": rows,
            "seconds": round(seconds, 2),
            "rss_before_mib": round(before, 1),
            "peak_rss_mib": round(peak_rss_mib(), 1),
            "file_mib": round(Path(out).stat().st_size / 2**20, 1),
        }
    )
    storage.close()


def time_export(path: Path, month: str | None, out: Path) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_export_child, args=(str(path), month, str(out), queue))
    child.start()
    result = queue.get(timeout=600)
    child.join()
    return result


def run(
    visits: int, beneficiaries: int, requests: int, laptops: int, repeat: int, workdir: Path
) -> dict[str, Any]:
    floor = design_floor(workdir)
    now = dt.datetime.now(dt.UTC)
    storage = SQLiteStorage(workdir / "hub.sqlite3")
    storage.migrate()
    start = time.perf_counter()
    facts = seed(storage, visits, beneficiaries, requests, laptops, now)
    seeded = time.perf_counter() - start
    queries = time_queries(storage, now, facts, repeat)
    storage.close()
    month = CALENDAR.this_month(now).label
    month_export = time_export(workdir / "hub.sqlite3", month, workdir / "month.xlsx")
    all_export = time_export(workdir / "hub.sqlite3", None, workdir / "all.xlsx")
    return {
        "visits": visits,
        "beneficiaries": beneficiaries,
        "requests": requests,
        "laptops": laptops,
        "repeat": repeat,
        "floor_s": round(floor, 4),
        "seed_s": round(seeded, 1),
        "db_mib": round((workdir / "hub.sqlite3").stat().st_size / 2**20, 1),
        "queries": queries,
        "month_export": {**month_export, "x_floor": round(month_export["seconds"] / floor, 1)},
        "all_export": {**all_export, "x_floor": round(all_export["seconds"] / floor, 1)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--beneficiaries", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--laptops", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(
            args.visits, args.beneficiaries, args.requests, args.laptops, args.repeat, Path(tmp)
        )
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"floor (stdlib sqlite3, 10,000 rows in one transaction): {result['floor_s']} s")
    print(f"seeded {visits_line(result)} in {result['seed_s']} s; file {result['db_mib']} MiB")
    for who, timings in result["queries"].items():
        print(f"\n{who}: p50 / p95 ms")
        for name, t in timings.items():
            print(f"  {name:46s} {t['p50_ms']:8.2f} {t['p95_ms']:8.2f}   {t['found']}")
    for name in ("month_export", "all_export"):
        e = result[name]
        print(
            f"\n{name}: {e['rows']} rows in {e['seconds']} s ({e['x_floor']}x floor),"
            f" peak RSS {e['peak_rss_mib']} MiB (after imports {e['rss_before_mib']} MiB),"
            f" file {e['file_mib']} MiB"
        )


def visits_line(result: dict[str, Any]) -> str:
    return (
        f"{result['visits']} visits, {result['beneficiaries']} beneficiaries,"
        f" {result['requests']} requests, {result['laptops']} laptops"
    )


if __name__ == "__main__":
    main()
