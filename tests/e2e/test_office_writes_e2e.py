"""The office's writes end to end: `pendamping-hub serve` as its own process, laptops driven
through `pendamping` over a real socket, and the office acting through `pendamping-hub`
(another process on the same SQLite file, as on the office's machine)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from client_sync.cli.app import main as laptop_main
from server.app import create_app
from tests.conftest import KELURAHAN
from tests.support.served_hub import ServedHub

pytestmark = pytest.mark.e2e

UUID_AT_END = re.compile(r"([0-9a-f-]{36})$")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + bytes(range(256)) * 8


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def new_id(self) -> str:
        match = UUID_AT_END.search(self.out.strip())
        assert match, self.out
        return match.group(1)


@pytest.fixture(autouse=True)
def quick_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "5,30")
    monkeypatch.delenv("PENDAMPING_HOME", raising=False)
    monkeypatch.delenv("PENDAMPING_PASSPHRASE", raising=False)


@pytest.fixture
def served(hub_process: ServedHub) -> Iterator[ServedHub]:
    hub_process.start()
    hub_process.cli("user", "add", "kasi", "--role", "supervisor", "--wilayah", "31.71")
    hub_process.cli("user", "add", "kasi-72", "--role", "supervisor", "--wilayah", "31.72")
    yield hub_process


def office(hub: ServedHub, *args: str) -> Run:
    """`pendamping-hub --data DATA ARGS...` in its own process; never raises."""
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(hub.data), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def laptop(
    served: ServedHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Callable[..., Run]]:
    """Enrol a pendamping's laptop through `pendamping enroll`; returns its command line."""

    def make(name: str, wilayah: str = "31.71.01") -> Callable[..., Run]:
        served.cli("user", "add", name, "--role", "pendamping", "--wilayah", wilayah)
        code = served.cli("enroll-code", name).split()[-1]
        home = tmp_path / f"home-{name}"

        def run(*args: str | Path) -> Run:
            capsys.readouterr()
            exit_code = laptop_main(["--home", str(home), *[str(a) for a in args]])
            captured = capsys.readouterr()
            return Run(exit_code, captured.out, captured.err)

        assert run("enroll", served.url, code, "--no-passphrase").code == 0
        return run

    return make


def hub_record(hub: ServedHub, record_id: str):
    app = create_app({"DATA_DIR": hub.data, "TESTING": True})
    try:
        return app.extensions["pendamping"].storage.get_record(record_id)
    finally:
        app.extensions["pendamping"].storage.close()


def audit_tail(hub: ServedHub, n: int = 1) -> list[dict]:
    app = create_app({"DATA_DIR": hub.data, "TESTING": True})
    try:
        entries = list(app.extensions["pendamping"].storage.iter_audit(newest=n))
    finally:
        app.extensions["pendamping"].storage.close()
    return [{"actor": e.actor, "action": e.action, "detail": json.loads(e.detail)} for e in entries]


def add_sri(run: Callable[..., Run], kelurahan: str = KELURAHAN) -> str:
    return run(
        "beneficiary", "add", "--name", "Ibu Sri Wahyuni", "--sex", "P", "--kelurahan", kelurahan
    ).new_id


def add_visit(run: Callable[..., Run], bid: str, findings: str = "Kondisi baik.") -> str:
    return run("visit", "add", bid, "--purpose", "monitoring", "--findings", findings).new_id


# -- review --------------------------------------------------------------------------------


def test_a_returned_visit_reaches_the_laptop_and_comes_back_corrected(served, laptop):
    siti = laptop("siti")
    vid = add_visit(siti, add_sri(siti))
    assert siti("sync").code == 0

    returned = office(
        served, "review", "return", vid, "--reason", "Foto rumah belum ada.", "--as", "kasi"
    )
    assert returned.code == 0, returned.err
    assert "Dikembalikan ke pendamping: 1 kunjungan" in returned.out
    assert siti("sync").code == 0

    status = siti("status")
    assert "1 kunjungan dikembalikan untuk diperbaiki" in status.out
    listed = siti("list", "visit", "--returned")
    assert vid in listed.out and "Foto rumah belum ada." in listed.out
    assert "dikembalikan" in siti("list", "visit").out

    edited = siti("visit", "edit", vid, "--findings", "Foto rumah sudah dilampirkan.")
    assert edited.code == 0 and "kembali menunggu tinjauan" in edited.out
    assert "dikembalikan untuk diperbaiki" not in siti("status").out  # before any sync
    assert siti("sync").code == 0

    held = hub_record(served, vid)
    assert held.data["review"] is None  # waiting for review again
    assert held.data["findings"] == "Foto rumah sudah dilampirkan."
    assert siti("sync").code == 0
    assert "Tidak ada kunjungan yang dikembalikan." in siti("list", "visit", "--returned").out
    assert "menunggu" in siti("list", "visit").out


