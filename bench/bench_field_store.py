"""The field app's store reads with a district's worth of records (issue 13's speed targets).

    python -m bench.bench_field_store [--beneficiaries 20000] [--visits 50000] [--calls 200]
        [--plain] [--json]

Set-up: :func:`seed_field_store` builds an encrypted laptop store (SQLCipher, a passphrase)
of one pendamping of wilayah 31.71.01 and fills it through the real pull path
(`FieldStore.apply_pull`, pages of 1,000, beneficiaries first), so the read model is filled
as a first sync fills it in the field; the seeding time is printed. Then the store is
closed and opened again (the key derivation is printed as `open`), and each query is
called `--calls` times after one warm-up call; p50 and p95 of each are printed beside the
floor measured in the same run (bench.common.design_floor: stdlib sqlite3 inserting 10,000
visits). Saving a draft and saving a visit (`store.add`) are durable writes (fsync).

Issue 13's targets: every page's server time <= 150 ms at p95 (these are the store's share
of it), a search as one types <= 50 ms, saving a visit <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import design_floor
from client_sync.store import FieldStore, Identity
from schemas.hlc import iso_from_ms, wall_ms
from schemas.ids import new_id

__all__ = ["PASSPHRASE", "SeededStore", "run", "seed_field_store"]

PASSPHRASE = "kunci rahasia pendamping"
WILAYAH = "31.71.01"
KELURAHAN = tuple(f"{WILAYAH}.{1001 + n}" for n in range(10))
_FIRST = [
    "Siti",
    "Sri",
    "Dewi",
    "Nur",
    "Ani",
    "Tuti",
    "Yuni",
    "Rina",
    "Wati",
    "Endang",
    "Sumarni",
    "Aminah",
    "Fatimah",
    "Kartini",
    "Ratna",
    "Budi",
    "Agus",
    "Joko",
    "Slamet",
    "Bambang",
    "Hadi",
    "Eko",
    "Dedi",
    "Rudi",
    "Ahmad",
    "Muhammad",
    "Yusuf",
    "Hasan",
    "Made",
    "Ketut",
]
_LAST = [
    "Wahyuni",
    "Rahayu",
    "Lestari",
    "Handayani",
    "Susanti",
    "Purwanti",
    "Suryani",
    "Nur'aini",
    "Hidayat",
    "Santoso",
    "Saputra",
    "Gunawan",
    "Setiawan",
    "Kurniawan",
    "Pratama",
    "Siregar",
    "Nasution",
    "Simanjuntak",
    "Harahap",
    "Lubis",
    "Wijaya",
    "Halim",
    "Sitompul",
    "Manurung",
    "Tanjung",
    "Sinaga",
    "Pardede",
    "Hutapea",
    "Situmorang",
    "Nainggolan",
]
_MIDDLE = ("", "", "", "Nur ", "Dwi ", "Tri ", "Ayu ", "Putri ", "Sri ")
_PROGRAMS = (["KLJ"], ["KLJ"], ["KPDJ"], ["KAJ"], ["PKH"], ["KLJ", "PKH"], ["KPDJ", "BPNT"])
DAY_MS = 86_400_000


@dataclass
class SeededStore:
    """What :func:`seed_field_store` made: the store file and what a benchmark asks for."""

    path: Path
    passphrase: str | None
    beneficiary_ids: list[str]
    names: list[str]
    niks: list[str]
    now_ms: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def _nik(rng: random.Random, woman: bool, n: int) -> str:
    day = rng.randint(1, 28) + (40 if woman else 0)
    return f"317101{day:02d}{rng.randint(1, 12):02d}{rng.randint(30, 70):02d}{n % 9999 + 1:04d}"


def seed_field_store(
    path: Path,
    beneficiaries: int = 20_000,
    visits: int = 50_000,
    passphrase: str | None = PASSPHRASE,
    now_ms: int | None = None,
    seed: int = 13,
) -> SeededStore:
    """Make an enrolled laptop store at `path` holding `beneficiaries` beneficiaries of
    wilayah 31.71.01 (ten kelurahan, programmes KLJ/KPDJ/KAJ/PKH/BPNT) and `visits` visits
    over the last 180 days, written through `apply_pull` inside `FieldStore.pulling`, as a
    first sync writes them.

    Deterministic for a `seed`; the store is closed on return.
    """
    rng = random.Random(seed)
    now = now_ms if now_ms is not None else wall_ms()
    store = FieldStore(path, passphrase=passphrase)
    store.set_identity(
        Identity(new_id(), "token", "http://hub.invalid", "siti", "pendamping", (WILAYAH,))
    )
    seq = 0
    records: list[dict[str, Any]] = []
    ids: list[str] = []
    names: list[str] = []
    niks: list[str] = []
    owners: dict[str, str] = {}
    start = time.perf_counter()

    def flush(final: bool = False) -> None:
        nonlocal records
        while len(records) >= 1000 or (final and records):
            page, records = records[:1000], records[1000:]
            store.apply_pull(page, page[-1]["seq"])

    def add(entity: str, record_id: str, data: dict[str, Any], at_ms: int) -> None:
        nonlocal seq
        seq += 1
        stamp = iso_from_ms(at_ms)
        records.append(
            {
                "entity": entity,
                "id": record_id,
                "seq": seq,
                "deleted": False,
                "hlc": f"{at_ms:016d}:000000:hub",
                "data": {"created_at": stamp, "updated_at": stamp, **data},
            }
        )
        flush()

    with store.pulling():  # as a first sync fills it: the engine's pull_all
        for n in range(beneficiaries):
            woman = rng.random() < 0.6
            name = f"{rng.choice(_FIRST)} {rng.choice(_MIDDLE)}{rng.choice(_LAST)}"
            record_id, nik = new_id(), _nik(rng, woman, n)
            kelurahan = KELURAHAN[n % len(KELURAHAN)]
            add(
                "beneficiary",
                record_id,
                {
                    "name": name,
                    "nik": nik,
                    "sex": "P" if woman else "L",
                    "kelurahan": kelurahan,
                    "address": (
                        f"Jl. Melati No. {n % 200 + 1}, RT {n % 12 + 1:02d}/RW {n % 7 + 1:02d}"
                    ),
                    "categories": ["lansia"] if n % 3 else ["disabilitas"],
                    "programs": rng.choice(_PROGRAMS),
                },
                now - 400 * DAY_MS,
            )
            ids.append(record_id)
            names.append(name)
            niks.append(nik)
            owners[record_id] = kelurahan
        for n in range(visits):
            owner = rng.choice(ids)
            at = now - rng.randint(0, 180 * DAY_MS)
            add(
                "visit",
                new_id(),
                {
                    "beneficiary_id": owner,
                    "kelurahan": owners[owner],
                    "visited_at": iso_from_ms(at),
                    "purpose": ("verifikasi", "monitoring", "asesmen")[n % 3],
                    "findings": f"Kunjungan ke-{n}. Kondisi rumah layak, kesehatan umum baik.",
                    "assessment": {"adl_barthel": 12 + n % 8, "mobilitas": "perlu alat bantu"},
                },
                at,
            )
        flush(final=True)
    seconds = time.perf_counter() - start
    store.close()
    return SeededStore(path, passphrase, ids, names, niks, now, seconds)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "calls": len(ordered),
    }


def _time(calls: list[Callable[[], Any]]) -> dict[str, float]:
    calls[0]()  # warm-up
    samples = []
    for call in calls:
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return _percentiles(samples)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    floor = design_floor(workdir)
    passphrase = None if args.plain else PASSPHRASE
    seeded = seed_field_store(
        workdir / "laptop" / "pendamping.db", args.beneficiaries, args.visits, passphrase
    )
    start = time.perf_counter()
    store = FieldStore(seeded.path, passphrase=passphrase)
    opened = time.perf_counter() - start
    rng = random.Random(7)
    n = args.calls
    names = [rng.choice(seeded.names) for _ in range(n)]
    people = [rng.choice(seeded.beneficiary_ids) for _ in range(n)]

    typed = []  # every prefix of a name, as typed key by key (a pause between is the page's)
    for name in names:
        typed += [name[:k] for k in range(1, min(len(name), 12) + 1) if name[k - 1] != " "]
    typed = typed[: n * 4]
    one_letter = [name[:1] for name in names]
    nik_typed = []
    for nik in (rng.choice(seeded.niks) for _ in range(n)):
        nik_typed += [nik[:k] for k in (2, 4, 6, 8, 10, 12, 14, 16)]
    results: dict[str, Any] = {}
    # the writes first: the reads then run over a day's unsent work (overlay rows), as in
    # the field between two syncs
    results["draft save (durable)"] = _time(
        [
            lambda k=k: store.drafts.save("bench", "visit", {"findings": "Ibu batuk " * (k % 40)})
            for k in range(n)
        ]
    )
    day = iso_from_ms(seeded.now_ms)
    results["save a visit (store.add)"] = _time(
        [
            lambda p=p: store.add(
                "visit",
                {
                    "beneficiary_id": p,
                    "visited_at": day,
                    "purpose": "monitoring",
                    "findings": "Kondisi baik.",
                },
            )
            for p in people
        ]
    )
    results["search name as typed"] = _time([lambda t=t: store.views.search(t) for t in typed])
    results["search name, 1 letter"] = _time(
        [lambda t=t: store.views.search(t) for t in one_letter]
    )
    results["search NIK as typed"] = _time([lambda t=t: store.views.search(t) for t in nik_typed])
    results["NIK already on laptop"] = _time(
        [
            lambda k=k: store.views.nik_holders(k)
            for k in (rng.choice(seeded.niks) for _ in range(n))
        ]
    )
    results["due KLJ, first 50"] = _time([lambda: store.views.due("KLJ")] * n)
    results["due counts"] = _time([lambda: store.views.due_counts()] * n)
    results["home (Beranda)"] = _time([lambda: store.views.home()] * n)
    results["beneficiary page"] = _time([lambda p=p: store.views.beneficiary(p) for p in people])
    batches = [rng.sample(seeded.beneficiary_ids, 50) for _ in range(n)]
    results["where, 50 records"] = _time([lambda b=b: store.views.where_many(b) for b in batches])
    due = store.views.due_counts()
    pending = store.pending_count()
    store.close()
    return {
        "beneficiaries": args.beneficiaries,
        "visits": args.visits,
        "encrypted": not args.plain,
        "floor_s": round(floor, 4),
        "seed_s": round(seeded.seconds, 2),
        "seed_records_per_s": round((args.beneficiaries + args.visits) / seeded.seconds),
        "open_s": round(opened, 3),
        "due_counts": due,
        "pending_changes": pending,
        "timings": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=20_000)
    parser.add_argument("--visits", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--plain", action="store_true", help="a plain (unencrypted) store")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-field-store-") as tmp:
        out = run(args, Path(tmp))
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"{out['beneficiaries']:,} beneficiaries, {out['visits']:,} visits,"
        f" {'encrypted' if out['encrypted'] else 'plain'} store"
    )
    print(
        f"floor (stdlib sqlite3, 10,000 visits in one transaction): {out['floor_s']} s;"
        f" seeding through apply_pull: {out['seed_s']} s ({out['seed_records_per_s']:,} rec/s);"
        f" open: {out['open_s']} s"
    )
    print(
        f"due per programme: {out['due_counts']}; changes waiting while reading:"
        f" {out['pending_changes']}"
    )
    print(f"{'query':32} {'p50 ms':>8} {'p95 ms':>8} {'calls':>6}")
    for name, t in out["timings"].items():
        print(f"{name:32} {t['p50_ms']:8.2f} {t['p95_ms']:8.2f} {t['calls']:6d}")


if __name__ == "__main__":
    main()
