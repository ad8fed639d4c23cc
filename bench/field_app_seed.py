"""What `bench.bench_field_app` times the field app's pages on: the encrypted store of
:func:`bench.bench_field_store.seed_field_store` (20,000 beneficiaries, 50,000 visits) plus
what a working laptop also holds, and the facts the benchmark's addresses are made from.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bench_field_store import PASSPHRASE, SeededStore, seed_field_store
from client_sync.device import STORE_FILE
from client_sync.store import FieldStore
from schemas.hlc import iso_from_ms
from schemas.ids import new_id

__all__ = ["Facts", "seed_laptop"]

DAY_MS = 86_400_000
_STATUSES = ("diajukan", "diajukan", "diverifikasi", "disetujui", "diserahkan", "ditolak")
_DEVICES = ("kursi_roda", "tongkat", "alat_bantu_dengar", "walker")


@dataclass
class Facts:
    """What the seeding made, for the addresses the benchmark asks for."""

    seeded: SeededStore
    requests: list[str]
    returned: list[str]
    visits: list[str]
    pending_visits: list[str]
    drafts: list[str]
    busiest: str


def _pulled(entity: str, seq: int, record_id: str, at_ms: int, data: dict) -> dict[str, Any]:
    stamp = iso_from_ms(at_ms)
    return {
        "entity": entity,
        "id": record_id,
        "seq": seq,
        "deleted": False,
        "hlc": f"{at_ms:016d}:000000:hub",
        "data": {"created_at": stamp, "updated_at": stamp, **data},
    }


def seed_laptop(home: Path, beneficiaries: int, visits: int, requests: int) -> Facts:
    """The encrypted store of :func:`seed_field_store` at ``home/STORE_FILE``, plus
    `requests` pulled ABF requests, 200 returned visits, 20 visits and a request typed on
    this laptop and 5 drafts. The store is closed on return."""
    home.mkdir(parents=True, exist_ok=True)
    seeded = seed_field_store(home / STORE_FILE, beneficiaries, visits, PASSPHRASE)
    rng = random.Random(31)
    store = FieldStore(seeded.path, passphrase=PASSPHRASE)
    try:
        seq = store.pull_cursor
        now = seeded.now_ms
        people = seeded.beneficiary_ids
        kelurahan = {b: f"31.71.01.{1001 + n % 10}" for n, b in enumerate(people)}
        page: list[dict[str, Any]] = []
        request_ids: list[str] = []
        for n in range(requests):
            owner, record_id = rng.choice(people), new_id()
            status = _STATUSES[n % len(_STATUSES)]
            at = now - rng.randint(1, 300) * DAY_MS
            history = [{"status": "diajukan", "by": "siti", "at": iso_from_ms(at)}]
            if status != "diajukan":
                history.append({"status": status, "by": "spv", "at": iso_from_ms(at + DAY_MS)})
            seq += 1
            page.append(
                _pulled(
                    "device_request",
                    seq,
                    record_id,
                    at,
                    {
                        "beneficiary_id": owner,
                        "kelurahan": kelurahan[owner],
                        "device_type": _DEVICES[n % len(_DEVICES)],
                        "reason": "Sulit berjalan ke kamar mandi; lantai licin.",
                        "assessment": {"mobilitas": "perlu alat bantu"},
                        "status": status,
                        "status_history": history,
                    },
                )
            )
            request_ids.append(record_id)
        returned: list[str] = []
        for n in range(200):
            owner, record_id = rng.choice(people), new_id()
            at = now - rng.randint(1, 60) * DAY_MS
            seq += 1
            review = {
                "state": "dikembalikan",
                "reason": "Foto rumah belum ada; lengkapi asesmen mobilitas.",
                "by": "spv",
                "at": iso_from_ms(at + DAY_MS),
            }
            page.append(
                _pulled(
                    "visit",
                    seq,
                    record_id,
                    at,
                    {
                        "beneficiary_id": owner,
                        "kelurahan": kelurahan[owner],
                        "caseworker_id": "siti",
                        "visited_at": iso_from_ms(at),
                        "purpose": "monitoring",
                        "findings": f"Kunjungan yang dikembalikan ke-{n}.",
                        "review": review,
                    },
                )
            )
            returned.append(record_id)
        # one beneficiary with a long record: 40 visits and 10 requests on the page
        busiest = people[0]
        for n in range(50):
            at = now - (n * 4 + 1) * DAY_MS
            seq += 1
            entity = "visit" if n < 40 else "device_request"
            data: dict[str, Any] = {"beneficiary_id": busiest, "kelurahan": kelurahan[busiest]}
            if entity == "visit":
                data |= {
                    "caseworker_id": "siti",
                    "visited_at": iso_from_ms(at),
                    "purpose": ("verifikasi", "monitoring", "asesmen")[n % 3],
                    "findings": f"Kunjungan ke-{n}: kondisi baik, kontrol rutin ke puskesmas.",
                    "assessment": {"adl_barthel": 14, "mobilitas": "terbatas"},
                }
            else:
                data |= {
                    "device_type": _DEVICES[n % len(_DEVICES)],
                    "status": "diajukan",
                    "status_history": [{"status": "diajukan", "by": "siti", "at": iso_from_ms(at)}],
                }
            page.append(_pulled(entity, seq, new_id(), at, data))
        for start in range(0, len(page), 1000):
            chunk = page[start : start + 1000]
            store.apply_pull(chunk, chunk[-1]["seq"])
        day = iso_from_ms(now)
        pending = [
            store.add(
                "visit",
                {
                    "beneficiary_id": rng.choice(people),
                    "visited_at": day,
                    "purpose": "monitoring",
                    "findings": "Dicatat di laptop, belum sinkron.",
                },
            )
            for _ in range(20)
        ]
        store.add("device_request", {"beneficiary_id": busiest, "device_type": "tongkat"})
        drafts = []
        for n in range(5):
            kept = store.drafts.save(
                new_id(),
                "visit",
                {"beneficiary_id": rng.choice(people), "findings": "Ibu " * n},
            )
            drafts.append(kept.draft_id)
        visits_held = [
            row["id"] for row in store.views.beneficiary(busiest).visits if row.get("id")
        ]
        sample_visits = visits_held + [
            v.id for v in store.views.returned(limit=50) if v.id not in visits_held
        ]
    finally:
        store.close()
    return Facts(seeded, request_ids, returned, sample_visits, pending, drafts, busiest)
