"""Laptops against `pendamping-hub serve` over a real loopback socket, with processes killed.

These tests run the hub as its own process (waitress, real SQLite file) and kill it, or the
laptop's process, in the middle of the work. Whatever the moment of the kill, once both are
back and one more sync has run, the hub holds every record exactly once and the laptop has
nothing left to send.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from client_sync import FieldDevice
from client_sync.errors import HubUnreachable
from client_sync.transport import HttpTransport, default_retry
from tests.conftest import beneficiary, visit

pytestmark = pytest.mark.e2e


def quick(url: str) -> HttpTransport:
    """A real HTTP transport that gives up fast, so a dead hub fails the test quickly."""
    return HttpTransport(url, timeout=(2.0, 10.0), retry=default_retry(1))


def enrolled(hub_process, tmp_path, name: str) -> FieldDevice:
    hub_process.cli("user", "add", name, "--role", "pendamping", "--wilayah", "31.71.01")
    code = hub_process.cli("enroll-code", name).split()[-1]
    return FieldDevice.enroll(
        tmp_path / f"laptop-{name}",
        hub_process.url,
        code,
        f"laptop-{name}",
        transport_factory=quick,
    )


def hub_counts(hub_process) -> dict:
    import json

    return json.loads(hub_process.cli("stats", "--json"))


def test_work_recorded_while_the_hub_is_down_is_delivered_when_it_returns(hub_process, tmp_path):
    hub_process.start()
    siti = enrolled(hub_process, tmp_path, "siti")
    budi = enrolled(hub_process, tmp_path, "budi")
    hub_process.kill()

    bid = siti.store.add("beneficiary", beneficiary())
    siti.store.add("visit", visit(bid))
    with pytest.raises(HubUnreachable):
        siti.sync()
    assert siti.store.status()["pending"] == 2
    assert siti.store.status()["last_sync_outcome"] == "failed"

    hub_process.start()
    siti.sync()
    budi.sync()

    assert [b["id"] for b in budi.store.list("beneficiary")] == [bid]
    assert len(budi.store.list("visit")) == 1
    assert hub_counts(hub_process)["records"] == {"beneficiary": 1, "visit": 1, "device_request": 0}


def kill_when(hub_process, enough: int, kill=None) -> threading.Thread:
    """Kill (the hub by default) as soon as the hub has committed `enough` changes.

    The count is watched in the hub's SQLite file, so the kill lands mid-push for sure.
    """
    kill = kill or hub_process.kill

    def watch() -> None:
        db = hub_process.data / "hub.sqlite3"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
                if conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0] >= enough:
                    kill()
                    return
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_killing_the_hub_in_the_middle_of_a_push_loses_and_doubles_nothing(hub_process, tmp_path):
    hub_process.start()
    siti = enrolled(hub_process, tmp_path, "siti")
    bid = siti.store.add("beneficiary", beneficiary())
    for n in range(600):
        siti.store.add("visit", visit(bid, findings=f"kunjungan ke-{n} " + "x" * 300))

    watcher = kill_when(hub_process, enough=50)
    with pytest.raises(HubUnreachable):
        siti.sync(batch_bytes=1)  # one change a request: the kill lands mid-push
    watcher.join()
    delivered = hub_counts(hub_process)["changes"]
    assert 50 <= delivered < 601

    hub_process.start()
    siti.sync()

    counts = hub_counts(hub_process)
    assert counts["records"]["visit"] == 600
    assert counts["changes"] == 601
    assert siti.store.status()["pending"] == 0
    assert len(siti.store.list("visit")) == 600


def test_killing_the_laptop_in_the_middle_of_a_sync_loses_and_doubles_nothing(
    hub_process, tmp_path
):
    hub_process.start()
    siti = enrolled(hub_process, tmp_path, "siti")
    bid = siti.store.add("beneficiary", beneficiary())
    for n in range(600):
        siti.store.add("visit", visit(bid, findings=f"kunjungan ke-{n} " + "x" * 300))
    siti.close()

    script = textwrap.dedent(f"""
        from client_sync import FieldDevice
        FieldDevice.open({str(siti.home)!r}).sync(batch_bytes=1)
    """)
    laptop = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    kill_when(hub_process, enough=50, kill=laptop.kill).join()
    assert laptop.wait(timeout=10) != 0  # killed, not finished
    assert 50 <= hub_counts(hub_process)["changes"] < 601

    again = FieldDevice.open(siti.home, transport_factory=quick)
    again.sync()

    counts = hub_counts(hub_process)
    assert counts["records"]["visit"] == 600
    assert counts["changes"] == 601
    assert again.store.status()["pending"] == 0
    assert len(again.store.list("visit")) == 600
