"""A district moved from SQLite to PostgreSQL as docs/operations.md says it (stop the hub,
`migrate-storage`, STORAGE_URL in hub.cfg, start it again), with laptops syncing over a
real socket before and after: no re-enrolment, nothing lost, nothing doubled."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.photos import attach
from client_sync.transport import HttpTransport, default_retry
from tests.conftest import beneficiary, visit
from tests.support.served_hub import ServedHub

pytestmark = pytest.mark.e2e


def quick(url: str) -> HttpTransport:
    return HttpTransport(url, timeout=(2.0, 10.0), retry=default_retry(1))


def enrolled(hub: ServedHub, tmp_path: Path, name: str) -> FieldDevice:
    code = hub.enroll_code(name)
    return FieldDevice.enroll(
        tmp_path / f"laptop-{name}", hub.url, code, f"laptop-{name}", transport_factory=quick
    )


def _photo(path: Path, seed: bytes) -> Path:
    path.write_bytes(b"\xff\xd8\xff\xe0" + hashlib.shake_256(seed).digest(20_000))
    return path


def test_laptops_sync_on_after_the_hub_moved_to_postgresql(
    hub_process: ServedHub, pg_url: str, tmp_path: Path
):
    hub_process.start()
    siti = enrolled(hub_process, tmp_path, "siti")
    budi = enrolled(hub_process, tmp_path, "budi")
    try:
        ids = [
            siti.store.add(
                "beneficiary", beneficiary(name=f"Ibu {n}", nik=f"31710145084500{n + 1:02d}")
            )
            for n in range(3)
        ]
        for bid in ids:
            siti.store.add("visit", visit(bid))
        before = _photo(tmp_path / "rumah.jpg", b"rumah")
        digest = attach(siti.store, "beneficiary", ids[0], before, "rumah")
        assert siti.sync().photos_sent == 1
        budi.sync()
        hub_process.stop()

        moved = hub_process.cli("migrate-storage", "--to", pg_url)
        assert "Rantai audit utuh di tujuan" in moved
        hub_process.configure(STORAGE_URL=pg_url)
        found = json.loads(hub_process.cli("check", "--json"))
        assert (found["backend"], found["migrations"]["at_head"]) == ("postgresql", True)
        hub_process.start()  # the address the laptops know

        budi.store.add("visit", visit(ids[0], findings="Sesudah pindah."))
        assert budi.sync().pushed == 1  # the same token
        assert siti.sync().pulled == 1  # the same cursor: only what is new
        assert len(siti.store.list("visit")) == 4
        after = attach(siti.store, "beneficiary", ids[1], _photo(tmp_path / "b.jpg", b"b"), "rumah")
        assert siti.sync().photos_sent == 1  # photos go on, into the same folder
        blobs = hub_process.data / "attachments" / "blobs"
        assert {digest, after} <= {p.name for p in blobs.iterdir()}
        ani = enrolled(hub_process, tmp_path, "ani")  # a laptop new to the moved hub
        try:
            ani.sync()
            pulled = {r["id"]: r for r in ani.store.list("beneficiary")}
            assert len(pulled) == 3 and digest in json.dumps(pulled[ids[0]]["attachments"])
        finally:
            ani.close()
        stats = json.loads(hub_process.cli("stats", "--json"))
        assert stats["records"] == {"beneficiary": 3, "visit": 4, "device_request": 0}
        assert hub_process.cli("audit", "verify").startswith("Rantai audit utuh")
    finally:
        siti.close()
        budi.close()
        hub_process.stop()
