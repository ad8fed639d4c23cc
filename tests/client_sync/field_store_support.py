"""A laptop store with an identity and no hub, and pulled records made by hand, for the
tests of the field app's reads (the read model, the views, drafts)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from client_sync.store import FieldStore, Identity
from schemas.hlc import iso_from_ms

#: 2026-12-01T00:00:00Z, the tests' "now"
NOW_MS = 1_796_083_200_000
DAY_MS = 86_400_000
KELURAHAN = "31.71.01.1001"


class Clock:
    """A wall clock the test moves."""

    def __init__(self, ms: int = NOW_MS) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def open_store(
    path: Path, clock: Clock | None = None, wilayah: tuple[str, ...] = ("31.71.01",), **kw: Any
) -> FieldStore:
    """A store enrolled as pendamping `budi` of `wilayah` (once per file)."""
    store = FieldStore(path, wall=clock or Clock(), **kw)
    if store._db.meta("device_id") is None:
        store.set_identity(
            Identity("dev-1", "token", "http://hub.test", "budi", "pendamping", wilayah)
        )
    return store


class Hub:
    """Pulled records with rising seqs, as a pull page carries them."""

    def __init__(self) -> None:
        self.seq = 0

    def record(
        self,
        entity: str,
        data: dict[str, Any],
        record_id: str | None = None,
        deleted: bool = False,
        at_ms: int = NOW_MS - 60 * DAY_MS,
    ) -> dict[str, Any]:
        self.seq += 1
        stamp = iso_from_ms(at_ms)
        return {
            "entity": entity,
            "id": record_id or str(uuid.uuid4()),
            "seq": self.seq,
            "deleted": deleted,
            "hlc": f"{at_ms:016d}:000000:hub",
            "data": {"created_at": stamp, "updated_at": stamp, **data},
        }


def person(name: str, nik: str | None = None, **extra: Any) -> dict[str, Any]:
    data = {"name": name, "sex": "P", "kelurahan": KELURAHAN, "programs": ["KLJ"]}
    if nik is not None:
        data["nik"] = nik
    data.update(extra)
    return data


def visit_of(beneficiary_id: str, at_ms: int, **extra: Any) -> dict[str, Any]:
    data = {
        "beneficiary_id": beneficiary_id,
        "kelurahan": KELURAHAN,
        "visited_at": iso_from_ms(at_ms),
        "purpose": "monitoring",
    }
    data.update(extra)
    return data


def read_model_rows(store: FieldStore) -> dict[str, list[tuple]]:
    """Every row of the read model's tables (and the pulled copies' read columns), sorted."""
    conn = store._db.conn
    tables = ("local_records", "local_overlay", "local_receipts", "local_words", "local_programs")
    rows = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    rows["pulled"] = sorted(
        conn.execute(
            "SELECT id, kelurahan, name, nik, beneficiary_id, visited_utc, review_state,"
            " review_reason FROM pulled"
        ).fetchall(),
        key=repr,
    )
    return rows
