"""The laptop's and the office's words about one conflict agree, through the served hub.

Two laptops edit the same beneficiary offline; the laptops' `pendamping` and the office's
`pendamping-hub` run as real processes against `pendamping-hub serve` on a socket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sync import FieldDevice
from schemas.hlc import wall_ms
from tests.conftest import beneficiary
from tests.support.served_hub import ServedHub

SITI_PHONE, BUDI_PHONE = "0811-1111-1111", "0822-2222-2222"


@pytest.fixture
def hub(hub_process: ServedHub) -> Iterator[ServedHub]:
    hub_process.start()
    yield hub_process


def enrol(hub: ServedHub, tmp_path: Path, name: str) -> FieldDevice:
    code = hub.enroll_code(name)
    return FieldDevice.enroll(tmp_path / f"laptop-{name}", hub.url, code, name, passphrase="")


def laptop(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PENDAMPING_")}
    return subprocess.run(
        [sys.executable, "-m", "client_sync.cli", "--home", str(home), *args],
        env={**env, "PENDAMPING_RETRIES": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def edited_on_both(hub: ServedHub, tmp_path: Path, fields: dict[str, tuple[str, str]]) -> Path:
    """siti's and budi's laptops each edit `fields` of one beneficiary offline (name:
    (siti's value, budi's value)); budi edits a minute later, so his values win the merge.
    siti syncs first. :returns: budi's home, with his edit still to push."""
    siti, budi = enrol(hub, tmp_path, "siti"), enrol(hub, tmp_path, "budi")
    with siti, budi:
        bid = siti.store.add("beneficiary", beneficiary())
        siti.sync()
        budi.sync()
        siti.store.update("beneficiary", bid, {k: v[0] for k, v in fields.items()})
        budi.store._wall = lambda: wall_ms() + 60_000
        budi.store.update("beneficiary", bid, {k: v[1] for k, v in fields.items()})
        siti.sync()
        return budi.home


def test_a_sync_counts_the_conflicts_the_hub_queued(hub: ServedHub, tmp_path: Path):
    budi = edited_on_both(
        hub,
        tmp_path,
        {"phone": (SITI_PHONE, BUDI_PHONE), "address": ("Jl. Melati 3", "Jl. Mawar 1")},
    )

    done = laptop(budi, "sync")

    queued = json.loads(hub.cli("conflicts", "list", "--json"))
    assert done.returncode == 0, done.stderr
    assert len(queued) == 2  # one per field that lost
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Sinkron selesai: 1 terkirim, ")
    assert ", 2 konflik, 0 ditolak" in lines[0]  # as many as the hub queued
    second = lines[1]
    assert second.startswith("2 konflik masuk antrean tinjauan kantor")
    assert "dari 1 perubahan Anda" in second
    on_laptop = json.loads(laptop(budi, "conflicts", "--json").stdout)
    assert sorted(c["conflict_id"] for c in on_laptop) == sorted(c["conflict_id"] for c in queued)
    as_json = json.loads(laptop(budi, "sync", "--json").stdout)
    assert (as_json["conflicts"], as_json["conflict_changes"]) == (0, 0)  # nothing new


def test_after_take_lost_both_lists_show_the_value_now_in_force(hub: ServedHub, tmp_path: Path):
    budi = edited_on_both(hub, tmp_path, {"phone": (SITI_PHONE, BUDI_PHONE)})
    assert laptop(budi, "sync").returncode == 0
    [queued] = json.loads(hub.cli("conflicts", "list", "--json"))
    assert (queued["kept"]["value"], queued["lost"]["value"]) == (BUDI_PHONE, SITI_PHONE)

    hub.cli("conflicts", "resolve", str(queued["conflict_id"]), "--choice", "take_lost",
            "--by", "bu-kasi")  # fmt: skip

    [office_line] = hub.cli("conflicts", "list", "--all").splitlines()
    assert (
        f"nomor telepon: tetap {SITI_PHONE!r} (siti, pilihan bu-kasi), kalah {BUDI_PHONE!r} (budi)"
        in office_line
    )  # the field by its label, as the web's card names it
    assert office_line.endswith("selesai (take_lost)")
    assert laptop(budi, "sync").returncode == 0
    [laptop_line] = laptop(budi, "conflicts", "--all").stdout.splitlines()
    assert f"nomor telepon: berlaku {SITI_PHONE!r} (siti, pilihan bu-kasi)" in laptop_line
    assert f"tidak berlaku {BUDI_PHONE!r} (budi)" in laptop_line
    with FieldDevice.open(budi, passphrase="") as dev:
        [record] = dev.store.list("beneficiary")
        assert record["phone"] == SITI_PHONE  # what both lists say is what the record holds