def test_bulk_accept_writes_every_visit_in_one_audited_transaction(served, laptop):
    siti, budi = laptop("siti"), laptop("budi", "31.71.02")
    ids = [add_visit(siti, add_sri(siti), f"Kunjungan {n}") for n in range(3)]
    ids.append(add_visit(budi, add_sri(budi, "31.71.02.1003")))
    assert siti("sync").code == 0 and budi("sync").code == 0

    accepted = office(served, "review", "accept", *ids, "--as", "kasi", "--json")

    assert accepted.code == 0, accepted.err
    result = json.loads(accepted.out)
    assert result["written"] == ids
    first, last = result["seq"]
    assert last - first == len(ids) - 1  # one seq each, contiguous: one transaction
    [entry] = audit_tail(served)
    assert (entry["actor"], entry["action"]) == ("kasi", "review_visits")
    assert entry["detail"]["visits"] == ids and entry["detail"]["via"].startswith("cli:")
    assert budi("sync").code == 0
    assert "diterima" in budi("list", "visit").out


def test_a_supervisor_of_another_district_cannot_review_and_nothing_is_written(served, laptop):
    siti = laptop("siti")
    vid = add_visit(siti, add_sri(siti))
    assert siti("sync").code == 0
    before = hub_record(served, vid)

    refused = office(served, "review", "accept", vid, "--as", "kasi-72")

    assert refused.code == 1
    assert refused.err.startswith("Galat: Kunjungan tidak ditemukan")
    assert len(refused.err.strip().splitlines()) == 1 and "Traceback" not in refused.err
    after = hub_record(served, vid)
    assert (after.seq, after.data.get("review")) == (before.seq, None)


def test_a_return_without_a_reason_names_the_field_and_writes_nothing(served, laptop):
    siti = laptop("siti")
    vid = add_visit(siti, add_sri(siti))
    assert siti("sync").code == 0
    before = hub_record(served, vid).seq

    refused = office(served, "review", "return", vid, "--reason", "  ", "--as", "kasi")

    assert refused.code == 1 and "Wajib diisi" in refused.err
    assert hub_record(served, vid).seq == before


# -- ABF requests ---------------------------------------------------------------------------


def test_the_office_moves_a_request_to_delivery_with_a_photo_and_the_laptop_sees_it(
    served, laptop, tmp_path
):
    siti = laptop("siti")
    rid = siti("request", "add", add_sri(siti), "--device-type", "kursi_roda").new_id
    assert siti("sync").code == 0
    photo = tmp_path / "serah-terima.jpg"
    photo.write_bytes(JPEG)

    for verb in ("verify", "approve"):
        done = office(served, "request", verb, rid, "--as", "kasi")
        assert done.code == 0, done.err
    delivered = office(
        served,
        "request", "deliver", rid, "--date", "2026-01-05", "--received-by", "Ibu Sri",
        "--photo", str(photo), "--as", "kasi", "--json",
    )  # fmt: skip
    assert delivered.code == 0, delivered.err
    assert json.loads(delivered.out)["status"] == "diserahkan"

    assert siti("sync").code == 0
    [shown] = json.loads(siti("list", "device_request", "--json").out)
    assert (shown["status"], shown["received_by"], shown["handover_date"]) == (
        "diserahkan",
        "Ibu Sri",
        "2026-01-05",
    )
    assert len(shown["attachments"]) == 1
    assert (served.data / "attachments" / "blobs" / shown["attachments"][0]).is_file()
    steps = [(s["to"], s["by"]) for s in shown["status_history"]]
    assert steps == [
        ("diajukan", "siti"),
        ("diverifikasi", "kasi"),
        ("disetujui", "kasi"),
        ("diserahkan", "kasi"),
    ]
    history = office(served, "request", "history", rid, "--as", "kasi")
    assert "disetujui → diserahkan  oleh kasi (hub)" in history.out


def test_a_cancellation_made_offline_meets_the_offices_handover_as_a_conflict(
    served, laptop, tmp_path
):
    siti = laptop("siti")
    rid = siti("request", "add", add_sri(siti), "--device-type", "kursi_roda").new_id
    assert siti("sync").code == 0
    for verb in ("verify", "approve"):
        assert office(served, "request", verb, rid, "--as", "kasi").code == 0
    assert siti("sync").code == 0  # the laptop holds the approval
    photo = tmp_path / "serah.jpg"
    photo.write_bytes(JPEG)

    assert siti("request", "status", rid, "dibatalkan").code == 0  # offline: the family moved
    delivered = office(
        served,
        "request", "deliver", rid, "--date", "2026-01-05", "--received-by", "Ibu Sri",
        "--photo", str(photo), "--as", "kasi",
    )  # fmt: skip
    assert delivered.code == 0, delivered.err
    synced = siti("sync", "--json")

    assert json.loads(synced.out)["conflicts"] == 1
    assert hub_record(served, rid).data["status"] == "diserahkan"  # the first to arrive stays
    [queued] = json.loads(office(served, "conflicts", "list", "--json").out)
    assert (queued["kind"], queued["field"]) == ("status", "status")
    assert (queued["kept"]["value"], queued["kept"]["device"]) == ("diserahkan", "hub")
    assert (queued["lost"]["value"], queued["lost"]["author"]) == ("dibatalkan", "siti")


def test_a_pendamping_cannot_approve_through_the_office_commands(served, laptop):
    siti = laptop("siti")
    rid = siti("request", "add", add_sri(siti), "--device-type", "kursi_roda").new_id
    assert siti("sync").code == 0

    refused = office(served, "request", "approve", rid, "--as", "siti")

    assert refused.code == 1 and "Peran pendamping tidak boleh" in refused.err
    assert hub_record(served, rid).data["status"] == "diajukan"
